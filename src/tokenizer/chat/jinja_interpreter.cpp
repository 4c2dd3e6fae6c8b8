#include "tokenizer/chat/jinja_interpreter.h"

#include <fmt/format.h>

#include "tokenizer/chat/jinja_builtins.h"
#include "tokenizer/chat/jinja_operators.h"

namespace locara::jinja {
namespace {

constexpr size_t kMaxOutputBytes = kMaxBuiltSize;

// A macro bound to the scope it was defined in.
class MacroCallable : public Callable {
 public:
  MacroCallable(const MacroNode& macro, std::shared_ptr<Frame> closure)
      : macro_(macro), closure_(std::move(closure)) {}
  std::string name() const override { return fmt::format("Macro '{}'", macro_.name); }
  Expected<Value> call(CallArgs args, Interpreter& interpreter) override {
    return interpreter.call_macro(macro_, closure_, std::move(args));
  }

 private:
  const MacroNode& macro_;
  std::shared_ptr<Frame> closure_;
};

// loop.cycle(a, b, ...): the argument at the iteration's index, round robin.
class CycleFunction : public Callable {
 public:
  explicit CycleFunction(int64_t index) : index_(index) {}
  std::string name() const override { return "built-in method cycle"; }
  Expected<Value> call(CallArgs args, Interpreter&) override {
    if (args.positional.empty()) return type_error("no items for cycling given");
    return args.positional[static_cast<size_t>(index_) % args.positional.size()];
  }

 private:
  int64_t index_;
};

// The names of the `loop` object's attributes, made once (shared by every render and thread:
// strings are immutable and their reference counts atomic).
enum class LoopKey {
  kIndex,
  kIndex0,
  kRevindex,
  kRevindex0,
  kFirst,
  kLast,
  kLength,
  kDepth,
  kDepth0,
  kPrevitem,
  kNextitem,
  kCycle,
};
const Value& loop_key(LoopKey key) {
  static const Value kKeys[] = {
      Value::string("index"),     Value::string("index0"),   Value::string("revindex"),
      Value::string("revindex0"), Value::string("first"),    Value::string("last"),
      Value::string("length"),    Value::string("depth"),    Value::string("depth0"),
      Value::string("previtem"),  Value::string("nextitem"), Value::string("cycle"),
  };
  return kKeys[static_cast<int>(key)];
}

Value make_cycle_function(int64_t index) {
  return Value::callable(std::make_shared<CycleFunction>(index));
}

}  // namespace

const Value* Frame::find(std::string_view name) const {
  for (const Frame* frame = this; frame; frame = frame->parent.get()) {
    for (const auto& [key, value] : frame->vars)
      if (key == name) return &value;
  }
  return nullptr;
}

void Frame::set(std::string_view name, Value value) {
  for (auto& [key, existing] : vars) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  vars.emplace_back(std::string(name), std::move(value));
}

// Rendering more than this many loop iterations and macro calls is refused: real templates
// take thousands.
constexpr int64_t kMaxSteps = 1'000'000;

Expected<std::string> Interpreter::render(const Body& body, std::shared_ptr<Frame> globals) {
  frame_ = std::make_shared<Frame>(std::move(globals));  // the template's own top-level scope
  std::string out;
  const auto flow = exec_body(body, &out);
  release_cycles();
  frame_.reset();
  if (!flow) return flow.error();
  return out;
}

void Interpreter::release_cycles() {
  for (const auto& weak : closures_)
    if (auto frame = weak.lock()) frame->vars.clear();
  for (const auto& weak : namespaces_)
    if (auto dict = weak.lock()) *dict = Dict();
  closures_.clear();
  namespaces_.clear();
}

Status Interpreter::count_step() {
  if (++steps_ > kMaxSteps)
    return Error{ErrorCode::kResourceExhausted,
                 fmt::format("TemplateRuntimeError: the template ran more than {} loop "
                             "iterations and macro calls",
                             kMaxSteps)};
  return ok_status();
}

Status Interpreter::append(std::string_view text, std::string* out) {
  if (out->size() + text.size() > kMaxOutputBytes)
    return Error{ErrorCode::kResourceExhausted,
                 fmt::format("MemoryError: rendered text exceeds {} bytes", kMaxOutputBytes)};
  out->append(text);
  return ok_status();
}

Expected<Interpreter::Flow> Interpreter::exec_body(const Body& body, std::string* out) {
  for (const NodePtr& node : body) {
    LOCARA_ASSIGN_OR_RETURN(Flow flow, exec(*node, out));
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Expected<Interpreter::Flow> Interpreter::exec(const Node& node, std::string* out) {
  switch (node.kind) {
    case NodeKind::kText:
      LOCARA_RETURN_IF_ERROR(append(static_cast<const TextNode&>(node).text, out));
      return Flow::kNormal;
    case NodeKind::kOutput: {
      LOCARA_ASSIGN_OR_RETURN(Value value, eval(*static_cast<const OutputNode&>(node).expr));
      LOCARA_RETURN_IF_ERROR(append(to_str(value), out));
      return Flow::kNormal;
    }
    case NodeKind::kIf: {
      const auto& if_node = static_cast<const IfNode&>(node);
      for (const auto& [condition, body] : if_node.branches) {
        LOCARA_ASSIGN_OR_RETURN(Value test, eval(*condition));
        if (test.truthy()) return exec_body(body, out);
      }
      return exec_body(if_node.else_body, out);
    }
    case NodeKind::kFor:
      return exec_for(static_cast<const ForNode&>(node), out);
    case NodeKind::kSet: {
      const auto& set = static_cast<const SetNode&>(node);
      LOCARA_ASSIGN_OR_RETURN(Value value, eval(*set.value));
      LOCARA_RETURN_IF_ERROR(assign(set.target, std::move(value)));
      return Flow::kNormal;
    }
    case NodeKind::kSetBlock: {
      const auto& set = static_cast<const SetBlockNode&>(node);
      std::string text;
      {
        Scope scope(this);
        LOCARA_RETURN_IF_ERROR(exec_body(set.body, &text));
      }
      LOCARA_ASSIGN_OR_RETURN(Value value, apply_filters(set.filters, Value::string(text)));
      LOCARA_RETURN_IF_ERROR(assign(set.target, std::move(value)));
      return Flow::kNormal;
    }
    case NodeKind::kMacro: {
      const auto& macro = static_cast<const MacroNode&>(node);
      frame_->set(macro.name, Value::callable(std::make_shared<MacroCallable>(macro, frame_)));
      closures_.push_back(frame_);
      return Flow::kNormal;
    }
    case NodeKind::kCallBlock:
      LOCARA_RETURN_IF_ERROR(exec_call_block(static_cast<const CallBlockNode&>(node), out));
      return Flow::kNormal;
    case NodeKind::kFilterBlock: {
      const auto& filter = static_cast<const FilterBlockNode&>(node);
      std::string text;
      {
        Scope scope(this);
        LOCARA_RETURN_IF_ERROR(exec_body(filter.body, &text));
      }
      LOCARA_ASSIGN_OR_RETURN(Value value, apply_filters(filter.filters, Value::string(text)));
      LOCARA_RETURN_IF_ERROR(append(to_str(value), out));
      return Flow::kNormal;
    }
    case NodeKind::kWith: {
      const auto& with = static_cast<const WithNode&>(node);
      std::vector<Value> values;  // evaluated in the enclosing scope, then bound
      for (const auto& assignment : with.assignments) {
        LOCARA_ASSIGN_OR_RETURN(Value value, eval(*assignment.second));
        values.push_back(std::move(value));
      }
      Scope scope(this);
      for (size_t i = 0; i < values.size(); ++i)
        LOCARA_RETURN_IF_ERROR(assign(with.assignments[i].first, std::move(values[i])));
      return exec_body(with.body, out);
    }
    case NodeKind::kBreak:
      return Flow::kBreak;
    case NodeKind::kContinue:
      return Flow::kContinue;
  }
  return Flow::kNormal;
}

Expected<Interpreter::Flow> Interpreter::exec_for(const ForNode& node, std::string* out) {
  LOCARA_ASSIGN_OR_RETURN(Value iterable, eval(*node.iterable));
  auto items = iterate(iterable);
  if (!items) return with_position(node.iterable->pos, items.error());
  if (node.condition) {  // `for x in y if c`: filter first, so loop.length counts survivors
    List kept;
    for (Value& item : *items) {
      if (Status step = count_step(); !step) return with_position(node.pos, step.error());
      Scope scope(this);
      LOCARA_RETURN_IF_ERROR(assign(node.target, item));
      LOCARA_ASSIGN_OR_RETURN(Value keep, eval(*node.condition));
      if (keep.truthy()) kept.push_back(std::move(item));
    }
    *items = std::move(kept);
  }
  if (items->empty()) return exec_body(node.else_body, out);  // a break here leaves an outer loop
  const auto count = static_cast<int64_t>(items->size());
  for (int64_t i = 0; i < count; ++i) {
    if (Status step = count_step(); !step) return with_position(node.pos, step.error());
    Scope scope(this);
    Dict loop;
    const auto key = [](LoopKey k) { return loop_key(k); };
    loop.append_new(key(LoopKey::kIndex), Value::integer(i + 1));
    loop.append_new(key(LoopKey::kIndex0), Value::integer(i));
    loop.append_new(key(LoopKey::kRevindex), Value::integer(count - i));
    loop.append_new(key(LoopKey::kRevindex0), Value::integer(count - i - 1));
    loop.append_new(key(LoopKey::kFirst), Value::boolean(i == 0));
    loop.append_new(key(LoopKey::kLast), Value::boolean(i == count - 1));
    loop.append_new(key(LoopKey::kLength), Value::integer(count));
    loop.append_new(key(LoopKey::kDepth), Value::integer(1));
    loop.append_new(key(LoopKey::kDepth0), Value::integer(0));
    if (i > 0) loop.append_new(key(LoopKey::kPrevitem), (*items)[static_cast<size_t>(i - 1)]);
    if (i + 1 < count)
      loop.append_new(key(LoopKey::kNextitem), (*items)[static_cast<size_t>(i + 1)]);
    loop.append_new(key(LoopKey::kCycle), make_cycle_function(i));
    frame_->set("loop", Value::dict(std::move(loop)));
    LOCARA_RETURN_IF_ERROR(assign(node.target, (*items)[static_cast<size_t>(i)]));
    LOCARA_ASSIGN_OR_RETURN(Flow flow, exec_body(node.body, out));
    if (flow == Flow::kBreak) break;
  }
  return Flow::kNormal;
}

Status Interpreter::exec_call_block(const CallBlockNode& node, std::string* out) {
  const Value caller = Value::callable(std::make_shared<MacroCallable>(*node.caller, frame_));
  closures_.push_back(frame_);
  LOCARA_ASSIGN_OR_RETURN(Value result, eval_call(*node.call, &caller));
  return append(to_str(result), out);
}

Status Interpreter::assign(const AssignTarget& target, Value value) {
  if (!target.attribute.empty()) {
    const Value* object = frame_->find(target.names[0]);
    if (!object || !object->is_namespace())
      return error_at(target.pos,
                      "TemplateRuntimeError: cannot assign attribute on "
                      "non-namespace object");
    object->mutable_dict().set(Value::string(target.attribute), std::move(value));
    return ok_status();
  }
  if (!target.unpack) {
    frame_->set(target.names[0], std::move(value));
    return ok_status();
  }
  auto items = iterate(value);
  if (!items) return with_position(target.pos, items.error());
  const size_t expected = target.names.size();
  if (items->size() != expected)
    return with_position(
        target.pos,
        Error{ErrorCode::kInvalidArgument,
              items->size() < expected ? fmt::format("ValueError: not enough values to unpack "
                                                     "(expected {}, got {})",
                                                     expected, items->size())
                                       : fmt::format("ValueError: too many values to unpack "
                                                     "(expected {})",
                                                     expected)});
  for (size_t i = 0; i < expected; ++i) frame_->set(target.names[i], std::move((*items)[i]));
  return ok_status();
}

Expected<Value> Interpreter::apply_filters(const std::vector<std::unique_ptr<FilterExpr>>& filters,
                                           Value value) {
  for (const auto& filter : filters) {
    LOCARA_ASSIGN_OR_RETURN(value, eval_filter(*filter, std::move(value)));
  }
  return value;
}

}  // namespace locara::jinja
