#include "runtime/events.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "runtime/app_budget.h"

namespace locara {

namespace detail {

// One subscriber's queue. Its mutex is held only to push or pop a few events, never
// while waiting for anything but the consumer's own condition variable.
struct SubscriberQueue {
  std::string name;
  size_t capacity = 0;
  uint32_t kinds_mask = ~0u;  // bit per EventKind

  std::mutex mutex;
  std::condition_variable ready;
  std::deque<Event> events;
  bool closed = false;   // the Subscription ended
  bool dropped = false;  // fell behind; the bus no longer delivers to it

  bool wants(EventKind kind) const { return (kinds_mask >> static_cast<int>(kind)) & 1u; }
};

}  // namespace detail

const char* event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kMemoryBudgetTightening:
      return "memory_budget_tightening";
    case EventKind::kModelLoaded:
      return "model_loaded";
    case EventKind::kModelUnloaded:
      return "model_unloaded";
    case EventKind::kAppOverBudget:
      return "app_over_budget";
    case EventKind::kPowerStateChanged:
      return "power_state_changed";
    case EventKind::kSubscriberDropped:
      return "subscriber_dropped";
  }
  return "unknown";
}

namespace {

struct Describer {
  std::string operator()(const MemoryBudgetTighteningEvent& e) const {
    return fmt::format(
        "level={} previous={} bytes_to_free={} bytes_freed={} cause=\"{}\" "
        "actions=[{}]",
        pressure_level_name(e.level), pressure_level_name(e.previous),
        format_bytes(e.bytes_to_free), format_bytes(e.bytes_freed), e.cause,
        fmt::join(e.actions, "; "));
  }
  std::string operator()(const ModelLoadedEvent& e) const {
    return fmt::format("model={} role={} planned={} app={} reason=\"{}\"", e.model,
                       model_role_name(e.role), format_bytes(e.planned_bytes), e.app, e.reason);
  }
  std::string operator()(const ModelUnloadedEvent& e) const {
    return fmt::format("model={} role={} planned={} reason={} detail=\"{}\"", e.model,
                       model_role_name(e.role), format_bytes(e.planned_bytes),
                       unload_reason_name(e.reason), e.detail);
  }
  std::string operator()(const AppOverBudgetEvent& e) const {
    return fmt::format("app={} footprint={} declared={}", e.app, format_bytes(e.footprint_bytes),
                       format_bytes(e.declared_bytes));
  }
  std::string operator()(const PowerStateChangedEvent& e) const {
    return fmt::format("low_power={} thermal={} downshifted={} summary=\"{}\"", e.low_power,
                       thermal_state_name(e.thermal), e.downshifted, e.summary);
  }
  std::string operator()(const SubscriberDroppedEvent& e) const {
    return fmt::format("subscriber={} capacity={}", e.subscriber, e.capacity);
  }
};

}  // namespace

std::string describe_event(const Event& event) {
  return fmt::format("#{} {} {}", event.sequence, event_kind_name(event.kind()),
                     std::visit(Describer{}, event.payload));
}

Subscription::Subscription(std::shared_ptr<detail::SubscriberQueue> queue)
    : queue_(std::move(queue)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    close();
    queue_ = std::move(other.queue_);
  }
  return *this;
}

Subscription::~Subscription() {
  close();
}

void Subscription::close() {
  if (!queue_) return;
  // The bus sees the flag on its next publish and forgets the queue.
  std::lock_guard lock(queue_->mutex);
  queue_->closed = true;
  queue_->events.clear();
}

std::optional<Event> Subscription::try_next() {
  if (!queue_) return std::nullopt;
  std::lock_guard lock(queue_->mutex);
  if (queue_->events.empty()) return std::nullopt;
  Event event = std::move(queue_->events.front());
  queue_->events.pop_front();
  return event;
}

std::optional<Event> Subscription::wait_next(std::chrono::milliseconds timeout) {
  if (!queue_) return std::nullopt;
  std::unique_lock lock(queue_->mutex);
  if (!queue_->ready.wait_for(lock, timeout, [&] { return !queue_->events.empty(); })) {
    return std::nullopt;
  }
  Event event = std::move(queue_->events.front());
  queue_->events.pop_front();
  return event;
}

std::vector<Event> Subscription::drain() {
  std::vector<Event> out;
  if (!queue_) return out;
  std::lock_guard lock(queue_->mutex);
  out.assign(std::make_move_iterator(queue_->events.begin()),
             std::make_move_iterator(queue_->events.end()));
  queue_->events.clear();
  return out;
}

size_t Subscription::pending() const {
  if (!queue_) return 0;
  std::lock_guard lock(queue_->mutex);
  return queue_->events.size();
}

bool Subscription::dropped() const {
  if (!queue_) return false;
  std::lock_guard lock(queue_->mutex);
  return queue_->dropped;
}

Subscription EventBus::subscribe(SubscriptionOptions options) {
  auto queue = std::make_shared<detail::SubscriberQueue>();
  queue->name = std::move(options.name);
  queue->capacity = std::max<size_t>(1, options.capacity);
  if (!options.kinds.empty()) {
    queue->kinds_mask = 0;
    for (EventKind kind : options.kinds) queue->kinds_mask |= 1u << static_cast<int>(kind);
  }
  std::lock_guard lock(mutex_);
  queues_.push_back(queue);
  return Subscription(std::move(queue));
}

uint64_t EventBus::publish(EventPayload payload) {
  std::lock_guard lock(mutex_);
  Event event{next_sequence_++, clock_.now(), std::move(payload)};
  const EventKind kind = event.kind();
  std::erase_if(queues_, [&](const std::shared_ptr<detail::SubscriberQueue>& queue) {
    std::lock_guard queue_lock(queue->mutex);
    if (queue->closed) return true;
    if (!queue->wants(kind)) return false;
    if (queue->events.size() >= queue->capacity) {
      // Fell behind: one notice past capacity, then no more deliveries.
      queue->dropped = true;
      queue->events.push_back(
          Event{event.sequence, event.time, SubscriberDroppedEvent{queue->name, queue->capacity}});
      queue->ready.notify_all();
      ++dropped_;
      return true;
    }
    queue->events.push_back(event);
    queue->ready.notify_all();
    return false;
  });
  return event.sequence;
}

size_t EventBus::subscriber_count() const {
  std::lock_guard lock(mutex_);
  size_t live = 0;
  for (const auto& queue : queues_) {
    std::lock_guard queue_lock(queue->mutex);
    live += queue->closed ? 0 : 1;
  }
  return live;
}

uint64_t EventBus::dropped_subscribers() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

uint64_t EventBus::published() const {
  std::lock_guard lock(mutex_);
  return next_sequence_ - 1;
}

}  // namespace locara
