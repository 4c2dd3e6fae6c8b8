// POST /apply-template and tools in chat requests: the prompt the daemon renders equals
// `locara chat-template render --model`, and a request's tools reach the model's template.
#include <cstdio>
#include <fstream>
#include <span>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "server_fixture.h"

namespace locara::server::testing {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Prints the tools as given (key order included) and each message, tool calls too.
constexpr const char* kToolTemplate =
    "{%- if tools %}<tools>{{ tools | tojson }}</tools>\n{% endif %}"
    "{%- for message in messages %}<|{{ message.role }}|>{{ message.content }}"
    "{%- if message.tool_calls %}{{ message.tool_calls | tojson }}{% endif %}\n"
    "{%- endfor %}{%- if add_generation_prompt %}<|assistant|>{% endif %}";
// Refuses system messages, as Gemma's template does.
constexpr const char* kStrictTemplate =
    "{%- if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}"
    "{%- endif %}{%- for message in messages %}{{ message.content }}{% endfor %}";

// stories260K with another tokenizer.chat_template, written into the store as `name`.
void write_model_with_template(const std::string& dir, const std::string& name,
                               const std::string& chat_template) {
  auto reader = GgufReader::open(kModelPath);
  ASSERT_TRUE(reader) << reader.error().message;
  GgufWriter writer;
  for (const auto& [key, value] : (*reader)->metadata()) writer.set(key, value);
  writer.set_string("tokenizer.chat_template", chat_template);
  for (const GgufTensor& tensor : (*reader)->tensors()) {
    ASSERT_TRUE(writer.add_tensor(tensor.name, tensor.type, tensor.dims,
                                  std::span<const uint8_t>(tensor.data, tensor.n_bytes)));
  }
  const Status written = writer.write(dir + "/" + name + ".gguf");
  ASSERT_TRUE(written) << written.error().message;
}

// `locara chat-template render --model MODEL --messages FILE [flags]`: its stdout.
std::string cli_render(const std::string& model_path, const ordered_json& request,
                       const std::string& flags = "") {
  char pattern[] = "/tmp/locara-messages-XXXXXX";
  const int fd = mkstemp(pattern);
  close(fd);
  std::ofstream(pattern) << request.dump();
  const std::string command = std::string(LOCARA_BINARY_DIR) +
                              "/locara chat-template render --model " + model_path +
                              " --messages " + pattern + " " + flags + " 2>/dev/null";
  std::string out = command_output(command);
  std::remove(pattern);
  return out;
}

ordered_json tool_request(const std::string& model) {
  return ordered_json::parse(R"({
    "model": ")" + model + R"(",
    "messages": [
      {"role": "system", "content": "You help."},
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": "",
       "tool_calls": [{"id": "c1", "type": "function",
                       "function": {"name": "weather", "arguments": "{\"city\": \"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "sunny"}
    ],
    "tools": [{"type": "function",
               "function": {"name": "weather", "description": "Today's weather",
                            "parameters": {"type": "object",
                                           "properties": {"city": {"type": "string"}}}}}]
  })");
}

class ApplyTemplateTest : public ServerTest {
 protected:
  void SetUp() override {
    write_model_with_template(store_.dir(), "tooly", kToolTemplate);
    write_model_with_template(store_.dir(), "strict", kStrictTemplate);
    ServerOptions options = test_options(store_.dir());
    options.runtime.plan.n_ctx = 512;  // the model's own: room for the tool schemas
    start(options);
  }
  std::string model_path(const std::string& name) const {
    return store_.dir() + "/" + name + ".gguf";
  }
  httplib::Result apply(const std::string& body) const {
    return client()->Post("/apply-template", body, "application/json");
  }
};

TEST_F(ApplyTemplateTest, RendersToolsAndMessagesExactlyAsTheCli) {
  const ordered_json request = tool_request("tooly");
  auto res = apply(request.dump());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const std::string prompt = parse(res)["prompt"];
  EXPECT_EQ(prompt, cli_render(model_path("tooly"), request));
  // The tools reached the template, their keys in the order the client wrote them.
  ASSERT_NE(prompt.find("<tools>"), std::string::npos) << prompt;
  EXPECT_LT(prompt.find("\"description\""), prompt.find("\"parameters\""));
  EXPECT_LT(prompt.find("\"type\": \"function\""), prompt.find("\"function\": {"));
  EXPECT_NE(prompt.find("\"arguments\""), std::string::npos) << "tool calls reach it";
  EXPECT_TRUE(prompt.ends_with("<|assistant|>"));
}

TEST_F(ApplyTemplateTest, WithoutTemplateOrGenerationPromptMatchesTheCli) {
  ordered_json request = {{"model", kModel}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}}};
  auto res = apply(request.dump());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(parse(res)["prompt"], "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(parse(res)["prompt"], cli_render(kModelPath, request));

  request["add_generation_prompt"] = false;
  res = apply(request.dump());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(parse(res)["prompt"], "<|im_start|>user\nHi<|im_end|>\n");
  EXPECT_EQ(parse(res)["prompt"], cli_render(kModelPath, request, "--no-generation-prompt"));
  // No tools: the template sees none.
  request = tool_request("tooly");
  request.erase("tools");
  res = apply(request.dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(parse(res)["prompt"].get<std::string>().find("<tools>"), std::string::npos);
}

TEST_F(ApplyTemplateTest, BadRequestsGetA4xxNamingTheProblem) {
  struct Case {
    std::string body;
    int status;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {R"({"model": "nope", "messages": [{"role": "user", "content": "Hi"}]})", 404, "nope"},
      {R"({"messages": [{"role": "user", "content": "Hi"}]})", 400, "'model' is required"},
      {R"({"model": "stories260K"})", 400, "'messages' is required"},
      {R"({"model": "stories260K", "messages": "Hi"})", 400, "'messages' must be an array"},
      {R"({"model": "stories260K", "messages": []})", 400, "'messages' is empty"},
      {R"({"model": "stories260K", "messages": [{"role": 1, "content": "Hi"}]})", 400,
       "'messages[0].role'"},
      {R"({"model": "stories260K", "messages": [{"role": "user", "content": "Hi"}],
           "tools": "weather"})",
       400, "'tools' must be an array"},
      {R"({"model": "stories260K", "messages": [{"role": "user", "content": "Hi"}],
           "add_generation_prompt": "yes"})",
       400, "'add_generation_prompt'"},
      {R"({"model": "strict", "messages": [{"role": "system", "content": "Be nice"}]})", 400,
       "System role not supported"},
      {R"({"model": "stories260K", "messages": [)", 400, "malformed JSON"},
  };
  for (const Case& c : cases) {
    auto res = apply(c.body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.status) << c.body << " -> " << res->body;
    const json body = parse(res);
    ASSERT_TRUE(body.contains("error")) << res->body;
    EXPECT_NE(body["error"]["message"].get<std::string>().find(c.fragment), std::string::npos)
        << c.body << " -> " << res->body;
  }
  EXPECT_EQ(get("/health")->status, 200) << "the daemon keeps serving";
}

// The chat endpoints hand a request's tools to the template: the prompt grows by them.
TEST_F(ApplyTemplateTest, ChatEndpointsPassToolsToTheTemplate) {
  const ordered_json with_tools = tool_request("tooly");
  ordered_json without_tools = with_tools;
  without_tools.erase("tools");
  auto prompt_tokens = [&](const std::string& path, ordered_json request) -> int64_t {
    request["max_tokens"] = 1;
    request["stream"] = false;
    request["options"] = {{"num_predict", 1}};
    auto res = client()->Post(path, request.dump(), "application/json");
    if (!res || res->status != 200) {
      ADD_FAILURE() << path << ": " << (res ? res->body : "no response");
      return -1;
    }
    const json body = parse(res);
    return body.contains("usage") ? body["usage"]["prompt_tokens"].get<int64_t>()
                                  : body["prompt_eval_count"].get<int64_t>();
  };
  for (const std::string path : {"/v1/chat/completions", "/api/chat"}) {
    const int64_t plain = prompt_tokens(path, without_tools);
    const int64_t tooled = prompt_tokens(path, with_tools);
    EXPECT_GT(plain, 0) << path;
    EXPECT_GT(tooled, plain + 20) << path << ": the tools did not reach the template";
  }
  ordered_json bad = without_tools;
  bad["tools"] = "weather";
  auto res = client()->Post("/v1/chat/completions", bad.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("'tools' must be an array"), std::string::npos) << res->body;
}

}  // namespace
}  // namespace locara::server::testing
