// Lexer for DynamoDB expressions.
//
// Tokens, as DynamoDB's lexer splits them:
//   identifier  [A-Za-z][A-Za-z0-9_]*   (keywords are identifiers; the parser
//                                        decides, case-insensitively)
//   name        #[A-Za-z0-9_]+
//   value       :[A-Za-z0-9_]+
//   number      [0-9]+                  (list indexes)
//   punctuation ( ) [ ] , . = <> < <= > >= + -
//   unknown     any other character (one UTF-8 code point), and a lone # or
//               :, so that the parser reports it as the syntax error token.
// White space (space, tab, CR, LF) separates tokens.
//
// Private to eddy::store.
#ifndef EDDY_STORE_EXPRESSION_LEXER_H_
#define EDDY_STORE_EXPRESSION_LEXER_H_

#include <cstddef>
#include <string_view>
#include <vector>

namespace eddy::store::expr {

enum class TokenKind {
  kIdentifier,
  kName,
  kValue,
  kNumber,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kUnknown,
  kEof,
};

struct Token {
  TokenKind kind = TokenKind::kEof;
  std::string_view text;  // Points into the lexed text; "<EOF>" for kEof.
  size_t start = 0;       // Byte offsets in the lexed text.
  size_t end = 0;
};

// Splits `text` into tokens; the last token is always kEof (at text.size()).
// Never fails: characters outside the grammar become kUnknown tokens.
std::vector<Token> Tokenize(std::string_view text);

// Whether `token` is an identifier spelling `keyword` (ASCII upper case),
// ignoring case.
bool IsKeyword(const Token& token, std::string_view keyword);

}  // namespace eddy::store::expr

#endif  // EDDY_STORE_EXPRESSION_LEXER_H_
