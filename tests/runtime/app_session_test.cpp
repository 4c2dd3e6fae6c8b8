// Sessions opened for apps through the runtime, on the real stories260K model: their KV
// and scratch are planned, charged to the app while they live and released when they end;
// a session past the app's declared memory_gb is refused, and measured growth past it
// raises app_over_budget.
#include <gtest/gtest.h>

#include <optional>

#include "locara/runtime.h"

namespace locara {
namespace {

const std::string kModel = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";
constexpr int64_t kContext = 256;

class AppSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuntimeOptions options;
    options.budget_bytes = uint64_t{1} << 30;
    options.clock = &clock_;
    options.watch_os = false;
    options.plan.n_ctx = kContext;
    auto runtime = Runtime::create(std::move(options));
    ASSERT_TRUE(runtime) << runtime.error().message;
    runtime_ = std::move(runtime).value();
    auto plan = runtime_->add_model("stories", kModel, ModelRole::kChat);
    ASSERT_TRUE(plan) << plan.error().message;
    plan_ = *plan;
    load_ = app_load_from_plan(plan_, "stories");
    ASSERT_GT(load_.kv_bytes, 0u);
    ASSERT_GT(load_.scratch_bytes, 0u);
  }

  // Options matching the runtime's plan (one thread, its batch and context).
  SessionOptions session_options() const {
    SessionOptions options;
    options.n_ctx = kContext;
    options.n_threads = plan_.config.n_threads;
    options.max_batch = plan_.config.batch_size;
    return options;
  }

  AppFootprint footprint(const std::string& app) const {
    for (const AppFootprint& f : runtime_->app_footprints()) {
      if (f.app_id == app) return f;
    }
    ADD_FAILURE() << "no footprint for " << app;
    return {};
  }

  Expected<AppSession> open(const std::string& app) {
    auto lease = runtime_->acquire(app, "stories");
    if (!lease) return lease.error();
    return runtime_->open_app_session(app, std::move(lease).value(), session_options());
  }

  ManualClock clock_;
  std::unique_ptr<Runtime> runtime_;
  Plan plan_;
  AppLoad load_;
};

TEST_F(AppSessionTest, ChargesThePlannedKvAndScratchWhileTheSessionLives) {
  ASSERT_TRUE(runtime_->register_app("notes", uint64_t{64} << 20));
  {
    auto lease = runtime_->acquire("notes", "stories");  // loads; charges the weights
    ASSERT_TRUE(lease) << lease.error().message;
  }
  const AppFootprint before = footprint("notes");
  EXPECT_GT(before.weights_share_bytes, 0u);
  EXPECT_EQ(before.kv_bytes + before.scratch_bytes, 0u);

  std::optional<AppSession> session;
  {
    auto opened = open("notes");
    ASSERT_TRUE(opened) << opened.error().message;
    session.emplace(std::move(opened).value());
  }
  ASSERT_TRUE(session->charge().active());
  // The charge is the plan of one sequence in this configuration, the same figures the
  // runtime checked when it loaded the model for the app.
  EXPECT_EQ(session->charge().kv_bytes(), load_.kv_bytes);
  EXPECT_EQ(session->charge().scratch_bytes(), load_.scratch_bytes);
  const AppFootprint during = footprint("notes");
  EXPECT_EQ(during.weights_share_bytes, before.weights_share_bytes);
  EXPECT_EQ(during.kv_bytes, load_.kv_bytes);
  EXPECT_EQ(during.scratch_bytes, load_.scratch_bytes);
  EXPECT_EQ(during.total_bytes(), before.total_bytes() + load_.kv_bytes + load_.scratch_bytes);
  // The KV plan is exact; the engine's scratch stays within the planned one while it runs.
  EXPECT_EQ((*session)->kv_bytes(), during.kv_bytes);
  GenerationOptions generation;
  generation.max_tokens = 8;
  generation.sampling.temperature = 0.0f;
  auto result = (*session)->generate((*session)->tokenize("Once upon a time"), generation,
                                     [](const TokenEvent&) { return true; });
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_LE((*session)->scratch_bytes(), session->charge().scratch_bytes());
  EXPECT_EQ(runtime_->ps()[0].leases, 1) << "the session holds the model's lease";

  session.reset();
  const AppFootprint after = footprint("notes");
  EXPECT_EQ(after.kv_bytes, 0u);
  EXPECT_EQ(after.scratch_bytes, 0u);
  EXPECT_EQ(after.total_bytes(), before.total_bytes());
  EXPECT_EQ(runtime_->ps()[0].leases, 0) << "ending the session ends its lease";
}

TEST_F(AppSessionTest, RefusesASessionPastTheAppsDeclaredMemory) {
  // Room for the model's share and one session, not two.
  const uint64_t one_session = load_.kv_bytes + load_.scratch_bytes;
  ASSERT_TRUE(runtime_->register_app("mail", load_.model_bytes + one_session + one_session / 2));
  auto first = open("mail");
  ASSERT_TRUE(first) << first.error().message;
  const AppFootprint with_one = footprint("mail");

  auto second = open("mail");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kResourceExhausted);
  EXPECT_NE(second.error().message.find("'mail'"), std::string::npos) << second.error().message;
  EXPECT_NE(second.error().message.find("requires.memory_gb"), std::string::npos)
      << second.error().message;
  EXPECT_EQ(footprint("mail").total_bytes(), with_one.total_bytes());
  EXPECT_EQ(runtime_->ps()[0].leases, 1) << "the refused session's lease ended with it";

  // With the first one closed, the app has room again.
  { AppSession ended = std::move(first).value(); }
  auto third = open("mail");
  EXPECT_TRUE(third) << third.error().message;
}

TEST_F(AppSessionTest, MeasuredGrowthPastTheDeclarationRaisesAppOverBudget) {
  const uint64_t one_session = load_.kv_bytes + load_.scratch_bytes;
  ASSERT_TRUE(runtime_->register_app("chat", load_.model_bytes + 2 * one_session));
  auto session = open("chat");
  ASSERT_TRUE(session) << session.error().message;
  auto sub = runtime_->subscribe({"chat", 16, {EventKind::kAppOverBudget}});

  session->charge().update(load_.kv_bytes, 4 * one_session);  // never refused
  EXPECT_EQ(footprint("chat").scratch_bytes, 4 * one_session);
  auto event = sub.try_next();
  ASSERT_TRUE(event.has_value()) << "no app_over_budget event";
  const auto* over = event->get<AppOverBudgetEvent>();
  ASSERT_NE(over, nullptr);
  EXPECT_EQ(over->app, "chat");
  EXPECT_EQ(over->declared_bytes, load_.model_bytes + 2 * one_session);
  EXPECT_GT(over->footprint_bytes, over->declared_bytes);
}

TEST_F(AppSessionTest, AppsTheRuntimeDoesNotLimitGetAnEmptyCharge) {
  auto session = open("cli");
  ASSERT_TRUE(session) << session.error().message;
  EXPECT_FALSE(session->charge().active());
  EXPECT_TRUE(runtime_->app_footprints().empty());
  EXPECT_EQ((*session)->n_ctx(), kContext);
}

TEST_F(AppSessionTest, ASessionNeedsALeaseOnALoadedModel) {
  ASSERT_TRUE(runtime_->register_app("notes", uint64_t{64} << 20));
  auto session = runtime_->open_app_session("notes", ModelLease(), session_options());
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(footprint("notes").total_bytes(), 0u);
}

TEST_F(AppSessionTest, ChargeHandlesMoveAndEndOnce) {
  ASSERT_TRUE(runtime_->register_app("notes", uint64_t{64} << 20));
  auto charge = runtime_->charge_session("notes", 1000, 24);
  ASSERT_TRUE(charge) << charge.error().message;
  auto second = runtime_->charge_session("notes", 2000, 0);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(footprint("notes").kv_bytes, 3000u);

  AppSessionCharge moved = std::move(charge).value();
  EXPECT_EQ(footprint("notes").kv_bytes, 3000u) << "a move is not a close";
  moved = std::move(second).value();  // the first charge ends here
  EXPECT_EQ(footprint("notes").kv_bytes, 2000u);
  EXPECT_EQ(footprint("notes").scratch_bytes, 0u);
  moved.reset();
  moved.reset();
  EXPECT_EQ(footprint("notes").total_bytes(), 0u);
}

}  // namespace
}  // namespace locara
