// The runtime end to end on the real stories260K model: planned from its header, mapped
// through LoadedModel on the first request, generating under a lease, and freed after the
// idle timeout.
#include <gtest/gtest.h>

#include "engine/session.h"
#include "locara/runtime.h"

namespace locara {
namespace {

using namespace std::chrono_literals;

const std::string kModel = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";

TEST(RuntimeRealModelTest, PlansLoadsByMmapGeneratesUnderALeaseAndIdleUnloads) {
  ManualClock clock;
  RuntimeOptions options;
  options.budget_bytes = uint64_t{1} << 30;
  options.clock = &clock;
  options.watch_os = false;
  options.plan.n_ctx = 256;
  auto created = Runtime::create(std::move(options));
  ASSERT_TRUE(created) << created.error().message;
  Runtime& runtime = **created;

  auto plan = runtime.add_model("stories", kModel, ModelRole::kChat);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->config.n_ctx, 256);
  EXPECT_GT(plan->kv_bytes(), 0u);
  auto listed = runtime.ps();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].state, ModelState::kUnloaded) << "adding a model must not load it";
  EXPECT_EQ(listed[0].planned_bytes, plan->total_bytes());
  EXPECT_EQ(listed[0].kv_type, "f16") << "stories260K's 8-wide heads cannot take q8_0 blocks";

  auto sub = runtime.subscribe({"test", 16, {}});
  std::weak_ptr<const LoadedModel> weak;
  {
    auto lease = runtime.acquire("cli", "stories");
    ASSERT_TRUE(lease) << lease.error().message;
    ASSERT_NE(lease->model(), nullptr);
    weak = lease->model();
    const Model& model = *lease->model()->model;
    EXPECT_EQ(model.hparams().n_vocab, 512);
    EXPECT_EQ(model.gguf().total_tensor_bytes(), plan->weight_bytes());
    EXPECT_EQ(runtime.committed_bytes(), plan->total_bytes());

    SessionOptions session_options;
    session_options.n_ctx = plan->config.n_ctx;
    auto session = Session::create(lease->model(), session_options);
    ASSERT_TRUE(session) << session.error().message;
    GenerationOptions generation;
    generation.max_tokens = 8;
    generation.sampling.temperature = 0.0f;
    generation.ignore_eos = true;
    const auto prompt = (*session)->tokenize("Once upon a time");
    auto result = (*session)->generate(prompt, generation, [](const TokenEvent&) { return true; });
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->tokens.size(), 8u);

    // Pressure while the request holds its model leaves the model in place.
    runtime.apply_pressure(PressureLevel::kWarning, 0, "test");
    EXPECT_EQ(runtime.ps()[0].state, ModelState::kLoaded);
  }  // session, then lease, end
  runtime.apply_pressure(PressureLevel::kNormal);

  clock.advance(179s);
  runtime.tick();
  EXPECT_EQ(runtime.ps()[0].state, ModelState::kLoaded);
  EXPECT_FALSE(weak.expired());
  clock.advance(1s);
  runtime.tick();
  EXPECT_EQ(runtime.ps()[0].state, ModelState::kUnloaded);
  EXPECT_TRUE(weak.expired()) << "the mapping outlived the unload";

  std::vector<EventKind> kinds;
  for (const Event& event : sub.drain()) kinds.push_back(event.kind());
  EXPECT_EQ(kinds, (std::vector<EventKind>{
                       EventKind::kModelLoaded, EventKind::kMemoryBudgetTightening,
                       EventKind::kMemoryBudgetTightening, EventKind::kModelUnloaded}));
}

std::string manifest_text(const std::string& id, bool keep_loaded) {
  return fmt::format(
      "[app]\nid = \"{}\"\nkeep_loaded = {}\n[requires]\nmemory_gb = 0.5\n"
      "[[models]]\nname = \"storyteller\"\npath = \"{}\"\ncontext = 256\n",
      id, keep_loaded, kModel);
}

TEST(RuntimeRealModelTest, AppsFromManifestsShareOneModelAndUseTheirOwnNames) {
  ManualClock clock;
  RuntimeOptions options;
  options.budget_bytes = uint64_t{1} << 30;
  options.clock = &clock;
  options.watch_os = false;
  auto runtime = Runtime::create(std::move(options));
  ASSERT_TRUE(runtime) << runtime.error().message;

  auto notes = parse_app_manifest(manifest_text("com.example.notes", true), "<string>");
  auto mail = parse_app_manifest(manifest_text("com.example.mail", false), "<string>");
  ASSERT_TRUE(notes) << notes.error().message;
  ASSERT_TRUE(mail) << mail.error().message;
  ASSERT_TRUE((*runtime)->register_app(*notes));
  ASSERT_TRUE((*runtime)->register_app(*mail));
  auto listed = (*runtime)->ps();
  ASSERT_EQ(listed.size(), 1u) << "the same file and plan should be one model";
  EXPECT_EQ(listed[0].name, "com.example.notes/storyteller");
  EXPECT_EQ(listed[0].n_ctx, 256);
  EXPECT_EQ(listed[0].pinned_by, std::vector<std::string>{"com.example.notes"});

  auto a = (*runtime)->acquire("com.example.notes", "storyteller");
  auto b = (*runtime)->acquire("com.example.mail", "storyteller");
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(a->model(), b->model());
  listed = (*runtime)->ps();
  EXPECT_EQ(listed[0].leases, 2);
  EXPECT_EQ(listed[0].owner_apps,
            (std::vector<std::string>{"com.example.mail", "com.example.notes"}));
  // Each app pays half of the shared weights (and metadata).
  const auto footprints = (*runtime)->app_footprints();
  ASSERT_EQ(footprints.size(), 2u);
  EXPECT_EQ(footprints[0].weights_share_bytes, footprints[1].weights_share_bytes);
  EXPECT_GT(footprints[0].weights_share_bytes, 0u);
  EXPECT_LT(footprints[0].weights_share_bytes, listed[0].planned_bytes / 2);
}

TEST(RuntimeRealModelTest, ModelStoreRefsAreRefusedUntilThereIsAStore) {
  RuntimeOptions options;
  options.budget_bytes = uint64_t{1} << 30;
  options.watch_os = false;
  auto runtime = Runtime::create(std::move(options));
  ASSERT_TRUE(runtime);
  auto manifest = parse_app_manifest(
      "[app]\nid = \"x\"\n[requires]\nmemory_gb = 1\n[[models]]\nname = \"m\"\n"
      "ref = \"stories:260k\"\n",
      "x.toml");
  ASSERT_TRUE(manifest) << manifest.error().message;
  auto status = (*runtime)->register_app(*manifest);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(status.error().message.find("stories:260k"), std::string::npos);
}

TEST(RuntimeRealModelTest, AMissingFileIsAnErrorNamingIt) {
  RuntimeOptions options;
  options.budget_bytes = uint64_t{1} << 30;
  options.watch_os = false;
  auto runtime = Runtime::create(std::move(options));
  ASSERT_TRUE(runtime);
  auto plan = (*runtime)->add_model("ghost", "/nonexistent/ghost.gguf", ModelRole::kChat);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("ghost.gguf"), std::string::npos);
}

TEST(RuntimeRealModelTest, StartsWithABudgetFromThisMachine) {
  RuntimeOptions options;
  options.watch_os = false;
  auto runtime = Runtime::create(std::move(options));
  ASSERT_TRUE(runtime) << runtime.error().message;
  EXPECT_GT((*runtime)->budget_bytes(), 0u);
  const std::string config = (*runtime)->describe_configuration();
  EXPECT_NE(config.find("budget"), std::string::npos) << config;
  EXPECT_NE(config.find("idle unload after 180 s"), std::string::npos) << config;
}

}  // namespace
}  // namespace locara
