// Renders a parsed template: Jinja2's scoping (a scope per loop iteration, macro call, with
// block; `set` inside `if` stays in the enclosing scope), statements, expressions and macros.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tokenizer/chat/jinja_ast.h"
#include "tokenizer/chat/jinja_value.h"

namespace locara::jinja {

// One scope's variables, chained to the enclosing scope. Macros keep the scope they were
// defined in, so they see its variables as they are when called.
struct Frame {
  explicit Frame(std::shared_ptr<Frame> enclosing = nullptr) : parent(std::move(enclosing)) {}
  const Value* find(std::string_view name) const;
  void set(std::string_view name, Value value);

  std::shared_ptr<Frame> parent;
  std::vector<std::pair<std::string, Value>> vars;
};

// Walks the tree for one render. Not thread-safe; make one per render (cheap).
class Interpreter {
 public:
  // Renders `body` with `globals` as the outermost scope (template variables and functions).
  Expected<std::string> render(const Body& body, std::shared_ptr<Frame> globals);

  // Calls a macro defined in `closure`: binds arguments as Jinja2 does and renders the body.
  Expected<Value> call_macro(const MacroNode& macro, const std::shared_ptr<Frame>& closure,
                             CallArgs args);
  // Records a namespace made during the render: it may end up holding itself (or a macro
  // whose scope holds it), and render() empties it at the end so the cycle is freed.
  void track_namespace(const Value& ns) { namespaces_.push_back(ns.dict_handle()); }
  // Counts one unit of work (a loop iteration, a macro call); fails past the render's budget,
  // so a template cannot loop for hours (range() allows 100000 items, loops nest).
  Status count_step();

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  // Enters a child scope of the current one for its lifetime.
  class Scope {
   public:
    explicit Scope(Interpreter* in) : in_(in), saved_(in->frame_) {
      in->frame_ = std::make_shared<Frame>(saved_);
    }
    ~Scope() { in_->frame_ = saved_; }

   private:
    Interpreter* in_;
    std::shared_ptr<Frame> saved_;
  };

  Expected<Flow> exec_body(const Body& body, std::string* out);
  Expected<Flow> exec(const Node& node, std::string* out);
  Expected<Flow> exec_for(const ForNode& node, std::string* out);
  Status exec_call_block(const CallBlockNode& node, std::string* out);
  Status assign(const AssignTarget& target, Value value);
  Status append(std::string_view text, std::string* out);
  Expected<Value> apply_filters(const std::vector<std::unique_ptr<FilterExpr>>& filters,
                                Value value);

  Expected<Value> eval(const Expr& expr);
  Expected<Value> eval_call(const CallExpr& call, const Value* caller);
  Expected<Value> eval_filter(const FilterExpr& filter, Value input);
  Expected<Value> eval_test(const TestExpr& test);
  Expected<Value> eval_compare(const CompareExpr& compare);
  Expected<CallArgs> eval_args(const ArgumentList& list);

  // Scopes that macros closed over: frame -> macro -> frame cycles, broken after the render.
  void release_cycles();

  std::shared_ptr<Frame> frame_;
  int call_depth_ = 0;
  int64_t steps_ = 0;
  std::vector<std::weak_ptr<Frame>> closures_;
  std::vector<std::weak_ptr<Dict>> namespaces_;
};

}  // namespace locara::jinja
