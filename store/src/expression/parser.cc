// Recursive-descent parser for DynamoDB expressions; see parser.h.

#include "expression/parser.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "expression/common.h"

namespace eddy::store::expr {

namespace {

constexpr size_t kNoMatch = static_cast<size_t>(-1);

bool IsComparator(TokenKind kind) {
  switch (kind) {
    case TokenKind::kEq:
    case TokenKind::kNe:
    case TokenKind::kLt:
    case TokenKind::kLe:
    case TokenKind::kGt:
    case TokenKind::kGe:
      return true;
    default:
      return false;
  }
}

CompareOp ToCompareOp(TokenKind kind) {
  switch (kind) {
    case TokenKind::kNe:
      return CompareOp::kNe;
    case TokenKind::kLt:
      return CompareOp::kLt;
    case TokenKind::kLe:
      return CompareOp::kLe;
    case TokenKind::kGt:
      return CompareOp::kGt;
    case TokenKind::kGe:
      return CompareOp::kGe;
    default:
      return CompareOp::kEq;
  }
}

// Parses list-index digits, saturating just past the largest valid index so
// that absurd indexes are reported rather than wrapped.
uint64_t ParseIndex(std::string_view digits) {
  uint64_t value = 0;
  for (char c : digits) {
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > kMaxListIndex) return kMaxListIndex + 1;
  }
  return value;
}

}  // namespace

Parser::Parser(std::string_view text, std::string_view kind)
    : text_(text), kind_(kind), tokens_(Tokenize(text)) {
  matching_.assign(tokens_.size(), kNoMatch);
  std::vector<size_t> open;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i].kind == TokenKind::kLParen) {
      open.push_back(i);
    } else if (tokens_[i].kind == TokenKind::kRParen && !open.empty()) {
      matching_[open.back()] = i;
      open.pop_back();
    }
  }
}

const Token& Parser::Peek(size_t ahead) const {
  size_t index = pos_ + ahead;
  if (index >= tokens_.size()) return tokens_.back();
  return tokens_[index];
}

const Token& Parser::Next() {
  const Token& token = tokens_[pos_];
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return token;
}

bool Parser::IsAtKeyword(std::string_view keyword) const {
  return IsKeyword(Peek(), keyword);
}

bool Parser::IsReservedKeyword(const Token& token) const {
  switch (mode_) {
    case Mode::kCondition:
      return IsKeyword(token, "AND") || IsKeyword(token, "OR") ||
             IsKeyword(token, "NOT") || IsKeyword(token, "BETWEEN") ||
             IsKeyword(token, "IN");
    case Mode::kUpdate:
      return IsKeyword(token, "SET") || IsKeyword(token, "REMOVE") ||
             IsKeyword(token, "ADD") || IsKeyword(token, "DELETE");
    case Mode::kProjection:
      return false;
  }
  return false;
}

Status Parser::Expect(TokenKind kind) {
  if (!IsAt(kind)) return SyntaxError();
  Next();
  return Status::OK();
}

// DynamoDB quotes the offending token and the text from the token before it
// to the token after it, e.g. token: "0", near: ", 0)".
Status Parser::SyntaxError() const {
  const Token& token = tokens_[pos_];
  size_t start = pos_ > 0 ? tokens_[pos_ - 1].start : token.start;
  size_t end = token.end;
  if (token.kind == TokenKind::kEof) {
    end = text_.size();
  } else if (pos_ + 1 < tokens_.size() &&
             tokens_[pos_ + 1].kind != TokenKind::kEof) {
    end = tokens_[pos_ + 1].end;
  }
  std::string message = "Syntax error; token: \"";
  message += token.text;
  message += "\", near: \"";
  message += text_.substr(start, end - start);
  message += '"';
  return InvalidExpression(kind_, message);
}

Status Parser::CountOperator() {
  if (++operators_ > kMaxOperators) {
    return InvalidExpression(
        kind_, "The expression contains too many operators; operator count: " +
                   std::to_string(operators_));
  }
  return Status::OK();
}

Status Parser::Enter(bool paren) {
  if (++depth_ <= kMaxNestingDepth) return Status::OK();
  // Within 4 KB and 300 operators, only redundant parentheses can nest this
  // deep, so that is what DynamoDB reports for them.
  if (paren) {
    return InvalidExpression(kind_,
                             "The expression has redundant parentheses;");
  }
  return InvalidExpression(
      kind_, "The expression has too many nesting levels; nesting levels: " +
                 std::to_string(depth_));
}

Result<std::unique_ptr<CondNode>> Parser::ParseCondition() {
  mode_ = Mode::kCondition;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<CondNode> root, ParseBoolean());
  if (!IsAt(TokenKind::kEof)) return SyntaxError();
  return root;
}

namespace {

std::unique_ptr<CondNode> MakeNode(CondNode::Kind kind,
                                   std::unique_ptr<CondNode> left,
                                   std::unique_ptr<CondNode> right) {
  auto node = std::make_unique<CondNode>();
  node->kind = kind;
  node->left = std::move(left);
  node->right = std::move(right);
  return node;
}

}  // namespace

// or := and (OR and)*; and := not (AND not)*; not := NOT* primary.
// Left-associative; NOT binds tighter than AND, AND tighter than OR.
Result<std::unique_ptr<CondNode>> Parser::ParseBoolean() {
  std::unique_ptr<CondNode> disjunction;  // The ORs so far.
  std::unique_ptr<CondNode> conjunction;  // The ANDs since the last OR.
  while (true) {
    int nots = 0;
    while (IsAtKeyword("NOT")) {
      EDDY_RETURN_IF_ERROR(CountOperator());
      Next();
      ++nots;
    }
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<CondNode> term, ParsePrimary());
    for (; nots > 0; --nots) {
      term = MakeNode(CondNode::Kind::kNot, std::move(term), nullptr);
    }
    conjunction = conjunction
                      ? MakeNode(CondNode::Kind::kAnd, std::move(conjunction),
                                 std::move(term))
                      : std::move(term);
    if (IsAtKeyword("AND")) {
      EDDY_RETURN_IF_ERROR(CountOperator());
      Next();
      continue;
    }
    disjunction = disjunction
                      ? MakeNode(CondNode::Kind::kOr, std::move(disjunction),
                                 std::move(conjunction))
                      : std::move(conjunction);
    if (!IsAtKeyword("OR")) return disjunction;
    EDDY_RETURN_IF_ERROR(CountOperator());
    Next();
  }
}

Result<std::unique_ptr<CondNode>> Parser::ParsePrimary() {
  if (!IsAt(TokenKind::kLParen)) return ParsePredicate();
  // "(" opens either a parenthesized condition or a parenthesized operand,
  // as in "(a) < b": the token after the matching ")" tells which.
  size_t close = matching_[pos_];
  if (close != kNoMatch && close + 1 < tokens_.size()) {
    const Token& after = tokens_[close + 1];
    if (IsComparator(after.kind) || IsKeyword(after, "BETWEEN") ||
        IsKeyword(after, "IN")) {
      return ParsePredicate();
    }
  }
  EDDY_RETURN_IF_ERROR(Enter(/*paren=*/true));
  Next();
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<CondNode> inner, ParseBoolean());
  EDDY_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  Leave();
  if (inner->parenthesized) redundant_parens_ = true;
  inner->parenthesized = true;
  return inner;
}

Result<std::unique_ptr<CondNode>> Parser::ParsePredicate() {
  auto node = std::make_unique<CondNode>();
  auto next_operand = [&]() -> Status {
    node->operands.emplace_back();
    return ParseOperand(&node->operands.back());
  };
  EDDY_RETURN_IF_ERROR(next_operand());
  const Token& token = Peek();
  if (IsComparator(token.kind)) {
    EDDY_RETURN_IF_ERROR(CountOperator());
    node->kind = CondNode::Kind::kCompare;
    node->op = ToCompareOp(token.kind);
    Next();
    EDDY_RETURN_IF_ERROR(next_operand());
    return node;
  }
  if (IsKeyword(token, "BETWEEN")) {
    EDDY_RETURN_IF_ERROR(CountOperator());
    node->kind = CondNode::Kind::kBetween;
    Next();
    EDDY_RETURN_IF_ERROR(next_operand());
    if (!IsAtKeyword("AND")) return SyntaxError();
    Next();
    EDDY_RETURN_IF_ERROR(next_operand());
    return node;
  }
  if (IsKeyword(token, "IN")) {
    EDDY_RETURN_IF_ERROR(CountOperator());
    node->kind = CondNode::Kind::kIn;
    Next();
    EDDY_RETURN_IF_ERROR(Expect(TokenKind::kLParen));
    while (true) {
      EDDY_RETURN_IF_ERROR(next_operand());
      if (!IsAt(TokenKind::kComma)) break;
      Next();
    }
    EDDY_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
    return node;
  }
  if (node->operands[0].kind == Operand::Kind::kFunction) {
    node->kind = CondNode::Kind::kFunction;
    return node;
  }
  return SyntaxError();
}

Status Parser::ParseOperand(Operand* out) {
  const Token& token = Peek();
  switch (token.kind) {
    case TokenKind::kValue:
      out->kind = Operand::Kind::kValue;
      out->token = std::string(token.text);
      Next();
      return Status::OK();
    case TokenKind::kLParen:
      EDDY_RETURN_IF_ERROR(Enter(/*paren=*/true));
      Next();
      EDDY_RETURN_IF_ERROR(ParseOperand(out));
      EDDY_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
      Leave();
      if (out->parenthesized) redundant_parens_ = true;
      out->parenthesized = true;
      return Status::OK();
    case TokenKind::kIdentifier:
      if (IsReservedKeyword(token)) return SyntaxError();
      if (Peek(1).kind == TokenKind::kLParen) return ParseFunction(out);
      return ParsePath(out);
    case TokenKind::kName:
      return ParsePath(out);
    default:
      return SyntaxError();
  }
}

Status Parser::ParseFunction(Operand* out) {
  out->kind = Operand::Kind::kFunction;
  out->token = std::string(Next().text);
  Next();  // '('
  Status entered = Enter(/*paren=*/false);
  if (!entered.ok()) {
    // Only unknown functions nest this deep within the limits ("f(f(f(...");
    // report them as DynamoDB does.
    static constexpr std::string_view kKnown[] = {
        "attribute_exists", "attribute_not_exists",
        "attribute_type",   "begins_with",
        "contains",         "size",
        "if_not_exists",    "list_append"};
    if (std::find(std::begin(kKnown), std::end(kKnown), out->token) ==
        std::end(kKnown)) {
      return InvalidExpression(
          kind_, "Invalid function name; function: " + out->token);
    }
    return entered;
  }
  // DynamoDB counts functions among an update's operators, but not a
  // condition's.
  if (mode_ == Mode::kUpdate) EDDY_RETURN_IF_ERROR(CountOperator());
  while (true) {
    out->args.emplace_back();
    EDDY_RETURN_IF_ERROR(ParseOperand(&out->args.back()));
    if (!IsAt(TokenKind::kComma)) break;
    Next();
  }
  EDDY_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  Leave();
  return Status::OK();
}

Status Parser::ParsePath(Operand* out) {
  out->kind = Operand::Kind::kPath;
  auto add_name_step = [&](const Token& token) -> Status {
    PathStep step;
    if (token.kind == TokenKind::kName) {
      step.kind = PathStep::Kind::kNameRef;
    } else if (token.kind == TokenKind::kIdentifier &&
               !IsReservedKeyword(token)) {
      step.kind = PathStep::Kind::kIdentifier;
    } else {
      return SyntaxError();
    }
    step.text = std::string(token.text);
    out->steps.push_back(std::move(step));
    Next();
    return Status::OK();
  };
  EDDY_RETURN_IF_ERROR(add_name_step(Peek()));
  while (true) {
    if (IsAt(TokenKind::kDot)) {
      Next();
      EDDY_RETURN_IF_ERROR(add_name_step(Peek()));
    } else if (IsAt(TokenKind::kLBracket)) {
      Next();
      if (!IsAt(TokenKind::kNumber)) return SyntaxError();
      PathStep step;
      step.kind = PathStep::Kind::kIndex;
      step.text = std::string(Peek().text);
      step.index = ParseIndex(step.text);
      out->steps.push_back(std::move(step));
      Next();
      EDDY_RETURN_IF_ERROR(Expect(TokenKind::kRBracket));
    } else {
      break;
    }
  }
  return Status::OK();
}

Result<std::vector<UpdateAction>> Parser::ParseUpdate(
    std::vector<std::string>* sections) {
  mode_ = Mode::kUpdate;
  std::vector<UpdateAction> actions;
  if (IsAt(TokenKind::kEof)) return SyntaxError();
  while (!IsAt(TokenKind::kEof)) {
    UpdateAction::Kind kind;
    if (IsAtKeyword("SET")) {
      kind = UpdateAction::Kind::kSet;
      sections->push_back("SET");
    } else if (IsAtKeyword("REMOVE")) {
      kind = UpdateAction::Kind::kRemove;
      sections->push_back("REMOVE");
    } else if (IsAtKeyword("ADD")) {
      kind = UpdateAction::Kind::kAdd;
      sections->push_back("ADD");
    } else if (IsAtKeyword("DELETE")) {
      kind = UpdateAction::Kind::kDelete;
      sections->push_back("DELETE");
    } else {
      return SyntaxError();
    }
    Next();
    while (true) {
      UpdateAction action;
      action.kind = kind;
      if (Peek().kind != TokenKind::kIdentifier &&
          Peek().kind != TokenKind::kName) {
        return SyntaxError();
      }
      EDDY_RETURN_IF_ERROR(ParsePath(&action.target));
      switch (kind) {
        case UpdateAction::Kind::kSet:
          EDDY_RETURN_IF_ERROR(Expect(TokenKind::kEq));
          EDDY_RETURN_IF_ERROR(ParseSetValue(&action));
          break;
        case UpdateAction::Kind::kRemove:
          break;
        case UpdateAction::Kind::kAdd:
        case UpdateAction::Kind::kDelete:
          if (!IsAt(TokenKind::kValue)) return SyntaxError();
          action.first.kind = Operand::Kind::kValue;
          action.first.token = std::string(Peek().text);
          Next();
          break;
      }
      actions.push_back(std::move(action));
      if (!IsAt(TokenKind::kComma)) break;
      Next();
    }
  }
  return actions;
}

Status Parser::ParseSetValue(UpdateAction* action) {
  if (IsAt(TokenKind::kLParen)) {
    // "(a + b)" wraps the whole value; "(a) + b" only an operand.
    size_t close = matching_[pos_];
    bool wraps_value = close != kNoMatch && close + 1 < tokens_.size() &&
                       tokens_[close + 1].kind != TokenKind::kPlus &&
                       tokens_[close + 1].kind != TokenKind::kMinus;
    if (wraps_value) {
      EDDY_RETURN_IF_ERROR(Enter(/*paren=*/true));
      Next();
      EDDY_RETURN_IF_ERROR(ParseSetValue(action));
      EDDY_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
      Leave();
      return Status::OK();
    }
  }
  EDDY_RETURN_IF_ERROR(ParseOperand(&action->first));
  if (IsAt(TokenKind::kPlus) || IsAt(TokenKind::kMinus)) {
    EDDY_RETURN_IF_ERROR(CountOperator());
    action->subtract = IsAt(TokenKind::kMinus);
    Next();
    action->second.emplace();
    EDDY_RETURN_IF_ERROR(ParseOperand(&*action->second));
  }
  return Status::OK();
}

Result<std::vector<Operand>> Parser::ParseProjection() {
  mode_ = Mode::kProjection;
  std::vector<Operand> paths;
  while (true) {
    paths.emplace_back();
    EDDY_RETURN_IF_ERROR(ParsePath(&paths.back()));
    if (!IsAt(TokenKind::kComma)) break;
    Next();
  }
  if (!IsAt(TokenKind::kEof)) return SyntaxError();
  return paths;
}

}  // namespace eddy::store::expr
