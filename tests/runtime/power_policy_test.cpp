// The power policy: low-power mode and thermal states downshift the runtime's limits,
// publish power_state_changed, and everything comes back when the state clears.
#include "runtime/power_policy.h"

#include <gtest/gtest.h>

#include "fake_models.h"
#include "locara/runtime.h"

namespace locara {
namespace {

using testing::kGiB;

class PowerPolicyTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  EventBus bus_{clock_};
  PolicyBoard board_;
  PowerPolicy power_{board_, &bus_};
};

TEST_F(PowerPolicyTest, LowPowerDownshiftsAndClearingRestores) {
  auto sub = bus_.subscribe({"app", 16, {EventKind::kPowerStateChanged}});
  EXPECT_TRUE(board_.current().power.speculative_enabled);

  EXPECT_TRUE(power_.apply({true, ThermalState::kNominal}));
  PowerLimits limits = board_.current().power;
  EXPECT_FALSE(limits.speculative_enabled);
  EXPECT_EQ(limits.context_cap, kDownshiftContextCap);
  EXPECT_EQ(limits.max_tokens_cap, kDownshiftMaxTokensCap);
  EXPECT_TRUE(limits.background_paused);
  EXPECT_EQ(limits.stream_coalesce_tokens, kDownshiftCoalesceTokens);
  EXPECT_EQ(limits.stream_coalesce_interval, kDownshiftCoalesceInterval);
  const RuntimePolicy policy = board_.current();
  EXPECT_EQ(policy.context_for(0, 4096), kDownshiftContextCap);
  EXPECT_EQ(policy.context_for(0, 1024), 1024);
  EXPECT_EQ(policy.context_for(3000, 4096), 3000) << "an explicit context is kept";
  EXPECT_EQ(policy.max_tokens_for(-1, false), kDownshiftMaxTokensCap);
  EXPECT_EQ(policy.max_tokens_for(100, false), 100);

  EXPECT_TRUE(power_.apply({false, ThermalState::kNominal}));
  limits = board_.current().power;
  EXPECT_TRUE(limits.speculative_enabled);
  EXPECT_EQ(limits.context_cap, 0);
  EXPECT_EQ(limits.max_tokens_cap, 0);
  EXPECT_FALSE(limits.background_paused);
  EXPECT_EQ(limits.stream_coalesce_tokens, 1);

  auto events = sub.drain();
  ASSERT_EQ(events.size(), 2u);
  const auto* down = events[0].get<PowerStateChangedEvent>();
  EXPECT_TRUE(down->low_power);
  EXPECT_TRUE(down->downshifted);
  EXPECT_NE(down->summary.find("speculative decoding off"), std::string::npos) << down->summary;
  EXPECT_NE(down->summary.find("max_tokens <= 512"), std::string::npos) << down->summary;
  const auto* up = events[1].get<PowerStateChangedEvent>();
  EXPECT_FALSE(up->downshifted);
  EXPECT_EQ(up->summary, "full service restored");
}

TEST_F(PowerPolicyTest, ThermalStatesStepThroughTheLimits) {
  auto sub = bus_.subscribe({"app", 16, {}});
  EXPECT_TRUE(power_.apply({false, ThermalState::kFair}));
  EXPECT_TRUE(board_.current().power.speculative_enabled) << "fair is not a downshift";
  EXPECT_TRUE(power_.apply({false, ThermalState::kSerious}));
  EXPECT_FALSE(board_.current().power.speculative_enabled);
  EXPECT_EQ(board_.current().power.context_cap, kDownshiftContextCap);
  EXPECT_TRUE(power_.apply({false, ThermalState::kCritical}));
  EXPECT_EQ(board_.current().power.context_cap, kThermalCriticalContextCap);
  EXPECT_EQ(board_.current().power.max_tokens_cap, kThermalCriticalMaxTokensCap);
  EXPECT_EQ(board_.current().power.stream_coalesce_tokens, kThermalCriticalCoalesceTokens);
  EXPECT_TRUE(power_.apply({false, ThermalState::kNominal}));
  EXPECT_TRUE(board_.current().power.speculative_enabled);
  EXPECT_EQ(sub.drain().size(), 4u);
}

TEST_F(PowerPolicyTest, UnchangedConditionsPublishNothing) {
  auto sub = bus_.subscribe({"app", 16, {}});
  EXPECT_FALSE(power_.apply({false, ThermalState::kNominal}));
  EXPECT_TRUE(power_.apply({true, ThermalState::kNominal}));
  EXPECT_FALSE(power_.apply({true, ThermalState::kNominal}));
  EXPECT_EQ(sub.drain().size(), 1u);
}

TEST(RuntimePowerTest, TickReadsTheInjectedPowerSource) {
  ManualClock clock;
  testing::FakeLoader loader;
  PowerConditions now{};
  RuntimeOptions options;
  options.budget_bytes = kGiB;
  options.clock = &clock;
  options.watch_os = false;
  options.loader = loader.loader();
  options.power_source = [&] { return now; };
  auto runtime = Runtime::create(std::move(options));
  ASSERT_TRUE(runtime) << runtime.error().message;
  auto sub = (*runtime)->subscribe({"app", 16, {EventKind::kPowerStateChanged}});
  (*runtime)->tick();
  EXPECT_TRUE(sub.drain().empty());
  now.low_power = true;
  (*runtime)->tick();
  EXPECT_FALSE((*runtime)->policy().power.speculative_enabled);
  EXPECT_TRUE((*runtime)->power_conditions().low_power);
  now.low_power = false;
  (*runtime)->tick();
  EXPECT_TRUE((*runtime)->policy().power.speculative_enabled);
  EXPECT_EQ(sub.drain().size(), 2u);
}

}  // namespace
}  // namespace locara
