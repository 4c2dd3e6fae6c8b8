// The syntax tree of a parsed template: expressions and statements as Jinja2's parser builds
// them. Immutable once parsed; the interpreter walks it for each render.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/chat/jinja_builtins.h"
#include "tokenizer/chat/jinja_lexer.h"
#include "tokenizer/chat/jinja_value.h"

namespace locara::jinja {

enum class ExprKind {
  kLiteral,
  kName,
  kList,
  kTuple,
  kDict,
  kAttribute,
  kItem,
  kSlice,
  kCall,
  kFilter,
  kTest,
  kUnary,
  kBinary,
  kCompare,
  kConditional,
};

struct Expr {
  Expr(ExprKind k, SourcePos p) : kind(k), pos(p) {}
  virtual ~Expr() = default;
  ExprKind kind;
  SourcePos pos;
};
using ExprPtr = std::unique_ptr<Expr>;

struct LiteralExpr : Expr {
  LiteralExpr(SourcePos p, Value v) : Expr(ExprKind::kLiteral, p), value(std::move(v)) {}
  Value value;
};

struct NameExpr : Expr {
  NameExpr(SourcePos p, std::string n) : Expr(ExprKind::kName, p), name(std::move(n)) {}
  std::string name;
};

struct SequenceExpr : Expr {  // [a, b] (kList) or (a, b) (kTuple)
  using Expr::Expr;
  std::vector<ExprPtr> items;
};

struct DictExpr : Expr {
  explicit DictExpr(SourcePos p) : Expr(ExprKind::kDict, p) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> entries;
};

struct AttributeExpr : Expr {  // object.name
  AttributeExpr(SourcePos p, ExprPtr o, std::string n)
      : Expr(ExprKind::kAttribute, p), object(std::move(o)), name(std::move(n)) {}
  ExprPtr object;
  std::string name;
};

struct ItemExpr : Expr {  // object[index]
  ItemExpr(SourcePos p, ExprPtr o, ExprPtr i)
      : Expr(ExprKind::kItem, p), object(std::move(o)), index(std::move(i)) {}
  ExprPtr object;
  ExprPtr index;
};

struct SliceExpr : Expr {  // object[start:stop:step], each part optional
  SliceExpr(SourcePos p, ExprPtr o) : Expr(ExprKind::kSlice, p), object(std::move(o)) {}
  ExprPtr object;
  ExprPtr start, stop, step;
};

// Arguments as written in a call, filter or test: f(a, b=c, *d, **e).
struct ArgumentList {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star_args;
  ExprPtr star_kwargs;
};

struct CallExpr : Expr {
  CallExpr(SourcePos p, ExprPtr c) : Expr(ExprKind::kCall, p), callee(std::move(c)) {}
  ExprPtr callee;
  ArgumentList args;
};

struct FilterExpr : Expr {  // value|name(args); value is null in {% filter %} and block sets
  FilterExpr(SourcePos p, ExprPtr v, std::string n, FilterFn f)
      : Expr(ExprKind::kFilter, p), value(std::move(v)), name(std::move(n)), filter(f) {}
  ExprPtr value;
  std::string name;
  FilterFn filter;
  ArgumentList args;
};

struct TestExpr : Expr {  // value is [not] name(args)
  TestExpr(SourcePos p, ExprPtr v, std::string n, TestFn t)
      : Expr(ExprKind::kTest, p), value(std::move(v)), name(std::move(n)), test(t) {}
  ExprPtr value;
  std::string name;
  TestFn test;
  ArgumentList args;
  bool negated = false;
};

enum class UnaryOp { kNot, kNegate, kPlus };
struct UnaryExpr : Expr {
  UnaryExpr(SourcePos p, UnaryOp o, ExprPtr e)
      : Expr(ExprKind::kUnary, p), op(o), operand(std::move(e)) {}
  UnaryOp op;
  ExprPtr operand;
};

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kFloorDiv,
  kMod,
  kPow,
  kConcat,  // ~
  kAnd,
  kOr,
};
struct BinaryExpr : Expr {
  BinaryExpr(SourcePos p, BinaryOp o, ExprPtr l, ExprPtr r)
      : Expr(ExprKind::kBinary, p), op(o), left(std::move(l)), right(std::move(r)) {}
  BinaryOp op;
  ExprPtr left, right;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };
struct CompareExpr : Expr {  // a < b <= c, chained as in Python
  CompareExpr(SourcePos p, ExprPtr f) : Expr(ExprKind::kCompare, p), first(std::move(f)) {}
  ExprPtr first;
  std::vector<std::pair<CompareOp, ExprPtr>> rest;
};

struct ConditionalExpr : Expr {  // if_true if test else if_false (if_false optional)
  explicit ConditionalExpr(SourcePos p) : Expr(ExprKind::kConditional, p) {}
  ExprPtr test, if_true, if_false;
};

// ---- statements ----

enum class NodeKind {
  kText,
  kOutput,
  kIf,
  kFor,
  kSet,
  kSetBlock,
  kMacro,
  kCallBlock,
  kFilterBlock,
  kWith,
  kBreak,
  kContinue,
};

struct Node {
  Node(NodeKind k, SourcePos p) : kind(k), pos(p) {}
  virtual ~Node() = default;
  NodeKind kind;
  SourcePos pos;
};
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

// What `set`, `for` and `with` assign to: a name, names to unpack, or namespace.attribute.
struct AssignTarget {
  std::vector<std::string> names;  // one name, or several to unpack a sequence into
  bool unpack = false;             // `a, b` (also `a,`)
  std::string attribute;           // set ns.attribute = ...: names[0] is the namespace
  SourcePos pos;
};

struct TextNode : Node {
  TextNode(SourcePos p, std::string t) : Node(NodeKind::kText, p), text(std::move(t)) {}
  std::string text;
};

struct OutputNode : Node {  // {{ expr }}
  OutputNode(SourcePos p, ExprPtr e) : Node(NodeKind::kOutput, p), expr(std::move(e)) {}
  ExprPtr expr;
};

struct IfNode : Node {
  explicit IfNode(SourcePos p) : Node(NodeKind::kIf, p) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if and each elif
  Body else_body;
};

struct ForNode : Node {
  explicit ForNode(SourcePos p) : Node(NodeKind::kFor, p) {}
  AssignTarget target;
  ExprPtr iterable;
  ExprPtr condition;  // for x in y if condition
  Body body;
  Body else_body;  // runs when nothing was iterated
};

struct SetNode : Node {
  explicit SetNode(SourcePos p) : Node(NodeKind::kSet, p) {}
  AssignTarget target;
  ExprPtr value;
};

struct SetBlockNode : Node {  // {% set x | filters %}body{% endset %}
  explicit SetBlockNode(SourcePos p) : Node(NodeKind::kSetBlock, p) {}
  AssignTarget target;
  std::vector<std::unique_ptr<FilterExpr>> filters;
  Body body;
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required (Undefined when not passed)
};

// A macro definition, also used for the body of a {% call %} block (the caller).
struct MacroNode : Node {
  explicit MacroNode(SourcePos p) : Node(NodeKind::kMacro, p) {}
  std::string name;
  std::vector<MacroParam> params;
  Body body;
  // Whether the body names varargs / kwargs / caller: only then does the macro accept extra
  // positional or keyword arguments, or a caller, as in Jinja2.
  bool uses_varargs = false;
  bool uses_kwargs = false;
  bool uses_caller = false;
};

struct CallBlockNode : Node {  // {% call(params) macro(args) %}body{% endcall %}
  explicit CallBlockNode(SourcePos p) : Node(NodeKind::kCallBlock, p) {}
  std::unique_ptr<CallExpr> call;
  std::unique_ptr<MacroNode> caller;
};

struct FilterBlockNode : Node {  // {% filter a|b %}body{% endfilter %}
  explicit FilterBlockNode(SourcePos p) : Node(NodeKind::kFilterBlock, p) {}
  std::vector<std::unique_ptr<FilterExpr>> filters;
  Body body;
};

struct WithNode : Node {  // {% with a = 1, b = 2 %}body{% endwith %}
  explicit WithNode(SourcePos p) : Node(NodeKind::kWith, p) {}
  std::vector<std::pair<AssignTarget, ExprPtr>> assignments;
  Body body;
};

struct LoopControlNode : Node {  // {% break %} / {% continue %}
  using Node::Node;
};

}  // namespace locara::jinja
