// The scheduler over a real runtime and stories260K: bounded queue, back-pressure through
// the stream, cancellation, shutdown.
#include "runtime/scheduler.h"

#include <gtest/gtest.h>

#include <thread>

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

}  // namespace
}  // namespace locara
