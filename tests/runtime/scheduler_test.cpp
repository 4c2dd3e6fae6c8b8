// The scheduler over a real runtime and stories260K: bounded queue, back-pressure through
// the stream, cancellation, shutdown; and the runtime's policy as jobs meet it (the
// pressure ladder's cap on queued work, the power policy's smaller context and max_tokens),
// driven by the fake pressure and power sources.
#include "runtime/scheduler.h"

#include <gtest/gtest.h>

#include <thread>

#include "fake_models.h"
#include "runtime/power_policy.h"

namespace locara {
namespace {

const std::string kModelPath = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuntimeOptions options;
    options.watch_os = false;
    options.budget_bytes = uint64_t{1} << 30;
    auto runtime = Runtime::create(std::move(options));
    ASSERT_TRUE(runtime) << runtime.error().message;
    runtime_ = std::move(*runtime);
    ASSERT_TRUE(runtime_->add_model("stories", kModelPath, ModelRole::kChat));
  }

  std::unique_ptr<Scheduler> make(int parallelism, int max_queue, size_t capacity) {
    SchedulerOptions options;
    options.parallelism = parallelism;
    options.max_queue = max_queue;
    options.stream_capacity = capacity;
    return std::make_unique<Scheduler>(*runtime_, options);
  }

  static GenerationJob job(int32_t max_tokens) {
    GenerationJob job;
    job.app = "test";
    job.model = "stories";
    job.prompt = "Once upon a time";
    job.generation.max_tokens = max_tokens;
    job.generation.sampling.temperature = 0.0f;
    return job;
  }

  // Reads a stream to its end; returns the items.
  static std::vector<StreamItem> drain(GenerationStream& stream) {
    std::vector<StreamItem> items;
    for (;;) {
      auto item = stream.next(std::chrono::seconds(30));
      if (!item) break;
      items.push_back(std::move(*item));
      if (std::holds_alternative<StreamFinished>(items.back()) ||
          std::holds_alternative<StreamFailed>(items.back())) {
        break;
      }
    }
    return items;
  }

  // Waits until the stream stops growing; returns how many items it has taken.
  static uint64_t wait_for_stall(const GenerationStream& stream) {
    uint64_t last = UINT64_MAX;
    for (int i = 0; i < 200 && stream.pushed() != last; ++i) {
      last = stream.pushed();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return stream.pushed();
  }

  std::unique_ptr<Runtime> runtime_;
};

TEST_F(SchedulerTest, GeneratesAndReportsStartTokensAndFinish) {
  auto scheduler = make(2, 2, 8);
  auto stream = scheduler->submit(job(10));
  ASSERT_TRUE(stream);
  const auto items = drain(**stream);
  ASSERT_EQ(items.size(), 12u);  // started, 10 tokens, finished
  ASSERT_TRUE(std::holds_alternative<StreamStarted>(items.front()));
  EXPECT_EQ(std::get<StreamStarted>(items.front()).n_prompt_tokens, 5);
  const auto& finished = std::get<StreamFinished>(items.back());
  EXPECT_EQ(finished.finish_reason, FinishReason::kLength);
  EXPECT_EQ(finished.n_generated, 10);
  EXPECT_EQ(scheduler->stats().completed, 1u);
  EXPECT_EQ(scheduler->stats().tokens_generated, 10u);
}

TEST_F(SchedulerTest, AnUnreadStreamHoldsAtItsCapacity) {
  auto scheduler = make(1, 0, 4);
  auto stream = scheduler->submit(job(-1));
  ASSERT_TRUE(stream);
  EXPECT_EQ(wait_for_stall(**stream), 4u);  // started + 3 tokens, then the producer waits
  EXPECT_EQ((*stream)->buffered(), 4u);
  EXPECT_EQ(scheduler->stats().running, 1);
  const auto items = drain(**stream);  // reading resumes it
  EXPECT_GT(items.size(), 20u);
}

TEST_F(SchedulerTest, BeyondParallelismAndQueueJobsAreRefused) {
  auto scheduler = make(1, 1, 2);
  auto running = scheduler->submit(job(-1));
  ASSERT_TRUE(running);
  wait_for_stall(**running);
  auto queued = scheduler->submit(job(4));
  ASSERT_TRUE(queued);
  auto refused = scheduler->submit(job(4));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(scheduler->stats().refused, 1u);
  EXPECT_EQ(scheduler->stats().queued, 1);
  drain(**running);
  const auto items = drain(**queued);
  EXPECT_TRUE(std::holds_alternative<StreamFinished>(items.back()));
}

TEST_F(SchedulerTest, CancellingStopsTheGenerationAndEndsItsCharge) {
  ASSERT_TRUE(runtime_->register_app("test", uint64_t{1} << 30));
  auto scheduler = make(1, 0, 2);
  auto stream = scheduler->submit(job(-1));
  ASSERT_TRUE(stream);
  wait_for_stall(**stream);
  auto footprint = [&] { return runtime_->app_footprints().at(0).kv_bytes; };
  EXPECT_GT(footprint(), 0u);
  (*stream)->cancel();
  for (int i = 0; i < 500 && scheduler->stats().running > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(scheduler->stats().running, 0);
  EXPECT_EQ(scheduler->stats().cancelled, 1u);
  EXPECT_EQ(footprint(), 0u);
}

TEST_F(SchedulerTest, ShutdownFailsRunningAndQueuedStreams) {
  auto scheduler = make(1, 1, 2);
  auto running = scheduler->submit(job(-1));
  ASSERT_TRUE(running);
  wait_for_stall(**running);
  auto queued = scheduler->submit(job(4));
  ASSERT_TRUE(queued);
  scheduler->shutdown();
  const auto running_items = drain(**running);
  ASSERT_TRUE(std::holds_alternative<StreamFailed>(running_items.back()));
  EXPECT_NE(std::get<StreamFailed>(running_items.back()).error.message.find("shutting down"),
            std::string::npos);
  const auto queued_items = drain(**queued);
  ASSERT_EQ(queued_items.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<StreamFailed>(queued_items.back()));
  EXPECT_FALSE(scheduler->submit(job(1)));
}

TEST_F(SchedulerTest, PromptErrorsComeBeforeAnyToken) {
  auto scheduler = make(1, 0, 2);
  GenerationJob too_long = job(4);
  too_long.prompt.clear();
  for (int i = 0; i < 100; ++i) too_long.prompt += "the cat sat ";
  auto stream = scheduler->submit(too_long);
  ASSERT_TRUE(stream);
  auto items = drain(**stream);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(std::get<StreamFailed>(items[0]).error.code, ErrorCode::kOutOfRange);
  GenerationJob unknown = job(4);
  unknown.model = "missing";
  stream = scheduler->submit(unknown);
  ASSERT_TRUE(stream);
  items = drain(**stream);
  EXPECT_EQ(std::get<StreamFailed>(items.at(0)).error.code, ErrorCode::kNotFound);
}

// Both runs of a job: how its stream started and how it finished.
struct Outcome {
  int64_t n_ctx = 0;
  int64_t n_generated = -1;
  FinishReason finish_reason = FinishReason::kCancelled;
};

Outcome outcome_of(const std::vector<StreamItem>& items) {
  Outcome outcome;
  if (!items.empty()) {
    if (const auto* started = std::get_if<StreamStarted>(&items.front())) {
      outcome.n_ctx = started->n_ctx;
    }
    if (const auto* finished = std::get_if<StreamFinished>(&items.back())) {
      outcome.n_generated = finished->n_generated;
      outcome.finish_reason = finished->finish_reason;
    }
  }
  return outcome;
}

// A runtime whose pressure and power readings the test sets; ticks are the test's.
class SchedulerPolicyTest : public SchedulerTest {
 protected:
  void SetUp() override {}  // each test starts its runtime with the context it plans
  void TearDown() override { runtime_.reset(); }  // before the clock and sources it reads
  void start(int64_t planned_ctx) {
    RuntimeOptions options;
    options.watch_os = false;
    options.budget_bytes = uint64_t{1} << 30;
    options.clock = &clock_;
    options.pressure_source = pressure_;
    options.power_source = [this] { return power_; };
    options.plan.n_ctx = planned_ctx;
    auto runtime = Runtime::create(std::move(options));
    ASSERT_TRUE(runtime) << runtime.error().message;
    runtime_ = std::move(*runtime);
    ASSERT_TRUE(runtime_->add_model("stories", kModelPath, ModelRole::kChat));
    runtime_->tick();
    ASSERT_EQ(runtime_->pressure_level(), PressureLevel::kNormal);
  }

  // Generates to max_tokens however often the model would end its text.
  static GenerationJob long_job(int32_t max_tokens, int64_t n_ctx = 0) {
    GenerationJob long_one = job(max_tokens);
    long_one.generation.ignore_eos = true;
    long_one.n_ctx = n_ctx;
    return long_one;
  }

  // Runs `job` while another one holds the only slot, so it waits in the queue; returns
  // the outcomes of the running job and of the queued one.
  std::pair<Outcome, Outcome> run_behind_another(const GenerationJob& running_job,
                                                 const GenerationJob& queued_job) {
    SchedulerOptions options;
    options.parallelism = 1;
    options.max_queue = 2;
    options.stream_capacity = 2;
    Scheduler scheduler(*runtime_, options);
    auto running = scheduler.submit(running_job);
    EXPECT_TRUE(running);
    if (!running) return {};
    wait_for_stall(**running);  // it holds the slot, waiting for its reader
    auto queued = scheduler.submit(queued_job);
    EXPECT_TRUE(queued);
    if (!queued) return {};
    EXPECT_EQ(scheduler.stats().queued, 1);
    const Outcome first = outcome_of(drain(**running));
    return {first, outcome_of(drain(**queued))};
  }

  Outcome run_alone(const GenerationJob& job) {
    SchedulerOptions options;
    options.parallelism = 1;
    options.max_queue = 0;
    Scheduler scheduler(*runtime_, options);
    auto stream = scheduler.submit(job);
    EXPECT_TRUE(stream);
    return stream ? outcome_of(drain(**stream)) : Outcome{};
  }

  ManualClock clock_;
  std::shared_ptr<testing::FakePressureSource> pressure_ =
      std::make_shared<testing::FakePressureSource>();
  PowerConditions power_{};
};

TEST_F(SchedulerPolicyTest, WarningPressureLowersMaxTokensOfQueuedWorkOnly) {
  start(1024);  // stories260K's own context (128) is shorter than the cap
  constexpr int32_t kAsked = kWarningQueuedMaxTokens + 44;
  // 16 GiB machine, 2 GiB available: the ladder's warning.
  pressure_->set_available(2 * testing::kGiB);
  runtime_->tick();
  ASSERT_EQ(runtime_->pressure_level(), PressureLevel::kWarning);

  const auto [running, queued] = run_behind_another(long_job(kAsked), long_job(kAsked));
  EXPECT_EQ(running.finish_reason, FinishReason::kLength);
  EXPECT_EQ(running.n_generated, kAsked) << "work that had a slot is never cut short";
  EXPECT_EQ(queued.finish_reason, FinishReason::kLength);
  EXPECT_EQ(queued.n_generated, kWarningQueuedMaxTokens);
  // A request asking for less than the cap keeps its own limit.
  EXPECT_EQ(run_behind_another(long_job(kAsked), long_job(20)).second.n_generated, 20);

  // Once the pressure clears (after the ladder's calm samples), queued work runs in full.
  pressure_->set_available(8 * testing::kGiB);
  for (int i = 0; i < 20 && runtime_->pressure_level() != PressureLevel::kNormal; ++i) {
    clock_.advance(std::chrono::seconds(1));
    runtime_->tick();
  }
  ASSERT_EQ(runtime_->pressure_level(), PressureLevel::kNormal);
  EXPECT_EQ(run_behind_another(long_job(kAsked), long_job(kAsked)).second.n_generated, kAsked);
}

TEST_F(SchedulerPolicyTest, DownshiftedPowerGivesSmallerContextAndMaxTokens) {
  constexpr int64_t kPlanned = 2 * kThermalCriticalContextCap;
  constexpr int32_t kAsked = kThermalCriticalMaxTokensCap + 44;
  start(kPlanned);
  Outcome full = run_alone(long_job(kAsked));
  EXPECT_EQ(full.n_ctx, kPlanned);
  EXPECT_EQ(full.n_generated, kAsked);

  power_.thermal = ThermalState::kCritical;
  runtime_->tick();
  ASSERT_FALSE(runtime_->policy().power.speculative_enabled);
  const Outcome critical = run_alone(long_job(kAsked));
  EXPECT_EQ(critical.n_ctx, kThermalCriticalContextCap) << "the default context shrinks";
  EXPECT_EQ(critical.n_generated, kThermalCriticalMaxTokensCap);
  EXPECT_EQ(critical.finish_reason, FinishReason::kLength);
  // The cap holds for running work too (unlike the pressure ladder's), and an explicit
  // context is the caller's to choose.
  const Outcome explicit_ctx = run_alone(long_job(kAsked, kPlanned - 256));
  EXPECT_EQ(explicit_ctx.n_ctx, kPlanned - 256);
  EXPECT_EQ(explicit_ctx.n_generated, kThermalCriticalMaxTokensCap);

  power_.thermal = ThermalState::kNominal;
  runtime_->tick();
  full = run_alone(long_job(kAsked));
  EXPECT_EQ(full.n_ctx, kPlanned) << "restored when the state clears";
  EXPECT_EQ(full.n_generated, kAsked);
}
}  // namespace
}  // namespace locara
