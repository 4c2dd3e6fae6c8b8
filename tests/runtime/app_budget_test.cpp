// Per-app accounting: shared weights split between the apps using them, refusals that name
// the app, the need and the budget, and over-budget reports when charges move.
#include "runtime/app_budget.h"

#include <gtest/gtest.h>

namespace locara {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(AppBudget, SharedWeightsAreSplitBetweenApps) {
  AppBudget budget;
  ASSERT_TRUE(budget.register_app("a", 1000 * kMiB));
  ASSERT_TRUE(budget.register_app("b", 1000 * kMiB));
  ASSERT_TRUE(budget.register_app("c", 1000 * kMiB));
  ASSERT_TRUE(budget.attach_model("a", "llama.gguf", 600 * kMiB));
  EXPECT_EQ(budget.footprint("a")->weights_share_bytes, 600 * kMiB);
  ASSERT_TRUE(budget.attach_model("b", "llama.gguf", 600 * kMiB));
  EXPECT_EQ(budget.footprint("a")->weights_share_bytes, 300 * kMiB);
  EXPECT_EQ(budget.footprint("b")->weights_share_bytes, 300 * kMiB);
  ASSERT_TRUE(budget.attach_model("c", "llama.gguf", 600 * kMiB));
  for (const char* app : {"a", "b", "c"}) {
    EXPECT_EQ(budget.footprint(app)->weights_share_bytes, 200 * kMiB) << app;
  }
  // Attaching twice is a no-op; a second model is charged on its own.
  ASSERT_TRUE(budget.attach_model("a", "llama.gguf", 600 * kMiB));
  EXPECT_EQ(budget.footprint("a")->weights_share_bytes, 200 * kMiB);
  ASSERT_TRUE(budget.attach_model("a", "draft.gguf", 50 * kMiB));
  EXPECT_EQ(budget.footprint("a")->weights_share_bytes, 250 * kMiB);

  budget.detach_model("c", "llama.gguf");
  EXPECT_EQ(budget.footprint("b")->weights_share_bytes, 300 * kMiB);
  EXPECT_EQ(budget.footprint("c")->weights_share_bytes, 0u);
}

TEST(AppBudget, SessionsChargeKvAndScratch) {
  AppBudget budget;
  ASSERT_TRUE(budget.register_app("a", 100 * kMiB));
  ASSERT_TRUE(budget.open_session("a", 1, 20 * kMiB, 5 * kMiB));
  ASSERT_TRUE(budget.open_session("a", 2, 10 * kMiB, 5 * kMiB));
  auto f = budget.footprint("a");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kv_bytes, 30 * kMiB);
  EXPECT_EQ(f->scratch_bytes, 10 * kMiB);
  EXPECT_EQ(f->total_bytes(), 40 * kMiB);
  EXPECT_FALSE(budget.open_session("a", 1, 1, 1));  // the id is taken
  budget.close_session("a", 1);
  EXPECT_EQ(budget.footprint("a")->total_bytes(), 15 * kMiB);
}

TEST(AppBudget, RefusalNamesAppNeedAndBudget) {
  AppBudget budget;
  ASSERT_TRUE(budget.register_app("com.example.notes", 1024 * kMiB));
  const AppLoad load{"llama-1b.gguf", 900 * kMiB, 200 * kMiB, 50 * kMiB};
  const Status refused = budget.check_load("com.example.notes", load);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  const std::string& message = refused.error().message;
  EXPECT_NE(message.find("com.example.notes"), std::string::npos) << message;
  EXPECT_NE(message.find("1.12 GiB"), std::string::npos) << message;  // 1150 MiB needed
  EXPECT_NE(message.find("1.00 GiB"), std::string::npos) << message;  // the declaration
  EXPECT_NE(message.find("llama-1b.gguf"), std::string::npos) << message;

  EXPECT_FALSE(budget.attach_model("com.example.notes", "big.gguf", 2048 * kMiB));
  EXPECT_FALSE(budget.open_session("com.example.notes", 7, 1100 * kMiB, 0));
  EXPECT_EQ(budget.footprint("com.example.notes")->total_bytes(), 0u);  // nothing charged

  // The same load fits once another app shares the weights.
  ASSERT_TRUE(budget.register_app("other", 4096 * kMiB));
  ASSERT_TRUE(budget.attach_model("other", "llama-1b.gguf", 900 * kMiB));
  EXPECT_TRUE(budget.check_load("com.example.notes", load));
  EXPECT_FALSE(budget.check_load("nobody", load));
}

TEST(AppBudget, ReportsAppsPushedOverTheirDeclaration) {
  AppBudget budget;
  std::vector<std::string> reported;
  budget.set_over_budget_callback([&](const AppFootprint& f) { reported.push_back(f.app_id); });
  ASSERT_TRUE(budget.register_app("a", 500 * kMiB));
  ASSERT_TRUE(budget.register_app("b", 4000 * kMiB));
  ASSERT_TRUE(budget.attach_model("b", "m.gguf", 800 * kMiB));
  ASSERT_TRUE(budget.attach_model("a", "m.gguf", 800 * kMiB));  // a pays 400 MiB
  EXPECT_TRUE(budget.over_budget_apps().empty());

  // b leaves: a now carries the whole 800 MiB model.
  budget.detach_model("b", "m.gguf");
  ASSERT_EQ(reported, std::vector<std::string>{"a"});
  auto over = budget.over_budget_apps();
  ASSERT_EQ(over.size(), 1u);
  EXPECT_EQ(over[0].app_id, "a");
  EXPECT_EQ(over[0].total_bytes(), 800 * kMiB);
  EXPECT_EQ(over[0].declared_bytes, 500 * kMiB);

  // Reported once per crossing, again after dropping back under and crossing again.
  budget.update_session("a", 1, 10 * kMiB, 0);
  EXPECT_EQ(reported.size(), 1u);
  budget.detach_model("a", "m.gguf");
  EXPECT_TRUE(budget.over_budget_apps().empty());
  budget.update_session("a", 1, 600 * kMiB, 0);  // measured growth beyond the declaration
  EXPECT_EQ(reported, (std::vector<std::string>{"a", "a"}));
  budget.unregister_app("a");
  EXPECT_TRUE(budget.over_budget_apps().empty());
}

TEST(AppBudget, RegistersFromAManifestAndAPlan) {
  AppManifest manifest;
  manifest.id = "notes";
  manifest.memory_gb = 0.5;
  AppBudget budget;
  ASSERT_TRUE(budget.register_app(manifest));
  EXPECT_EQ(budget.footprint("notes")->declared_bytes, 512 * kMiB);
  EXPECT_FALSE(budget.register_app(manifest));  // already registered

  Plan plan;
  plan.model.weight_bytes = 100;
  plan.model.metadata_bytes = 10;
  plan.model.kv_bytes = 20;
  plan.model.scratch_bytes = 5;
  plan.overhead_bytes = 1;
  const AppLoad load = app_load_from_plan(plan, "m");
  EXPECT_EQ(load.model_bytes, 110u);
  EXPECT_EQ(load.kv_bytes, 20u);
  EXPECT_EQ(load.scratch_bytes, 6u);
}

TEST(FormatBytes, PicksAUnit) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(3 * kMiB), "3.00 MiB");
  EXPECT_EQ(format_bytes(5ull << 30), "5.00 GiB");
}

}  // namespace
}  // namespace locara
