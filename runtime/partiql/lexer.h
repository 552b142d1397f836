// Lexer for DynamoDB's PartiQL statements.
//
// Tokens: bare words (identifiers and keywords, told apart by the parser),
// "double-quoted identifiers" ("" escapes a quote), 'single-quoted strings'
// ('' escapes a quote), numbers (digits, an optional fraction and an
// optional exponent), the parameter `?`, and the punctuation and operators
// of the statements DynamoDB accepts, with << and >> as one token each (bag
// literals). White space, -- line comments and /* block comments */ separate
// tokens. Anything else (an unterminated quote or comment, a character
// PartiQL has no token for) is DynamoDB's bare "Statement wasn't well
// formed" error, which says nothing after its colon.
//
// Thread-safety: free functions on values.
#ifndef EDDY_RUNTIME_PARTIQL_LEXER_H_
#define EDDY_RUNTIME_PARTIQL_LEXER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/result.h"

namespace eddy::runtime::partiql {

enum class TokenKind {
  kEnd,               // After the last token.
  kWord,              // A bare identifier or keyword, as written.
  kQuotedIdentifier,  // "..." (text is the name, unescaped).
  kString,            // '...' (text is the string, unescaped).
  kNumber,            // Text as written.
  kParameter,         // ?
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kLBag,  // <<
  kRBag,  // >>
  kComma,
  kDot,
  kColon,
  kSemicolon,
  kStar,
  kEq,
  kNe,  // <> or !=
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kOperator,  // An operator DynamoDB does not support (||, /, %, ...).
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  size_t offset = 0;  // Byte offset in the statement.
};

// The "Statement wasn't well formed, can't be processed: " prefix of
// DynamoDB's syntax errors.
inline constexpr std::string_view kNotWellFormed =
    "Statement wasn't well formed, can't be processed: ";

// Splits `text` into tokens, ending with one kEnd token.
Result<std::vector<Token>> Tokenize(std::string_view text);

// Whether a kWord token is `keyword` (ASCII case-insensitive).
bool IsKeyword(const Token& token, std::string_view keyword);

}  // namespace eddy::runtime::partiql

#endif  // EDDY_RUNTIME_PARTIQL_LEXER_H_
