#include "ops/thread_pool.h"

#include <algorithm>

namespace locara::ops {

// Workers sleep on wake_ until generation_ moves past the last generation they ran. A
// counter (not a flag) cannot lose a wake-up: a worker that is slow to go back to sleep
// still sees that the generation changed. The caller sleeps on done_ until pending_
// (the workers still running the current job) reaches zero.

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::run(const std::function<void(int thread_index, int n_threads)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    pending_ = n_threads_ - 1;
    ++generation_;
  }
  wake_.notify_all();
  fn(0, n_threads_);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::parallel_for(int64_t n,
                              const std::function<void(int64_t begin, int64_t end)>& fn) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n);
    return;
  }
  // Thread i takes [n*i/T, n*(i+1)/T): chunk sizes differ by at most one.
  run([n, &fn](int thread_index, int n_threads) {
    const int64_t begin = n * thread_index / n_threads;
    const int64_t end = n * (thread_index + 1) / n_threads;
    if (begin < end) fn(begin, end);
  });
}

void ThreadPool::worker_loop(int thread_index) {
  // Generation 0 is the pool's state at construction, before any job.
  uint64_t seen_generation = 0;
  for (;;) {
    const std::function<void(int, int)>* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
      if (stopping_) return;
      seen_generation = generation_;
      job = job_;
    }
    (*job)(thread_index, n_threads_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

}  // namespace locara::ops
