// The template language's lexer and parser: whitespace control with Hugging Face's
// trim_blocks and lstrip_blocks, comments, raw blocks, literals, precedence, and syntax errors
// that name their line and column. Expected texts are what Python's Jinja2 renders.
#include <gtest/gtest.h>

#include "chat_test_support.h"

namespace locara {
namespace {

using chat_test::expect_error;
using chat_test::render;

TEST(ChatJinjaSyntax, TrimBlocksDropsTheNewlineAfterABlockTag) {
  EXPECT_EQ(render("{% if true %}\nx\n{% endif %}\ny"), "x\ny");
  EXPECT_EQ(render("a\n{# comment #}\nb"), "a\nb");
  // Variables are not blocks: the newline after }} stays.
  EXPECT_EQ(render("{{ 1 }}\n{{ 2 }}"), "1\n2");
}

TEST(ChatJinjaSyntax, LstripBlocksRemovesIndentationBeforeBlockTags) {
  EXPECT_EQ(render("\n  {% if true %}\n    x\n  {% endif %}\ny"), "\n    x\ny");
  EXPECT_EQ(render("  {% for i in [1,2] %}\n  {{ i }}\n  {% endfor %}\nend"), "  1\n  2\nend");
  EXPECT_EQ(render("a\n  {# comment #}\nb"), "a\nb");
  // Not at the start of a line: nothing to strip.
  EXPECT_EQ(render("{% if true %}  a  {% endif %}"), "  a  ");
}

TEST(ChatJinjaSyntax, MinusAndPlusControlWhitespace) {
  EXPECT_EQ(render("a  {%- if true %} b {% endif -%}  c"), "a b c");
  EXPECT_EQ(render("x  {{- 1 -}}  y"), "x1y");
  EXPECT_EQ(render("a {#- c -#} b"), "ab");
  EXPECT_EQ(render("  {%+ if true %}x{% endif %}"), "  x");  // + keeps the indentation
  EXPECT_EQ(render("{% if true +%}\nx{% endif %}"), "\nx");  // +%} keeps the newline
  EXPECT_EQ(render("line1\n    {%- if true %}\n  yes\n    {%- endif %}\nline2"), "line1  yesline2");
}

TEST(ChatJinjaSyntax, NewlinesAreNormalizedAndOneTrailingNewlineDropped) {
  EXPECT_EQ(render("a\r\nb\rc"), "a\nb\nc");
  EXPECT_EQ(render("text\n"), "text");
  EXPECT_EQ(render("text\n\n"), "text\n");
}

TEST(ChatJinjaSyntax, RawBlocksAndBracesInExpressions) {
  EXPECT_EQ(render("{% raw %}{{ not rendered }}{% endraw %}"), "{{ not rendered }}");
  EXPECT_EQ(render("{%- raw -%}   {{x}}   {%- endraw -%}  tail"), "{{x}}tail");
  EXPECT_EQ(render("{{ '{{' }} {{ '}}' }} {{ {'a': {'b': 1}} }}"), "{{ }} {'a': {'b': 1}}");
}

TEST(ChatJinjaSyntax, Literals) {
  EXPECT_EQ(render("{{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 1.5e-7 }} {{ 1e3 }}"),
            "31 15 5 1000 1.5e-07 1000.0");
  EXPECT_EQ(render("{{ true }} {{ True }} {{ none }} {{ None }} {{ false }}"),
            "True True None None False");
  EXPECT_EQ(render(R"({{ '\u00e9\x41\101\n' }}|{{ "a" 'b' }}|{{ '\d' }})"),
            "\xC3\xA9"
            "AA\n|ab|\\d");
  EXPECT_EQ(render("{{ [1, 2,] }} {{ {'a': 1,} }} {{ (1,) }} {{ () }}"), "[1, 2] {'a': 1} (1,) ()");
  EXPECT_EQ(render("{{ 'multi\nline' }}"), "multi\nline");
}

TEST(ChatJinjaSyntax, OperatorPrecedenceFollowsJinja2) {
  EXPECT_EQ(render("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }}"),
            "7 9 64 4");
  // Filters bind tighter than arithmetic; `not` looser than comparison.
  EXPECT_EQ(render("{{ 'a' + ' b '|trim }} {{ not 1 == 2 }} {{ 'a' ~ 2 * 3 }}"), "ab True a6");
  // ~ binds tighter than +: 1 ~ 2 + 3 is "12" + 3.
  expect_error("{{ 1 ~ 2 + 3 }}", "can only concatenate str");
  EXPECT_EQ(render("{{ 'a' if false else 'b' if true else 'c' }}"), "b");
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}"), "True False");
}

TEST(ChatJinjaSyntax, SyntaxErrorsNameLineAndColumn) {
  expect_error("line one\n{{ 1 + }}", "line 2, column 8: TemplateSyntaxError");
  expect_error("{% if true %}never closed", "expected 'endif'");
  expect_error("{% for x in y %}{% endif %}", "TemplateSyntaxError");
  expect_error("{{ 'unterminated }}", "line 1, column 4: TemplateSyntaxError: unterminated string");
  expect_error("{{ (1, 2 }}", "unexpected '}', expected ')'");
  expect_error("{# never closed", "missing end of comment tag");
  expect_error("{% foo %}", "unknown tag 'foo'");
  expect_error("{% break %}", "'break' outside of a loop");
  expect_error("{{ 'x'|random }}", "TemplateAssertionError: No filter named 'random'.");
  expect_error("{{ 1 is prime }}", "No test named 'prime'.");
  expect_error("{{ '\\xZZ' }}", "truncated \\x escape");
  expect_error("{% for x in y recursive %}{% endfor %}", "recursive loops are not supported");
}

TEST(ChatJinjaSyntax, UnknownFilterFailsEvenInABranchNeverTaken) {
  // Jinja2 resolves filters when compiling, not when rendering.
  expect_error("{% if false %}{{ x|no_such_filter }}{% endif %}", "No filter named");
}

TEST(ChatJinjaSyntax, DeepNestingIsRefusedNotACrash) {
  expect_error("{{ " + std::string(500, '(') + "1" + std::string(500, ')') + " }}",
               "nested too deeply");
  expect_error("{{ " + std::string(500, '-') + "1 }}", "nested too deeply");
  // Chains nest in the tree too: a + b + c ... and x.a.a.a ... are refused past the limit.
  std::string sum = "{{ 1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  expect_error(sum + " }}", "nested too deeply");
  std::string attributes = "{{ x";
  for (int i = 0; i < 5000; ++i) attributes += ".a";
  expect_error(attributes + " }}", "nested too deeply");
  // ... while real templates' chains are far shorter.
  std::string short_sum = "{{ 1";
  for (int i = 0; i < 60; ++i) short_sum += " + 1";
  EXPECT_EQ(render(short_sum + " }}"), "61");
  std::string blocks;
  for (int i = 0; i < 200; ++i) blocks += "{% if true %}";
  expect_error(blocks, "nested too deeply");
}

}  // namespace
}  // namespace locara
