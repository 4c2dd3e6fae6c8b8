#include "cli/bench_command.h"

#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>

#include "cli/bench_report.h"
#include "engine/speed_bench.h"
#include "model/quant_mixture.h"
#include "platform/cpu_name.h"
#include "platform/cpu_topology.h"
#include "platform/memory_bandwidth.h"

#ifndef LOCARA_BUILD_COMMIT
#define LOCARA_BUILD_COMMIT "unknown"
#endif

namespace locara::cli {
namespace {

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// llama-bench's model description: architecture, size class, file type.
std::string describe_model(const Model& model, const WeightSummary& weights) {
  const double n = static_cast<double>(weights.n_parameters);
  const std::string size = n >= 1e9   ? fmt::format("{:.0f}B", n / 1e9)
                           : n >= 1e6 ? fmt::format("{:.0f}M", n / 1e6)
                                      : fmt::format("{:.0f}K", n / 1e3);
  auto file_type = model.gguf().get_int("general.file_type");
  const std::string type = file_type ? std::string(file_type_description(*file_type))
                                     : upper(tensor_type_name(weights.main_type));
  return fmt::format("{} {} {}", model.hparams().architecture, size,
                     type == "unknown" ? upper(tensor_type_name(weights.main_type)) : type);
}

struct Roofline {
  double anon_gbs = 0.0;
  double mmap_gbs = 0.0;
  double mmap_huge_fraction = 0.0;  // of the file's mapping, PMD-mapped after the reads
};

// Streaming-read bandwidth with the test's thread count: anonymous memory, and the model
// file's own mapping (the bytes decode reads, as the kernel maps them).
Roofline measure_roofline(const Model& model, int n_threads, size_t anonymous_bytes) {
  Roofline roofline;
  BandwidthOptions options;
  options.n_threads = n_threads;
  options.n_passes = 8;
  options.n_warmup_passes = 1;
  auto anon = measure_anonymous_bandwidth(options, anonymous_bytes);
  if (anon) {
    roofline.anon_gbs = anon->best_gbs;
  } else {
    fmt::print(stderr, "bench: anonymous roofline unavailable: {}\n", anon.error().message);
  }
  const GgufReader& gguf = model.gguf();
  const size_t offset = gguf.data_offset();
  if (gguf.file().size() > offset) {
    const BandwidthResult mapped =
        measure_read_bandwidth(gguf.file().data() + offset, gguf.file().size() - offset, options);
    roofline.mmap_gbs = mapped.best_gbs;
    roofline.mmap_huge_fraction = static_cast<double>(gguf.file().huge_mapped_bytes()) /
                                  static_cast<double>(gguf.file().size());
  }
  fmt::print(stderr,
             "bench: streaming read with {} threads: anonymous {:.1f} GB/s, mmapped file {:.1f} "
             "GB/s ({:.0f}% of the file mapped with huge pages)\n",
             n_threads, roofline.anon_gbs, roofline.mmap_gbs, 100.0 * roofline.mmap_huge_fraction);
  return roofline;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  BenchOptions& o = *options;
  CLI::App* bench = app.add_subcommand(
      "bench",
      "Measure prompt (pp) and generation (tg) speed as llama-bench does, with the "
      "memory-bandwidth roofline of generation");
  bench->add_option("-m,--model", o.model_path, "GGUF model to benchmark")->required();
  bench->add_option("-p,--n-prompt", o.n_prompt, "Prompt tokens (comma-separated list; 0: none)")
      ->delimiter(',')
      ->capture_default_str();
  bench->add_option("-n,--n-gen", o.n_gen, "Generated tokens (comma-separated list; 0: none)")
      ->delimiter(',')
      ->capture_default_str();
  bench
      ->add_option("-t,--threads", o.threads,
                   "Threads (comma-separated list; default: physical cores)")
      ->delimiter(',');
  bench->add_option("-r,--repetitions", o.repetitions, "Repetitions of each test")
      ->capture_default_str();
  bench->add_option("-b,--batch-size", o.batch, "Prompt tokens per forward pass")
      ->capture_default_str();
  bench->add_option("--kv-type", o.kv_type, "KV cache type")
      ->check(CLI::IsMember({"f16", "f32", "q8_0", "q4_0"}))
      ->capture_default_str();
  bench->add_option("-o,--output", o.output, "Output format")
      ->check(CLI::IsMember({"md", "json"}))
      ->capture_default_str();
  bench->add_flag("!--no-roofline", o.roofline, "Skip the memory-bandwidth measurements");
  bench->add_option("--roofline-mib", o.roofline_mib,
                    "MiB of anonymous memory the bandwidth test reads (default: 4x the last-level "
                    "cache, at least 1024)");
  return {bench, [options] { return bench_command(*options); }};
}

int bench_command(const BenchOptions& o) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "locara: error: {}\n", message);
    return 1;
  };
  if (o.repetitions < 1)
    return fail(fmt::format("-r {}: need at least 1 repetition", o.repetitions));
  if (o.batch < 1) return fail(fmt::format("-b {}: the batch needs at least 1 token", o.batch));
  if (o.roofline_mib < 0)
    return fail(fmt::format("--roofline-mib {}: cannot be negative", o.roofline_mib));
  for (const int64_t n : o.n_prompt) {
    if (n < 0) return fail(fmt::format("-p {}: a prompt cannot be negative", n));
  }
  for (const int64_t n : o.n_gen) {
    if (n < 0) return fail(fmt::format("-n {}: a generation cannot be negative", n));
  }
  std::vector<int> threads = o.threads;
  if (threads.empty()) threads.push_back(physical_performance_cores());
  for (const int t : threads) {
    if (t < 1) return fail(fmt::format("-t {}: need at least 1 thread", t));
  }
  auto kv_type = kv_type_from_name(o.kv_type);
  if (!kv_type) return fail(kv_type.error().message);

  auto model = load_model(o.model_path);
  if (!model) return fail(model.error().message);
  const WeightSummary weights = summarize_weights((*model)->gguf());

  BenchRow base;
  base.model_filename = o.model_path;
  base.model_type = describe_model(**model, weights);
  base.main_type = upper(tensor_type_name(weights.main_type));
  base.model_size = weights.total_bytes;
  base.model_n_params = weights.n_parameters;
  base.n_batch = o.batch;
  base.type_k = o.kv_type;

  std::vector<BenchRow> rows;
  for (const int n_threads : threads) {
    std::vector<SpeedTestOptions> tests;
    for (const int64_t n : o.n_prompt) {
      if (n > 0) tests.push_back({.n_prompt = n, .n_gen = 0});
    }
    for (const int64_t n : o.n_gen) {
      if (n > 0) tests.push_back({.n_prompt = 0, .n_gen = n});
    }
    Roofline roofline;
    bool roofline_measured = false;
    for (SpeedTestOptions test : tests) {
      test.n_threads = n_threads;
      test.repetitions = o.repetitions;
      test.batch = o.batch;
      test.kv_type = *kv_type;
      if (test.n_gen > 0 && o.roofline && !roofline_measured) {
        roofline = measure_roofline(**model, n_threads, static_cast<size_t>(o.roofline_mib) << 20);
        roofline_measured = true;
      }
      fmt::print(stderr, "bench: {} {}{} with {} threads, {} repetitions...\n", o.model_path,
                 test.n_prompt > 0 ? "pp" : "tg", test.n_prompt > 0 ? test.n_prompt : test.n_gen,
                 n_threads, o.repetitions);
      BenchRow row = base;
      row.test_time = utc_now_iso8601();
      auto result = run_speed_test(**model, test);
      if (!result) return fail(result.error().message);
      row.n_threads = n_threads;
      row.n_prompt = test.n_prompt;
      row.n_gen = test.n_gen;
      row.samples_ts = result->tokens_per_second;
      row.samples_seconds = result->seconds;
      row.avg_ts = result->mean_tokens_per_second;
      row.stddev_ts = result->stddev_tokens_per_second;
      row.avg_seconds = result->mean_seconds;
      row.stddev_seconds = result->stddev_seconds;
      row.bytes_per_token = weights.bytes_per_token;
      if (test.n_gen > 0) {
        row.roofline_anon_gbs = roofline.anon_gbs;
        row.roofline_mmap_gbs = roofline.mmap_gbs;
        row.mmap_huge_fraction = roofline.mmap_huge_fraction;
      }
      rows.push_back(std::move(row));
    }
  }

  if (o.output == "json") {
    fmt::print("{}", format_json(rows, {LOCARA_BUILD_COMMIT, cpu_model_name()}));
  } else {
    fmt::print("{}", format_markdown(rows));
  }
  return 0;
}

}  // namespace locara::cli
