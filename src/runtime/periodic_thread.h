// A background thread that calls a function at a fixed interval (the runtime's tick: idle
// unloads, pressure and power sampling) and stops at once when destroyed.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "runtime/clock.h"

namespace locara {

// Thread-safe to destroy from any thread but its own. The first call comes one interval
// after construction; a call that overruns the interval delays the next one rather than
// queueing calls. Destruction wakes the waiting thread through a condition variable, so
// it returns as soon as a call in progress ends, never after a remaining sleep.
class PeriodicThread {
 public:
  // interval must be positive.
  PeriodicThread(Duration interval, std::function<void()> work);
  ~PeriodicThread();
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

 private:
  void loop();

  const Duration interval_;
  const std::function<void()> work_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything it reads is initialised
};

}  // namespace locara
