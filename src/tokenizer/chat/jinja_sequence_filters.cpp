// Jinja2's filters over sequences: join, map, select/reject(attr), sort, unique, first/last,
// items, dictsort, min/max, sum, batch, list, reverse. Like Jinja2, map, select, reject,
// unique, items and batch return generators (iterable once, no len(), not JSON).
#include <fmt/format.h>

#include <algorithm>

#include "tokenizer/chat/jinja_filter_tables.h"
#include "tokenizer/chat/jinja_operators.h"
#include "tokenizer/chat/jinja_text.h"

namespace locara::jinja {
namespace {

// An attribute path as make_attrgetter reads it: "a.b.0" is a, then b, then index 0.
std::vector<Value> attribute_path(const Value& attribute) {
  std::vector<Value> parts;
  if (attribute.is_none() || attribute.is_undefined()) return parts;
  if (!attribute.is_string()) return {attribute};
  std::string_view rest = attribute.as_string();
  while (true) {
    const size_t dot = rest.find('.');
    const std::string part(rest.substr(0, dot));
    const bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    parts.push_back(digits && part.size() < 18 ? Value::integer(std::stoll(part))
                                               : Value::string(part));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return parts;
}

std::vector<Value> split_on_commas(const std::string& text) {
  std::vector<Value> parts;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
    parts.push_back(Value::string(text.substr(start, comma - start)));
  parts.push_back(Value::string(text.substr(start)));
  return parts;
}

// Looks `path` up in `item` with item access (falling back to attributes), as Jinja2 does.
Expected<Value> lookup(Value item, const std::vector<Value>& path,
                       const Value* fallback = nullptr) {
  for (const Value& part : path) {
    LOCARA_ASSIGN_OR_RETURN(item, get_item(item, part));
    if (fallback && item.is_undefined()) item = *fallback;
  }
  return item;
}

Value ignore_case(const Value& value, bool case_sensitive) {
  if (case_sensitive || !value.is_string()) return value;
  return Value::string(lower(value.as_string()));
}

Expected<Value> filter_list(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("list", args).finish());
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  return Value::list(std::move(items));
}

Expected<Value> filter_first(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("first", args).finish());
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Expected<Value> filter_last(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("last", args).finish());
  if (value.kind() == Kind::kIterator) return type_error("'generator' object is not reversible");
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Expected<Value> filter_reverse(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("reverse", args).finish());
  if (value.is_string()) {
    std::vector<uint32_t> points = code_points(value.as_string());
    std::reverse(points.begin(), points.end());
    return Value::string(utf8_from(points, 0, points.size()), value.is_safe());
  }
  const bool reversible = value.kind() != Kind::kIterator;  // reversed() vs list().reverse()
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  std::reverse(items.begin(), items.end());
  return reversible ? Value::iterator(std::move(items)) : Value::list(std::move(items));
}

Expected<Value> filter_join(Value value, CallArgs& args) {
  ArgReader reader("join", args);
  const std::string separator = to_str(reader.next_or("d", Value::string("")));
  const Value attribute = reader.next_or("attribute", Value::none());
  LOCARA_RETURN_IF_ERROR(reader.finish());
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  const std::vector<Value> path = attribute_path(attribute);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    LOCARA_ASSIGN_OR_RETURN(Value item, lookup(items[i], path));
    if (i) out += separator;
    out += to_str(item);
    if (out.size() > kMaxBuiltSize) return too_large("a joined text");
  }
  return Value::string(std::move(out));
}

// Jinja2's items: (key, value) pairs of a mapping; nothing for Undefined.
Expected<Value> filter_items(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("items", args).finish());
  if (value.is_undefined()) return Value::iterator({});
  if (!value.is_dict()) return type_error("Can only get item pairs from a mapping.");
  List pairs;
  for (const auto& [key, item] : value.as_dict().entries())
    pairs.push_back(Value::tuple({key, item}));
  return Value::iterator(std::move(pairs));
}

// Stable sort by `key_of`, with Python's TypeError when keys do not compare.
Status sort_by_keys(List* items, const std::vector<Value>& keys, bool reverse) {
  std::vector<size_t> order(items->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Status failure;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (!failure) return false;
    auto less = reverse ? less_than(keys[b], keys[a]) : less_than(keys[a], keys[b]);
    if (!less) {
      failure = less.error();
      return false;
    }
    return *less;
  });
  LOCARA_RETURN_IF_ERROR(failure);
  List sorted;
  for (size_t i : order) sorted.push_back(std::move((*items)[i]));
  *items = std::move(sorted);
  return ok_status();
}

Expected<Value> filter_dictsort(Value value, CallArgs& args) {
  ArgReader reader("dictsort", args);
  const bool case_sensitive = reader.next_or("case_sensitive", Value::boolean(false)).truthy();
  const std::string by = to_str(reader.next_or("by", Value::string("key")));
  const bool reverse = reader.next_or("reverse", Value::boolean(false)).truthy();
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (by != "key" && by != "value")
    return Error{ErrorCode::kInvalidArgument,
                 "FilterArgumentError: You can only sort by either \"key\" or \"value\""};
  if (!value.is_dict())
    return type_error(fmt::format("'{}' object has no attribute 'items'", value.type_name()));
  List pairs;
  std::vector<Value> keys;
  for (const auto& [key, item] : value.as_dict().entries()) {
    pairs.push_back(Value::tuple({key, item}));
    keys.push_back(ignore_case(by == "key" ? key : item, case_sensitive));
  }
  LOCARA_RETURN_IF_ERROR(sort_by_keys(&pairs, keys, reverse));
  return Value::list(std::move(pairs));
}

Expected<Value> filter_sort(Value value, CallArgs& args) {
  ArgReader reader("sort", args);
  const bool reverse = reader.next_or("reverse", Value::boolean(false)).truthy();
  const bool case_sensitive = reader.next_or("case_sensitive", Value::boolean(false)).truthy();
  const Value attribute = reader.next_or("attribute", Value::none());
  LOCARA_RETURN_IF_ERROR(reader.finish());
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  // attribute="age,name" sorts by several attributes.
  std::vector<std::vector<Value>> paths;
  if (attribute.is_string()) {
    for (const Value& part : split_on_commas(attribute.as_string()))
      paths.push_back(attribute_path(part));
  } else {
    paths.push_back(attribute_path(attribute));
  }
  std::vector<Value> keys;
  for (const Value& item : items) {
    List key;
    for (const auto& path : paths) {
      LOCARA_ASSIGN_OR_RETURN(Value part, lookup(item, path));
      key.push_back(ignore_case(part, case_sensitive));
    }
    keys.push_back(key.size() == 1 ? key[0] : Value::list(std::move(key)));
  }
  LOCARA_RETURN_IF_ERROR(sort_by_keys(&items, keys, reverse));
  return Value::list(std::move(items));
}

Expected<Value> filter_unique(Value value, CallArgs& args) {
  ArgReader reader("unique", args);
  const bool case_sensitive = reader.next_or("case_sensitive", Value::boolean(false)).truthy();
  const Value attribute = reader.next_or("attribute", Value::none());
  LOCARA_RETURN_IF_ERROR(reader.finish());
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  const std::vector<Value> path = attribute_path(attribute);
  List kept, seen;
  for (Value& item : items) {
    LOCARA_ASSIGN_OR_RETURN(Value key, lookup(item, path));
    key = ignore_case(key, case_sensitive);
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); }))
      continue;
    seen.push_back(std::move(key));
    kept.push_back(std::move(item));
  }
  return Value::iterator(std::move(kept));
}

template <bool want_max>
Expected<Value> filter_min_max(Value value, CallArgs& args) {
  ArgReader reader(want_max ? "max" : "min", args);
  const bool case_sensitive = reader.next_or("case_sensitive", Value::boolean(false)).truthy();
  const Value attribute = reader.next_or("attribute", Value::none());
  LOCARA_RETURN_IF_ERROR(reader.finish());
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  const std::vector<Value> path = attribute_path(attribute);
  size_t best = 0;
  Value best_key;
  for (size_t i = 0; i < items.size(); ++i) {
    LOCARA_ASSIGN_OR_RETURN(Value key, lookup(items[i], path));
    key = ignore_case(key, case_sensitive);
    if (i > 0) {
      LOCARA_ASSIGN_OR_RETURN(bool better,
                              want_max ? less_than(best_key, key) : less_than(key, best_key));
      if (!better) continue;
    }
    best = i;
    best_key = std::move(key);
  }
  return items[best];
}

Expected<Value> filter_sum(Value value, CallArgs& args) {
  ArgReader reader("sum", args);
  const Value attribute = reader.next_or("attribute", Value::none());
  Value total = reader.next_or("start", Value::integer(0));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  const std::vector<Value> path = attribute_path(attribute);
  for (const Value& item : items) {
    LOCARA_ASSIGN_OR_RETURN(Value term, lookup(item, path));
    LOCARA_ASSIGN_OR_RETURN(total, binary_operation(BinaryOp::kAdd, total, term));
  }
  return total;
}

Expected<Value> filter_batch(Value value, CallArgs& args) {
  ArgReader reader("batch", args);
  const Value size = reader.next_or("linecount", Value::none());
  const Value fill = reader.next_or("fill_with", Value::none());
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (!size.is_int() || size.as_int() <= 0) return type_error("batch() needs a positive linecount");
  if (static_cast<uint64_t>(size.as_int()) > kMaxBuiltItems) return too_large("a batch");
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  const auto n = static_cast<size_t>(size.as_int());
  List batches;
  for (size_t i = 0; i < items.size(); i += n) {
    List batch(items.begin() + static_cast<std::ptrdiff_t>(i),
               items.begin() + static_cast<std::ptrdiff_t>(std::min(i + n, items.size())));
    while (!fill.is_none() && batch.size() < n) batch.push_back(fill);
    batches.push_back(Value::list(std::move(batch)));
  }
  return Value::iterator(std::move(batches));
}

// map(attribute='x', default=...) or map('filter', args...).
Expected<Value> filter_map(Value value, CallArgs& args) {
  if (!value.truthy()) return Value::iterator({});
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  List out;
  if (args.positional.empty()) {
    std::optional<Value> attribute, fallback;
    for (auto& [key, item] : args.keyword) {
      if (key == "attribute")
        attribute = item;
      else if (key == "default")
        fallback = item;
      else
        return type_error(fmt::format("map() got an unexpected keyword argument '{}'", key));
    }
    if (!attribute)
      return Error{ErrorCode::kInvalidArgument,
                   "FilterArgumentError: map requires a filter argument"};
    const std::vector<Value> path = attribute_path(*attribute);
    for (const Value& item : items) {
      LOCARA_ASSIGN_OR_RETURN(Value mapped, lookup(item, path, fallback ? &*fallback : nullptr));
      out.push_back(std::move(mapped));
    }
    return Value::iterator(std::move(out));
  }
  const std::string name = to_str(args.positional[0]);
  const FilterFn filter = find_filter(name);
  if (!filter)
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("TemplateRuntimeError: no filter named '{}'", name)};
  for (const Value& item : items) {
    CallArgs filter_args{List(args.positional.begin() + 1, args.positional.end()), args.keyword};
    LOCARA_ASSIGN_OR_RETURN(Value mapped, filter(item, filter_args));
    out.push_back(std::move(mapped));
  }
  return Value::iterator(std::move(out));
}

// select / reject (lookup_attribute false) and selectattr / rejectattr (true).
template <bool keep_matches, bool lookup_attribute>
Expected<Value> filter_select(Value value, CallArgs& args) {
  if (!value.truthy()) return Value::iterator({});
  LOCARA_ASSIGN_OR_RETURN(List items, iterate(value));
  size_t next = 0;
  std::vector<Value> path;
  if (lookup_attribute) {
    if (args.positional.empty())
      return Error{ErrorCode::kInvalidArgument,
                   "FilterArgumentError: Missing parameter for attribute name"};
    path = attribute_path(args.positional[next++]);
  }
  TestFn test = nullptr;
  if (next < args.positional.size()) {
    const std::string name = to_str(args.positional[next++]);
    test = find_test(name);
    if (!test)
      return Error{ErrorCode::kInvalidArgument,
                   fmt::format("TemplateRuntimeError: no test named '{}'", name)};
  }
  List out;
  for (Value& item : items) {
    LOCARA_ASSIGN_OR_RETURN(Value subject, lookup(item, path));
    bool matches = subject.truthy();
    if (test) {
      CallArgs test_args{
          List(args.positional.begin() + static_cast<std::ptrdiff_t>(next), args.positional.end()),
          args.keyword};
      LOCARA_ASSIGN_OR_RETURN(matches, test(subject, test_args));
    }
    if (matches == keep_matches) out.push_back(std::move(item));
  }
  return Value::iterator(std::move(out));
}

constexpr NamedFilter kSequenceFilters[] = {
    {"batch", filter_batch},
    {"dictsort", filter_dictsort},
    {"first", filter_first},
    {"items", filter_items},
    {"join", filter_join},
    {"last", filter_last},
    {"list", filter_list},
    {"map", filter_map},
    {"max", filter_min_max<true>},
    {"min", filter_min_max<false>},
    {"reject", filter_select<false, false>},
    {"rejectattr", filter_select<false, true>},
    {"reverse", filter_reverse},
    {"select", filter_select<true, false>},
    {"selectattr", filter_select<true, true>},
    {"sort", filter_sort},
    {"sum", filter_sum},
    {"unique", filter_unique},
};

}  // namespace

std::span<const NamedFilter> sequence_filters() {
  return kSequenceFilters;
}

}  // namespace locara::jinja
