// The OpenAI-compatible endpoints against the real daemon and stories260K.
#include <cstdio>

#include "server_fixture.h"

namespace locara::server::testing {
namespace {

using nlohmann::json;

// `locara run` with greedy sampling: the text HTTP must reproduce.
std::string locara_run(const std::string& prompt, int max_tokens) {
  const std::string command = std::string(LOCARA_BINARY_DIR) + "/locara run " + kModelPath + " '" +
                              prompt + "' -n " + std::to_string(max_tokens) +
                              " --temp 0 2>/dev/null";
  std::string out = command_output(command);
  if (!out.empty() && out.back() == '\n') out.pop_back();  // run ends with a newline
  return out;
}

class OpenAiApiTest : public ServerTest {};

TEST_F(OpenAiApiTest, GreedyCompletionEqualsLocaraRun) {
  const std::string expected = locara_run("Once upon a time", 40);
  ASSERT_FALSE(expected.empty());
  auto res = post(
      "/v1/completions",
      {{"model", kModel}, {"prompt", "Once upon a time"}, {"max_tokens", 40}, {"temperature", 0}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = parse(res);
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["choices"][0]["text"], expected);
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(body["usage"]["completion_tokens"], 40);
  EXPECT_EQ(body["usage"]["prompt_tokens"], 5);
}

TEST_F(OpenAiApiTest, StreamedCompletionEqualsLocaraRun) {
  const std::string expected = locara_run("Once upon a time", 30);
  auto res = post("/v1/completions", {{"model", kModel},
                                      {"prompt", "Once upon a time"},
                                      {"max_tokens", 30},
                                      {"temperature", 0},
                                      {"stream", true}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  const auto payloads = sse_payloads(res->body);
  ASSERT_GE(payloads.size(), 3u);
  EXPECT_EQ(payloads.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < payloads.size(); ++i) {
    text += payloads[i]["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, expected);
  EXPECT_EQ(payloads[payloads.size() - 2]["choices"][0]["finish_reason"], "length");
}

TEST_F(OpenAiApiTest, ChatCompletion) {
  auto res =
      post("/v1/chat/completions", {{"model", kModel},
                                    {"messages",
                                     {{{"role", "system"}, {"content", "Tell stories."}},
                                      {{"role", "user"}, {"content", "A story about a cat"}}}},
                                    {"max_completion_tokens", 12},
                                    {"temperature", 0}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = parse(res);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_TRUE(body["id"].get<std::string>().starts_with("chatcmpl-"));
  EXPECT_EQ(body["model"], kModel);
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_FALSE(body["choices"][0]["message"]["content"].get<std::string>().empty());
  EXPECT_EQ(body["usage"]["completion_tokens"], 12);
  EXPECT_EQ(body["usage"]["total_tokens"].get<int>(),
            body["usage"]["prompt_tokens"].get<int>() + 12);
}

TEST_F(OpenAiApiTest, ChatStreamMatchesNonStreamedAndEndsWithUsage) {
  const json request = {{"model", kModel},
                        {"messages", {{{"role", "user"}, {"content", "Hello"}}}},
                        {"max_tokens", 20},
                        {"temperature", 0}};
  auto whole = post("/v1/chat/completions", request);
  ASSERT_TRUE(whole);
  json streamed_request = request;
  streamed_request["stream"] = true;
  streamed_request["stream_options"] = {{"include_usage", true}};
  auto res = post("/v1/chat/completions", streamed_request);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const auto payloads = sse_payloads(res->body);
  ASSERT_GE(payloads.size(), 4u);
  EXPECT_EQ(payloads.front()["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(payloads.back(), "[DONE]");
  const json& usage_chunk = payloads[payloads.size() - 2];
  EXPECT_TRUE(usage_chunk["choices"].empty());
  EXPECT_EQ(usage_chunk["usage"]["completion_tokens"], 20);
  EXPECT_EQ(payloads[payloads.size() - 3]["choices"][0]["finish_reason"], "length");
  std::string text;
  for (size_t i = 0; i + 3 < payloads.size(); ++i) {
    EXPECT_TRUE(payloads[i]["usage"].is_null());
    text += payloads[i]["choices"][0]["delta"].value("content", "");
  }
  EXPECT_EQ(text, parse(whole)["choices"][0]["message"]["content"]);
}

TEST_F(OpenAiApiTest, StopSequenceCutsTheText) {
  const std::string full = locara_run("Once upon a time", 40);
  const std::string stop = full.substr(20, 4);  // somewhere in the middle
  auto res = post("/v1/completions", {{"model", kModel},
                                      {"prompt", "Once upon a time"},
                                      {"max_tokens", 40},
                                      {"temperature", 0},
                                      {"stop", {stop}}});
  ASSERT_TRUE(res);
  const json body = parse(res);
  EXPECT_EQ(body["choices"][0]["text"], full.substr(0, full.find(stop)));
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
}

TEST_F(OpenAiApiTest, LogprobsListEveryTokenWithAlternatives) {
  auto res = post("/v1/chat/completions", {{"model", kModel},
                                           {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                           {"max_tokens", 6},
                                           {"temperature", 0},
                                           {"logprobs", true},
                                           {"top_logprobs", 3}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json content = parse(res)["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 6u);
  for (const json& token : content) {
    EXPECT_LE(token["logprob"].get<double>(), 0.0);
    ASSERT_EQ(token["top_logprobs"].size(), 3u);
    // Greedy: the chosen token is the most likely one.
    EXPECT_EQ(token["token"], token["top_logprobs"][0]["token"]);
    EXPECT_NEAR(token["logprob"].get<double>(), token["top_logprobs"][0]["logprob"].get<double>(),
                1e-5);
  }
}

TEST_F(OpenAiApiTest, SeedMakesSamplingRepeatable) {
  const json request = {{"model", kModel},
                        {"prompt", "The dog"},
                        {"max_tokens", 24},
                        {"temperature", 1.0},
                        {"top_p", 0.9},
                        {"seed", 1234},
                        {"presence_penalty", 0.5},
                        {"frequency_penalty", 0.5}};
  auto first = post("/v1/completions", request);
  auto second = post("/v1/completions", request);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(parse(first)["choices"][0]["text"], parse(second)["choices"][0]["text"]);
}

TEST_F(OpenAiApiTest, ModelsList) {
  auto res = get("/v1/models");
  ASSERT_TRUE(res);
  const json body = parse(res);
  EXPECT_EQ(body["object"], "list");
  ASSERT_EQ(body["data"].size(), 1u);
  EXPECT_EQ(body["data"][0]["id"], kModel);
  EXPECT_EQ(body["data"][0]["object"], "model");
  auto one = get(std::string("/v1/models/") + kModel);
  ASSERT_TRUE(one);
  EXPECT_EQ(parse(one)["id"], kModel);
  EXPECT_EQ(get("/v1/models/missing")->status, 404);
}

TEST_F(OpenAiApiTest, ConcurrentRequestsAllComplete) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {  // parallelism 2 + queue 4
    threads.emplace_back([&] {
      auto res = post("/v1/completions", {{"model", kModel},
                                          {"prompt", "Once upon a time"},
                                          {"max_tokens", 16},
                                          {"temperature", 0}});
      if (res && res->status == 200) ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 6);
}

}  // namespace
}  // namespace locara::server::testing
