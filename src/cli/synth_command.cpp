#include "cli/synth_command.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <memory>
#include <vector>

#include "cli/progress_bar.h"
#include "model/synthetic_model.h"
#include "platform/cpu_topology.h"

namespace locara::cli {
namespace {

// "2048,16,32,8,8192" -> five positive numbers, or an error message.
Expected<std::vector<int64_t>> parse_shape(const std::string& text) {
  std::vector<int64_t> values;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    int64_t value = 0;
    const char* begin = text.data() + at;
    const char* end = text.data() + comma;
    const auto [stop, error] = std::from_chars(begin, end, value);
    if (begin == end || error != std::errc() || stop != end || value <= 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--shape '{}': '{}' is not a positive number (expected "
                        "hidden,layers,heads,kv_heads,ffn)",
                        text, std::string(begin, end));
    }
    values.push_back(value);
    at = comma + 1;
  }
  if (values.size() != 5) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--shape '{}': {} numbers, expected 5: hidden,layers,heads,kv_heads,ffn",
                      text, values.size());
  }
  return values;
}

}  // namespace

Command add_synth_command(CLI::App& app) {
  auto options = std::make_shared<SynthOptions>();
  SynthOptions& o = *options;
  CLI::App* synth = app.add_subcommand(
      "synth", "Write a random-weight llama GGUF of any shape and type (deterministic per seed)");
  synth->add_option("--shape", o.shape, "hidden,layers,heads,kv_heads,ffn (e.g. 2048,16,32,8,8192)")
      ->required();
  synth->add_option("--vocab", o.n_vocab, "Vocabulary size (at least 259)")->capture_default_str();
  synth
      ->add_option("--type", o.type,
                   "File type: " + file_type_names() + " (mixtures as llama-quantize)")
      ->capture_default_str();
  synth->add_option("--ctx", o.ctx, "Training context length written to the file")
      ->capture_default_str();
  synth->add_option("--seed", o.seed, "Random seed: the same seed gives the same bytes")
      ->capture_default_str();
  synth->add_flag("--pure", o.pure, "Every weight in the type's default type (no mixture)");
  synth->add_option("-t,--threads", o.threads, "Threads (default: physical cores)");
  synth->add_option("-o,--output", o.output_path, "Path of the GGUF file to write")->required();
  return {synth, [options] { return synth_command(*options); }};
}

int synth_command(const SynthOptions& o) {
  auto dims = parse_shape(o.shape);
  if (!dims) {
    fmt::print(stderr, "locara: error: {}\n", dims.error().message);
    return 1;
  }
  const auto file_type = file_type_from_name(o.type);
  if (!file_type) {
    fmt::print(stderr, "locara: error: --type '{}' is not a file type we write (one of: {})\n",
               o.type, file_type_names());
    return 1;
  }
  SyntheticModelShape shape;
  shape.n_embd = (*dims)[0];
  shape.n_layer = (*dims)[1];
  shape.n_head = (*dims)[2];
  shape.n_head_kv = (*dims)[3];
  shape.n_ff = (*dims)[4];
  shape.n_vocab = o.n_vocab;
  shape.n_ctx_train = o.ctx;
  shape.seed = o.seed;

  SyntheticModelOptions options;
  options.file_type = *file_type;
  options.pure = o.pure;
  options.n_threads = o.threads > 0 ? o.threads : physical_performance_cores();
  ProgressBar bar("synth");
  options.on_progress = [&](const TensorProgress& p) {
    bar.update(p.bytes_total ? double(p.bytes_done) / double(p.bytes_total) : 1.0,
               fmt::format("{}/{} {} ({})", p.tensor_index + 1, p.n_tensors, p.name,
                           tensor_type_name(p.type)));
  };
  const auto start = std::chrono::steady_clock::now();
  const Status status = write_synthetic_llama(shape, options, o.output_path);
  bar.finish();
  if (!status) {
    fmt::print(stderr, "locara: error: {}\n", status.error().message);
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(stderr, "synth: wrote {} ({}, {}) in {:.1f} s with {} threads\n", o.output_path,
             file_type_info(*file_type).description, o.shape, seconds, options.n_threads);
  return 0;
}

}  // namespace locara::cli
