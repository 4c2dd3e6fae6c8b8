#include "ops/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace locara::ops {
namespace {

TEST(ThreadPoolTest, SizeIsAtLeastOne) {
  EXPECT_EQ(ThreadPool(0).size(), 1);
  EXPECT_EQ(ThreadPool(-3).size(), 1);
  EXPECT_EQ(ThreadPool(4).size(), 4);
}

TEST(ThreadPoolTest, RunCallsEachThreadIndexOnce) {
  for (int n_threads : {1, 2, 3, 8}) {
    ThreadPool pool(n_threads);
    std::vector<std::atomic<int>> calls(static_cast<size_t>(n_threads));
    pool.run([&](int thread_index, int total) {
      EXPECT_EQ(total, n_threads);
      calls[static_cast<size_t>(thread_index)].fetch_add(1);
    });
    for (int i = 0; i < n_threads; ++i) EXPECT_EQ(calls[static_cast<size_t>(i)].load(), 1) << i;
  }
}

TEST(ThreadPoolTest, CallerIsWorkerZero) {
  ThreadPool pool(3);
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> zero_on_caller{false};
  pool.run([&](int thread_index, int) {
    if (thread_index == 0) zero_on_caller = std::this_thread::get_id() == caller;
  });
  EXPECT_TRUE(zero_on_caller.load());
}

TEST(ThreadPoolTest, ParallelForVisitsEveryIndexExactlyOnce) {
  for (int n_threads : {1, 2, 3, 5, 8}) {
    ThreadPool pool(n_threads);
    for (int64_t n : {0, 1, 2, 3, 4, 7, 8, 9, 100, 1001, 4096}) {
      std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
      std::atomic<int> chunks{0};
      pool.parallel_for(n, [&](int64_t begin, int64_t end) {
        EXPECT_LT(begin, end);
        chunks.fetch_add(1);
        for (int64_t i = begin; i < end; ++i) visits[static_cast<size_t>(i)].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(visits[static_cast<size_t>(i)].load(), 1)
            << "threads " << n_threads << " n " << n << " index " << i;
      }
      EXPECT_LE(chunks.load(), n_threads);
    }
  }
}

TEST(ThreadPoolTest, TenThousandRunsDoNotDeadlock) {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  for (int i = 0; i < 10000; ++i) {
    pool.parallel_for(64, [&](int64_t begin, int64_t end) { total.fetch_add(end - begin); });
  }
  EXPECT_EQ(total.load(), 64 * 10000);
}

TEST(ThreadPoolTest, ResultsOfOneRunAreVisibleAfterIt) {
  ThreadPool pool(3);
  std::vector<int64_t> values(999, 0);
  for (int round = 1; round <= 100; ++round) {
    pool.parallel_for(static_cast<int64_t>(values.size()), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) values[static_cast<size_t>(i)] += i;
    });
  }
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(values[i], static_cast<int64_t>(i) * 100);
}

TEST(ThreadPoolTest, DestroysWhileIdle) {
  for (int i = 0; i < 50; ++i) {
    ThreadPool never_used(4);
  }
  for (int i = 0; i < 50; ++i) {
    ThreadPool used_once(3);
    std::atomic<int> calls{0};
    used_once.run([&](int, int) { calls.fetch_add(1); });
    EXPECT_EQ(calls.load(), 3);
  }
}

}  // namespace
}  // namespace locara::ops
