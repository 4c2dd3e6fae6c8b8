// Locara's own API (apps, budgets, events, pins) and /health, /metrics.
#include "server_fixture.h"

namespace locara::server::testing {
namespace {

using nlohmann::json;

class LocaraApiTest : public ServerTest {
 protected:
  std::string manifest(const std::string& id, double memory_gb) {
    return "[app]\nid = \"" + id + "\"\n[requires]\nmemory_gb = " + std::to_string(memory_gb) +
           "\n[[models]]\nname = \"chat\"\nref = \"" + kModel + "\"\n";
  }
  json register_app(const std::string& id, double memory_gb) {
    auto res = client()->Post("/locara/v1/apps", manifest(id, memory_gb), "application/toml");
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, 201) << res->body;
    return parse(res);
  }
  json app_entry(const std::string& id) {
    const json body = parse(get("/locara/v1/apps"));
    for (const json& app : body["apps"]) {
      if (app["id"] == id) return app;
    }
    return {};
  }
};

TEST_F(LocaraApiTest, RegisteredAppsAreAccountedAndListed) {
  const json app = register_app("com.example.notes", 1.0);
  const std::string token = app["token"];
  EXPECT_TRUE(token.starts_with("lca_"));
  EXPECT_EQ(app["models"], json::array({"chat"}));
  // Its own name for the model and the store's name both work with its token.
  const httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  auto res =
      post("/v1/completions", {{"model", "chat"}, {"prompt", "Hi"}, {"max_tokens", 3}}, auth);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json entry = app_entry("com.example.notes");
  EXPECT_EQ(entry["budget_bytes"].get<uint64_t>(), uint64_t{1} << 30);
  EXPECT_GT(entry["footprint"]["weights_share_bytes"].get<uint64_t>(), 0u);
  EXPECT_FALSE(entry["over_budget"].get<bool>());
  EXPECT_FALSE(app_entry(kDefaultApp).is_null());
  // Registering the same id again is refused.
  auto again =
      client()->Post("/locara/v1/apps", manifest("com.example.notes", 1.0), "application/toml");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 400);
}

TEST_F(LocaraApiTest, AnAppIsHeldToItsBudget) {
  const json app =
      register_app("com.example.tiny", 0.0001);  // ~100 KiB: the weights alone are more
  auto res = post("/v1/completions", {{"model", "chat"}, {"prompt", "Hi"}},
                  {{"Authorization", "Bearer " + app["token"].get<std::string>()}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503) << res->body;
  EXPECT_NE(parse(res)["error"]["message"].get<std::string>().find("com.example.tiny"),
            std::string::npos);
  // The default app is not affected.
  res = post("/v1/completions", {{"model", kModel}, {"prompt", "Hi"}, {"max_tokens", 2}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(LocaraApiTest, ManifestErrorsAreReported) {
  auto res =
      client()->Post("/locara/v1/apps", "[app]\nid = \"x\"\nthreads = 4\n", "application/toml");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(parse(res)["error"]["message"].get<std::string>().find("threads"), std::string::npos);
  res = post("/locara/v1/apps", {{"manifest", 5}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(LocaraApiTest, EventStreamShowsModelLoads) {
  RawConnection events(port_);
  const std::string request = "GET /locara/v1/events HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(events.connected());
  ASSERT_TRUE(events.send_raw(request));
  events.read_until("\r\n\r\n");
  auto res = post("/v1/completions", {{"model", kModel}, {"prompt", "Hi"}, {"max_tokens", 2}});
  ASSERT_TRUE(res);
  const std::string seen = events.read_until("\n\n", "model_loaded");
  EXPECT_NE(seen.find("event: model_loaded"), std::string::npos);
  EXPECT_NE(seen.find(kModel), std::string::npos);
}

TEST_F(LocaraApiTest, PinKeepsAModelAndUnpinReleasesIt) {
  auto res = post(std::string("/locara/v1/models/") + kModel + "/pin", json::object());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(parse(res)["pinned_by"], json::array({kDefaultApp}));
  res = post(std::string("/locara/v1/models/") + kModel + "/pin", {{"pin", false}});
  ASSERT_TRUE(res);
  EXPECT_EQ(parse(res)["pinned_by"], json::array());
  res = post("/locara/v1/models/missing/pin", json::object());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(LocaraApiTest, HealthReportsReadyAndPressure) {
  auto res = get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const json body = parse(res);
  EXPECT_EQ(body["status"], "ready");
  EXPECT_EQ(body["pressure"], "normal");
  server_->runtime().apply_pressure(PressureLevel::kWarning, 0, "test");
  EXPECT_EQ(parse(get("/health"))["status"], "degraded");
  EXPECT_EQ(parse(get("/health"))["pressure"], "warning");
}

TEST_F(LocaraApiTest, MetricsInPrometheusFormat) {
  ASSERT_EQ(
      post("/v1/completions", {{"model", kModel}, {"prompt", "Hi"}, {"max_tokens", 4}})->status,
      200);
  ASSERT_EQ(post("/api/generate", {{"model", kModel}, {"keep_alive", 0}})->status, 200);
  ASSERT_TRUE(eventually([&] {
    return get("/metrics")->body.find("locara_evictions_total{reason=\"requested\"} 1") !=
           std::string::npos;
  }));
  auto res = get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->get_header_value("Content-Type").starts_with("text/plain"));
  const std::string& text = res->body;
  for (const char* expected :
       {"locara_http_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 1",
        "locara_generated_tokens_total 4", "locara_time_to_first_token_seconds_count 1",
        "locara_time_to_first_token_seconds_bucket{le=\"+Inf\"} 1",
        "locara_prompt_tokens_per_second", "locara_generation_tokens_per_second",
        "locara_models_loaded 0", "locara_kv_bytes 0", "locara_memory_pressure_level{",
        "locara_app_footprint_bytes{app=\"default\"}",
        "# TYPE locara_time_to_first_token_seconds "
        "histogram"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected;
  }
}

}  // namespace
}  // namespace locara::server::testing
