// A persistent pool of worker threads that runs one parallel region at a time.
// The caller's thread is worker 0, so a pool of N threads starts N-1 OS threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace locara::ops {

// run() is not reentrant and must be called from one thread at a time;
// the pool itself is safe to destroy while idle.
class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(thread_index, n_threads) once on each thread and waits for all.
  void run(const std::function<void(int thread_index, int n_threads)>& fn);

  // Splits [0, n) into contiguous chunks, one per thread: fn(begin, end).
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  void worker_loop(int thread_index);

  int n_threads_;
  std::vector<std::thread> workers_;
  // A region starts by publishing job_ and bumping generation_; workers spin on it for a
  // while (a forward pass starts a new region every few microseconds) before sleeping
  // on wake_. sleepers_ is raised under mutex_ before a thread waits, so a publisher that
  // sees it zero knows nobody needs a notify.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace locara::ops
