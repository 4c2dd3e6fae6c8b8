// Python's two string formatting languages: "%s and %d" % (a, b) and "{} {name:>8}".format().
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "tokenizer/chat/jinja_builtins.h"
#include "tokenizer/chat/jinja_text.h"

namespace locara::jinja {
namespace {

// A run of decimal digits as a count, saturating well below what could exhaust memory.
size_t count_of(std::string_view digits) {
  size_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') break;
    n = std::min<size_t>(n * 10 + static_cast<size_t>(c - '0'), size_t{1} << 20);
  }
  return n;
}

Error format_error(std::string message) {
  return Error{ErrorCode::kInvalidArgument, "ValueError: " + std::move(message)};
}

std::string pad(std::string text, size_t width, char align, uint32_t fill) {
  const size_t length = code_point_count(text);
  if (length >= width) return text;
  const size_t total = width - length;
  std::string fill_text;
  append_utf8(fill, &fill_text);
  const auto repeat = [&](size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += fill_text;
    return out;
  };
  if (align == '<') return text + repeat(total);
  if (align == '^') return repeat(total / 2) + text + repeat(total - total / 2);
  if (align == '=' && !text.empty() && (text[0] == '-' || text[0] == '+' || text[0] == ' '))
    return text.substr(0, 1) + repeat(total) + text.substr(1);
  return repeat(total) + text;
}

// snprintf with a format built from Python's flags, width, precision and conversion.
std::string c_format(const std::string& spec, long long integer, double real, bool is_real) {
  char buffer[512];
  const int n = is_real ? std::snprintf(buffer, sizeof(buffer), spec.c_str(), real)
                        : std::snprintf(buffer, sizeof(buffer), spec.c_str(), integer);
  if (n < 0) return "";
  return std::string(buffer,
                     static_cast<size_t>(std::min(n, static_cast<int>(sizeof(buffer)) - 1)));
}

}  // namespace

Expected<std::string> percent_format(const std::string& format, const Value& args) {
  const bool mapping = args.is_dict();
  List values;
  if (args.kind() == Kind::kTuple) {
    values = args.items();
  } else if (!mapping) {
    values.push_back(args);
  }
  size_t next_value = 0;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) return format_error("incomplete format");
    std::optional<Value> value;
    if (format[i] == '(') {
      const size_t close = format.find(')', i);
      if (close == std::string::npos) return format_error("incomplete format key");
      if (!mapping) return type_error("format requires a mapping");
      const Value* found =
          args.as_dict().find(std::string_view(format).substr(i + 1, close - i - 1));
      if (!found)
        return Error{ErrorCode::kInvalidArgument,
                     "KeyError: " + format.substr(i + 1, close - i - 1)};
      value = *found;
      i = close + 1;
    }
    std::string flags;
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos)
      flags += format[i++];
    std::string width, precision;
    while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i])))
      width += format[i++];
    if (i < format.size() && format[i] == '.') {
      precision = ".";
      ++i;
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i])))
        precision += format[i++];
    }
    while (i < format.size() && (format[i] == 'h' || format[i] == 'l' || format[i] == 'L')) ++i;
    if (i >= format.size()) return format_error("incomplete format");
    const char conversion = format[i];
    if (conversion == '%') {
      out += '%';
      continue;
    }
    if (!value) {
      if (next_value >= values.size()) return type_error("not enough arguments for format string");
      value = values[next_value++];
    }
    const bool left = flags.find('-') != std::string::npos;
    const size_t width_n = count_of(width);
    switch (conversion) {
      case 's':
      case 'r':
      case 'a': {
        std::string text = conversion == 's' ? to_str(*value) : to_repr(*value);
        if (precision.size() > 1) {
          const std::vector<uint32_t> points = code_points(text);
          text = utf8_from(points, 0, count_of(precision.substr(1)));
        }
        out += pad(std::move(text), width_n, left ? '<' : '>', ' ');
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o':
      case 'c':
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': {
        if (!value->is_number())
          return type_error(fmt::format("%{} format: a real number is required, not {}", conversion,
                                        value->type_name()));
        const bool real = std::string_view("eEfFgG").find(conversion) != std::string_view::npos;
        if (conversion == 'c') {
          if (value->is_float() || value->as_int() < 0 || value->as_int() > 0x10FFFF)
            return Error{ErrorCode::kInvalidArgument,
                         "OverflowError: %c arg not in range(0x110000)"};
          append_utf8(static_cast<uint32_t>(value->as_int()), &out);
          break;
        }
        if (!real && value->is_float() && !(std::fabs(value->as_float()) < 9.2e18))
          return Error{
              ErrorCode::kInvalidArgument,
              fmt::format("OverflowError: cannot convert float {} to integer", to_str(*value))};
        const char c_conversion = conversion == 'i' || conversion == 'u' ? 'd' : conversion;
        const std::string spec =
            "%" + flags + width + precision + (real ? "" : "ll") + c_conversion;
        const long long integer = value->is_float() ? static_cast<long long>(value->as_float())
                                                    : static_cast<long long>(value->as_int());
        out += c_format(spec, integer, value->as_float(), real);
        break;
      }
      default:
        return format_error(fmt::format("unsupported format character '{}'", conversion));
    }
  }
  if (!mapping && next_value < values.size())
    return type_error("not all arguments converted during string formatting");
  return out;
}

// format(value, spec) with Python's mini-language: [[fill]align][sign][#][0][width][,]
// [.precision][type].
Expected<std::string> format_value(const Value& value, std::string_view spec) {
  if (spec.empty()) return to_str(value);
  const std::vector<uint32_t> points = code_points(spec);
  size_t i = 0;
  uint32_t fill = ' ';
  char align = '\0';
  const auto is_align = [](uint32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (points.size() >= 2 && is_align(points[1])) {
    fill = points[0];
    align = static_cast<char>(points[1]);
    i = 2;
  } else if (!points.empty() && is_align(points[0])) {
    align = static_cast<char>(points[0]);
    i = 1;
  }
  std::string flags;
  if (i < points.size() && (points[i] == '+' || points[i] == '-' || points[i] == ' '))
    flags += static_cast<char>(points[i++]);
  if (i < points.size() && points[i] == '#') flags += static_cast<char>(points[i++]);
  if (i < points.size() && points[i] == '0') {
    if (!align) fill = '0', align = '=';
    ++i;
  }
  size_t width = 0;
  while (i < points.size() && points[i] >= '0' && points[i] <= '9')
    width = std::min<size_t>(width * 10 + (points[i++] - '0'), size_t{1} << 20);
  bool grouping = false;
  if (i < points.size() && (points[i] == ',' || points[i] == '_')) grouping = true, ++i;
  std::string precision;
  if (i < points.size() && points[i] == '.') {
    precision = ".";
    for (++i; i < points.size() && points[i] >= '0' && points[i] <= '9'; ++i)
      precision += static_cast<char>(points[i]);
  }
  char type = i < points.size() ? static_cast<char>(points[i++]) : '\0';
  if (i != points.size()) return format_error("Invalid format specifier");
  std::string text;
  if (value.is_string() || (!value.is_number() && type == '\0')) {
    if (type != '\0' && type != 's')
      return format_error(
          fmt::format("Unknown format code '{}' for object of type '{}'", type, value.type_name()));
    text = to_str(value);
    if (precision.size() > 1) text = utf8_from(code_points(text), 0, count_of(precision.substr(1)));
    return pad(std::move(text), width, align ? align : '<', fill);
  }
  if (!value.is_number()) return format_error("Invalid format specifier");
  if (type == '\0' && value.is_bool() && precision.empty()) {
    text = to_str(value);
  } else if (type == '\0' && value.is_float() && precision.empty()) {
    text = python_float_repr(value.as_float());
    if (flags.find('+') != std::string::npos && value.as_float() >= 0)
      text = fmt::format("+{}", text);
  } else if ((type == '\0' && !value.is_float()) || type == 'd' || type == 'x' || type == 'X' ||
             type == 'o' || type == 'b') {
    if (value.is_float()) return format_error("Unknown format code for object of type 'float'");
    if (type == 'b') {
      const int64_t n = value.as_int();
      uint64_t magnitude = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
      std::string bits;
      do bits.insert(bits.begin(), static_cast<char>('0' + (magnitude & 1)));
      while (magnitude >>= 1);
      text = fmt::format("{}{}", value.as_int() < 0 ? "-" : "", bits);
    } else {
      const char c = type == '\0' ? 'd' : type;
      text = c_format("%" + flags + "ll" + c, static_cast<long long>(value.as_int()), 0, false);
    }
  } else {
    const char c = type == '\0' ? 'g' : type == '%' ? 'f' : type;
    const double real = type == '%' ? value.as_float() * 100 : value.as_float();
    text = c_format("%" + flags + (precision.empty() ? ".6" : precision) + c, 0, real, true);
    if (type == '%') text += '%';
  }
  if (grouping) {  // thousands separators in the integer part
    const size_t start = (text[0] == '-' || text[0] == '+') ? 1 : 0;
    size_t end = text.find_first_not_of("0123456789", start);
    if (end == std::string::npos) end = text.size();
    std::string grouped = text.substr(0, start);
    for (size_t pos = start; pos < end; ++pos) {
      if (pos > start && (end - pos) % 3 == 0) grouped += ',';
      grouped += text[pos];
    }
    grouped.append(text, end, std::string::npos);
    text = std::move(grouped);
  }
  return pad(std::move(text), width, align ? align : '>', fill);
}

Expected<std::string> python_format(const std::string& format, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}')
        ++i;
      else
        return format_error("Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = format.find('}', i);
    if (close == std::string::npos) return format_error("Single '{' encountered in format string");
    std::string field = format.substr(i + 1, close - i - 1);
    i = close;
    std::string spec, conversion;
    if (const size_t colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    if (const size_t bang = field.find('!'); bang != std::string::npos) {
      conversion = field.substr(bang + 1);
      field.resize(bang);
    }
    const size_t accessor = field.find_first_of(".[");
    const std::string name = field.substr(0, accessor);
    Value value;
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) {
      const size_t index = name.empty() ? auto_index++ : count_of(name);
      if (index >= args.positional.size())
        return Error{ErrorCode::kInvalidArgument,
                     fmt::format("IndexError: Replacement index {} out of range", index)};
      value = args.positional[index];
    } else {
      const auto it = std::find_if(args.keyword.begin(), args.keyword.end(),
                                   [&](const auto& kw) { return kw.first == name; });
      if (it == args.keyword.end())
        return Error{ErrorCode::kInvalidArgument, fmt::format("KeyError: '{}'", name)};
      value = it->second;
    }
    for (size_t pos = accessor; pos < field.size();) {  // .attribute and [key] parts
      if (field[pos] == '.') {
        const size_t end = field.find_first_of(".[", pos + 1);
        LOCARA_ASSIGN_OR_RETURN(value, get_attribute(value, field.substr(pos + 1, end - pos - 1)));
        pos = end;
      } else {
        const size_t end = field.find(']', pos);
        if (end == std::string::npos) return format_error("Missing ']' in format string");
        const std::string key = field.substr(pos + 1, end - pos - 1);
        const bool numeric =
            !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
        LOCARA_ASSIGN_OR_RETURN(
            value, get_item(value, numeric ? Value::integer(static_cast<int64_t>(count_of(key)))
                                           : Value::string(key)));
        pos = end + 1;
      }
    }
    if (conversion == "r" || conversion == "a")
      value = Value::string(to_repr(value));
    else if (conversion == "s")
      value = Value::string(to_str(value));
    else if (!conversion.empty())
      return format_error("Unknown conversion specifier " + conversion);
    LOCARA_ASSIGN_OR_RETURN(std::string text, format_value(value, spec));
    out += text;
  }
  return out;
}

}  // namespace locara::jinja
