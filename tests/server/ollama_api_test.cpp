// The Ollama-compatible endpoints against the real daemon and stories260K.
#include "server_fixture.h"

namespace locara::server::testing {
namespace {

using nlohmann::json;

class OllamaApiTest : public ServerTest {
 protected:
  bool model_loaded() {
    auto res = get("/api/ps");
    return res && !parse(res)["models"].empty();
  }
};

TEST_F(OllamaApiTest, GenerateStreamsNdjsonAndMatchesOpenAi) {
  auto reference = post(
      "/v1/completions",
      {{"model", kModel}, {"prompt", "Once upon a time"}, {"max_tokens", 25}, {"temperature", 0}});
  ASSERT_TRUE(reference);
  auto res =
      post("/api/generate",
           {{"model", kModel},
            {"prompt", "Once upon a time"},
            {"options", {{"temperature", 0}, {"num_predict", 25}, {"repeat_penalty", 1.0}}}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-ndjson");
  const auto lines = ndjson_lines(res->body);
  ASSERT_GE(lines.size(), 2u);
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_FALSE(lines[i]["done"].get<bool>());
    text += lines[i]["response"].get<std::string>();
  }
  const json& last = lines.back();
  EXPECT_TRUE(last["done"].get<bool>());
  EXPECT_EQ(last["done_reason"], "length");
  EXPECT_EQ(last["eval_count"], 25);
  EXPECT_EQ(last["prompt_eval_count"], 5);
  EXPECT_GT(last["total_duration"].get<int64_t>(), 0);
  EXPECT_EQ(text, parse(reference)["choices"][0]["text"]);
}

TEST_F(OllamaApiTest, GenerateWithoutStreaming) {
  auto res = post("/api/generate", {{"model", kModel},
                                    {"prompt", "Once upon a time"},
                                    {"stream", false},
                                    {"options", {{"temperature", 0}, {"num_predict", 8}}}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = parse(res);
  EXPECT_TRUE(body["done"].get<bool>());
  EXPECT_FALSE(body["response"].get<std::string>().empty());
  EXPECT_EQ(body["eval_count"], 8);
  EXPECT_EQ(body["model"], kModel);
}

TEST_F(OllamaApiTest, OptionsStopAndSeed) {
  const json options = {{"temperature", 0.9}, {"seed", 7},     {"top_k", 20},
                        {"top_p", 0.8},       {"min_p", 0.05}, {"num_predict", 30}};
  const json request = {
      {"model", kModel}, {"prompt", "The bird"}, {"stream", false}, {"options", options}};
  auto first = post("/api/generate", request);
  auto second = post("/api/generate", request);
  ASSERT_TRUE(first && second);
  const std::string text = parse(first)["response"];
  EXPECT_EQ(text, parse(second)["response"]);
  ASSERT_GT(text.size(), 12u);
  json stopped = request;
  stopped["options"]["stop"] = {text.substr(8, 3)};
  auto res = post("/api/generate", stopped);
  ASSERT_TRUE(res);
  EXPECT_EQ(parse(res)["response"], text.substr(0, text.find(text.substr(8, 3))));
  EXPECT_EQ(parse(res)["done_reason"], "stop");
}

TEST_F(OllamaApiTest, ChatStreamedAndNot) {
  const json messages = {{{"role", "user"}, {"content", "Tell me a story"}}};
  auto whole = post("/api/chat", {{"model", kModel},
                                  {"messages", messages},
                                  {"stream", false},
                                  {"options", {{"temperature", 0}, {"num_predict", 15}}}});
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  const json body = parse(whole);
  EXPECT_EQ(body["message"]["role"], "assistant");
  EXPECT_TRUE(body["done"].get<bool>());
  auto streamed = post("/api/chat", {{"model", kModel},
                                     {"messages", messages},
                                     {"options", {{"temperature", 0}, {"num_predict", 15}}}});
  ASSERT_TRUE(streamed);
  std::string text;
  const auto lines = ndjson_lines(streamed->body);
  for (const json& line : lines) text += line["message"]["content"].get<std::string>();
  EXPECT_TRUE(lines.back()["done"].get<bool>());
  EXPECT_EQ(text, body["message"]["content"]);
}

TEST_F(OllamaApiTest, TagsShowVersion) {
  auto tags = get("/api/tags");
  ASSERT_TRUE(tags);
  const json models = parse(tags)["models"];
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]["name"], kModel);
  EXPECT_EQ(models[0]["details"]["format"], "gguf");
  EXPECT_EQ(models[0]["details"]["family"], "llama");
  EXPECT_GT(models[0]["size"].get<int64_t>(), 1000000);
  EXPECT_EQ(models[0]["digest"].get<std::string>().size(), 64u);
  auto show = post("/api/show", {{"model", std::string(kModel) + ":latest"}});
  ASSERT_TRUE(show);
  ASSERT_EQ(show->status, 200) << show->body;
  EXPECT_EQ(parse(show)["model_info"]["llama.context_length"], 128);
  auto version = get("/api/version");
  ASSERT_TRUE(version);
  EXPECT_FALSE(parse(version)["version"].get<std::string>().empty());
}

TEST_F(OllamaApiTest, PsAndKeepAlive) {
  EXPECT_FALSE(model_loaded());
  // An empty prompt loads the model; keep_alive 0 unloads it.
  auto load = post("/api/generate", {{"model", kModel}, {"keep_alive", "5m"}});
  ASSERT_TRUE(load);
  EXPECT_EQ(parse(load)["done_reason"], "load");
  auto ps = get("/api/ps");
  ASSERT_TRUE(ps);
  const json running = parse(ps)["models"];
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0]["name"], kModel);
  EXPECT_GT(running[0]["size"].get<int64_t>(), 0);
  EXPECT_FALSE(running[0]["expires_at"].get<std::string>().empty());
  // Locara's columns for `locara ps`.
  // f16: stories260K's 8-wide heads hold no q8_0 block. keep_alive pins for its window.
  EXPECT_EQ(running[0]["kv_type"], "f16");
  EXPECT_EQ(running[0]["in_use"], false);
  EXPECT_EQ(running[0]["pinned_by"], json::array({"default"}));
  EXPECT_EQ(running[0]["owner_apps"], json::array({"default"}));
  EXPECT_GE(running[0]["idle_seconds"].get<double>(), 0.0);
  auto unload = post("/api/generate", {{"model", kModel}, {"keep_alive", 0}});
  ASSERT_TRUE(unload);
  EXPECT_EQ(parse(unload)["done_reason"], "unload");
  EXPECT_TRUE(eventually([&] { return !model_loaded(); }));
  // A short window ends by itself.
  auto res = post("/api/generate", {{"model", kModel},
                                    {"prompt", "Hi"},
                                    {"stream", false},
                                    {"keep_alive", "300ms"},
                                    {"options", {{"num_predict", 2}}}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(eventually([&] { return !model_loaded(); }));
}

TEST_F(OllamaApiTest, NumCtxSetsTheRequestsContext) {
  std::string prompt;
  for (int i = 0; i < 18; ++i) prompt += "Once upon a time ";  // about 80 tokens
  const auto generate = [&](int num_ctx) {
    return post("/api/generate", {{"model", kModel},
                                  {"prompt", prompt},
                                  {"stream", false},
                                  {"options", {{"num_ctx", num_ctx}, {"num_predict", 2}}}});
  };
  auto small = generate(64);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 400) << small->body;
  EXPECT_NE(small->body.find("context"), std::string::npos) << small->body;
  auto enough = generate(128);
  ASSERT_TRUE(enough);
  EXPECT_EQ(enough->status, 200) << enough->body;
}

TEST_F(OllamaApiTest, MetricsCountTheLoadedModelsBytes) {
  auto load = post("/api/generate", {{"model", kModel}, {"keep_alive", "5m"}});
  ASSERT_TRUE(load);
  auto metrics = get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("locara_models_loaded 1"), std::string::npos) << metrics->body;
  const std::string bytes_line = std::string("locara_model_bytes{model=\"") + kModel + "\"";
  const size_t at = metrics->body.find(bytes_line);
  ASSERT_NE(at, std::string::npos) << metrics->body;
  const size_t value = metrics->body.find("} ", at);
  ASSERT_NE(value, std::string::npos);
  EXPECT_GT(std::stoll(metrics->body.substr(value + 2)), 0);
}

TEST_F(OllamaApiTest, RepeatPenaltyChangesGreedyText) {
  const auto generate = [&](double repeat_penalty) {
    auto res =
        post("/api/generate",
             {{"model", kModel},
              {"prompt", "Once upon a time"},
              {"stream", false},
              {"options",
               {{"temperature", 0}, {"num_predict", 60}, {"repeat_penalty", repeat_penalty}}}});
    EXPECT_TRUE(res && res->status == 200);
    return res ? parse(res)["response"].get<std::string>() : std::string();
  };
  const std::string plain = generate(1.0);
  EXPECT_EQ(generate(1.0), plain) << "greedy is deterministic";
  EXPECT_NE(generate(1.5), plain) << "a strong repeat penalty must change the text";
}

}  // namespace
}  // namespace locara::server::testing
