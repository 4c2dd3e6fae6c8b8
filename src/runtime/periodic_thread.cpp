#include "runtime/periodic_thread.h"

#include <utility>

namespace locara {

PeriodicThread::PeriodicThread(Duration interval, std::function<void()> work)
    : interval_(interval), work_(std::move(work)), thread_([this] { loop(); }) {}

PeriodicThread::~PeriodicThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PeriodicThread::loop() {
  // Deadlines on the real steady clock: a ManualClock given to the runtime stands still
  // in tests, and the thread must still run.
  auto next = RuntimeClock::now() + interval_;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) return;
    lock.unlock();
    work_();
    lock.lock();
    // After an overrun, the next call is one interval after this one ended: no catching up.
    next += interval_;
    const auto now = RuntimeClock::now();
    if (next < now) next = now + interval_;
  }
}

}  // namespace locara
