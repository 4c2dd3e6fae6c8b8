// `locara plan MODEL`: the planner's memory breakdown (weights, KV, scratch, total) for a
// configuration, against this machine's budget, and the largest context that fits.
#pragma once

#include <cstdint>
#include <string>

#include "cli/command.h"

namespace locara::cli {

struct PlanOptions {
  std::string model_path;
  std::string draft_path;  // empty: no speculative decoding
  int64_t ctx_size = 0;    // 0: the model's own, at most 4096
  std::string kv_type;     // empty: the runtime's default (q8_0, or f16 when heads do not fit)
  int parallel = 1;
  int64_t batch = 512;
  int threads = 0;  // 0: physical performance cores, as `locara run`
  double budget_fraction = 0.75;
};

// Registers `plan` on the app.
Command add_plan_command(CLI::App& app);
// Runs it; returns the process exit code (0 also when the plan does not fit).
int plan_command(const PlanOptions& options);

}  // namespace locara::cli
