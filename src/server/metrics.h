// The daemon's counters and histograms, and their Prometheus text rendering together with
// the runtime's gauges (models and bytes, KV, pressure, per-app footprints, the scheduler).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "locara/runtime.h"
#include "runtime/scheduler.h"

namespace locara::server {

// Thread-safe: every method locks.
class Metrics {
 public:
  void count_request(const std::string& endpoint, int status);
  void observe_time_to_first_token(double seconds);
  void add_generation(int64_t prompt_tokens, double prompt_seconds, int64_t generated_tokens,
                      double generation_seconds);
  void count_eviction(const std::string& reason);

  // Prometheus text exposition format 0.0.4.
  std::string render(const Runtime& runtime, const SchedulerStats& scheduler) const;

  uint64_t requests(const std::string& endpoint, int status) const;

 private:
  static constexpr std::array<double, 12> kTtftBuckets = {0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
                                                          0.5,   1.0,  2.5,   5.0,  10.0, 30.0};
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::array<uint64_t, kTtftBuckets.size()> ttft_buckets_{};
  uint64_t ttft_count_ = 0;
  double ttft_sum_ = 0.0;
  uint64_t prompt_tokens_ = 0;
  double prompt_seconds_ = 0.0;
  uint64_t generated_tokens_ = 0;
  double generation_seconds_ = 0.0;
  std::map<std::string, uint64_t> evictions_;
};

}  // namespace locara::server
