// Every case of shared/golden/chat-templates.json: real chat templates rendered by Python's
// Jinja2 as Hugging Face's apply_chat_template sets it up. Our rendering must equal theirs byte
// for byte, and the cases Jinja2 refuses (Gemma's system role, tool templates given no tools)
// must fail.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "tokenizer/chat/chat_template.h"

namespace locara {
namespace {

const std::string kGoldenDir = std::string(LOCARA_SHARED_DIR) + "/golden/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The README fixes strftime_now to 2026-01-02.
std::tm golden_date() {
  std::tm date{};
  date.tm_year = 2026 - 1900;
  date.tm_mon = 0;
  date.tm_mday = 2;
  date.tm_wday = 5;  // a Friday
  date.tm_yday = 1;
  return date;
}

TEST(ChatTemplateGolden, EveryCaseRendersAsJinja2Does) {
  const std::string text = read_file(kGoldenDir + "chat-templates.json");
  ASSERT_FALSE(text.empty()) << "missing " << kGoldenDir << "chat-templates.json";
  const auto golden = nlohmann::ordered_json::parse(text);
  const auto& cases = golden.at("cases");
  ASSERT_GE(cases.size(), 136u);

  std::map<std::string, ChatTemplate> templates;
  int rendered = 0, refused = 0;
  for (const auto& c : cases) {
    const std::string name = c.at("template");
    const std::string conversation_name = c.at("conversation");
    const bool generation_prompt = c.at("add_generation_prompt");
    SCOPED_TRACE(name + " / " + conversation_name +
                 (generation_prompt ? " / generation prompt" : " / no generation prompt"));
    if (!templates.count(name)) {
      auto parsed = ChatTemplate::parse(read_file(kGoldenDir + "templates/" + name));
      ASSERT_TRUE(parsed) << parsed.error().message;
      templates.emplace(name, std::move(*parsed));
    }
    ChatTemplateInput input;
    const auto& conversation = golden.at("conversations").at(conversation_name);
    if (conversation.is_object()) {  // {messages, tools}
      input.messages = conversation.at("messages");
      input.tools = conversation.at("tools");
    } else {
      input.messages = conversation;
    }
    input.add_generation_prompt = generation_prompt;
    input.bos_token = c.at("bos_token");
    input.eos_token = c.at("eos_token");
    input.now = golden_date();

    const auto result = templates.at(name).render(input);
    if (c.contains("error")) {
      EXPECT_FALSE(result) << "Jinja2 failed with " << c.at("error") << ", we rendered:\n"
                           << *result;
      if (!result) {
        // Same Python exception and message, placed at a line and column.
        EXPECT_NE(result.error().message.find(c.at("error").get<std::string>()), std::string::npos)
            << result.error().message;
        EXPECT_NE(result.error().message.find("line "), std::string::npos);
        ++refused;
      }
      continue;
    }
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(*result, c.at("expected").get<std::string>());
    ++rendered;
  }
  EXPECT_EQ(rendered + refused, static_cast<int>(cases.size()));
}

}  // namespace
}  // namespace locara
