// The event bus: ordered fan-out, filters, and the two promises that keep the runtime
// safe from its subscribers: a slow subscriber is dropped with a notice, and publishing
// never blocks.
#include "runtime/events.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace locara {
namespace {

using namespace std::chrono_literals;

ModelLoadedEvent loaded(std::string name) {
  return ModelLoadedEvent{std::move(name), ModelRole::kChat, 1024, "app", "test"};
}

TEST(EventBusTest, EverySubscriberSeesEventsInPublicationOrder) {
  ManualClock clock;
  EventBus bus(clock);
  auto first = bus.subscribe({"first", 16, {}});
  auto second = bus.subscribe({"second", 16, {}});
  for (int i = 0; i < 5; ++i) bus.publish(loaded(fmt::format("m{}", i)));
  for (Subscription* sub : {&first, &second}) {
    auto events = sub->drain();
    ASSERT_EQ(events.size(), 5u);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(events[i].sequence, static_cast<uint64_t>(i + 1));
      EXPECT_EQ(events[i].kind(), EventKind::kModelLoaded);
      EXPECT_EQ(events[i].get<ModelLoadedEvent>()->model, fmt::format("m{}", i));
      EXPECT_EQ(events[i].time, clock.now());
    }
  }
  EXPECT_EQ(bus.published(), 5u);
}

TEST(EventBusTest, SubscribersGetOnlyTheKindsTheyAskFor) {
  ManualClock clock;
  EventBus bus(clock);
  auto power_only = bus.subscribe({"power", 16, {EventKind::kPowerStateChanged}});
  bus.publish(loaded("a"));
  bus.publish(PowerStateChangedEvent{true, ThermalState::kNominal, true, "low power"});
  auto events = power_only.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), EventKind::kPowerStateChanged);
  EXPECT_EQ(events[0].sequence, 2u);
}

TEST(EventBusTest, ASlowSubscriberIsDroppedWithANoticeWhileOthersGetEverything) {
  ManualClock clock;
  EventBus bus(clock);
  auto slow = bus.subscribe({"slow-app", 4, {}});
  auto fast = bus.subscribe({"fast-app", 1000, {}});
  for (int i = 0; i < 100; ++i) bus.publish(loaded(fmt::format("m{}", i)));

  EXPECT_TRUE(slow.dropped());
  EXPECT_FALSE(fast.dropped());
  auto slow_events = slow.drain();
  ASSERT_EQ(slow_events.size(), 5u) << "its 4 queued events, then the notice";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(slow_events[i].kind(), EventKind::kModelLoaded);
  const auto* notice = slow_events[4].get<SubscriberDroppedEvent>();
  ASSERT_NE(notice, nullptr);
  EXPECT_EQ(notice->subscriber, "slow-app");
  EXPECT_EQ(notice->capacity, 4u);
  EXPECT_EQ(fast.drain().size(), 100u);
  EXPECT_EQ(bus.dropped_subscribers(), 1u);
  EXPECT_EQ(bus.subscriber_count(), 1u);

  // Nothing more reaches a dropped subscriber.
  bus.publish(loaded("late"));
  EXPECT_EQ(slow.pending(), 0u);
}

TEST(EventBusTest, PublishingNeverBlocksOnSubscribersThatDoNotRead) {
  ManualClock clock;
  EventBus bus(clock);
  auto never_reads = bus.subscribe({"stuck", 8, {}});
  // A consumer blocked waiting must not hold up publishers either.
  auto waiting = bus.subscribe({"waiting", 100000, {EventKind::kAppOverBudget}});
  std::thread waiter([&] { (void)waiting.wait_next(30000ms); });
  auto published = std::async(std::launch::async, [&] {
    for (int i = 0; i < 20000; ++i) bus.publish(loaded("m"));
    return true;
  });
  ASSERT_EQ(published.wait_for(10s), std::future_status::ready) << "publish blocked";
  EXPECT_TRUE(published.get());
  EXPECT_TRUE(never_reads.dropped());
  bus.publish(AppOverBudgetEvent{"app", 2, 1});
  waiter.join();
  EXPECT_EQ(waiting.pending(), 0u) << "the waiting consumer should have taken its event";
}

TEST(EventBusTest, WaitNextWakesOnPublishAndTimesOut) {
  ManualClock clock;
  EventBus bus(clock);
  auto sub = bus.subscribe({"app", 16, {}});
  EXPECT_FALSE(sub.wait_next(1ms).has_value());
  std::thread publisher([&] {
    std::this_thread::sleep_for(5ms);
    bus.publish(loaded("a"));
  });
  auto event = sub.wait_next(5000ms);
  publisher.join();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->get<ModelLoadedEvent>()->model, "a");
}

TEST(EventBusTest, EndingASubscriptionUnsubscribes) {
  ManualClock clock;
  EventBus bus(clock);
  {
    auto sub = bus.subscribe({"app", 16, {}});
    EXPECT_EQ(bus.subscriber_count(), 1u);
  }
  EXPECT_EQ(bus.subscriber_count(), 0u);
  bus.publish(loaded("a"));  // prunes the closed queue
  EXPECT_EQ(bus.dropped_subscribers(), 0u);
}

TEST(EventBusTest, ConcurrentPublishersKeepOneOrder) {
  ManualClock clock;
  EventBus bus(clock);
  auto sub = bus.subscribe({"app", 100000, {}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) bus.publish(loaded("m"));
    });
  }
  for (auto& thread : threads) thread.join();
  auto events = sub.drain();
  ASSERT_EQ(events.size(), 4000u);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].sequence, i + 1);
}

TEST(EventBusTest, DescribeNamesTheKindAndFields) {
  ManualClock clock;
  EventBus bus(clock);
  auto sub = bus.subscribe({"app", 16, {}});
  bus.publish(ModelUnloadedEvent{"chat", ModelRole::kChat, 2048, UnloadReason::kIdle, "idle"});
  const std::string line = describe_event(*sub.try_next());
  EXPECT_NE(line.find("model_unloaded"), std::string::npos) << line;
  EXPECT_NE(line.find("model=chat"), std::string::npos) << line;
  EXPECT_NE(line.find("reason=idle"), std::string::npos) << line;
}

}  // namespace
}  // namespace locara
