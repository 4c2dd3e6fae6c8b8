// Evaluation with Python's and Jinja2's semantics: arithmetic, comparisons, truth, attribute
// and item access, scoping of set/for/macro, loops, macros and call blocks, Undefined, and the
// runtime errors (with line and column) that a failing template must produce. Expected texts
// are what Python's Jinja2 renders with Hugging Face's settings.
#include <gtest/gtest.h>

#include "chat_test_support.h"

namespace locara {
namespace {

using chat_test::expect_error;
using chat_test::render;

TEST(ChatJinjaEval, ArithmeticIsPythons) {
  EXPECT_EQ(
      render("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7.5 % 2 }} {{ 1 / 3 }} {{ 10 / 2 }}"),
      "3 -4 2 1.5 0.3333333333333333 5.0");
  EXPECT_EQ(render("{{ 0.1 + 0.2 }} {{ 1e22 }} {{ 1e16 }} {{ 0.00001 }} {{ 123456789.123 }}"),
            "0.30000000000000004 1e+22 1e+16 1e-05 123456789.123");
  EXPECT_EQ(render("{{ 'ab' * 3 }} {{ [1, 2] + [3] }} {{ true + 1 }} {{ 2 ** 10 }}"),
            "ababab [1, 2, 3] 2 1024");
}

TEST(ChatJinjaEval, ComparisonsMembershipAndTruth) {
  EXPECT_EQ(render("{{ 1 == 1.0 }} {{ true == 1 }} {{ [1, 2] < [1, 3] }} {{ 'a' in 'abc' }}"),
            "True True True True");
  EXPECT_EQ(render("{{ 'k' in {'k': 1} }} {{ 2 not in (1, 2) }} {{ none == none }}"),
            "True False True");
  EXPECT_EQ(render("{{ true and 'x' }} {{ false or 'y' }} {{ none or 0 or '' }}|{{ 0 and 1 }}"),
            "x y |0");
}

TEST(ChatJinjaEval, PrintingUsesPythonStr) {
  EXPECT_EQ(render(R"({{ [1, 'a', none, true, 1.5, {'k': (1,)}] }})"),
            "[1, 'a', None, True, 1.5, {'k': (1,)}]");
  EXPECT_EQ(render(R"({{ ["it's", 'say "hi"', 'tab\t'] }})"), R"(["it's", 'say "hi"', 'tab\t'])");
  EXPECT_EQ(render("{{ s }}", R"({"s": "Grüße, 世界! 👋"})"), "Grüße, 世界! 👋");
}

TEST(ChatJinjaEval, AttributeAndItemAccess) {
  const char* vars = R"({"m": {"role": "user", "items": 5, "list": [10, 20, 30]}})";
  EXPECT_EQ(render("{{ m.role }} {{ m['role'] }} {{ m.list[-1] }} {{ m.list.0 }}", vars),
            "user user 30 10");
  // A method wins over a key for dot access; the key wins for [].
  EXPECT_EQ(render("{{ m.items is callable }} {{ m['items'] }}", vars), "True 5");
  // Missing keys, attributes and indexes are Undefined, which prints as nothing.
  EXPECT_EQ(render("[{{ m.missing }}{{ m.list[7] }}{{ none.x }}]", vars), "[]");
  EXPECT_EQ(
      render("{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ [1,2,3,4,5][::2] }} {{ [1,2,3][-2:] }}"),
      "el olleh [1, 3, 5] [2, 3]");
  EXPECT_EQ(render("{{ s[0] }}{{ s[-1] }} {{ s|length }}", R"({"s": "é👋"})"), "é👋 2");
}

TEST(ChatJinjaEval, UndefinedFollowsJinja2DefaultUndefined) {
  EXPECT_EQ(render("[{{ x }}] {{ x is defined }} {{ x|default('d') }} {{ x|length }}"),
            "[] False d 0");
  EXPECT_EQ(render("{% for i in x %}no{% else %}empty{% endfor %} {{ 'a' ~ x ~ 'b' }}"),
            "empty ab");
  expect_error("{{ x.y }}", "line 1, column 5: UndefinedError: 'x' is undefined");
  expect_error("{{ x + 1 }}", "UndefinedError: 'x' is undefined");
  expect_error("{{ x() }}", "UndefinedError");
  expect_error("{{ ('y' if false) + 'z' }}", "inline if-expression");
}

TEST(ChatJinjaEval, TypeErrorsMatchPython) {
  expect_error("{% for m in tools %}{% endfor %}", "TypeError: 'NoneType' object is not iterable");
  expect_error("{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str");
  expect_error("{{ 1 in none }}", "argument of type 'NoneType' is not iterable");
  expect_error("{{ 'a' < 1 }}", "'<' not supported between instances of 'str' and 'int'");
  expect_error("{{ 10 // 0 }}", "ZeroDivisionError");
  expect_error("{{ none|length }}", "object of type 'NoneType' has no len()");
  expect_error("{{ 'x'() }}", "'str' object is not callable");
}

TEST(ChatJinjaEval, SetScoping) {
  // `set` in a loop body stays in the iteration; in an `if` it reaches the enclosing scope.
  EXPECT_EQ(
      render("{% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}"),
      "231");
  EXPECT_EQ(render("{% set x = 5 %}{% if true %}{% set x = 6 %}{% endif %}{{ x }}"), "6");
  EXPECT_EQ(
      render("{% for i in [1,2] %}{% if i == 2 %}[{{ x }}]{% endif %}{% set x = i %}{% endfor %}"),
      "[]");
  // A namespace carries values out of a loop.
  EXPECT_EQ(render("{% set ns = namespace(x=1) %}{% for i in [1,2] %}{% set ns.x = ns.x + i %}"
                   "{% endfor %}{{ ns.x }}"),
            "4");
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = 1, 2 %}{{ t }}"), "12 (1, 2)");
  EXPECT_EQ(render("{% set x %}hello {{ 1 + 1 }}{% endset %}[{{ x }}]"), "[hello 2]");
  EXPECT_EQ(render("{% set x | upper %}hello{% endset %}{{ x }}"), "HELLO");
  expect_error("{% set s = 'x' %}{% set s.y = 1 %}", "non-namespace object");
}

TEST(ChatJinjaEval, ForLoops) {
  EXPECT_EQ(render("{% for i in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}"
                   "{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}"),
            "103TrueFalse3|212FalseFalse3|321FalseTrue3|");
  EXPECT_EQ(render("{% for i in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}"),
            "-2;1-3;2-;");
  EXPECT_EQ(render("{% for i in [1,2,3] %}{{ loop.cycle('a', 'b') }}{% endfor %}"), "aba");
  EXPECT_EQ(render("{% for x in [1,2,3,4,5] if x is odd %}{{ x }}{{ loop.length }}{% endfor %}"),
            "133353");
  EXPECT_EQ(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}"),
            "a=1;b=2;");
  EXPECT_EQ(render("{% for x in range(10) %}{% if x == 3 %}{% break %}{% endif %}{{ x }}"
                   "{% endfor %}{% for x in range(5) %}{% if x is even %}{% continue %}{% endif %}"
                   "{{ x }}{% endfor %}"),
            "01213");
  EXPECT_EQ(render("{% for a in [1] %}{% for b in [2, 3] %}{{ loop.index }}{% endfor %}"
                   "{{ loop.index }}{% endfor %}"),
            "121");
  expect_error("{% for a, b in [(1, 2, 3)] %}{% endfor %}", "too many values to unpack");
}

TEST(ChatJinjaEval, Macros) {
  EXPECT_EQ(render("{% macro f(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}"
                   "{{ f(1) }} {{ f(1, 3) }} {{ f(b=5, a=4) }} [{{ f() }}]"),
            "1-2 1-3 4-5 [-2]");
  EXPECT_EQ(render("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                   "{{ f(5) }}"),
            "54321");
  EXPECT_EQ(render("{% macro f() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, c=3) }}"),
            "(1, 2){'c': 3}");
  EXPECT_EQ(render("{% macro m(a, b=a) %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}"), "11");
  // A macro sees the variables of the scope it was defined in, as they are when called.
  EXPECT_EQ(render("{% set y = 1 %}{% macro m() %}{{ y }}{% endmacro %}{% set y = 2 %}{{ m() }}"),
            "2");
  EXPECT_EQ(render("{% macro m() %}{% set z = 1 %}{{ z }}{% endmacro %}{{ m() }}[{{ z }}]"), "1[]");
  expect_error("{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}", "takes not more than 1 argument");
  expect_error("{% macro f(a) %}{% endmacro %}{{ f(c=2) }}", "takes no keyword argument 'c'");
  expect_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "RecursionError");
}

TEST(ChatJinjaEval, CallFilterWithAndGenerationBlocks) {
  EXPECT_EQ(render("{% macro outer() %}[{{ caller() }}]{% endmacro %}"
                   "{% call outer() %}inside{% endcall %}"),
            "[inside]");
  EXPECT_EQ(render("{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}"
                   "{% endmacro %}{% call(x) each([1,2]) %}<{{ x }}>{% endcall %}"),
            "<1><2>");
  EXPECT_EQ(render("{% filter trim | upper %}  abc  {% endfilter %}"), "ABC");
  EXPECT_EQ(render("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]"), "3[]");
  // Hugging Face's {% generation %} marks assistant text; it renders its body.
  EXPECT_EQ(render("{% generation %}gen{% endgeneration %}"), "gen");
}

TEST(ChatJinjaEval, GlobalFunctions) {
  EXPECT_EQ(render("{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }}"),
            "[0, 1, 2] [1, 4, 7] [5, 3, 1]");
  EXPECT_EQ(render("{{ dict(a=1, b=2) }} {{ dict([('x', 1)]) }} {{ namespace(a=1).a }}"),
            "{'a': 1, 'b': 2} {'x': 1} 1");
  EXPECT_EQ(render("{% set j = joiner('|') %}{% for i in [1,2,3] %}{{ j() }}{{ i }}{% endfor %}"),
            "1|2|3");
  EXPECT_EQ(render("{{ strftime_now('%Y-%m-%d %d %b %Y') }}"), "2026-01-02 02 Jan 2026");
  expect_error("{{ raise_exception('Roles must alternate') }}",
               "line 1, column 4: TemplateError: Roles must alternate");
  expect_error("{{ range(1000000)|length }}", "Range too big");
}

TEST(ChatJinjaEval, ImmutableSandboxRefusesMutation) {
  expect_error("{% set l = [1] %}{{ l.append(2) }}",
               "SecurityError: access to attribute 'append' of 'list' object is unsafe.");
  expect_error("{% set d = {} %}{{ d.update({'a': 1}) }}", "SecurityError");
  expect_error("{{ ''.__class__() }}", "SecurityError");
}

TEST(ChatJinjaEval, ResourceLimitsFailCleanly) {
  expect_error("{{ 'x' * 100000000 }}", "MemoryError");
  EXPECT_EQ(render("{{ ('' * 9223372036854775807)|length }} {{ [] * 9223372036854775807 }}"),
            "0 []");
  expect_error(
      "{% set ns = namespace(s='x' * 1000000) %}{% for i in range(100) %}"
      "{% set ns.s = ns.s + ns.s %}{% endfor %}",
      "MemoryError");
  expect_error("{{ ('x' * 1000000)|replace('x', 'y' * 1000) }}", "MemoryError");
  expect_error("{{ 9223372036854775807 + 1 }}", "OverflowError");
  // Loops nest: a budget of iterations stops a template that would run for hours.
  expect_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
               "line 1, column 32: TemplateRuntimeError: the template ran more than");
}

TEST(ChatJinjaEval, CyclesAndDeepNestingNeitherCrashNorLeak) {
  // A namespace holding itself prints (cut short) and is freed after the render.
  const std::string cyclic = render(
      "{% set ns = namespace() %}{% set ns.me = ns %}{% macro m() %}{{ ns }}{% endmacro %}"
      "{% set ns.m = m %}{{ m()[:30] }}");
  EXPECT_EQ(cyclic, "<Namespace {'me': <Namespace {");
  // A list nested 100000 deep is built and released without recursing that deep.
  EXPECT_EQ(render("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
                   "{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l|length }} {{ ns.l == ns.l }}"),
            "1 True");
  // Request JSON nested past the limit is refused up front.
  std::string deep = "1";
  for (int i = 0; i < 1000; ++i) deep = "[" + deep + "]";
  EXPECT_EQ(render("{{ x|length }}", "{\"x\": " + deep + "}")
                .rfind("ERROR: chat template: x: "
                       "JSON nested deeper",
                       0),
            0u);
}

}  // namespace
}  // namespace locara
