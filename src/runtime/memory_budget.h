// The runtime's memory budget: a fraction of physical RAM (or of the cgroup limit) minus
// what the OS and other processes use now, from the platform's memory signals.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "platform/memory_pressure.h"

namespace locara {

struct BudgetPolicy {
  // Share of physical memory (or of the cgroup limit) the runtime may plan with, like
  // Apple's recommended working set; the rest stays for the OS and the user's apps.
  double fraction = 0.75;
};

// Bytes.
struct MemoryBudget {
  uint64_t limit_bytes = 0;  // MemTotal, or the cgroup limit when lower
  bool limited_by_cgroup = false;
  uint64_t used_bytes = 0;    // limit - available now (ours included)
  uint64_t own_bytes = 0;     // what this process already holds (not counted as others')
  uint64_t others_bytes = 0;  // used - own: the OS and other processes
  uint64_t budget_bytes = 0;  // fraction x limit - others, at least 0
  double fraction = 0.75;
};

// budget = fraction x limit - (used - own). `used` is effective_limit - effective_available
// (MemTotal - MemAvailable, or the cgroup's non-reclaimable usage when its limit is the
// tighter one); own_bytes is what this process holds already (its anonymous footprint plus
// its resident weights) so the runtime's own models are not charged twice as "others".
MemoryBudget compute_budget(const MemorySignals& signals, uint64_t own_bytes,
                            const BudgetPolicy& policy = {});

// Samples the source (injectable: tests pass a fake) and computes the budget.
Expected<MemoryBudget> read_budget(PressureSource& source, uint64_t own_bytes,
                                   const BudgetPolicy& policy = {});

}  // namespace locara
