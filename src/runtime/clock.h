// Time as the runtime sees it: an injectable clock, so idle timers, pressure and
// power scenarios run in tests in milliseconds with a ManualClock instead of minutes.
#pragma once

#include <atomic>
#include <chrono>

namespace locara {

using RuntimeClock = std::chrono::steady_clock;
using TimePoint = RuntimeClock::time_point;
using Duration = RuntimeClock::duration;

// A source of monotonic time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// The real monotonic clock (std::chrono::steady_clock). Thread-safe.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return RuntimeClock::now(); }
};

// A clock that moves only when told to: tests advance it by exactly the time a
// scenario needs (180 s of idleness is one call). Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{} + std::chrono::hours(1)) : now_(start) {}

  TimePoint now() const override { return now_.load(); }
  void advance(Duration by) {
    TimePoint seen = now_.load();
    while (!now_.compare_exchange_weak(seen, seen + by)) {
    }
  }
  void set(TimePoint to) { now_.store(to); }

 private:
  std::atomic<TimePoint> now_;
};

// Seconds between two points, for logs and listings.
inline double seconds_between(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace locara
