#include "runtime/memory_budget.h"

#include <algorithm>
#include <cmath>

namespace locara {

MemoryBudget compute_budget(const MemorySignals& signals, uint64_t own_bytes,
                            const BudgetPolicy& policy) {
  MemoryBudget budget;
  budget.fraction = std::clamp(policy.fraction, 0.0, 1.0);
  budget.limit_bytes = signals.effective_limit_bytes();
  budget.limited_by_cgroup = budget.limit_bytes < signals.total_bytes;
  const uint64_t available = std::min(signals.effective_available_bytes(), budget.limit_bytes);
  budget.used_bytes = budget.limit_bytes - available;
  budget.own_bytes = own_bytes;
  budget.others_bytes = budget.used_bytes > own_bytes ? budget.used_bytes - own_bytes : 0;
  const auto share =
      static_cast<uint64_t>(std::floor(static_cast<double>(budget.limit_bytes) * budget.fraction));
  budget.budget_bytes = share > budget.others_bytes ? share - budget.others_bytes : 0;
  return budget;
}

Expected<MemoryBudget> read_budget(PressureSource& source, uint64_t own_bytes,
                                   const BudgetPolicy& policy) {
  LOCARA_ASSIGN_OR_RETURN(MemorySignals signals, source.sample());
  return compute_budget(signals, own_bytes, policy);
}

}  // namespace locara
