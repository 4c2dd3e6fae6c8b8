// The public chat template API: what a template sees (messages, tools, documents,
// add_generation_prompt, special tokens, extra variables), the model's template or the ChatML
// default from a GGUF file, errors, and concurrent renders of one parsed template.
#include "tokenizer/chat/chat_template.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <thread>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"

namespace locara {
namespace {

ChatTemplateInput conversation() {
  ChatTemplateInput input;
  input.messages = nlohmann::ordered_json::parse(
      R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}])");
  return input;
}

TEST(ChatTemplate, SeesMessagesTokensAndGenerationPrompt) {
  auto chat = ChatTemplate::parse(
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}: {{ m.content }}]{% endfor %}"
      "{% if add_generation_prompt %}[assistant:{% endif %}{{ eos_token }}");
  ASSERT_TRUE(chat) << chat.error().message;
  ChatTemplateInput input = conversation();
  input.bos_token = "<s>";
  input.eos_token = "</s>";
  EXPECT_EQ(*chat->render(input), "<s>[system: Be brief.][user: Hi!][assistant:</s>");
  input.add_generation_prompt = false;
  EXPECT_EQ(*chat->render(input), "<s>[system: Be brief.][user: Hi!]</s>");
}

TEST(ChatTemplate, ToolsAndDocumentsAreNoneUnlessGiven) {
  auto chat = ChatTemplate::parse(
      "{{ tools is none }} {{ tools is defined }} {{ documents is none }}"
      "{% for t in tools or [] %} {{ t.function.name }}{% endfor %}");
  ASSERT_TRUE(chat) << chat.error().message;
  ChatTemplateInput input = conversation();
  EXPECT_EQ(*chat->render(input), "True True True");
  input.tools =
      nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  EXPECT_EQ(*chat->render(input), "False True True f");
}

TEST(ChatTemplate, ExtraVariablesAreTemplateVariables) {
  auto chat = ChatTemplate::parse("{{ 'no-think' if enable_thinking is false else 'think' }}");
  ASSERT_TRUE(chat);
  ChatTemplateInput input = conversation();
  EXPECT_EQ(*chat->render(input), "think");
  input.extra_variables = {{"enable_thinking", false}};
  EXPECT_EQ(*chat->render(input), "no-think");
  input.extra_variables = nlohmann::ordered_json::array();
  EXPECT_FALSE(chat->render(input));
}

TEST(ChatTemplate, ErrorsNameTheLineAndColumn) {
  auto bad = ChatTemplate::parse("ok\n{% if messages %}\n{{ messages[0] + }}\n{% endif %}");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("chat template: line 3, column 18: TemplateSyntaxError"),
            std::string::npos)
      << bad.error().message;

  auto refusing = ChatTemplate::parse(
      "{% if messages[0]['role'] == 'system' %}\n  {{ raise_exception('System role not "
      "supported') }}\n{% endif %}");
  ASSERT_TRUE(refusing) << refusing.error().message;
  auto refused = refusing->render(conversation());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "chat template: line 2, column 6: TemplateError: System role not supported");
}

TEST(ChatTemplate, DefaultIsChatMl) {
  auto chat = ChatTemplate::parse(kDefaultChatTemplate);
  ASSERT_TRUE(chat) << chat.error().message;
  EXPECT_EQ(*chat->render(conversation()),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplate, StrftimeNowDefaultsToTheLocalDate) {
  auto chat = ChatTemplate::parse("{{ strftime_now('%Y') }}");
  ASSERT_TRUE(chat);
  const auto year = chat->render(conversation());
  ASSERT_TRUE(year) << year.error().message;
  EXPECT_EQ(year->size(), 4u);
  EXPECT_GE(std::stoi(*year), 2024);
}

TEST(ChatTemplate, ConcurrentRendersOfOneTemplateAgree) {
  auto chat = ChatTemplate::parse(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
      "{{ m.content|upper }}{% endfor %}{{ ns.n }}{{ messages|tojson }}");
  ASSERT_TRUE(chat);
  const std::string expected = *chat->render(conversation());
  std::vector<std::string> results(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) results[t] = *chat->render(conversation());
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& result : results) EXPECT_EQ(result, expected);
}

class ChatTemplateForModel : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }

  std::unique_ptr<GgufReader> write_model(const char* chat_template) {
    GgufWriter writer;
    writer.set_string("general.architecture", "llama");
    if (chat_template) writer.set_string("tokenizer.chat_template", chat_template);
    EXPECT_TRUE(writer.write(path_));
    auto gguf = GgufReader::open(path_);
    EXPECT_TRUE(gguf) << gguf.error().message;
    return gguf ? std::move(*gguf) : nullptr;
  }

  const std::string path_ = std::string(LOCARA_BINARY_DIR) + "/chat_template_test_" +
                            ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                            ".gguf";
};

TEST_F(ChatTemplateForModel, UsesTheModelsTemplate) {
  auto gguf = write_model("{% for m in messages %}<{{ m.role }}>{% endfor %}");
  ASSERT_TRUE(gguf);
  auto chat = chat_template_for_model(*gguf);
  ASSERT_TRUE(chat) << chat.error().message;
  EXPECT_FALSE(chat->is_default());
  EXPECT_EQ(*chat->render(conversation()), "<system><user>");
}

TEST_F(ChatTemplateForModel, FallsBackToChatMlWithoutOne) {
  auto gguf = write_model(nullptr);
  ASSERT_TRUE(gguf);
  auto chat = chat_template_for_model(*gguf);
  ASSERT_TRUE(chat) << chat.error().message;
  EXPECT_TRUE(chat->is_default());
  EXPECT_EQ(chat->source(), kDefaultChatTemplate);
}

TEST_F(ChatTemplateForModel, ABrokenTemplateNamesTheFileAndKey) {
  auto gguf = write_model("{% if %}");
  ASSERT_TRUE(gguf);
  auto chat = chat_template_for_model(*gguf);
  ASSERT_FALSE(chat);
  EXPECT_NE(chat.error().message.find(path_ + ": tokenizer.chat_template: chat template: line 1"),
            std::string::npos)
      << chat.error().message;
}

TEST(ChatTemplateStories, Stories260KHasNoTemplateAndGetsTheDefault) {
  auto gguf = GgufReader::open(std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf");
  ASSERT_TRUE(gguf) << gguf.error().message;
  auto chat = chat_template_for_model(**gguf);
  ASSERT_TRUE(chat) << chat.error().message;
  EXPECT_TRUE(chat->is_default());
}

}  // namespace
}  // namespace locara
