// The runtime's event bus: typed events (memory budget tightening, model loaded/unloaded,
// app over budget, power state) fanned out to subscribers through bounded queues.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "platform/memory_pressure.h"
#include "platform/thermal.h"
#include "runtime/clock.h"
#include "runtime/model_types.h"

namespace locara {

// The memory pressure ladder acted (or pressure cleared): the one normalised stream apps
// get instead of the OS's signals.
struct MemoryBudgetTighteningEvent {
  PressureLevel level = PressureLevel::kNormal;
  PressureLevel previous = PressureLevel::kNormal;
  uint64_t bytes_to_free = 0;        // how far available memory is below the warning line
  uint64_t bytes_freed = 0;          // what the runtime released now (caches, models)
  std::string cause;                 // which OS signal set the level
  std::vector<std::string> actions;  // what the runtime is doing, one line each
};

struct ModelLoadedEvent {
  std::string model;
  ModelRole role = ModelRole::kChat;
  uint64_t planned_bytes = 0;
  std::string app;     // whose request loaded it
  std::string reason;  // e.g. what was evicted first
};

struct ModelUnloadedEvent {
  std::string model;
  ModelRole role = ModelRole::kChat;
  uint64_t planned_bytes = 0;
  UnloadReason reason = UnloadReason::kIdle;
  std::string detail;
};

struct AppOverBudgetEvent {
  std::string app;
  uint64_t footprint_bytes = 0;
  uint64_t declared_bytes = 0;
};

struct PowerStateChangedEvent {
  bool low_power = false;
  ThermalState thermal = ThermalState::kNominal;
  bool downshifted = false;  // the power policy limits work now
  std::string summary;       // what changed for apps, e.g. "speculative decoding off, ..."
};

// Sent to a subscriber as its last event when it fell behind and was dropped.
struct SubscriberDroppedEvent {
  std::string subscriber;
  size_t capacity = 0;
};

using EventPayload =
    std::variant<MemoryBudgetTighteningEvent, ModelLoadedEvent, ModelUnloadedEvent,
                 AppOverBudgetEvent, PowerStateChangedEvent, SubscriberDroppedEvent>;

// In EventPayload's order.
enum class EventKind {
  kMemoryBudgetTightening,
  kModelLoaded,
  kModelUnloaded,
  kAppOverBudget,
  kPowerStateChanged,
  kSubscriberDropped,
};
const char* event_kind_name(EventKind kind);  // "memory_budget_tightening", ...

struct Event {
  uint64_t sequence = 0;  // 1, 2, ... in publication order, the same for every subscriber
  TimePoint time;
  EventPayload payload;

  EventKind kind() const { return static_cast<EventKind>(payload.index()); }
  template <typename T>
  const T* get() const {
    return std::get_if<T>(&payload);
  }
};

// One line for logs and the CLI: "model_unloaded model=a reason=idle ...".
std::string describe_event(const Event& event);

struct SubscriptionOptions {
  std::string name;              // who subscribes (an app id), for notices and logs
  size_t capacity = 256;         // events it may have waiting; one more and it is dropped
  std::vector<EventKind> kinds;  // what it wants; empty: everything
};

namespace detail {
struct SubscriberQueue;
}

// An app's end of the bus. A subscriber that lets `capacity` events pile up is dropped:
// it keeps what it had queued, then receives a SubscriberDroppedEvent, and dropped()
// turns true; it must subscribe again (and resynchronise) to get more. Dropping instead
// of waiting is what keeps publishing from ever blocking the runtime.
// Thread-safe; meant for one consumer thread. Move-only; ending it unsubscribes.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::shared_ptr<detail::SubscriberQueue> queue);
  Subscription(Subscription&&) noexcept = default;
  Subscription& operator=(Subscription&& other) noexcept;
  ~Subscription();

  std::optional<Event> try_next();
  // Waits up to `timeout` (real time) for an event.
  std::optional<Event> wait_next(std::chrono::milliseconds timeout);
  std::vector<Event> drain();
  size_t pending() const;
  bool dropped() const;

 private:
  void close();
  std::shared_ptr<detail::SubscriberQueue> queue_;
};

// Thread-safe. publish() never waits for a subscriber: it takes short internal locks,
// appends to each interested queue, and drops a subscriber whose queue is full.
class EventBus {
 public:
  explicit EventBus(const Clock& clock) : clock_(clock) {}

  Subscription subscribe(SubscriptionOptions options);
  // Stamps the event (sequence, time) and delivers it; returns its sequence number.
  uint64_t publish(EventPayload payload);

  size_t subscriber_count() const;
  uint64_t dropped_subscribers() const;  // since the bus was made
  uint64_t published() const;

 private:
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<detail::SubscriberQueue>> queues_;
  uint64_t next_sequence_ = 1;
  uint64_t dropped_ = 0;
};

}  // namespace locara
