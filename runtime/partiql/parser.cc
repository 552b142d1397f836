#include "partiql/parser.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "partiql/lexer.h"

namespace eddy::runtime::partiql {
namespace {

using store::AttributeValue;

// Literal values nest at most this deep (DynamoDB's attribute nesting).
constexpr int kMaxLiteralDepth = 32;
// Guard on recursion through parentheses and NOT: a pathological 8 KB
// statement must not exhaust the stack.
constexpr int kMaxExprDepth = 256;
constexpr uint64_t kMaxListIndex = 2147483647;

// Words that cannot be bare names. The infix ones are operators where a
// term should start.
constexpr std::string_view kInfixKeywords[] = {"AND", "OR",   "IS",
                                               "IN",  "LIKE", "BETWEEN"};
constexpr std::string_view kReservedWords[] = {
    "SELECT",   "FROM",   "WHERE",     "NOT",   "MISSING", "NULL",   "TRUE",
    "FALSE",    "INSERT", "INTO",      "VALUE", "VALUES",  "UPDATE", "SET",
    "REMOVE",   "DELETE", "RETURNING", "ORDER", "BY",      "EXISTS", "LIMIT",
    "GROUP",    "HAVING", "AS",        "AT",    "ON",      "PIVOT",  "UNPIVOT",
    "DISTINCT", "CASE",   "WHEN",      "THEN",  "ELSE",    "END",    "UNION",
    "JOIN",     "ALL",    "OFFSET"};

constexpr std::string_view kConditionFunctions[] = {
    "attribute_exists", "attribute_not_exists",
    "attribute_type",   "begins_with",
    "contains",         "size"};
constexpr std::string_view kUpdateFunctions[] = {"list_append", "set_add",
                                                 "set_delete"};

// IS operands DynamoDB maps onto its own checks, and the other PartiQL type
// names it refuses.
constexpr std::string_view kIsTypes[] = {
    "MISSING", "NULL", "BOOLEAN", "BOOL",  "NUMERIC",
    "STRING",  "BLOB", "STRUCT",  "TUPLE", "LIST"};
constexpr std::string_view kOtherTypes[] = {
    "INT",    "INTEGER",   "INT2",    "INT4",      "INT8", "SMALLINT",
    "BIGINT", "DECIMAL",   "NUMBER",  "FLOAT",     "REAL", "DOUBLE",
    "CHAR",   "CHARACTER", "VARCHAR", "SYMBOL",    "CLOB", "BAG",
    "SEXP",   "DATE",      "TIME",    "TIMESTAMP", "ANY"};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

template <size_t N>
bool Contains(const std::string_view (&list)[N], std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

Status Invalid(std::string message) {
  return Status::InvalidArgument(std::move(message));
}
Status Malformed(std::string_view detail) {
  return Invalid(std::string(kNotWellFormed) + std::string(detail));
}

bool IsComparator(TokenKind kind) {
  return kind == TokenKind::kEq || kind == TokenKind::kNe ||
         kind == TokenKind::kLt || kind == TokenKind::kLe ||
         kind == TokenKind::kGt || kind == TokenKind::kGe;
}

CompareOp ComparatorOf(TokenKind kind) {
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

enum class Context { kCondition, kUpdate };

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  Result<Statement> ParseStatement() {
    Statement st;
    const Token& first = Peek();
    if (IsKeyword(first, "SELECT")) {
      EDDY_RETURN_IF_ERROR(ParseSelect(&st));
    } else if (IsKeyword(first, "INSERT")) {
      EDDY_RETURN_IF_ERROR(ParseInsert(&st));
    } else if (IsKeyword(first, "UPDATE")) {
      EDDY_RETURN_IF_ERROR(ParseUpdate(&st));
    } else if (IsKeyword(first, "DELETE")) {
      EDDY_RETURN_IF_ERROR(ParseDelete(&st));
    } else if (IsKeyword(first, "EXISTS")) {
      EDDY_RETURN_IF_ERROR(ParseExists(&st));
    } else {
      return Malformed("Expected data manipulation");
    }
    Accept(TokenKind::kSemicolon);
    if (!At(TokenKind::kEnd)) {
      return Malformed("Unexpected token after expression");
    }
    st.parameter_count = parameters_;
    return st;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool At(TokenKind kind) const { return Peek().kind == kind; }
  bool AtKeyword(std::string_view keyword, size_t ahead = 0) const {
    return IsKeyword(Peek(ahead), keyword);
  }
  bool Accept(TokenKind kind) {
    if (!At(kind)) return false;
    Next();
    return true;
  }
  bool AcceptKeyword(std::string_view keyword) {
    if (!AtKeyword(keyword)) return false;
    Next();
    return true;
  }

  static bool IsReserved(const Token& t) {
    if (t.kind != TokenKind::kWord) return false;
    const std::string upper = Upper(t.text);
    return Contains(kReservedWords, upper) || Contains(kInfixKeywords, upper);
  }
  static bool IsName(const Token& t) {
    return t.kind == TokenKind::kQuotedIdentifier ||
           (t.kind == TokenKind::kWord && !IsReserved(t));
  }

  // " at <line>:<column>:<length>", DynamoDB's position suffix.
  std::string Position(const Token& t) const {
    size_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < t.offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    size_t length = t.text.size();
    if (t.kind == TokenKind::kString ||
        t.kind == TokenKind::kQuotedIdentifier) {
      length += 2;
    }
    return " at " + std::to_string(line) + ":" +
           std::to_string(t.offset - line_start + 1) + ":" +
           std::to_string(length);
  }

  // The error for a token where a term should start.
  Status TermError(const Token& t) const {
    switch (t.kind) {
      case TokenKind::kEq:
      case TokenKind::kNe:
      case TokenKind::kLt:
      case TokenKind::kLe:
      case TokenKind::kGt:
      case TokenKind::kGe:
      case TokenKind::kStar:
      case TokenKind::kPlus:
      case TokenKind::kMinus:
      case TokenKind::kOperator:
        return Malformed("Unexpected operator");
      case TokenKind::kWord:
        if (Contains(kInfixKeywords, Upper(t.text))) {
          return Malformed("Unexpected operator");
        }
        if (IsReserved(t)) return Malformed("Unexpected keyword");
        return Malformed("Unexpected token");
      default:
        return Malformed("Unexpected term");
    }
  }

  // Before the right-hand side of an infix operator.
  Status NeedOperand() const {
    if (At(TokenKind::kEnd)) {
      return Malformed("Missing right-hand side expression of infix operator");
    }
    return Status::OK();
  }

  Status ExpectKeyword(std::string_view keyword) {
    if (AcceptKeyword(keyword)) return Status::OK();
    return TermError(Peek());
  }

  // A table name, or "table"."index" when `allow_index`.
  Status ParseSource(Statement* st, bool allow_index,
                     std::string_view missing_name_error) {
    std::vector<std::string> components;
    while (true) {
      const Token& t = Peek();
      if (!IsName(t)) {
        if (!missing_name_error.empty()) return Malformed(missing_name_error);
        return TermError(t);
      }
      if (t.text.empty()) {
        return Invalid("Path component cannot be an empty string");
      }
      components.push_back(Next().text);
      if (!Accept(TokenKind::kDot)) break;
    }
    if (components.size() > 2) {
      return Invalid(
          "A path may contain at most 2 components in the FROM clause");
    }
    if (components.size() == 2 && !allow_index) {
      return Invalid(
          "FROM clause may only contain a single table name in data "
          "manipulation statements");
    }
    EDDY_RETURN_IF_ERROR(CheckTableName(components[0]));
    st->table = components[0];
    if (components.size() == 2) st->index = components[1];
    // A table alias: a name (or AS) right after the source.
    if (AtKeyword("AS") || (At(TokenKind::kWord) && !IsReserved(Peek())) ||
        At(TokenKind::kQuotedIdentifier)) {
      return Invalid("Aliasing is not supported");
    }
    return Status::OK();
  }

  static Status CheckTableName(const std::string& name) {
    bool ok = name.size() >= 3 && name.size() <= 255;
    for (char c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
        ok = false;
      }
    }
    if (ok) return Status::OK();
    return Invalid(
        "Table name should be within the length [3, 255] and only contain "
        "'a-z', 'A-Z', '0-9', '-', '_', '.'.");
  }

  Status ParseSelect(Statement* st) {
    Next();  // SELECT
    st->kind = StatementKind::kSelect;
    if (AtKeyword("DISTINCT")) {
      return Invalid("Unsupported token in expression: DISTINCT");
    }
    if (AtKeyword("VALUE") || AtKeyword("PIVOT")) {
      return Invalid(
          "Select projection doesn't support value or pivot keywords");
    }
    const Status other_with_star = Invalid(
        "Other attributes should not be present in the projection when '*' "
        "is used.");
    if (Accept(TokenKind::kStar)) {
      st->select_all = true;
      if (At(TokenKind::kComma)) return other_with_star;
    } else {
      while (true) {
        if (At(TokenKind::kStar)) return other_with_star;
        if (!IsName(Peek())) return TermError(Peek());
        store::Path path;
        EDDY_RETURN_IF_ERROR(ParsePath(&path));
        if (AtKeyword("AS") || (At(TokenKind::kWord) && !IsReserved(Peek()))) {
          return Invalid("Aliasing is not supported");
        }
        st->projection.push_back(std::move(path));
        if (!Accept(TokenKind::kComma)) break;
      }
    }
    EDDY_RETURN_IF_ERROR(ExpectKeyword("FROM"));
    EDDY_RETURN_IF_ERROR(ParseSource(st, /*allow_index=*/true, ""));
    if (AcceptKeyword("WHERE")) {
      EDDY_ASSIGN_OR_RETURN(Expr where, ParseOr(0));
      st->where = std::move(where);
    }
    if (AtKeyword("GROUP")) return Invalid("Unsupported clause: GROUP BY");
    if (AtKeyword("HAVING")) return Invalid("Unsupported clause: HAVING");
    if (AcceptKeyword("ORDER")) {
      EDDY_RETURN_IF_ERROR(ExpectKeyword("BY"));
      while (true) {
        const Token& t = Peek();
        if (!IsName(t)) return TermError(t);
        OrderKey key;
        key.attribute = Next().text;
        if (AcceptKeyword("DESC")) {
          key.descending = true;
        } else {
          AcceptKeyword("ASC");
        }
        st->order_by.push_back(std::move(key));
        if (!Accept(TokenKind::kComma)) break;
      }
    }
    if (AtKeyword("LIMIT")) return Invalid("Unsupported clause: LIMIT");
    return Status::OK();
  }

  Status ParseInsert(Statement* st) {
    Next();  // INSERT
    st->kind = StatementKind::kInsert;
    EDDY_RETURN_IF_ERROR(ExpectKeyword("INTO"));
    const Token& name = Peek();
    if (!IsName(name)) return Malformed("Expected identifier for simple path");
    if (name.text.empty()) {
      return Invalid("Path component cannot be an empty string");
    }
    EDDY_RETURN_IF_ERROR(CheckTableName(name.text));
    st->table = Next().text;
    if (AtKeyword("VALUES")) {
      return Invalid(
          "Unsupported operation: Inserting multiple items in a single "
          "statement is not supported, use \"INSERT INTO tableName VALUE "
          "item\" instead");
    }
    if (!AcceptKeyword("VALUE")) {
      return Malformed("Unexpected token after expression");
    }
    if (At(TokenKind::kLBag)) {
      return Invalid(
          "Unsupported operation: Inserting multiple items in a single "
          "statement is not supported, use \"INSERT INTO tableName VALUE "
          "item\" instead");
    }
    if (!At(TokenKind::kLBrace)) {
      if (At(TokenKind::kEnd)) return Malformed("Unexpected term");
      return Invalid(
          "Unsupported format in item expression. Please use struct format "
          "{...} to express item values for insert statement.");
    }
    EDDY_RETURN_IF_ERROR(ParseItem(st));
    if (AtKeyword("AT")) {
      return Invalid("AT is not supported in insert statements.");
    }
    if (AtKeyword("ON")) return Invalid("Unsupported clause: ON CONFLICT");
    if (AtKeyword("RETURNING")) {
      EDDY_RETURN_IF_ERROR(ParseReturning(st));
      return Invalid("RETURNING is not supported in INSERT");
    }
    return Status::OK();
  }

  // VALUE {'name': literal-or-?, ...}.
  Status ParseItem(Statement* st) {
    Next();  // {
    std::set<std::string> seen;
    if (Accept(TokenKind::kRBrace)) return Status::OK();
    while (true) {
      const Token& key = Peek();
      if (key.kind == TokenKind::kNumber || IsKeyword(key, "TRUE") ||
          IsKeyword(key, "FALSE")) {
        return Invalid(std::string("Tuple keys must be of type String. ") +
                       "Actual type: " +
                       (key.kind == TokenKind::kNumber ? "DECIMAL" : "BOOL") +
                       " under root");
      }
      if (key.kind != TokenKind::kString) return TermError(key);
      std::string name = Next().text;
      if (!Accept(TokenKind::kColon)) return TermError(Peek());
      EDDY_RETURN_IF_ERROR(NeedOperand());
      Expr value;
      if (At(TokenKind::kParameter)) {
        Next();
        value.kind = Expr::Kind::kParameter;
        value.parameter = parameters_++;
      } else {
        EDDY_ASSIGN_OR_RETURN(AttributeValue v, ParseLiteral("root", 1));
        value = Expr::Value(std::move(v));
      }
      if (!seen.insert(name).second) {
        return Invalid("Duplicate keys in tuple. Key: " + name + " under root");
      }
      st->item.emplace_back(std::move(name), std::move(value));
      if (Accept(TokenKind::kComma)) continue;
      if (Accept(TokenKind::kRBrace)) return Status::OK();
      return TermError(Peek());
    }
  }

  Status ParseUpdate(Statement* st) {
    Next();  // UPDATE
    st->kind = StatementKind::kUpdate;
    EDDY_RETURN_IF_ERROR(ParseSource(st, /*allow_index=*/false,
                                     "Expected identifier for simple path"));
    if (!AtKeyword("SET") && !AtKeyword("REMOVE")) return TermError(Peek());
    while (true) {
      if (AcceptKeyword("SET")) {
        do {
          UpdateAction action;
          if (!IsName(Peek())) return TermError(Peek());
          EDDY_RETURN_IF_ERROR(ParsePath(&action.target));
          if (!Accept(TokenKind::kEq)) return TermError(Peek());
          EDDY_RETURN_IF_ERROR(NeedOperand());
          EDDY_ASSIGN_OR_RETURN(action.value,
                                ParseAdditive(Context::kUpdate, 0));
          if (AtKeyword("IS")) {
            return Invalid(
                "IS operator is not supported in update expressions");
          }
          if (IsComparator(Peek().kind)) {
            return Invalid(
                "Unsupported operator in Update Expression. Operator: " +
                Peek().text);
          }
          st->actions.push_back(std::move(action));
        } while (Accept(TokenKind::kComma));
      } else if (AcceptKeyword("REMOVE")) {
        do {
          UpdateAction action;
          action.remove = true;
          if (!IsName(Peek())) return TermError(Peek());
          EDDY_RETURN_IF_ERROR(ParsePath(&action.target));
          st->actions.push_back(std::move(action));
        } while (Accept(TokenKind::kComma));
      } else {
        break;
      }
    }
    if (AcceptKeyword("WHERE")) {
      EDDY_ASSIGN_OR_RETURN(Expr where, ParseOr(0));
      st->where = std::move(where);
    }
    if (AtKeyword("RETURNING")) EDDY_RETURN_IF_ERROR(ParseReturning(st));
    return Status::OK();
  }

  Status ParseDelete(Statement* st) {
    Next();  // DELETE
    st->kind = StatementKind::kDelete;
    EDDY_RETURN_IF_ERROR(ExpectKeyword("FROM"));
    EDDY_RETURN_IF_ERROR(ParseSource(st, /*allow_index=*/false,
                                     "Expected identifier for simple path"));
    if (AcceptKeyword("WHERE")) {
      EDDY_ASSIGN_OR_RETURN(Expr where, ParseOr(0));
      st->where = std::move(where);
    }
    if (AtKeyword("RETURNING")) {
      EDDY_RETURN_IF_ERROR(ParseReturning(st));
      if (st->returning != Returning::kAllOld) {
        const char* written = st->returning == Returning::kAllNew ? "ALL NEW *"
                              : st->returning == Returning::kModifiedOld
                                  ? "MODIFIED OLD *"
                                  : "MODIFIED NEW *";
        return Invalid(std::string("Invalid returning clause: RETURNING ") +
                       written +
                       ". Only RETURNING ALL OLD * is allowed in DELETE "
                       "statements.");
      }
    }
    return Status::OK();
  }

  Status ParseExists(Statement* st) {
    Next();  // EXISTS
    if (!Accept(TokenKind::kLParen)) return TermError(Peek());
    if (!AtKeyword("SELECT")) return TermError(Peek());
    EDDY_RETURN_IF_ERROR(ParseSelect(st));
    if (!Accept(TokenKind::kRParen)) {
      return Malformed("Unexpected token after expression");
    }
    st->kind = StatementKind::kExists;
    return Status::OK();
  }

  Status ParseReturning(Statement* st) {
    Next();  // RETURNING
    bool all;
    if (AcceptKeyword("ALL")) {
      all = true;
    } else if (AcceptKeyword("MODIFIED")) {
      all = false;
    } else {
      return TermError(Peek());
    }
    bool old_image;
    if (AcceptKeyword("OLD")) {
      old_image = true;
    } else if (AcceptKeyword("NEW")) {
      old_image = false;
    } else {
      return TermError(Peek());
    }
    if (!Accept(TokenKind::kStar)) {
      return Invalid(
          "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING "
          "clause");
    }
    if (At(TokenKind::kComma)) {
      return Invalid(
          "Invalid syntax with multiple returning elements in RETURNING "
          "clause");
    }
    st->returning =
        all ? (old_image ? Returning::kAllOld : Returning::kAllNew)
            : (old_image ? Returning::kModifiedOld : Returning::kModifiedNew);
    return Status::OK();
  }

  // name ('.' name | '[' index ']')*. REQUIRES: IsName(Peek()).
  Status ParsePath(store::Path* path) {
    store::PathElement first;
    first.name = Next().text;
    path->push_back(std::move(first));
    while (true) {
      if (At(TokenKind::kDot)) {
        const Token& after = Peek(1);
        if (after.kind == TokenKind::kStar) {
          return Invalid("Unpivot path component like a.*.b are not supported");
        }
        if (after.kind != TokenKind::kWord &&
            after.kind != TokenKind::kQuotedIdentifier) {
          Next();
          return TermError(Peek());
        }
        Next();
        store::PathElement step;
        step.name = Next().text;
        path->push_back(std::move(step));
        continue;
      }
      if (!Accept(TokenKind::kLBracket)) return Status::OK();
      store::PathElement step;
      if (At(TokenKind::kStar)) {
        return Invalid("Wildcard path component like a[*].b are not supported");
      }
      if (At(TokenKind::kString)) {
        step.name = Next().text;
      } else {
        const bool negative = Accept(TokenKind::kMinus);
        const Token& number = Peek();
        if (number.kind != TokenKind::kNumber) return TermError(number);
        const bool digits_only =
            number.text.find_first_not_of("0123456789") == std::string::npos;
        if (!digits_only) return Malformed("Invalid Path component");
        uint64_t index = 0;
        bool too_large = number.text.size() > 10;
        for (char c : number.text) {
          if (too_large) break;
          index = index * 10 + static_cast<uint64_t>(c - '0');
        }
        too_large = too_large || index > kMaxListIndex;
        if ((negative && index != 0) || too_large) {
          return Invalid(
              "List index is not within the allowable range; index: [" +
              std::string(negative ? "-" : "") + number.text + "]" +
              Position(number));
        }
        Next();
        step.is_index = true;
        step.index = static_cast<uint32_t>(index);
      }
      if (!Accept(TokenKind::kRBracket)) return TermError(Peek());
      path->push_back(std::move(step));
    }
  }

  // condition := or.
  Result<Expr> ParseOr(int depth) {
    EDDY_ASSIGN_OR_RETURN(Expr left, ParseAnd(depth));
    while (AcceptKeyword("OR")) {
      EDDY_RETURN_IF_ERROR(NeedOperand());
      EDDY_ASSIGN_OR_RETURN(Expr right, ParseAnd(depth));
      std::vector<Expr> args;
      args.push_back(std::move(left));
      args.push_back(std::move(right));
      left = Expr::Node(Expr::Kind::kOr, std::move(args));
    }
    return left;
  }

  Result<Expr> ParseAnd(int depth) {
    EDDY_ASSIGN_OR_RETURN(Expr left, ParseNot(depth));
    while (AcceptKeyword("AND")) {
      EDDY_RETURN_IF_ERROR(NeedOperand());
      EDDY_ASSIGN_OR_RETURN(Expr right, ParseNot(depth));
      std::vector<Expr> args;
      args.push_back(std::move(left));
      args.push_back(std::move(right));
      left = Expr::Node(Expr::Kind::kAnd, std::move(args));
    }
    return left;
  }

  Result<Expr> ParseNot(int depth) {
    size_t nots = 0;
    while (AtKeyword("NOT")) {
      Next();
      ++nots;
      if (nots > static_cast<size_t>(kMaxExprDepth)) {
        return Malformed("Unexpected term");
      }
    }
    if (nots > 0 && At(TokenKind::kEnd)) return Malformed("Unexpected term");
    EDDY_ASSIGN_OR_RETURN(Expr e, ParsePredicate(depth));
    for (size_t i = 0; i < nots; ++i) {
      std::vector<Expr> args;
      args.push_back(std::move(e));
      e = Expr::Node(Expr::Kind::kNot, std::move(args));
    }
    return e;
  }

  Result<Expr> ParsePredicate(int depth) {
    EDDY_ASSIGN_OR_RETURN(Expr left, ParseAdditive(Context::kCondition, depth));
    if (IsComparator(Peek().kind)) {
      const CompareOp op = ComparatorOf(Next().kind);
      EDDY_RETURN_IF_ERROR(NeedOperand());
      EDDY_ASSIGN_OR_RETURN(Expr right,
                            ParseAdditive(Context::kCondition, depth));
      std::vector<Expr> args;
      args.push_back(std::move(left));
      args.push_back(std::move(right));
      Expr e = Expr::Node(Expr::Kind::kCompare, std::move(args));
      e.op = op;
      return e;
    }
    bool negate = false;
    if (AtKeyword("NOT") && (AtKeyword("BETWEEN", 1) || AtKeyword("IN", 1) ||
                             AtKeyword("LIKE", 1))) {
      Next();
      negate = true;
    }
    Expr e;
    if (AcceptKeyword("BETWEEN")) {
      EDDY_RETURN_IF_ERROR(NeedOperand());
      EDDY_ASSIGN_OR_RETURN(Expr low,
                            ParseAdditive(Context::kCondition, depth));
      EDDY_RETURN_IF_ERROR(ExpectKeyword("AND"));
      EDDY_RETURN_IF_ERROR(NeedOperand());
      EDDY_ASSIGN_OR_RETURN(Expr high,
                            ParseAdditive(Context::kCondition, depth));
      std::vector<Expr> args;
      args.push_back(std::move(left));
      args.push_back(std::move(low));
      args.push_back(std::move(high));
      e = Expr::Node(Expr::Kind::kBetween, std::move(args));
    } else if (AcceptKeyword("IN")) {
      EDDY_RETURN_IF_ERROR(NeedOperand());
      std::vector<Expr> args;
      args.push_back(std::move(left));
      EDDY_RETURN_IF_ERROR(ParseInList(depth, &args));
      e = Expr::Node(Expr::Kind::kIn, std::move(args));
    } else if (AtKeyword("LIKE")) {
      return Invalid(
          "Unsupported operator in Condition Expression. Operator: like");
    } else if (AcceptKeyword("IS")) {
      const bool is_not = AcceptKeyword("NOT");
      const Token& type = Peek();
      const std::string upper = Upper(type.text);
      if (type.kind != TokenKind::kWord) {
        return Malformed("Expected type name");
      }
      if (!Contains(kIsTypes, upper)) {
        if (Contains(kOtherTypes, upper)) {
          return Invalid("Unsupported data type for IS operator: " + upper +
                         ". Supported data types are [MISSING, NULL, BOOLEAN, "
                         "BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]");
        }
        return Malformed("Expected type name");
      }
      Next();
      std::vector<Expr> args;
      args.push_back(std::move(left));
      e = Expr::Node(Expr::Kind::kIs, std::move(args));
      e.name = upper == "BOOL" ? "BOOLEAN" : upper;
      e.negated = is_not;
      return e;
    } else {
      return left;
    }
    if (negate) {
      std::vector<Expr> args;
      args.push_back(std::move(e));
      e = Expr::Node(Expr::Kind::kNot, std::move(args));
    }
    return e;
  }

  // IN's right-hand side: [a, b], (a, b) or <<a, b>>, at least one member.
  Status ParseInList(int depth, std::vector<Expr>* args) {
    const Status invalid = Invalid(
        "IN operator must have a left hand argument of type Variable "
        "Reference and right hand argument of type Seq with at least one "
        "member");
    TokenKind close;
    if (Accept(TokenKind::kLBracket)) {
      close = TokenKind::kRBracket;
    } else if (Accept(TokenKind::kLParen)) {
      close = TokenKind::kRParen;
    } else if (Accept(TokenKind::kLBag)) {
      close = TokenKind::kRBag;
    } else {
      return invalid;
    }
    if (Accept(close)) return invalid;
    while (true) {
      EDDY_ASSIGN_OR_RETURN(Expr member,
                            ParseAdditive(Context::kCondition, depth));
      args->push_back(std::move(member));
      if (Accept(TokenKind::kComma)) continue;
      if (Accept(close)) return Status::OK();
      return TermError(Peek());
    }
  }

  Result<Expr> ParseAdditive(Context context, int depth) {
    EDDY_ASSIGN_OR_RETURN(Expr left, ParseTerm(context, depth));
    while (At(TokenKind::kPlus) || At(TokenKind::kMinus)) {
      const bool subtract = Next().kind == TokenKind::kMinus;
      EDDY_RETURN_IF_ERROR(NeedOperand());
      EDDY_ASSIGN_OR_RETURN(Expr right, ParseTerm(context, depth));
      std::vector<Expr> args;
      args.push_back(std::move(left));
      args.push_back(std::move(right));
      left = Expr::Node(Expr::Kind::kArithmetic, std::move(args));
      left.subtract = subtract;
    }
    return left;
  }

  Result<Expr> ParseTerm(Context context, int depth) {
    if (depth > kMaxExprDepth) return Malformed("Unexpected term");
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kParameter: {
        Next();
        Expr e;
        e.kind = Expr::Kind::kParameter;
        e.parameter = parameters_++;
        return e;
      }
      case TokenKind::kPlus:
      case TokenKind::kMinus:
      case TokenKind::kString:
      case TokenKind::kNumber:
      case TokenKind::kLBracket:
      case TokenKind::kLBrace:
      case TokenKind::kLBag: {
        EDDY_ASSIGN_OR_RETURN(AttributeValue v, ParseLiteral("root", 1));
        return Expr::Value(std::move(v));
      }
      case TokenKind::kLParen: {
        Next();
        Expr inner;
        if (context == Context::kCondition) {
          EDDY_ASSIGN_OR_RETURN(inner, ParseOr(depth + 1));
        } else {
          EDDY_ASSIGN_OR_RETURN(inner, ParseAdditive(context, depth + 1));
        }
        if (!Accept(TokenKind::kRParen)) return TermError(Peek());
        return inner;
      }
      case TokenKind::kQuotedIdentifier: {
        store::Path path;
        EDDY_RETURN_IF_ERROR(ParsePath(&path));
        return Expr::Path(std::move(path));
      }
      case TokenKind::kWord:
        break;
      default:
        return TermError(t);
    }
    const std::string upper = Upper(t.text);
    if (upper == "TRUE" || upper == "FALSE" || upper == "NULL") {
      EDDY_ASSIGN_OR_RETURN(AttributeValue v, ParseLiteral("root", 1));
      return Expr::Value(std::move(v));
    }
    if (upper == "MISSING") {
      return Invalid("MISSING must be compared using IS operator");
    }
    if (Peek(1).kind == TokenKind::kLParen && !IsReserved(t)) {
      return ParseCall(context, depth);
    }
    if (IsReserved(t)) return TermError(t);
    store::Path path;
    EDDY_RETURN_IF_ERROR(ParsePath(&path));
    return Expr::Path(std::move(path));
  }

  Result<Expr> ParseCall(Context context, int depth) {
    const std::string name = Lower(Next().text);
    const bool known = context == Context::kCondition
                           ? Contains(kConditionFunctions, name)
                           : Contains(kUpdateFunctions, name);
    if (!known) return Invalid("Unrecognized function: " + name);
    Next();  // (
    Expr call;
    call.kind = Expr::Kind::kCall;
    call.name = name;
    call.position = Position(Peek());
    if (Accept(TokenKind::kRParen)) return call;
    while (true) {
      EDDY_ASSIGN_OR_RETURN(Expr arg, ParseAdditive(context, depth + 1));
      call.args.push_back(std::move(arg));
      if (Accept(TokenKind::kComma)) continue;
      if (Accept(TokenKind::kRParen)) return call;
      return TermError(Peek());
    }
  }

  // A literal value; `path` names it in messages ("root", "root.a[1]").
  Result<AttributeValue> ParseLiteral(const std::string& path, int depth) {
    if (depth > kMaxLiteralDepth) {
      return Invalid("Nesting Levels have exceeded supported limits under " +
                     path);
    }
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kString:
        return AttributeValue::String(Next().text);
      case TokenKind::kNumber:
      case TokenKind::kPlus:
      case TokenKind::kMinus:
        return ParseNumber(path);
      case TokenKind::kParameter:
        return Invalid("Unsupported data type: Parameter under key " + path +
                       Position(t));
      case TokenKind::kLBracket: {
        Next();
        store::AttributeList list;
        if (Accept(TokenKind::kRBracket)) return AttributeValue::List({});
        while (true) {
          EDDY_ASSIGN_OR_RETURN(
              AttributeValue member,
              ParseLiteral(path + "[" + std::to_string(list.size()) + "]",
                           depth + 1));
          list.push_back(std::move(member));
          if (Accept(TokenKind::kComma)) continue;
          if (Accept(TokenKind::kRBracket)) {
            return AttributeValue::List(std::move(list));
          }
          return TermError(Peek());
        }
      }
      case TokenKind::kLBrace: {
        Next();
        store::AttributeMap map;
        if (Accept(TokenKind::kRBrace)) return AttributeValue::Map({});
        while (true) {
          const Token& key = Peek();
          if (key.kind != TokenKind::kString) return TermError(key);
          std::string name = Next().text;
          if (!Accept(TokenKind::kColon)) return TermError(Peek());
          EDDY_ASSIGN_OR_RETURN(AttributeValue member,
                                ParseLiteral(path + "." + name, depth + 1));
          if (map.count(name) > 0) {
            return Invalid("Duplicate keys in tuple. Key: " + name + " under " +
                           path);
          }
          map.emplace(std::move(name), std::move(member));
          if (Accept(TokenKind::kComma)) continue;
          if (Accept(TokenKind::kRBrace)) {
            return AttributeValue::Map(std::move(map));
          }
          return TermError(Peek());
        }
      }
      case TokenKind::kLBag:
        return ParseBag(path);
      case TokenKind::kWord: {
        const std::string upper = Upper(t.text);
        if (upper == "TRUE" || upper == "FALSE") {
          Next();
          return AttributeValue::Bool(upper == "TRUE");
        }
        if (upper == "NULL") {
          Next();
          return AttributeValue::Null();
        }
        if (upper == "MISSING") {
          return Invalid("MISSING must be compared using IS operator");
        }
        if (IsReserved(t)) return TermError(t);
        return Invalid("Unsupported data type: " + t.text + " under key " +
                       path);
      }
      case TokenKind::kQuotedIdentifier:
        return Invalid("Unsupported data type: " + t.text + " under key " +
                       path);
      default:
        return TermError(t);
    }
  }

  // [+|-]* number.
  Result<AttributeValue> ParseNumber(const std::string& path) {
    bool negative = false;
    while (At(TokenKind::kPlus) || At(TokenKind::kMinus)) {
      if (Next().kind == TokenKind::kMinus) negative = !negative;
    }
    const Token& t = Peek();
    if (t.kind != TokenKind::kNumber) return TermError(t);
    Result<store::Number> n =
        store::Number::Parse((negative ? "-" : "") + Next().text);
    if (!n.ok()) {
      return Invalid(n.status().message() + " under " + path);
    }
    return AttributeValue::Num(*n);
  }

  // <<member, ...>>: a string set or a number set.
  Result<AttributeValue> ParseBag(const std::string& path) {
    Next();  // <<
    if (Accept(TokenKind::kRBag))
      return Invalid("Empty bags are not supported");
    std::vector<std::string> strings;
    std::vector<std::string> numbers;
    const Status mixed = Invalid(
        "Unsupported data type in Bag. DynamoDB only supports either numbers "
        "or strings in bags");
    while (true) {
      const Token& t = Peek();
      if (t.kind == TokenKind::kString) {
        strings.push_back(Next().text);
      } else if (t.kind == TokenKind::kNumber || t.kind == TokenKind::kPlus ||
                 t.kind == TokenKind::kMinus) {
        EDDY_ASSIGN_OR_RETURN(AttributeValue n, ParseNumber(path));
        numbers.push_back(n.scalar());
      } else if (t.kind == TokenKind::kParameter) {
        return Invalid("Unsupported data type: Parameter under key " + path +
                       Position(t));
      } else if (t.kind == TokenKind::kEnd || t.kind == TokenKind::kRBag ||
                 t.kind == TokenKind::kComma) {
        return TermError(t);
      } else {
        return mixed;
      }
      if (!strings.empty() && !numbers.empty()) return mixed;
      if (Accept(TokenKind::kComma)) continue;
      if (Accept(TokenKind::kRBag)) break;
      return TermError(Peek());
    }
    Result<AttributeValue> set = strings.empty()
                                     ? AttributeValue::NumberSet(numbers)
                                     : AttributeValue::StringSet(strings);
    return set;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  size_t parameters_ = 0;
};

}  // namespace

Result<Statement> Parse(std::string_view text) {
  EDDY_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  Parser parser(text, std::move(tokens));
  return parser.ParseStatement();
}

}  // namespace eddy::runtime::partiql
