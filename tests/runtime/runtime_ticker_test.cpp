// The runtime's optional tick thread (RuntimeOptions::tick_interval): it ticks on its own,
// does the periodic work (idle unloads, power readings), and stops at once on destruction.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fake_models.h"
#include "locara/runtime.h"
#include "runtime/periodic_thread.h"

namespace locara {
namespace {

using namespace std::chrono_literals;
using testing::fake_spec;
using testing::FakeLoader;
using testing::kGiB;

// Waits (up to a generous deadline, so a loaded machine cannot fail it) for `done`.
template <typename Predicate>
bool eventually(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

struct Counted {
  std::atomic<int> power_readings{0};
  std::function<PowerConditions()> source() {
    return [this] {
      ++power_readings;
      return PowerConditions{};
    };
  }
};

RuntimeOptions ticking_options(Counted& counted, Duration interval) {
  RuntimeOptions options;
  options.budget_bytes = 10 * kGiB;
  options.watch_os = false;
  options.power_source = counted.source();
  options.tick_interval = interval;
  return options;
}

TEST(RuntimeTicker, TicksOnItsOwnAndStopsWithTheRuntime) {
  Counted counted;
  auto runtime = Runtime::create(ticking_options(counted, 2ms));
  ASSERT_TRUE(runtime) << runtime.error().message;
  EXPECT_TRUE(eventually([&] { return counted.power_readings >= 3; }))
      << "ticks seen: " << counted.power_readings;
  runtime->reset();
  const int at_destruction = counted.power_readings;
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(counted.power_readings, at_destruction) << "a tick ran after the runtime ended";
}

TEST(RuntimeTicker, OffByDefault) {
  Counted counted;
  RuntimeOptions options = ticking_options(counted, 2ms);
  options.tick_interval = RuntimeOptions{}.tick_interval;
  auto runtime = Runtime::create(std::move(options));
  ASSERT_TRUE(runtime) << runtime.error().message;
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(counted.power_readings, 0);
  (*runtime)->tick();
  EXPECT_EQ(counted.power_readings, 1);
}

TEST(RuntimeTicker, UnloadsIdleModelsWithoutACallerTicking) {
  ManualClock clock;
  FakeLoader loader;
  Counted counted;
  RuntimeOptions options = ticking_options(counted, 2ms);
  options.clock = &clock;
  options.loader = loader.loader();
  auto runtime = Runtime::create(std::move(options));
  ASSERT_TRUE(runtime) << runtime.error().message;
  ASSERT_TRUE((*runtime)->add_planned_model(fake_spec("chat", kGiB)));
  ASSERT_TRUE((*runtime)->preload("cli", "chat"));
  ASSERT_EQ((*runtime)->ps()[0].state, ModelState::kLoaded);

  clock.advance(180s);  // the idle timeout, on the runtime's clock
  EXPECT_TRUE(eventually([&] { return (*runtime)->ps()[0].state == ModelState::kUnloaded; }));
  EXPECT_FALSE(loader.alive("chat"));
}

TEST(RuntimeTicker, DestructionDoesNotWaitOutTheInterval) {
  Counted counted;
  auto runtime = Runtime::create(ticking_options(counted, std::chrono::hours(1)));
  ASSERT_TRUE(runtime) << runtime.error().message;
  const auto start = std::chrono::steady_clock::now();
  runtime->reset();
  // An hour's sleep would hang the suite; a generous bound keeps a busy machine passing.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(counted.power_readings, 0) << "the first tick comes one interval after start";
}

TEST(PeriodicThread, DestructionWaitsForACallInProgressOnly) {
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  {
    PeriodicThread thread(1ms, [&] {
      ++started;
      std::this_thread::sleep_for(20ms);
      ++finished;
    });
    ASSERT_TRUE(eventually([&] { return started >= 1; }));
  }
  EXPECT_EQ(started, finished) << "destruction returned while a call was running";
  const int calls = started;
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(started, calls);
}

}  // namespace
}  // namespace locara
