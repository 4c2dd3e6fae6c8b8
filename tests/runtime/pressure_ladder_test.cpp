// The memory pressure ladder, run through the Runtime with a ManualClock, fake models of
// declared sizes and a fake pressure source: what warning and critical give up, what
// they never interrupt, and lazy recovery.
#include <gtest/gtest.h>

#include <atomic>

#include "fake_models.h"
#include "locara/runtime.h"

namespace locara {
namespace {

using namespace std::chrono_literals;
using testing::fake_spec;
using testing::FakeLoader;
using testing::FakePressureSource;
using testing::kGiB;
using testing::kMiB;

bool contains(const std::vector<std::string>& lines, std::string_view needle) {
  for (const auto& line : lines) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

class PressureLadderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuntimeOptions options;
    options.budget_bytes = 10 * kGiB;
    options.clock = &clock_;
    options.loader = loader_.loader();
    options.watch_os = false;
    options.pressure_source = source_;
    auto runtime = Runtime::create(std::move(options));
    ASSERT_TRUE(runtime) << runtime.error().message;
    runtime_ = std::move(runtime).value();
    ASSERT_TRUE(runtime_->add_planned_model(fake_spec("chat", 3 * kGiB)));
    ASSERT_TRUE(runtime_->add_planned_model(fake_spec("other", 2 * kGiB)));
    ASSERT_TRUE(runtime_->add_planned_model(fake_spec("draft", kGiB, ModelRole::kDraft)));
    ASSERT_TRUE(runtime_->add_planned_model(fake_spec("embed", kGiB, ModelRole::kEmbed)));
  }
  void use(const std::string& model, const std::string& app = "app") {
    auto lease = runtime_->acquire(app, model);
    ASSERT_TRUE(lease) << lease.error().message;
  }
  std::optional<ModelStatus> status(const std::string& model) const {
    for (const auto& s : runtime_->ps()) {
      if (s.name == model) return s;
    }
    return std::nullopt;
  }
  bool loaded(const std::string& model) const {
    return status(model)->state == ModelState::kLoaded;
  }

  ManualClock clock_;
  FakeLoader loader_;
  std::shared_ptr<FakePressureSource> source_ = std::make_shared<FakePressureSource>();
  std::unique_ptr<Runtime> runtime_;
};

TEST_F(PressureLadderTest, PinnedModelSurvivesWarningButNotCritical) {
  ASSERT_TRUE(runtime_->pin("notes", "chat"));
  use("chat", "notes");
  auto sub = runtime_->subscribe({"notes", 64, {EventKind::kMemoryBudgetTightening}});

  runtime_->apply_pressure(PressureLevel::kWarning, 512 * kMiB, "test");
  EXPECT_TRUE(loaded("chat"));
  EXPECT_EQ(status("chat")->pinned_by, std::vector<std::string>{"notes"});

  const auto event = runtime_->apply_pressure(PressureLevel::kCritical, kGiB, "test");
  EXPECT_FALSE(loaded("chat"));
  EXPECT_FALSE(loader_.alive("chat"));
  EXPECT_TRUE(status("chat")->pinned_by.empty()) << "pins do not survive critical";
  EXPECT_TRUE(contains(event.actions, "pins dropped: chat (notes)"));
  EXPECT_TRUE(contains(event.actions, "unloaded chat"));
  EXPECT_EQ(event.bytes_freed, 3 * kGiB);

  auto events = sub.drain();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].get<MemoryBudgetTighteningEvent>()->level, PressureLevel::kWarning);
  EXPECT_EQ(events[0].get<MemoryBudgetTighteningEvent>()->bytes_to_free, 512 * kMiB);
  EXPECT_EQ(events[1].get<MemoryBudgetTighteningEvent>()->level, PressureLevel::kCritical);
}

TEST_F(PressureLadderTest, WarningFreesIdleSessionCachesStopsPrefetchAndCapsQueuedWork) {
  std::atomic<int> idle_released{0}, busy_released{0};
  auto idle = runtime_->register_session({"notes", "chat",
                                          [&] {
                                            ++idle_released;
                                            return uint64_t{64 * kMiB};
                                          },
                                          [] { return true; }});
  auto busy = runtime_->register_session({"mail", "chat",
                                          [&] {
                                            ++busy_released;
                                            return uint64_t{32 * kMiB};
                                          },
                                          [] { return false; }});
  use("chat");
  const auto event = runtime_->apply_pressure(PressureLevel::kWarning, 0, "test");
  EXPECT_EQ(idle_released, 1);
  EXPECT_EQ(busy_released, 0) << "a generating session's cache was dropped";
  EXPECT_EQ(event.bytes_freed, 64 * kMiB);
  EXPECT_TRUE(contains(event.actions, "1 idle session(s)"));
  EXPECT_TRUE(contains(event.actions, "prefetching stopped"));
  EXPECT_TRUE(loaded("chat")) << "warning does not unload models";

  RuntimePolicy policy = runtime_->policy();
  EXPECT_FALSE(policy.pressure.prefetch_enabled);
  EXPECT_EQ(policy.max_tokens_for(1000, /*queued=*/true), kWarningQueuedMaxTokens);
  EXPECT_EQ(policy.max_tokens_for(-1, /*queued=*/true), kWarningQueuedMaxTokens);
  EXPECT_EQ(policy.max_tokens_for(1000, /*queued=*/false), 1000);

  runtime_->apply_pressure(PressureLevel::kNormal);
  policy = runtime_->policy();
  EXPECT_TRUE(policy.pressure.prefetch_enabled);
  EXPECT_EQ(policy.max_tokens_for(1000, /*queued=*/true), 1000);
}

TEST_F(PressureLadderTest, InFlightRequestIsNeverInterruptedAndItsModelGoesWhenItEnds) {
  use("draft");
  use("other");
  use("embed");
  auto in_flight = runtime_->acquire("editor", "chat");
  ASSERT_TRUE(in_flight);
  auto sub = runtime_->subscribe({"editor", 64, {EventKind::kModelUnloaded}});

  const auto event = runtime_->apply_pressure(PressureLevel::kCritical, 2 * kGiB, "test");
  // Secondary models first, then idle ones; the leased chat model stays, and works.
  auto unloads = sub.drain();
  ASSERT_EQ(unloads.size(), 3u);
  EXPECT_EQ(unloads[0].get<ModelUnloadedEvent>()->model, "draft");
  EXPECT_EQ(unloads[1].get<ModelUnloadedEvent>()->model, "embed");
  EXPECT_EQ(unloads[2].get<ModelUnloadedEvent>()->model, "other");
  EXPECT_TRUE(loaded("chat"));
  EXPECT_TRUE(loader_.alive("chat"));
  EXPECT_NE(in_flight->model(), nullptr);
  EXPECT_TRUE(status("chat")->unload_when_released);
  EXPECT_TRUE(contains(event.actions, "unloading chat when in-flight requests end"));

  // Nothing new starts while critical.
  auto refused = runtime_->acquire("mail", "other");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  EXPECT_NE(refused.error().message.find("critical"), std::string::npos);

  // A repeated critical sample does not touch the in-flight request either.
  runtime_->apply_pressure(PressureLevel::kCritical, 2 * kGiB, "test");
  EXPECT_TRUE(loaded("chat"));

  in_flight->reset();  // the generation ends
  EXPECT_FALSE(loaded("chat"));
  EXPECT_FALSE(loader_.alive("chat")) << "the model's memory outlived its last lease";
  auto last = sub.drain();
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].get<ModelUnloadedEvent>()->reason, UnloadReason::kPressureAfterUse);
}

TEST_F(PressureLadderTest, AfterPressureClearsTheNextRequestReloads) {
  use("chat");
  runtime_->apply_pressure(PressureLevel::kCritical, kGiB, "test");
  EXPECT_FALSE(loaded("chat"));
  EXPECT_EQ(loader_.loads("chat"), 1);

  const auto event = runtime_->apply_pressure(PressureLevel::kNormal);
  EXPECT_TRUE(contains(event.actions, "reload on their next request"));
  EXPECT_FALSE(loaded("chat")) << "recovery is lazy: nothing reloads by itself";
  use("chat");
  EXPECT_EQ(loader_.loads("chat"), 2);
  EXPECT_TRUE(loaded("chat"));
}

TEST_F(PressureLadderTest, CriticalEasingToWarningCallsOffTheDeferredUnload) {
  auto lease = runtime_->acquire("editor", "chat");
  ASSERT_TRUE(lease);
  runtime_->apply_pressure(PressureLevel::kCritical, kGiB, "test");
  EXPECT_TRUE(status("chat")->unload_when_released);
  runtime_->apply_pressure(PressureLevel::kWarning, 0, "test");
  EXPECT_FALSE(status("chat")->unload_when_released);
  lease->reset();
  EXPECT_TRUE(loaded("chat"));
  use("other");  // loads are allowed again under warning
}

TEST_F(PressureLadderTest, ClassifiesTheFakeSourceOnEachTick) {
  auto sub = runtime_->subscribe({"app", 64, {EventKind::kMemoryBudgetTightening}});
  use("chat");
  runtime_->tick();
  EXPECT_EQ(runtime_->pressure_level(), PressureLevel::kNormal);
  EXPECT_TRUE(sub.drain().empty()) << "normal samples are not news";

  // 16 GiB machine: warning below 15% available (2.4 GiB), critical below 5%.
  source_->set_available(2 * kGiB);
  runtime_->tick();
  EXPECT_EQ(runtime_->pressure_level(), PressureLevel::kWarning);
  auto events = sub.drain();
  ASSERT_EQ(events.size(), 1u);
  const auto* warning = events[0].get<MemoryBudgetTighteningEvent>();
  const uint64_t line = static_cast<uint64_t>(0.15 * static_cast<double>(16 * kGiB));
  EXPECT_NEAR(static_cast<double>(warning->bytes_to_free), static_cast<double>(line - 2 * kGiB),
              1.0);
  EXPECT_FALSE(warning->cause.empty());
  EXPECT_TRUE(loaded("chat"));

  source_->set_available(512 * kMiB);
  runtime_->tick();
  EXPECT_EQ(runtime_->pressure_level(), PressureLevel::kCritical);
  EXPECT_FALSE(loaded("chat"));

  // Hysteresis: the level drops after enough calm samples, then a request reloads.
  source_->set_available(8 * kGiB);
  for (int i = 0; i < 10 && runtime_->pressure_level() != PressureLevel::kNormal; ++i) {
    clock_.advance(1s);
    runtime_->tick();
  }
  EXPECT_EQ(runtime_->pressure_level(), PressureLevel::kNormal);
  use("chat");
  EXPECT_TRUE(loaded("chat"));
}

TEST_F(PressureLadderTest, ALoadPastAnAppsBudgetIsRefusedNamingTheAppNeedAndBudget) {
  ASSERT_TRUE(runtime_->register_app("com.example.notes", 2 * kGiB));
  auto refused = runtime_->acquire("com.example.notes", "chat");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  const std::string& message = refused.error().message;
  EXPECT_NE(message.find("com.example.notes"), std::string::npos) << message;
  EXPECT_NE(message.find("3.00 GiB"), std::string::npos) << "the need: " << message;
  EXPECT_NE(message.find("2.00 GiB"), std::string::npos) << "the budget: " << message;
  EXPECT_EQ(loader_.loads("chat"), 0);
  use("draft", "com.example.notes");  // 1 GiB fits
}

TEST_F(PressureLadderTest, AppOverBudgetIsPublishedOnlyWhenItStaysOver) {
  // Two apps share "other" (2 GiB: 1 GiB each). Unloading it detaches them one at a time
  // ("roomy" first); "tight" then pays 2 GiB for a moment, over its 1.5 GiB: AppBudget
  // reports it, but it is no real overrun and must not reach apps.
  ASSERT_TRUE(runtime_->register_app("roomy", 3 * kGiB));
  ASSERT_TRUE(runtime_->register_app("tight", 3 * kGiB / 2));
  auto sub = runtime_->subscribe({"ui", 64, {EventKind::kAppOverBudget}});
  use("other", "roomy");
  use("other", "tight");
  EXPECT_EQ(status("other")->owner_apps, (std::vector<std::string>{"roomy", "tight"}));
  ASSERT_TRUE(runtime_->unload("other"));
  runtime_->tick();
  EXPECT_TRUE(sub.drain().empty());
  for (const AppFootprint& app : runtime_->app_footprints()) {
    EXPECT_EQ(app.weights_share_bytes, 0u) << app.app_id;
  }
}

TEST_F(PressureLadderTest, DecisionLogExplainsEveryStep) {
  ASSERT_TRUE(runtime_->pin("notes", "chat"));
  use("chat", "notes");
  runtime_->apply_pressure(PressureLevel::kCritical, kGiB, "test");
  std::vector<std::string> lines;
  for (const Decision& d : runtime_->decisions()) {
    lines.push_back(fmt::format("{} {} {}", decision_action_name(d.action), d.model, d.reason));
  }
  EXPECT_TRUE(contains(lines, "pin chat app asked to keep it loaded"));
  EXPECT_TRUE(contains(lines, "load chat for app 'notes'"));
  EXPECT_TRUE(contains(lines, "unpin chat critical memory pressure overrides pins"));
  EXPECT_TRUE(contains(lines, "unload chat pressure: critical memory pressure"));
}

}  // namespace
}  // namespace locara
