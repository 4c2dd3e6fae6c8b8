// `locara chat-template render` as a user meets it: the exact prompt on stdout (no trailing
// newline), equal to the Jinja2 goldens; a model's template or the ChatML default; clear
// errors with a non-zero exit code.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

const std::string kLocara = std::string(LOCARA_BINARY_DIR) + "/locara";
const std::string kGolden = std::string(LOCARA_SHARED_DIR) + "/golden/";
const std::string kModel = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Output run(const std::string& args) {
  const std::string err_path = "/tmp/locara-chat-cli-test-" + std::to_string(getpid()) + ".err";
  const std::string command = kLocara + " " + args + " 2>" + err_path;
  Output result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  std::stringstream text;
  text << err.rdbuf();
  result.err = text.str();
  std::remove(err_path.c_str());
  return result;
}

class ChatTemplateCommand : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& path : paths_) std::remove(path.c_str());
  }
  std::string write(const std::string& name, const std::string& text) {
    paths_.push_back("/tmp/locara-chat-cli-test-" + std::to_string(getpid()) + "-" + name);
    std::ofstream(paths_.back(), std::ios::binary) << text;
    return paths_.back();
  }
  // The golden case for `template` / `conversation` / generation prompt.
  static nlohmann::ordered_json golden_case(const std::string& tmpl,
                                            const std::string& conversation,
                                            bool generation_prompt) {
    std::ifstream in(kGolden + "chat-templates.json");
    const auto golden = nlohmann::ordered_json::parse(in);
    for (const auto& c : golden["cases"]) {
      if (c["template"] == tmpl && c["conversation"] == conversation &&
          c["add_generation_prompt"] == generation_prompt)
        return c;
    }
    return {};
  }
  static nlohmann::ordered_json conversation(const std::string& name) {
    std::ifstream in(kGolden + "chat-templates.json");
    return nlohmann::ordered_json::parse(in)["conversations"][name];
  }
  std::vector<std::string> paths_;
};

TEST_F(ChatTemplateCommand, RequestWithToolsMatchesTheGolden) {
  // Llama 3.2 prints the tools and today's date (strftime_now).
  const std::string tmpl = "meta-llama-Llama-3.2-3B-Instruct.jinja";
  const auto expected = golden_case(tmpl, "with_tools", true);
  ASSERT_TRUE(expected.contains("expected"));
  const std::string request = write("request.json", conversation("with_tools").dump());
  const Output o = run("chat-template render --template " + kGolden + "templates/" + tmpl +
                       " --messages " + request + " --bos '<s>' --eos '</s>' --date 2026-01-02");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, expected["expected"].get<std::string>());
}

TEST_F(ChatTemplateCommand, MessageArrayWithoutGenerationPrompt) {
  const std::string tmpl = "Qwen-Qwen2.5-7B-Instruct.jinja";
  const auto expected = golden_case(tmpl, "unicode", false);
  ASSERT_TRUE(expected.contains("expected"));
  const std::string messages = write("messages.json", conversation("unicode").dump());
  const Output o = run("chat-template render --template " + kGolden + "templates/" + tmpl +
                       " --messages " + messages + " --no-generation-prompt");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, expected["expected"].get<std::string>());
}

TEST_F(ChatTemplateCommand, ModelWithoutTemplateUsesChatMl) {
  const std::string messages = write("stdin.json", R"([{"role": "user", "content": "Hi"}])");
  const Output o = run("chat-template render --model " + kModel + " --messages - < " + messages);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST_F(ChatTemplateCommand, TemplateThatRefusesTheConversationFails) {
  const std::string messages = write("system.json", conversation("system_multi").dump());
  const Output o = run("chat-template render --template " + kGolden +
                       "templates/google-gemma-2-2b-it.jinja --messages " + messages);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find("TemplateError: System role not supported"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("line 1, column"), std::string::npos) << o.err;
}

TEST_F(ChatTemplateCommand, BadInputsAreClearErrors) {
  const std::string messages = write("ok.json", "[]");
  Output o = run("chat-template render --messages " + messages);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("needs --model or --template"), std::string::npos) << o.err;

  o = run("chat-template render --template /nonexistent.jinja --messages " + messages);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("cannot open '/nonexistent.jinja'"), std::string::npos) << o.err;

  const std::string broken = write("broken.json", "[{\"role\": ");
  o = run("chat-template render --model " + kModel + " --messages " + broken);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("not valid JSON"), std::string::npos) << o.err;

  const std::string bad_template = write("bad.jinja", "{% for m in messages %}");
  o = run("chat-template render --template " + bad_template + " --messages " + messages);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("bad.jinja: chat template: line 1"), std::string::npos) << o.err;
}

}  // namespace
