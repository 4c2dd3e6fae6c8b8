#include "cli/plan_command.h"

#include <fmt/format.h>

#include <memory>
#include <optional>

#include "platform/cpu_topology.h"
#include "platform/memory_footprint.h"
#include "platform/memory_pressure.h"
#include "runtime/app_budget.h"
#include "runtime/memory_budget.h"
#include "runtime/planner.h"

namespace locara::cli {
namespace {

void print_line(const char* label, uint64_t bytes, const std::string& detail = "") {
  fmt::print("  {:<20} {:>12}{}{}\n", label, format_bytes(bytes), detail.empty() ? "" : "   ",
             detail);
}

void print_model(const ModelPlan& model, const PlanConfig& config) {
  const ModelShape& s = model.shape;
  fmt::print(
      "{} {}: {} layers, n_embd {}, {} heads ({} KV) x {}, n_ff {}, vocab {}, trained "
      "context {}\n",
      model.role, s.path, s.n_layer, s.n_embd, s.n_head, s.n_head_kv, s.head_dim, s.n_ff, s.n_vocab,
      s.n_ctx_train);
  print_line("weights", model.weight_bytes, "mapped from the file (clean, evictable)");
  print_line(
      "KV cache", model.kv_bytes,
      fmt::format("2 x {} layers x {} positions x {} heads x {} x {}, {} sequence{}", s.n_layer,
                  config.n_ctx, s.n_head_kv, s.head_dim, kv_type_name(config.kv_type),
                  config.n_parallel, config.n_parallel == 1 ? "" : "s"));
  const ScratchPlan& sc = model.scratch_per_sequence;
  print_line(
      "scratch", model.scratch_bytes,
      fmt::format("per sequence: activations {}, attention {}, logits {}, matmul input "
                  "{}, sampler {}",
                  format_bytes(sc.activations), format_bytes(sc.attention), format_bytes(sc.logits),
                  format_bytes(sc.matmul_conversion), format_bytes(sc.sampler)));
  print_line("metadata+tokenizer", model.metadata_bytes, "parsed vocabulary and keys");
}

}  // namespace

Command add_plan_command(CLI::App& app) {
  auto options = std::make_shared<PlanOptions>();
  PlanOptions& o = *options;
  CLI::App* plan = app.add_subcommand(
      "plan",
      "Predict a model's memory (weights, KV cache, scratch) against this machine's budget");
  plan->add_option("model", o.model_path, "Path of a GGUF model file")->required();
  plan->add_option("-c,--ctx-size", o.ctx_size,
                   "Context size in tokens (0: the model's own, at most 4096)")
      ->capture_default_str();
  plan->add_option("--kv", o.kv_type, "KV cache type (default: q8_0, f16 if heads do not fit)")
      ->check(CLI::IsMember({"f32", "f16", "q8_0", "q4_0"}));
  plan->add_option("--parallel", o.parallel, "Sequences served at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  plan->add_option("--draft", o.draft_path, "Draft model for speculative decoding");
  plan->add_option("-b,--batch", o.batch, "Prompt tokens per forward pass")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  plan->add_option("-t,--threads", o.threads, "Compute threads (default: physical cores)");
  plan->add_option("--budget-fraction", o.budget_fraction,
                   "Share of RAM (or of the cgroup limit) the runtime plans with")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  return {plan, [options] { return plan_command(*options); }};
}

int plan_command(const PlanOptions& o) {
  auto gguf = GgufReader::open(o.model_path);
  if (!gguf) {
    fmt::print(stderr, "error: {}\n", gguf.error().message);
    return 1;
  }
  auto shape = read_model_shape(**gguf);
  if (!shape) {
    fmt::print(stderr, "error: {}\n", shape.error().message);
    return 1;
  }
  std::optional<ModelShape> draft;
  if (!o.draft_path.empty()) {
    auto draft_gguf = GgufReader::open(o.draft_path);
    if (!draft_gguf) {
      fmt::print(stderr, "error: {}\n", draft_gguf.error().message);
      return 1;
    }
    auto draft_shape = read_model_shape(**draft_gguf);
    if (!draft_shape) {
      fmt::print(stderr, "error: {}\n", draft_shape.error().message);
      return 1;
    }
    draft = std::move(*draft_shape);
  }

  PlanConfig config;
  config.n_ctx = o.ctx_size;
  config.n_parallel = o.parallel;
  config.batch_size = o.batch;
  config.n_threads = o.threads > 0 ? o.threads : physical_performance_cores();
  if (o.kv_type.empty()) {
    // The runtime's choice: q8_0 unless a model's heads do not fill its 32-value blocks.
    config.kv_type = runtime_kv_type(*shape, KvType::kQ8_0);
    if (draft) config.kv_type = runtime_kv_type(*draft, config.kv_type);
  } else {
    auto kv = kv_type_from_name(o.kv_type);
    if (!kv) {
      fmt::print(stderr, "error: {}\n", kv.error().message);
      return 1;
    }
    config.kv_type = *kv;
  }
  auto plan = plan_memory(*shape, config, draft ? &*draft : nullptr);
  if (!plan) {
    fmt::print(stderr, "error: {}\n", plan.error().message);
    return 1;
  }
  const PlanConfig& resolved = plan->config;
  fmt::print("plan: context {}, KV {}, {} sequence{}, batch {}, {} threads{}\n", resolved.n_ctx,
             kv_type_name(resolved.kv_type), resolved.n_parallel,
             resolved.n_parallel == 1 ? "" : "s", resolved.batch_size, resolved.n_threads,
             draft ? ", speculative (target + draft)" : "");
  print_model(plan->model, resolved);
  if (plan->draft) print_model(*plan->draft, resolved);
  const int sessions = resolved.n_parallel * (plan->draft ? 2 : 1);
  print_line("overhead", plan->overhead_bytes,
             fmt::format("thread stacks and allocator slack of {} session{}", sessions,
                         sessions == 1 ? "" : "s"));
  print_line("total", plan->total_bytes(),
             fmt::format("anonymous {} + mapped {}", format_bytes(plan->anonymous_bytes()),
                         format_bytes(plan->weight_bytes())));

  // The budget: what this machine can give us now, our own footprint not counted as others'.
  auto source = make_os_pressure_source();
  const auto own = read_process_footprint();
  auto budget =
      read_budget(*source, own ? own->anonymous_bytes : 0, BudgetPolicy{o.budget_fraction});
  if (!budget) {
    fmt::print("budget: unavailable ({})\n", budget.error().message);
    return 0;
  }
  fmt::print("budget: {} = {:.0f}% of {} {} - {} in use by the OS and other processes\n",
             format_bytes(budget->budget_bytes), budget->fraction * 100,
             format_bytes(budget->limit_bytes),
             budget->limited_by_cgroup ? "(cgroup limit)" : "(physical memory)",
             format_bytes(budget->others_bytes));
  const bool fits = plan->total_bytes() <= budget->budget_bytes;
  fmt::print("fits: {}\n",
             fits ? "yes"
                  : fmt::format("no (over by {})",
                                format_bytes(plan->total_bytes() - budget->budget_bytes)));
  const int64_t largest =
      largest_fitting_context(*shape, resolved, budget->budget_bytes, draft ? &*draft : nullptr);
  if (largest == 0) {
    fmt::print("largest context that fits: none (the weights alone exceed the budget)\n");
  } else if (largest == shape->n_ctx_train) {
    // Limited by the model, not the memory: say how far the memory alone would go.
    const int64_t memory_limit = largest_fitting_context(
        *shape, resolved, budget->budget_bytes, draft ? &*draft : nullptr, int64_t{1} << 24);
    fmt::print(
        "largest context that fits: {} (the model's trained context; the budget alone "
        "would hold {})\n",
        largest, memory_limit);
  } else {
    fmt::print("largest context that fits: {}\n", largest);
  }
  return 0;
}

}  // namespace locara::cli
