#include "ops/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace locara::ops {
namespace {

// How long a thread spins for the next region (or for the workers to finish) before it
// sleeps: long enough to bridge the gaps inside a forward pass and between tokens,
// short enough that an idle pool stops burning a core almost at once.
constexpr auto kSpinTime = std::chrono::microseconds(200);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until done() or kSpinTime passes; true if done() became true.
template <typename Done>
bool spin_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (int i = 0;; ++i) {
    if (done()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return false;
  }
}

}  // namespace

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
  job_ = &fn;
  pending_.store(n_threads_ - 1);
  generation_.fetch_add(1);  // publishes job_ and pending_ (sequentially consistent)
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  fn(0, n_threads_);
  if (!spin_until([this] { return pending_.load() == 0; })) {
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1);
    done_.wait(lock, [this] { return pending_.load() == 0; });
    sleepers_.fetch_sub(1);
  }
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
    const auto has_work = [&] { return stopping_.load() || generation_.load() != seen_generation; };
    if (!spin_until(has_work)) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, has_work);
      sleepers_.fetch_sub(1);
    }
    if (stopping_.load()) return;
    seen_generation = generation_.load();
    (*job_)(thread_index, n_threads_);
    if (pending_.fetch_sub(1) == 1 && sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_all();
    }
  }
}

}  // namespace locara::ops
