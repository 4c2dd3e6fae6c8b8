#include "tokenizer/chat/jinja_lexer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "tokenizer/chat/jinja_text.h"

namespace locara::jinja {

Error error_at(SourcePos pos, std::string_view message) {
  return Error{ErrorCode::kInvalidArgument,
               fmt::format("line {}, column {}: {}", pos.line, pos.column, message)};
}

Error with_position(SourcePos pos, const Error& error) {
  const std::string& m = error.message;
  if (m.rfind("line ", 0) == 0 && m.size() > 5 && std::isdigit(static_cast<unsigned char>(m[5])))
    return error;
  Error placed = error_at(pos, m);
  placed.code = error.code;
  return placed;
}

namespace {

bool starts_with(std::string_view text, size_t pos, std::string_view prefix) {
  return text.compare(pos, prefix.size(), prefix) == 0;
}

// Jinja2 reads the source line by line: every \r\n or \r becomes \n, and one trailing
// newline is dropped (keep_trailing_newline is off).
std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Python's \s (Unicode whitespace) at text[pos]; sets *length to the bytes of the character.
bool space_at(std::string_view text, size_t pos, size_t* length) {
  size_t next = pos;
  const uint32_t c = next_code_point(text, &next);
  *length = next - pos;
  return is_python_space(c);
}

size_t skip_spaces(std::string_view text, size_t pos) {
  size_t length = 0;
  while (pos < text.size() && space_at(text, pos, &length)) pos += length;
  return pos;
}

bool all_spaces(std::string_view text) {
  return !text.empty() && skip_spaces(text, 0) == text.size();
}

std::string rstrip_spaces(std::string_view text) {
  return strip(text, "", /*left=*/false, /*right=*/true);
}

bool is_name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80);
}
bool is_name_char(char c) {
  return is_name_start(c) || std::isdigit(static_cast<unsigned char>(c));
}
bool is_digit_char(char c) {
  return c >= '0' && c <= '9';
}

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(std::move(source)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  Expected<std::vector<Token>> run() {
    while (pos_ < src_.size()) {
      const size_t tag = find_tag(pos_);
      if (tag == std::string::npos) {
        push_text(pos_, src_.substr(pos_));
        break;
      }
      const char kind = src_[tag + 1];
      const char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      const bool has_sign = sign == '-' || sign == '+';
      std::string text = src_.substr(pos_, tag - pos_);
      apply_left_strip(&text, has_sign ? sign : '\0', kind != '{');
      push_text(pos_, std::move(text));
      line_starting_ = false;
      const size_t inner = tag + 2 + (has_sign ? 1 : 0);
      Status status;
      if (kind == '#') {
        status = lex_comment(tag, inner);
      } else if (size_t raw_end = 0; kind == '%' && match_raw_begin(inner, &raw_end)) {
        status = lex_raw(raw_end);
      } else {
        status = lex_tag(tag, inner, kind == '%');
      }
      if (!status) return status.error();
    }
    tokens_.push_back(Token{TokenType::kEnd, "", 0, 0.0, position(src_.size())});
    return std::move(tokens_);
  }

 private:
  SourcePos position(size_t offset) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line_start = *(it - 1);
    const std::string_view line(src_.data() + line_start, offset - line_start);
    return SourcePos{static_cast<int>(it - line_starts_.begin()),
                     static_cast<int>(code_point_count(line)) + 1};
  }

  Error fail(size_t offset, std::string_view message) const {
    return error_at(position(offset), fmt::format("TemplateSyntaxError: {}", message));
  }

  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
        return i;
    }
    return std::string::npos;
  }

  // `{%-` strips all whitespace before the tag; otherwise lstrip_blocks removes the spaces
  // between the start of a line and a block or comment tag.
  void apply_left_strip(std::string* text, char sign, bool is_block_or_comment) const {
    if (sign == '-') {
      *text = rstrip_spaces(*text);
    } else if (sign != '+' && is_block_or_comment) {
      const size_t newline = text->rfind('\n');
      const size_t line_pos = newline == std::string::npos ? 0 : newline + 1;
      if ((line_pos > 0 || line_starting_) && all_spaces(std::string_view(*text).substr(line_pos)))
        text->resize(line_pos);
    }
  }

  void push_text(size_t offset, std::string text) {
    if (text.empty()) return;
    tokens_.push_back(Token{TokenType::kText, std::move(text), 0, 0.0, position(offset)});
  }
  void push(TokenType type, size_t offset, std::string text = {}) {
    tokens_.push_back(Token{type, std::move(text), 0, 0.0, position(offset)});
  }

  // After `%}` trim_blocks drops one newline; after `-%}` all whitespace goes.
  size_t consume_block_end(size_t end, char sign) {
    if (sign == '-') return skip_spaces(src_, end);
    if (sign == '+') return end;
    return end < src_.size() && src_[end] == '\n' ? end + 1 : end;
  }

  Status lex_comment(size_t tag, size_t i) {
    for (; i < src_.size(); ++i) {
      char sign = '\0';
      if (starts_with(src_, i, "+#}") || starts_with(src_, i, "-#}")) {
        sign = src_[i++];
      } else if (!starts_with(src_, i, "#}")) {
        continue;
      }
      pos_ = consume_block_end(i + 2, sign);
      line_starting_ = src_[pos_ - 1] == '\n';
      return ok_status();
    }
    return fail(tag, "missing end of comment tag");
  }

  // `{% raw %}`: the sign, whitespace, "raw", whitespace, then `-%}` (eating whitespace) or
  // `%}`. Jinja2 applies no trim_blocks after it.
  bool match_raw_begin(size_t i, size_t* end) const {
    i = skip_spaces(src_, i);
    if (!starts_with(src_, i, "raw")) return false;
    i = skip_spaces(src_, i + 3);
    if (starts_with(src_, i, "-%}")) {
      *end = skip_spaces(src_, i + 3);
      return true;
    }
    if (starts_with(src_, i, "%}")) {
      *end = i + 2;
      return true;
    }
    return false;
  }

  Status lex_raw(size_t body) {
    line_starting_ = src_[body - 1] == '\n';
    for (size_t tag = find_tag(body); tag != std::string::npos; tag = find_tag(tag + 1)) {
      if (src_[tag + 1] != '%') continue;
      size_t i = tag + 2;
      const char sign = (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) ? src_[i++] : 0;
      i = skip_spaces(src_, i);
      if (!starts_with(src_, i, "endraw")) continue;
      i = skip_spaces(src_, i + 6);
      char end_sign = '\0';
      if (starts_with(src_, i, "+%}") || starts_with(src_, i, "-%}")) {
        end_sign = src_[i++];
      } else if (!starts_with(src_, i, "%}")) {
        continue;
      }
      std::string text = src_.substr(body, tag - body);
      apply_left_strip(&text, sign, true);
      push_text(body, std::move(text));
      pos_ = consume_block_end(i + 2, end_sign);
      line_starting_ = src_[pos_ - 1] == '\n';
      return ok_status();
    }
    return fail(body, "missing end of raw directive");
  }

  Status lex_tag(size_t tag, size_t i, bool is_block) {
    push(is_block ? TokenType::kBlockBegin : TokenType::kVariableBegin, tag);
    std::string balance;  // closing brackets still expected
    while (true) {
      if (i >= src_.size())
        return fail(tag, is_block ? "unexpected end of template, expected '%}'"
                                  : "unexpected end of template, expected '}}'");
      if (balance.empty()) {
        const std::string_view end = is_block ? "%}" : "}}";
        char sign = '\0';
        if (starts_with(src_, i, "-") && starts_with(src_, i + 1, end)) {
          sign = '-';
        } else if (is_block && starts_with(src_, i, "+") && starts_with(src_, i + 1, end)) {
          sign = '+';
        }
        if (sign || starts_with(src_, i, end)) {
          const size_t end_at = i + (sign ? 1 : 0);
          push(is_block ? TokenType::kBlockEnd : TokenType::kVariableEnd, end_at);
          pos_ = is_block ? consume_block_end(end_at + 2, sign)
                          : (sign == '-' ? skip_spaces(src_, end_at + 2) : end_at + 2);
          line_starting_ = src_[pos_ - 1] == '\n';
          return ok_status();
        }
      }
      size_t space = 0;
      if (space_at(src_, i, &space)) {
        i += space;
        continue;
      }
      auto next = lex_expression_token(i, &balance);
      if (!next) return next.error();
      i = *next;
    }
  }

  Expected<size_t> lex_expression_token(size_t i, std::string* balance) {
    const char c = src_[i];
    if (is_digit_char(c)) return lex_number(i);
    if (is_name_start(c)) {
      size_t end = i;
      while (end < src_.size() && is_name_char(src_[end])) ++end;
      push(TokenType::kName, i, src_.substr(i, end - i));
      return end;
    }
    if (c == '\'' || c == '"') return lex_string(i);
    static constexpr std::string_view kTwoChar[] = {"//", "**", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwoChar) {
      if (starts_with(src_, i, op)) {
        push(TokenType::kOperator, i, std::string(op));
        return i + 2;
      }
    }
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos)
      return fail(i, fmt::format("unexpected char '{}'", c));
    if (c == '(' || c == '[' || c == '{') {
      balance->push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance->empty()) return fail(i, fmt::format("unexpected '{}'", c));
      if (balance->back() != c)
        return fail(i, fmt::format("unexpected '{}', expected '{}'", c, balance->back()));
      balance->pop_back();
    }
    push(TokenType::kOperator, i, std::string(1, c));
    return i + 1;
  }

  // Integers (decimal, 0x, 0o, 0b, with _ separators) and floats (1.5, 1e3, 2.5e-3). A
  // number right after a '.' is an integer (x.0.1 is two item lookups).
  Expected<size_t> lex_number(size_t i) {
    const auto digits = [&](size_t j) {
      while (j < src_.size() && (is_digit_char(src_[j]) || src_[j] == '_')) ++j;
      return j;
    };
    std::string text;
    size_t end = digits(i);
    if (src_[i] == '0' && end == i + 1 && end < src_.size() &&
        std::string_view("xXoObB").find(src_[end]) != std::string_view::npos) {
      const int base = std::tolower(src_[end]) == 'x' ? 16 : std::tolower(src_[end]) == 'o' ? 8 : 2;
      size_t j = end + 1;
      while (j < src_.size() &&
             (std::isxdigit(static_cast<unsigned char>(src_[j])) || src_[j] == '_'))
        if (src_[j++] != '_') text += src_[j - 1];
      push(TokenType::kInteger, i);
      tokens_.back().integer = std::strtoll(text.c_str(), nullptr, base);
      return j;
    }
    const bool after_dot = i > 0 && src_[i - 1] == '.';
    bool is_float = false;
    if (!after_dot && end + 1 < src_.size() && src_[end] == '.' && is_digit_char(src_[end + 1])) {
      end = digits(end + 1);
      is_float = true;
    }
    if (!after_dot && end < src_.size() && (src_[end] == 'e' || src_[end] == 'E')) {
      size_t j = end + 1;
      if (j < src_.size() && (src_[j] == '+' || src_[j] == '-')) ++j;
      if (j < src_.size() && is_digit_char(src_[j])) {
        end = digits(j);
        is_float = true;
      }
    }
    for (size_t j = i; j < end; ++j)
      if (src_[j] != '_') text += src_[j];
    push(is_float ? TokenType::kFloat : TokenType::kInteger, i);
    if (is_float) {
      tokens_.back().real = std::strtod(text.c_str(), nullptr);
    } else {
      errno = 0;
      tokens_.back().integer = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) return fail(i, "integer literal out of range");
    }
    return end;
  }

  Expected<size_t> lex_string(size_t start) {
    const char quote = src_[start];
    std::string value;
    for (size_t i = start + 1; i < src_.size(); ++i) {
      const char c = src_[i];
      if (c == quote) {
        push(TokenType::kString, start, std::move(value));
        return i + 1;
      }
      if (c != '\\') {
        value += c;
        continue;
      }
      if (++i >= src_.size()) break;
      auto escaped = unescape(i, &value);
      if (!escaped) return escaped.error();
      i = *escaped;
    }
    return fail(start, "unterminated string");
  }

  // Python's escapes in a string literal, src_[i] being the character after the backslash;
  // returns the index of the last character consumed.
  Expected<size_t> unescape(size_t i, std::string* out) {
    const char c = src_[i];
    switch (c) {
      case '\n':
        return i;  // line continuation
      case '\\':
        *out += '\\';
        return i;
      case '\'':
        *out += '\'';
        return i;
      case '"':
        *out += '"';
        return i;
      case 'a':
        *out += '\a';
        return i;
      case 'b':
        *out += '\b';
        return i;
      case 'f':
        *out += '\f';
        return i;
      case 'n':
        *out += '\n';
        return i;
      case 'r':
        *out += '\r';
        return i;
      case 't':
        *out += '\t';
        return i;
      case 'v':
        *out += '\v';
        return i;
      default:
        break;
    }
    if (c >= '0' && c <= '7') {
      uint32_t point = 0;
      size_t j = i;
      for (; j < i + 3 && j < src_.size() && src_[j] >= '0' && src_[j] <= '7'; ++j)
        point = point * 8 + static_cast<uint32_t>(src_[j] - '0');
      append_utf8(point, out);
      return j - 1;
    }
    if (c == 'N') return fail(i - 1, "named Unicode escapes (\\N{...}) are not supported");
    const size_t hex_digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (hex_digits == 0) {  // unknown escapes stay as written
      *out += '\\';
      *out += c;
      return i;
    }
    uint32_t point = 0;
    for (size_t j = i + 1; j <= i + hex_digits; ++j) {
      if (j >= src_.size() || !std::isxdigit(static_cast<unsigned char>(src_[j])))
        return fail(i - 1, fmt::format("truncated \\{} escape", c));
      const char h = static_cast<char>(std::tolower(static_cast<unsigned char>(src_[j])));
      point = point * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : h - 'a' + 10);
    }
    if (point > 0x10FFFF) return fail(i - 1, "illegal Unicode character in escape");
    append_utf8(point, out);
    return i + hex_digits;
  }

  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  bool line_starting_ = true;
};

}  // namespace

Expected<std::vector<Token>> tokenize(std::string_view source) {
  return Lexer(normalize_newlines(source)).run();
}

}  // namespace locara::jinja
