// Filters, tests and the Python methods of str/list/dict, including Hugging Face's tojson and
// markupsafe's escaping when plain text meets a `safe` string. Expected texts are what Python's
// Jinja2 renders with Hugging Face's settings.
#include <gtest/gtest.h>

#include "chat_test_support.h"

namespace locara {
namespace {

using chat_test::expect_error;
using chat_test::render;

TEST(ChatJinjaFilters, Text) {
  EXPECT_EQ(render("{{ '  hi  '|trim }}|{{ 'xxhixx'|trim('x') }}|{{ 'hello world'|upper }}"),
            "hi|hi|HELLO WORLD");
  EXPECT_EQ(render("{{ 'hello wORLD'|capitalize }}|{{ 'hello wORLD-foo (bar)'|title }}"),
            "Hello world|Hello World-Foo (Bar)");
  EXPECT_EQ(render("{{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }}"), "bba -a-b-c-");
  EXPECT_EQ(render("{{ 'a\nb\n\nc'|indent }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb'|indent(2, "
                   "blank=true) }}"),
            "a\n    b\n\n    c|  a\n  b|a\n  \n  b");
  EXPECT_EQ(render("{{ 'foo bar baz qux'|truncate(9) }} {{ 'foo bar baz qux'|truncate(11) }}"),
            "foo... foo bar baz qux");
  EXPECT_EQ(render("{{ '%s and %d'|format('a', 3) }} {{ '%5.2f|%-4s|%04d|%x|%r'|format(3.14159, "
                   "'ab', 7, 255, 'q') }}"),
            "a and 3  3.14|ab  |0007|ff|'q'");
  EXPECT_EQ(render("{{ 'abc'|center(9) }}|{{ 'hello world foo'|wordcount }}|{{ 'abc'|reverse }}"),
            "   abc   |3|cba");
  EXPECT_EQ(render("{{ 'Grüße'|upper }} {{ 'ÀÉÎ'|lower }} {{ 'ß'|upper }}"), "GRÜSSE àéî SS");
}

TEST(ChatJinjaFilters, Numbers) {
  EXPECT_EQ(render("{{ 3.7|int }} {{ '42'|int }} {{ '42.9'|int }} {{ 'abc'|int(7) }} {{ "
                   "'0x1A'|int(base=16) }}"),
            "3 42 42 7 26");
  EXPECT_EQ(render("{{ '3.5'|float }} {{ 3|float }} {{ 'x'|float }} {{ -3|abs }}"),
            "3.5 3.0 0.0 3");
  // round() ties to even on the exact binary value, as Python does.
  EXPECT_EQ(render("{{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 3|round }} {{ "
                   "3.14159|round(2, 'floor') }}"),
            "2.0 4.0 2.67 3 3.14");
  expect_error("{{ x|int }}", "UndefinedError");
}

TEST(ChatJinjaFilters, Sequences) {
  EXPECT_EQ(render("{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ [{'n': 2}, {'n': "
                   "1}]|sort(attribute='n') }}"),
            "[1, 2, 3] ['A', 'b', 'c'] [{'n': 1}, {'n': 2}]");
  EXPECT_EQ(render("{{ [1, 2, 2, 3, 1]|unique|list }} {{ ['a', 'A', 'b']|unique|list }}"),
            "[1, 2, 3] ['a', 'b']");
  EXPECT_EQ(
      render("{{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} [{{ []|first }}] {{ {'a': 1}|first }}"),
      "1 3 [] a");
  EXPECT_EQ(
      render("{{ [1, 2, 3]|join(', ') }} {{ [{'a': 'x'}, {'a': 'y'}]|join('-', attribute='a') }}"),
      "1, 2, 3 x-y");
  EXPECT_EQ(render("{{ [{'a': 'x'}, {}]|map(attribute='a', default='d')|list }} {{ ['a', "
                   "'b']|map('upper')|join }}"),
            "['x', 'd'] AB");
  EXPECT_EQ(render("{{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 5, 10]|reject('>', 3)|list }} {{ "
                   "[0, 1, '', 'a']|select|list }}"),
            "[1, 3] [1] [1, 'a']");
  EXPECT_EQ(render("{{ ts|selectattr('type', 'equalto', 'a')|list }} {{ ts|rejectattr('type', "
                   "'==', 'a')|list|length }}",
                   R"({"ts": [{"type": "a"}, {"type": "b"}]})"),
            "[{'type': 'a'}] 1");
  // On a false value (None from tools=None) map and select give nothing rather than failing.
  EXPECT_EQ(render("{{ none|selectattr('x')|list }} {{ none|map(attribute='x')|list }}"), "[] []");
  EXPECT_EQ(render("{{ {'b': 2, 'a': 1}|dictsort }} {{ {'a': 1}|items|list }} {{ x|items|list }}"),
            "[('a', 1), ('b', 2)] [('a', 1)] []");
  EXPECT_EQ(render("{{ [1, 2, 3]|sum }} {{ [3, 1, 2]|max }} {{ [3, 1, 2]|min }} {{ "
                   "[1,2,3]|batch(2, 'x')|list }}"),
            "6 3 1 [[1, 2], [3, 'x']]");
  EXPECT_EQ(render("{{ [1, 2, 3]|reverse|list }} {{ 'abc'|list }} {{ 'héllo'|length }} {{ {'a': "
                   "1}|count }}"),
            "[3, 2, 1] ['a', 'b', 'c'] 5 1");
}

TEST(ChatJinjaFilters, GeneratorsAreNotLists) {
  // map/select return generators: fine to iterate or |list, not JSON and no len().
  expect_error("{{ [1]|map('string')|tojson }}",
               "TypeError: Object of type generator is not JSON serializable");
  expect_error("{{ [1]|select|length }}", "object of type 'generator' has no len()");
  EXPECT_EQ(render("{% set g = [1, 2]|map('string') %}{{ g|list }}{{ g|list }}"), "['1', '2'][]");
}

TEST(ChatJinjaFilters, ToJsonIsJsonDumpsWithoutAsciiEscaping) {
  EXPECT_EQ(render(R"({{ {'b': 1, 'a': [1, 2.5, none, true, 'é"<>&'], 'c': {}}|tojson }})"),
            R"({"b": 1, "a": [1, 2.5, null, true, "é\"<>&"], "c": {}})");
  EXPECT_EQ(render("{{ {'b': 1, 'a': [1, {}]}|tojson(indent=2) }}"),
            "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {}\n  ]\n}");
  EXPECT_EQ(render("{{ {'b': 1, 'a': []}|tojson(indent=4, sort_keys=true) }}"),
            "{\n    \"a\": [],\n    \"b\": 1\n}");
  EXPECT_EQ(render("{{ ['é', '😀']|tojson(ensure_ascii=true) }} {{ {'a': 1}|tojson(separators=(',', "
                   "':')) }}"),
            R"(["\u00e9", "\ud83d\ude00"] {"a":1})");
  EXPECT_EQ(render("{{ (1, 2)|tojson }} {{ 1.0|tojson }} {{ 'a\n\t\x01'|tojson }}"),
            R"([1, 2] 1.0 "a\n\t\u0001")");
  // Request JSON keeps its key order.
  EXPECT_EQ(render("{{ t|tojson }}", R"({"t": {"z": 1, "a": {"y": 2, "b": 3}}})"),
            R"({"z": 1, "a": {"y": 2, "b": 3}})");
  expect_error("{{ x|tojson }}", "Object of type Undefined is not JSON serializable");
}

TEST(ChatJinjaFilters, SafeStringsEscapePlainTextAddedToThem) {
  // markupsafe: Markup + str escapes the str (functionary-v3.1 relies on this).
  EXPECT_EQ(render(R"({{ ('<'|safe) + '<"' }} {{ '<' + ('<'|safe) }} {{ ('<'|safe) ~ '<' }})"),
            "<&lt;&#34; &lt;< <<");
  EXPECT_EQ(render("{{ ('a'|safe + '<')|upper + '<' }} {{ ['<'|safe, '<']|join + '<' }}"),
            "A&LT;&lt; <<<");
  EXPECT_EQ(render("{{ '<a & b>'|e }} {{ '<' is escaped }} {{ '<'|safe is escaped }}"),
            "&lt;a &amp; b&gt; False True");
}

TEST(ChatJinjaFilters, Tests) {
  EXPECT_EQ(render("{{ 1 is odd }} {{ 9 is divisibleby 3 }} {{ true is number }} {{ true is "
                   "integer }} {{ 1.0 is float }}"),
            "True True True False True");
  EXPECT_EQ(render("{{ 'a' is string }} {{ {} is mapping }} {{ 'a' is iterable }} {{ 1 is iterable "
                   "}} {{ none is iterable }}"),
            "True True True False False");
  EXPECT_EQ(render("{{ true is boolean }} {{ 1 is true }} {{ 'abc' is lower }} {{ 'aBc' is upper "
                   "}} {{ 1 is in [1] }}"),
            "True False True False True");
  EXPECT_EQ(render("{{ 'a' is equalto 'a' }} {{ 2 is gt 1 }} {{ 1 is le 0 }} {{ range is callable "
                   "}} {{ 'odd' is test }}"),
            "True True False True True");
  EXPECT_EQ(render("{{ x is not defined }} {{ 1 is not none }} {{ not 1 is none }}"),
            "True True True");
}

TEST(ChatJinjaFilters, StringMethods) {
  EXPECT_EQ(render("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a,b,c'.rsplit(',', 1) }} "
                   "{{ '  a b  c '.split(None, 1) }}"),
            "['a', 'b', '', 'c'] ['a', 'b'] ['a,b', 'c'] ['a', 'b  c ']");
  EXPECT_EQ(render("{{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.endswith('bc') }} [{{ '\n "
                   "x\t'.strip() }}] {{ 'xxaxx'.lstrip('x') }}"),
            "True True [x] axx");
  EXPECT_EQ(render("{{ \"they're bill's 1st\".title() }} {{ 'hELLO'.capitalize() }} {{ "
                   "'aXbXc'.replace('X', '-', 1) }}"),
            "They'Re Bill'S 1St Hello a-bXc");
  EXPECT_EQ(render("{{ 'héllo'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.count('l') }} {{ "
                   "', '.join(['a', 'b']) }}"),
            "2 3 2 a, b");
  EXPECT_EQ(render("{{ '{} and {}'.format(1, 'b') }} {{ '{name}!'.format(name='x') }} {{ "
                   "'{:>5}|{:.2f}|{:05d}|{:,}'.format('a', 3.14159, 42, 1234567) }}"),
            "1 and b x!     a|3.14|00042|1,234,567");
  EXPECT_EQ(render("{{ 'a\nb\r\nc'.splitlines() }} {{ '12'.isdigit() }} {{ ''.isdigit() }} {{ "
                   "'AB'.isupper() }}"),
            "['a', 'b', 'c'] True False True");
  expect_error("{{ 'hello'.index('z') }}", "ValueError: substring not found");
  expect_error("{{ ', '.join([1, 2]) }}", "sequence item 0: expected str instance, int found");
}

TEST(ChatJinjaFilters, DictAndListMethods) {
  EXPECT_EQ(render("{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} {{ d.keys()|list }} "
                   "{{ d.values()|list }}",
                   R"({"d": {"a": 1, "b": 2}})"),
            "1 None dflt ['a', 'b'] [1, 2]");
  EXPECT_EQ(render("{{ [1, 2, 1].count(1) }} {{ [1, 2].index(2) }}"), "2 1");
}

}  // namespace
}  // namespace locara
