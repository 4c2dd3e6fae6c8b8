// Helpers for the chat template tests: render a template string with JSON variables.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tokenizer/chat/chat_template.h"

namespace locara::chat_test {

// Renders `source` with `variables` (a JSON object) as extra template variables, no messages,
// bos "<s>", eos "</s>", strftime_now fixed to 2026-01-02. Errors come back as "ERROR: ...".
inline std::string render(std::string_view source, std::string_view variables = "{}") {
  auto parsed = ChatTemplate::parse(source);
  if (!parsed) return "ERROR: " + parsed.error().message;
  ChatTemplateInput input;
  input.extra_variables = nlohmann::ordered_json::parse(variables);
  input.bos_token = "<s>";
  input.eos_token = "</s>";
  std::tm date{};
  date.tm_year = 2026 - 1900;
  date.tm_mday = 2;
  date.tm_wday = 5;
  date.tm_yday = 1;
  input.now = date;
  auto text = parsed->render(input);
  if (!text) return "ERROR: " + text.error().message;
  return *text;
}

// Expects rendering to fail with a message containing `fragment`.
inline void expect_error(std::string_view source, std::string_view fragment,
                         std::string_view variables = "{}") {
  const std::string result = render(source, variables);
  EXPECT_EQ(result.rfind("ERROR: ", 0), 0u) << source << " rendered " << result;
  EXPECT_NE(result.find(fragment), std::string::npos) << source << ": " << result;
}

}  // namespace locara::chat_test
