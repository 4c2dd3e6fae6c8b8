// The model manager's scenarios on a ManualClock with fake models of declared sizes:
// idle unload, LRU eviction by planned size, leases, pins, app budgets, the decision log.
#include "runtime/model_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "fake_models.h"
#include "runtime/app_budget.h"
#include "runtime/events.h"

namespace locara {
namespace {

using namespace std::chrono_literals;
using testing::fake_spec;
using testing::FakeLoader;
using testing::kGiB;
using testing::kMiB;

class ModelManagerTest : public ::testing::Test {
 protected:
  void make_manager(uint64_t budget, AppBudget* budgets = nullptr) {
    manager_ = std::make_unique<ModelManager>(clock_, loader_.loader(), ModelManagerOptions{budget},
                                              &bus_, budgets);
  }
  ModelState state(const std::string& name) const { return manager_->status(name)->state; }
  bool loaded(const std::string& name) const { return state(name) == ModelState::kLoaded; }
  void use(const std::string& name, const std::string& app = "app") {
    auto lease = manager_->acquire(name, app);
    ASSERT_TRUE(lease) << lease.error().message;
  }

  ManualClock clock_;
  EventBus bus_{clock_};
  FakeLoader loader_;
  std::unique_ptr<ModelManager> manager_;
};

TEST_F(ModelManagerTest, IdleUnloadHappensAtExactlyTheTimeoutAfterTheLastLease) {
  make_manager(10 * kGiB);
  ASSERT_TRUE(manager_->add_model(fake_spec("chat", 2 * kGiB)));
  use("chat");  // acquired and released at t0
  EXPECT_TRUE(loaded("chat"));
  EXPECT_TRUE(loader_.alive("chat"));
  clock_.advance(179s);
  manager_->tick(clock_.now());
  EXPECT_TRUE(loaded("chat")) << "unloaded after 179 s";
  EXPECT_NEAR(manager_->status("chat")->idle_seconds, 179.0, 1e-6);
  clock_.advance(1s);
  manager_->tick(clock_.now());
  EXPECT_EQ(state("chat"), ModelState::kUnloaded);
  EXPECT_FALSE(loader_.alive("chat")) << "unloaded but its memory was not freed";

  const auto decisions = manager_->decisions();
  ASSERT_FALSE(decisions.empty());
  EXPECT_EQ(decisions.back().action, DecisionAction::kUnload);
  EXPECT_NE(decisions.back().reason.find("idle"), std::string::npos) << decisions.back().reason;
  EXPECT_NE(decisions.back().reason.find("180 s"), std::string::npos) << decisions.back().reason;
}

TEST_F(ModelManagerTest, IdleTimerRunsFromTheLastLeaseReleaseNotFromTheAcquire) {
  make_manager(10 * kGiB);
  ASSERT_TRUE(manager_->add_model(fake_spec("chat", 2 * kGiB)));
  auto lease = manager_->acquire("chat", "app");
  ASSERT_TRUE(lease);
  clock_.advance(500s);  // a long generation
  manager_->tick(clock_.now());
  EXPECT_TRUE(loaded("chat")) << "a leased model must never idle-unload";
  lease->reset();
  clock_.advance(179s);
  manager_->tick(clock_.now());
  EXPECT_TRUE(loaded("chat"));
  clock_.advance(1s);
  manager_->tick(clock_.now());
  EXPECT_FALSE(loaded("chat"));
}

TEST_F(ModelManagerTest, ListingDoesNotResetIdleTimers) {
  make_manager(10 * kGiB);
  ASSERT_TRUE(manager_->add_model(fake_spec("chat", 2 * kGiB)));
  use("chat");
  for (int i = 0; i < 18; ++i) {  // a health check every 10 s
    clock_.advance(10s);
    (void)manager_->list();
    (void)manager_->status("chat");
    (void)manager_->committed_bytes();
  }
  manager_->tick(clock_.now());
  EXPECT_FALSE(loaded("chat")) << "status calls kept an idle model alive";
}

TEST_F(ModelManagerTest, IdleTimeoutIsConfigurable) {
  manager_ =
      std::make_unique<ModelManager>(clock_, loader_.loader(), ModelManagerOptions{10 * kGiB, 30s});
  ASSERT_TRUE(manager_->add_model(fake_spec("chat", kGiB)));
  use("chat");
  clock_.advance(29s);
  manager_->tick(clock_.now());
  EXPECT_TRUE(loaded("chat"));
  clock_.advance(1s);
  manager_->tick(clock_.now());
  EXPECT_FALSE(loaded("chat"));
}

TEST_F(ModelManagerTest, EvictsLeastRecentlyUsedByPlannedSizeBeforeLoading) {
  make_manager(10 * kGiB);
  ASSERT_TRUE(manager_->add_model(fake_spec("a", 3 * kGiB)));
  ASSERT_TRUE(manager_->add_model(fake_spec("b", 3 * kGiB)));
  ASSERT_TRUE(manager_->add_model(fake_spec("c", 3 * kGiB)));
  ASSERT_TRUE(manager_->add_model(fake_spec("d", 5 * kGiB)));
  use("a");
  clock_.advance(1s);
  use("b");
  clock_.advance(1s);
  use("c");
  clock_.advance(1s);
  use("a");  // a is now the most recently used: b, then c, are the oldest
  EXPECT_EQ(manager_->committed_bytes(), 9 * kGiB);

  auto sub = bus_.subscribe({"test", 64, {EventKind::kModelUnloaded, EventKind::kModelLoaded}});
  clock_.advance(1s);
  use("d");  // needs 5 GiB with 1 free: b and c go (6 GiB), a stays
  EXPECT_TRUE(loaded("a"));
  EXPECT_FALSE(loaded("b"));
  EXPECT_FALSE(loaded("c"));
  EXPECT_TRUE(loaded("d"));
  EXPECT_FALSE(loader_.alive("b"));
  EXPECT_FALSE(loader_.alive("c"));
  EXPECT_EQ(manager_->committed_bytes(), 8 * kGiB);

  // Unloads come before the load, oldest first.
  auto events = sub.drain();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].get<ModelUnloadedEvent>()->model, "b");
  EXPECT_EQ(events[0].get<ModelUnloadedEvent>()->reason, UnloadReason::kEvicted);
  EXPECT_EQ(events[1].get<ModelUnloadedEvent>()->model, "c");
  ASSERT_NE(events[2].get<ModelLoadedEvent>(), nullptr);
  EXPECT_EQ(events[2].get<ModelLoadedEvent>()->model, "d");
  EXPECT_NE(events[2].get<ModelLoadedEvent>()->reason.find("evicted first: b, c"),
            std::string::npos)
      << events[2].get<ModelLoadedEvent>()->reason;
}

TEST_F(ModelManagerTest, EvictsOnlyWhatIsNeeded) {
  make_manager(10 * kGiB);
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(manager_->add_model(fake_spec(name, 3 * kGiB)));
    use(name);
    clock_.advance(1s);
  }
  ASSERT_TRUE(manager_->add_model(fake_spec("small", 2 * kGiB)));
  use("small");  // 1 GiB free, needs 2: only "a" goes
  EXPECT_FALSE(loaded("a"));
  EXPECT_TRUE(loaded("b"));
  EXPECT_TRUE(loaded("c"));
}

TEST_F(ModelManagerTest, NeverEvictsLeasedOrPinnedModelsAndRefusesWhenNothingCanGo) {
  make_manager(10 * kGiB);
  ASSERT_TRUE(manager_->add_model(fake_spec("busy", 4 * kGiB)));
  ASSERT_TRUE(manager_->add_model(fake_spec("kept", 4 * kGiB)));
  ASSERT_TRUE(manager_->add_model(fake_spec("big", 4 * kGiB)));
  auto lease = manager_->acquire("busy", "editor");
  ASSERT_TRUE(lease);
  ASSERT_TRUE(manager_->pin("kept", "notes"));
  use("kept", "notes");
  auto refused = manager_->acquire("big", "mail");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  const std::string& message = refused.error().message;
  EXPECT_NE(message.find("'big'"), std::string::npos) << message;
  EXPECT_NE(message.find("'mail'"), std::string::npos) << message;
  EXPECT_NE(message.find("busy"), std::string::npos) << message;
  EXPECT_NE(message.find("pinned"), std::string::npos) << message;
  EXPECT_TRUE(loaded("busy"));
  EXPECT_TRUE(loaded("kept"));
  EXPECT_EQ(manager_->decisions().back().action, DecisionAction::kRefuse);

  // Once the pin goes, the idle model can make room.
  ASSERT_TRUE(manager_->unpin("kept", "notes"));
  EXPECT_TRUE(manager_->acquire("big", "mail"));
  EXPECT_FALSE(loaded("kept"));
}

TEST_F(ModelManagerTest, PinnedModelsAreNotIdleUnloaded) {
  make_manager(10 * kGiB);
  ASSERT_TRUE(manager_->add_model(fake_spec("chat", kGiB)));
  ASSERT_TRUE(manager_->pin("chat", "notes"));
  use("chat", "notes");
  clock_.advance(1h);
  manager_->tick(clock_.now());
  EXPECT_TRUE(loaded("chat"));
  ASSERT_TRUE(manager_->unpin("chat", "notes"));
  manager_->tick(clock_.now());
  EXPECT_FALSE(loaded("chat"));
}

TEST_F(ModelManagerTest, AModelLargerThanTheBudgetIsRefusedWithoutEvictingAnything) {
  make_manager(4 * kGiB);
  ASSERT_TRUE(manager_->add_model(fake_spec("small", kGiB)));
  ASSERT_TRUE(manager_->add_model(fake_spec("huge", 5 * kGiB)));
  use("small");
  auto refused = manager_->acquire("huge", "app");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("5.00 GiB"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(loaded("small"));
  EXPECT_EQ(loader_.loads("huge"), 0);
}

TEST_F(ModelManagerTest, UnloadWaitsForTheLastLease) {
  make_manager(10 * kGiB);
  ASSERT_TRUE(manager_->add_model(fake_spec("chat", kGiB)));
  auto first = manager_->acquire("chat", "a");
  auto second = manager_->acquire("chat", "b");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(loader_.loads("chat"), 1) << "a loaded model was loaded again";
  EXPECT_EQ(manager_->status("chat")->leases, 2);
  ASSERT_TRUE(manager_->unload("chat", "user asked"));
  EXPECT_TRUE(loaded("chat"));
  EXPECT_TRUE(manager_->status("chat")->unload_when_released);
  first->reset();
  EXPECT_TRUE(loaded("chat"));
  EXPECT_TRUE(loader_.alive("chat"));
  second->reset();
  EXPECT_FALSE(loaded("chat"));
  EXPECT_FALSE(loader_.alive("chat"));
}

TEST_F(ModelManagerTest, ListingShowsOwnersPinsLeasesAndIdleTime) {
  make_manager(10 * kGiB);
  ASSERT_TRUE(manager_->add_model(fake_spec("chat", 2 * kGiB)));
  ASSERT_TRUE(manager_->add_model(fake_spec("embed", kGiB, ModelRole::kEmbed)));
  auto lease = manager_->acquire("chat", "notes");
  ASSERT_TRUE(lease);
  use("chat", "mail");
  ASSERT_TRUE(manager_->pin("chat", "notes"));
  ASSERT_TRUE(manager_->preload("embed", "search"));
  clock_.advance(42s);
  const auto list = manager_->list();
  ASSERT_EQ(list.size(), 2u);
  const ModelStatus& chat = list[0];
  EXPECT_EQ(chat.name, "chat");
  EXPECT_EQ(chat.state, ModelState::kLoaded);
  EXPECT_EQ(chat.leases, 1);
  EXPECT_EQ(chat.owner_apps, (std::vector<std::string>{"mail", "notes"}));
  EXPECT_EQ(chat.pinned_by, (std::vector<std::string>{"notes"}));
  EXPECT_EQ(chat.idle_seconds, 0.0) << "a leased model is not idle";
  EXPECT_EQ(chat.kv_type, "q8_0");
  EXPECT_EQ(chat.n_ctx, 2048);
  const ModelStatus& embed = list[1];
  EXPECT_EQ(embed.role, ModelRole::kEmbed);
  EXPECT_NEAR(embed.idle_seconds, 42.0, 1e-6);
  EXPECT_EQ(embed.owner_apps, (std::vector<std::string>{"search"}));
}

TEST_F(ModelManagerTest, AFailedLoadReleasesItsReservationAndIsLogged) {
  make_manager(4 * kGiB);
  ASSERT_TRUE(manager_->add_model(fake_spec("broken", 3 * kGiB)));
  loader_.fail_loading("broken");
  auto result = manager_->acquire("broken", "app");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kIoError);
  EXPECT_EQ(manager_->committed_bytes(), 0u);
  EXPECT_EQ(manager_->decisions().back().action, DecisionAction::kLoadFailed);
}

TEST_F(ModelManagerTest, RefusesALoadPastTheAppsDeclaredBudget) {
  AppBudget budgets;
  ASSERT_TRUE(budgets.register_app("com.example.notes", 2 * kGiB));
  make_manager(16 * kGiB, &budgets);
  ASSERT_TRUE(manager_->add_model(fake_spec("small", kGiB)));
  ASSERT_TRUE(manager_->add_model(fake_spec("large", 3 * kGiB)));
  use("small", "com.example.notes");
  auto refused = manager_->acquire("large", "com.example.notes");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  const std::string& message = refused.error().message;
  EXPECT_NE(message.find("com.example.notes"), std::string::npos) << message;
  EXPECT_NE(message.find("4.00 GiB"), std::string::npos) << "the need: " << message;
  EXPECT_NE(message.find("2.00 GiB"), std::string::npos) << "the budget: " << message;
  EXPECT_EQ(loader_.loads("large"), 0);
  EXPECT_EQ(manager_->decisions().back().action, DecisionAction::kRefuse);
  // Charged while loaded; released with the model.
  EXPECT_EQ(budgets.footprint("com.example.notes")->weights_share_bytes, kGiB);
  clock_.advance(180s);
  manager_->tick(clock_.now());
  EXPECT_EQ(budgets.footprint("com.example.notes")->weights_share_bytes, 0u);
  // Apps the budget does not know (the CLI) are not limited.
  EXPECT_TRUE(manager_->acquire("large", "cli"));
}

TEST_F(ModelManagerTest, ConcurrentRequestsShareOneLoadAndEndWithNothingLeased) {
  make_manager(3 * kGiB);
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(manager_->add_model(fake_spec(name, kGiB + kGiB / 2)));
  }
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const char* names[] = {"a", "b", "c"};
      for (int i = 0; i < 200; ++i) {
        auto lease = manager_->acquire(names[(i + t) % 3], "app");
        if (!lease) {
          ++refused;  // both others in use by other threads: a correct refusal
          continue;
        }
        EXPECT_LE(manager_->committed_bytes(), 3 * kGiB);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& status : manager_->list()) EXPECT_EQ(status.leases, 0) << status.name;
  EXPECT_LE(manager_->committed_bytes(), 3 * kGiB);
}

}  // namespace
}  // namespace locara
