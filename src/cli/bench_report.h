// The results of `locara bench` as rows, printed as llama-bench prints them: a markdown
// table or a JSON array with llama-bench's field names plus our roofline fields.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace locara::cli {

// One test's results (llama-bench's field names where it has them).
struct BenchRow {
  std::string model_filename;
  std::string model_type;  // "llama 1B Q8_0"
  std::string main_type;   // most common weight type: "Q8_0"
  uint64_t model_size = 0;
  uint64_t model_n_params = 0;
  int n_threads = 0;
  int64_t n_batch = 0;
  std::string type_k;
  int64_t n_prompt = 0;
  int64_t n_gen = 0;
  std::string test_time;  // ISO 8601, UTC
  std::vector<double> samples_ts;
  std::vector<double> samples_seconds;
  double avg_ts = 0.0;
  double stddev_ts = 0.0;
  double avg_seconds = 0.0;
  double stddev_seconds = 0.0;
  // Generation tests: weights read per token and what this machine's bandwidth allows.
  uint64_t bytes_per_token = 0;
  double roofline_anon_gbs = 0.0;   // streaming read of anonymous memory (0: not measured)
  double roofline_mmap_gbs = 0.0;   // streaming read of the model file's mapping
  double mmap_huge_fraction = 0.0;  // of that mapping, PMD-mapped (huge pages)
};

struct BenchContext {
  std::string build_commit;
  std::string cpu_info;
};

std::string format_markdown(const std::vector<BenchRow>& rows);
std::string format_json(const std::vector<BenchRow>& rows, const BenchContext& context);

}  // namespace locara::cli
