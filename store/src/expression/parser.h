// Recursive-descent parser for DynamoDB expressions.
//
// Grammar (keywords case-insensitive; function names case-sensitive):
//   condition  := or
//   or         := and (OR and)*
//   and        := not (AND not)*
//   not        := NOT not | primary
//   primary    := '(' condition ')' | predicate
//   predicate  := operand comparator operand
//               | operand BETWEEN operand AND operand
//               | operand IN '(' operand (',' operand)* ')'
//               | function-call
//   operand    := path | :value | name '(' operand (',' operand)* ')'
//               | '(' operand ')'
//   path       := (identifier | #name) ('.' (identifier | #name)
//                                       | '[' number ']')*
//   update     := (SET set (',' set)* | REMOVE path (',' path)*
//               |  ADD path :value (',' ...)* | DELETE path :value (',' ...)*)+
//   set        := path '=' value
//   value      := operand | operand '+' operand | operand '-' operand
//               | '(' value ')'
//   projection := path (',' path)*
// Precedence, tightest first: comparators, IN, BETWEEN, functions,
// parentheses, NOT, AND, OR.
//
// The parser reports syntax errors ("Syntax error; token: "x", near: "..."),
// the operator limit and the nesting guard at once; redundant parentheses
// are noted and reported by the caller in DynamoDB's order of problems.
//
// Private to eddy::store.
#ifndef EDDY_STORE_EXPRESSION_PARSER_H_
#define EDDY_STORE_EXPRESSION_PARSER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/result.h"
#include "expression/ast.h"
#include "expression/lexer.h"

namespace eddy::store::expr {

class Parser {
 public:
  // `kind` names the expression in messages ("ConditionExpression", ...).
  // REQUIRES: `text` outlives the parser.
  Parser(std::string_view text, std::string_view kind);

  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Each parses the whole text; call one of them once.
  Result<std::unique_ptr<CondNode>> ParseCondition();
  // `sections` receives the clause keywords ("SET", "REMOVE", ...) in the
  // order written, repeats included.
  Result<std::vector<UpdateAction>> ParseUpdate(
      std::vector<std::string>* sections);
  Result<std::vector<Operand>> ParseProjection();

  // Whether some "((...))" was seen: DynamoDB's "The expression has
  // redundant parentheses;".
  bool redundant_parens() const { return redundant_parens_; }

 private:
  enum class Mode { kCondition, kUpdate, kProjection };

  const Token& Peek(size_t ahead = 0) const;
  const Token& Next();
  bool IsAt(TokenKind kind) const { return Peek().kind == kind; }
  bool IsAtKeyword(std::string_view keyword) const;
  bool IsReservedKeyword(const Token& token) const;
  Status Expect(TokenKind kind);
  Status SyntaxError() const;
  Status CountOperator();
  // Guards recursion through parentheses and function calls (NOT chains
  // are parsed in a loop and bounded by the operator limit).
  Status Enter(bool paren);
  void Leave() { --depth_; }

  // or, and, not: one loop, so that only parentheses recurse.
  Result<std::unique_ptr<CondNode>> ParseBoolean();
  Result<std::unique_ptr<CondNode>> ParsePrimary();
  Result<std::unique_ptr<CondNode>> ParsePredicate();
  // Operands are parsed into caller-owned storage, so that deep nesting
  // costs small stack frames. REQUIRES: *out is default-constructed.
  Status ParseOperand(Operand* out);
  Status ParseFunction(Operand* out);
  Status ParsePath(Operand* out);
  Status ParseSetValue(UpdateAction* action);

  std::string_view text_;
  std::string_view kind_;
  Mode mode_ = Mode::kCondition;
  std::vector<Token> tokens_;
  // For each '(' token, the index of its matching ')' (or npos).
  std::vector<size_t> matching_;
  size_t pos_ = 0;
  int operators_ = 0;
  int depth_ = 0;
  bool redundant_parens_ = false;
};

}  // namespace eddy::store::expr

#endif  // EDDY_STORE_EXPRESSION_PARSER_H_
