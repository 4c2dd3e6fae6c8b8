#include "cli/bench_report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace locara::cli {
namespace {

std::string format_size(uint64_t bytes) {
  const double gib = static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0);
  if (gib >= 1.0) return fmt::format("{:.2f} GiB", gib);
  return fmt::format("{:.2f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

std::string format_params(uint64_t n) {
  const double value = static_cast<double>(n);
  if (value >= 1e9) return fmt::format("{:.2f} B", value / 1e9);
  if (value >= 1e6) return fmt::format("{:.2f} M", value / 1e6);
  return fmt::format("{:.2f} K", value / 1e3);
}

std::string test_name(const BenchRow& row) {
  if (row.n_prompt > 0 && row.n_gen == 0) return fmt::format("pp{}", row.n_prompt);
  if (row.n_gen > 0 && row.n_prompt == 0) return fmt::format("tg{}", row.n_gen);
  return fmt::format("pp{}+tg{}", row.n_prompt, row.n_gen);
}

// The fraction of a bandwidth that generation uses: tokens/s x bytes per token / bytes/s.
double fraction_of(const BenchRow& row, double gbs) {
  if (gbs <= 0 || row.bytes_per_token == 0) return 0.0;
  return row.avg_ts * static_cast<double>(row.bytes_per_token) / (gbs * 1e9);
}

}  // namespace

std::string format_markdown(const std::vector<BenchRow>& rows) {
  std::string out;
  out += fmt::format(
      "| {:<30} | {:>10} | {:>10} | {:<6} | {:>7} | {:>8} | {:>20} | {:>8} | {:>9} "
      "| {:>6} | {:>9} | {:>6} |\n",
      "model", "size", "params", "type", "threads", "test", "t/s", "MB/token", "anon GB/s",
      "% anon", "mmap GB/s", "% mmap");
  out += fmt::format(
      "| {:-<30} | {:->9}: | {:->9}: | {:-<6} | {:->6}: | {:->7}: | {:->19}: | "
      "{:->7}: | {:->8}: | {:->5}: | {:->8}: | {:->5}: |\n",
      "", "", "", "", "", "", "", "", "", "", "", "");
  for (const BenchRow& row : rows) {
    std::string per_token = "", anon = "", anon_pct = "", mmap = "", mmap_pct = "";
    if (row.n_gen > 0 && row.bytes_per_token > 0) {
      per_token = fmt::format("{:.1f}", static_cast<double>(row.bytes_per_token) / 1e6);
      if (row.roofline_anon_gbs > 0) {
        anon = fmt::format("{:.1f}", row.roofline_anon_gbs);
        anon_pct = fmt::format("{:.0f}%", 100.0 * fraction_of(row, row.roofline_anon_gbs));
      }
      if (row.roofline_mmap_gbs > 0) {
        mmap = fmt::format("{:.1f}", row.roofline_mmap_gbs);
        mmap_pct = fmt::format("{:.0f}%", 100.0 * fraction_of(row, row.roofline_mmap_gbs));
      }
    }
    out += fmt::format(
        "| {:<30} | {:>10} | {:>10} | {:<6} | {:>7} | {:>8} | {:>20} | {:>8} | {:>9} | {:>6} | "
        "{:>9} | {:>6} |\n",
        row.model_type, format_size(row.model_size), format_params(row.model_n_params),
        row.main_type, row.n_threads, test_name(row),
        fmt::format("{:.2f} ± {:.2f}", row.avg_ts, row.stddev_ts), per_token, anon, anon_pct, mmap,
        mmap_pct);
  }
  return out;
}

std::string format_json(const std::vector<BenchRow>& rows, const BenchContext& context) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const BenchRow& row : rows) {
    nlohmann::ordered_json j;
    j["build_commit"] = context.build_commit;
    j["build_number"] = 0;
    j["cpu_info"] = context.cpu_info;
    j["gpu_info"] = "";
    j["backends"] = "CPU";
    j["model_filename"] = row.model_filename;
    j["model_type"] = row.model_type;
    j["model_size"] = row.model_size;
    j["model_n_params"] = row.model_n_params;
    j["n_batch"] = row.n_batch;
    j["n_ubatch"] = row.n_batch;
    j["n_threads"] = row.n_threads;
    j["type_k"] = row.type_k;
    j["type_v"] = row.type_k;
    j["n_gpu_layers"] = 0;
    j["use_mmap"] = true;
    j["flash_attn"] = false;
    j["n_prompt"] = row.n_prompt;
    j["n_gen"] = row.n_gen;
    j["n_depth"] = 0;
    j["test_time"] = row.test_time;
    j["avg_ns"] = static_cast<uint64_t>(row.avg_seconds * 1e9);
    j["stddev_ns"] = static_cast<uint64_t>(row.stddev_seconds * 1e9);
    j["avg_ts"] = row.avg_ts;
    j["stddev_ts"] = row.stddev_ts;
    std::vector<uint64_t> samples_ns;
    for (const double s : row.samples_seconds) samples_ns.push_back(static_cast<uint64_t>(s * 1e9));
    j["samples_ns"] = samples_ns;
    j["samples_ts"] = row.samples_ts;
    // Ours: what decode is bounded by on this machine.
    j["weight_type"] = row.main_type;
    j["bytes_per_token"] = row.bytes_per_token;
    j["roofline_anon_gbs"] = row.roofline_anon_gbs;
    j["roofline_mmap_gbs"] = row.roofline_mmap_gbs;
    j["mmap_huge_fraction"] = row.mmap_huge_fraction;
    const bool generation = row.n_gen > 0 && row.bytes_per_token > 0;
    const auto roofline_ts = [&](double gbs) {
      return generation && gbs > 0 ? gbs * 1e9 / static_cast<double>(row.bytes_per_token) : 0.0;
    };
    j["roofline_anon_ts"] = roofline_ts(row.roofline_anon_gbs);
    j["roofline_mmap_ts"] = roofline_ts(row.roofline_mmap_gbs);
    j["roofline_fraction"] = generation ? fraction_of(row, row.roofline_mmap_gbs) : 0.0;
    j["roofline_anon_fraction"] = generation ? fraction_of(row, row.roofline_anon_gbs) : 0.0;
    array.push_back(std::move(j));
  }
  return array.dump(2) + "\n";
}

}  // namespace locara::cli
