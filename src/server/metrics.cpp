#include "server/metrics.h"

#include <fmt/format.h>

namespace locara::server {
namespace {

std::string escape_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
}

uint64_t Metrics::requests(const std::string& endpoint, int status) const {
  std::lock_guard lock(mutex_);
  auto it = requests_.find({endpoint, status});
  return it == requests_.end() ? 0 : it->second;
}

void Metrics::observe_time_to_first_token(double seconds) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < kTtftBuckets.size(); ++i) {
    if (seconds <= kTtftBuckets[i]) ++ttft_buckets_[i];
  }
  ++ttft_count_;
  ttft_sum_ += seconds;
}

void Metrics::add_generation(int64_t prompt_tokens, double prompt_seconds, int64_t generated_tokens,
                             double generation_seconds) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += static_cast<uint64_t>(prompt_tokens);
  prompt_seconds_ += prompt_seconds;
  generated_tokens_ += static_cast<uint64_t>(generated_tokens);
  generation_seconds_ += generation_seconds;
}

void Metrics::count_eviction(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++evictions_[reason];
}

std::string Metrics::render(const Runtime& runtime, const SchedulerStats& scheduler) const {
  std::string out;
  {
    std::lock_guard lock(mutex_);
    header(out, "locara_http_requests_total", "counter", "HTTP requests by endpoint and status.");
    for (const auto& [key, count] : requests_) {
      out += fmt::format("locara_http_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n",
                         escape_label(key.first), key.second, count);
    }
    header(out, "locara_prompt_tokens_total", "counter", "Prompt tokens processed.");
    out += fmt::format("locara_prompt_tokens_total {}\n", prompt_tokens_);
    header(out, "locara_generated_tokens_total", "counter", "Tokens generated.");
    out += fmt::format("locara_generated_tokens_total {}\n", generated_tokens_);
    header(out, "locara_prompt_tokens_per_second", "gauge",
           "Prompt processing speed over all requests so far.");
    out += fmt::format(
        "locara_prompt_tokens_per_second {:.3f}\n",
        prompt_seconds_ > 0 ? static_cast<double>(prompt_tokens_) / prompt_seconds_ : 0.0);
    header(out, "locara_generation_tokens_per_second", "gauge",
           "Generation speed of one sequence, averaged over all requests so far.");
    out += fmt::format("locara_generation_tokens_per_second {:.3f}\n",
                       generation_seconds_ > 0
                           ? static_cast<double>(generated_tokens_) / generation_seconds_
                           : 0.0);
    header(out, "locara_time_to_first_token_seconds", "histogram",
           "From a generation request's arrival to its first token.");
    for (size_t i = 0; i < kTtftBuckets.size(); ++i) {
      out += fmt::format("locara_time_to_first_token_seconds_bucket{{le=\"{}\"}} {}\n",
                         kTtftBuckets[i], ttft_buckets_[i]);
    }
    out +=
        fmt::format("locara_time_to_first_token_seconds_bucket{{le=\"+Inf\"}} {}\n", ttft_count_);
    out += fmt::format("locara_time_to_first_token_seconds_sum {:.6f}\n", ttft_sum_);
    out += fmt::format("locara_time_to_first_token_seconds_count {}\n", ttft_count_);
    header(out, "locara_evictions_total", "counter", "Models that left memory, by reason.");
    for (const auto& [reason, count] : evictions_) {
      out +=
          fmt::format("locara_evictions_total{{reason=\"{}\"}} {}\n", escape_label(reason), count);
    }
  }

  int loaded = 0;
  std::string model_lines;
  for (const ModelStatus& model : runtime.ps()) {
    if (model.state == ModelState::kUnloaded) continue;
    ++loaded;
    model_lines +=
        fmt::format("locara_model_bytes{{model=\"{}\",state=\"{}\"}} {}\n",
                    escape_label(model.name), model_state_name(model.state), model.planned_bytes);
  }
  header(out, "locara_models_loaded", "gauge", "Models loaded or loading.");
  out += fmt::format("locara_models_loaded {}\n", loaded);
  header(out, "locara_model_bytes", "gauge", "Planned bytes of each model in memory.");
  out += model_lines;
  header(out, "locara_committed_bytes", "gauge", "Planned bytes of all models in memory.");
  out += fmt::format("locara_committed_bytes {}\n", runtime.committed_bytes());
  header(out, "locara_budget_bytes", "gauge", "Bytes all models may commit together.");
  out += fmt::format("locara_budget_bytes {}\n", runtime.budget_bytes());

  uint64_t kv_bytes = 0;
  std::string app_lines;
  for (const AppFootprint& app : runtime.app_footprints()) {
    kv_bytes += app.kv_bytes;
    const std::string label = escape_label(app.app_id);
    app_lines +=
        fmt::format("locara_app_footprint_bytes{{app=\"{}\"}} {}\n", label, app.total_bytes());
    app_lines +=
        fmt::format("locara_app_budget_bytes{{app=\"{}\"}} {}\n", label, app.declared_bytes);
  }
  header(out, "locara_kv_bytes", "gauge", "KV cache bytes of the sequences generating now.");
  out += fmt::format("locara_kv_bytes {}\n", kv_bytes);
  header(out, "locara_app_footprint_bytes", "gauge",
         "Each app's charges (weights share, KV, scratch); locara_app_budget_bytes its budget.");
  out += app_lines;

  const PressureLevel level = runtime.pressure_level();
  header(out, "locara_memory_pressure_level", "gauge",
         "Memory pressure: 0 normal, 1 warning, 2 critical.");
  out += fmt::format("locara_memory_pressure_level{{level=\"{}\"}} {}\n",
                     pressure_level_name(level), static_cast<int>(level));

  header(out, "locara_scheduler_sequences", "gauge", "Requests generating and queued now.");
  out += fmt::format("locara_scheduler_sequences{{state=\"running\"}} {}\n", scheduler.running);
  out += fmt::format("locara_scheduler_sequences{{state=\"queued\"}} {}\n", scheduler.queued);
  header(out, "locara_scheduler_refused_total", "counter",
         "Requests refused because the queue was full or the server stopping.");
  out += fmt::format("locara_scheduler_refused_total {}\n", scheduler.refused);
  return out;
}

}  // namespace locara::server
