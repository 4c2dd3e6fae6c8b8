// Bad input gets a 4xx naming the problem, in each API family's error shape, and the
// daemon keeps serving.
#include "server_fixture.h"

namespace locara::server::testing {
namespace {

using nlohmann::json;

class BadInputTest : public ServerTest {
 protected:
  // The OpenAI error message of a response with `status`.
  std::string openai_error(const httplib::Result& res, int status) {
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, status) << res->body;
    const json body = parse(res);
    EXPECT_TRUE(body.contains("error")) << res->body;
    return body["error"].value("message", "");
  }
  void expect_still_serving() {
    auto res = post("/v1/completions",
                    {{"model", kModel}, {"prompt", "Hi"}, {"max_tokens", 2}, {"temperature", 0}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
};

TEST_F(BadInputTest, MalformedJson) {
  auto res = client()->Post("/v1/chat/completions", "{\"model\": ", "application/json");
  EXPECT_NE(openai_error(res, 400).find("malformed JSON at byte"), std::string::npos);
  res = client()->Post("/api/chat", "[1, 2]", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(parse(res)["error"].get<std::string>().find("JSON object"), std::string::npos);
  expect_still_serving();
}

TEST_F(BadInputTest, WrongTypesNameTheField) {
  auto res = post("/v1/chat/completions", {{"model", kModel},
                                           {"messages", {{{"role", "user"}, {"content", "x"}}}},
                                           {"temperature", "hot"}});
  EXPECT_NE(openai_error(res, 400).find("'temperature' must be a number, got a string"),
            std::string::npos);
  EXPECT_EQ(parse(res)["error"]["type"], "invalid_request_error");
  res = post("/v1/completions", {{"model", kModel}, {"prompt", "x"}, {"max_tokens", -3}});
  EXPECT_NE(openai_error(res, 400).find("max_tokens"), std::string::npos);
  res = post("/v1/completions", {{"model", kModel}, {"prompt", 7}});
  EXPECT_NE(openai_error(res, 400).find("'prompt'"), std::string::npos);
  res = post("/v1/chat/completions", {{"model", kModel}, {"messages", {{{"role", 3}}}}});
  EXPECT_NE(openai_error(res, 400).find("messages[0].role"), std::string::npos);
  res = post("/v1/completions", {{"model", kModel}, {"prompt", "x"}, {"n", 2}});
  EXPECT_NE(openai_error(res, 400).find("'n'"), std::string::npos);
  res = post("/api/generate", {{"model", kModel}, {"prompt", "x"}, {"options", {{"top_k", "a"}}}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(parse(res)["error"].get<std::string>().find("options.top_k"), std::string::npos);
  expect_still_serving();
}

TEST_F(BadInputTest, UnknownModel) {
  auto res = post("/v1/chat/completions", {{"model", "no-such-model"},
                                           {"messages", {{{"role", "user"}, {"content", "x"}}}}});
  EXPECT_NE(openai_error(res, 404).find("no-such-model"), std::string::npos);
  res = post("/api/generate", {{"model", "no-such-model"}, {"prompt", "x"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(parse(res)["error"].get<std::string>().find("no-such-model"), std::string::npos);
  res = post("/api/show", {{"model", "no-such-model"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(BadInputTest, EmptyOrMissingMessages) {
  auto res = post("/v1/chat/completions", {{"model", kModel}, {"messages", json::array()}});
  EXPECT_NE(openai_error(res, 400).find("'messages' is empty"), std::string::npos);
  res = post("/api/chat", {{"model", kModel}, {"messages", json::array()}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  res = post("/v1/chat/completions", {{"model", kModel}});
  EXPECT_NE(openai_error(res, 400).find("'messages' is required"), std::string::npos);
}

TEST_F(BadInputTest, PromptOverTheContext) {
  std::string long_prompt;
  for (int i = 0; i < 200; ++i) long_prompt += "the cat sat ";  // far over 128 tokens
  auto res = post("/v1/completions", {{"model", kModel}, {"prompt", long_prompt}});
  EXPECT_NE(openai_error(res, 400).find("context"), std::string::npos);
  res = post("/api/generate", {{"model", kModel},
                               {"prompt", "Once upon a time there was a dog"},
                               {"options", {{"num_ctx", 4}}}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(parse(res)["error"].get<std::string>().find("context"), std::string::npos);
  expect_still_serving();
}

TEST_F(BadInputTest, BodyOverTheSizeLimit) {
  ServerOptions options = test_options(store_.dir());
  options.max_body_bytes = 1024;
  start(options);
  const std::string big(4096, 'x');
  auto res = post("/v1/completions", {{"model", kModel}, {"prompt", big}});
  EXPECT_NE(openai_error(res, 413).find("exceeds the limit of 1024 bytes"), std::string::npos);
  expect_still_serving();
}

TEST_F(BadInputTest, UnknownRouteAndUnknownAppToken) {
  auto res = get("/v2/nothing");
  EXPECT_NE(openai_error(res, 404).find("/v2/nothing"), std::string::npos);
  res = post("/v1/completions", {{"model", kModel}, {"prompt", "x"}},
             {{"Authorization", "Bearer lca_0000"}});
  EXPECT_NE(openai_error(res, 401).find("not registered"), std::string::npos);
  // An SDK's placeholder key is not an app token: the default app serves it.
  res = post("/v1/completions", {{"model", kModel}, {"prompt", "x"}, {"max_tokens", 1}},
             {{"Authorization", "Bearer sk-placeholder"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(BadInputTest, InvalidSamplingValues) {
  auto res = post("/v1/completions", {{"model", kModel}, {"prompt", "x"}, {"temperature", 5}});
  EXPECT_NE(openai_error(res, 400).find("temperature"), std::string::npos);
  res = post("/v1/completions", {{"model", kModel}, {"prompt", "x"}, {"stop", {1, 2}}});
  EXPECT_NE(openai_error(res, 400).find("'stop'"), std::string::npos);
  res = post("/api/generate", {{"model", kModel}, {"prompt", "x"}, {"keep_alive", "soon"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(parse(res)["error"].get<std::string>().find("keep_alive"), std::string::npos);
}

}  // namespace
}  // namespace locara::server::testing
