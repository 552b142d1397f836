// Lexer for DynamoDB expressions; see lexer.h for the token rules.

#include "expression/lexer.h"

#include <cctype>

namespace eddy::store::expr {

namespace {

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '_'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Bytes in the UTF-8 sequence starting with `lead` (1 for stray bytes).
size_t Utf8SequenceLength(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF7) return 4;
  if (lead >= 0xE0) return lead <= 0xEF ? 3 : 1;
  if (lead >= 0xC0) return 2;
  return 1;
}

}  // namespace

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    char c = text[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    Token token;
    token.start = i;
    size_t end = i + 1;
    if (IsAlpha(c)) {
      token.kind = TokenKind::kIdentifier;
      while (end < n && IsWordChar(text[end])) ++end;
    } else if (IsDigit(c)) {
      token.kind = TokenKind::kNumber;
      while (end < n && IsDigit(text[end])) ++end;
    } else if (c == '#' || c == ':') {
      while (end < n && IsWordChar(text[end])) ++end;
      if (end == i + 1) {
        token.kind = TokenKind::kUnknown;
      } else {
        token.kind = c == '#' ? TokenKind::kName : TokenKind::kValue;
      }
    } else {
      char next = i + 1 < n ? text[i + 1] : '\0';
      switch (c) {
        case '(':
          token.kind = TokenKind::kLParen;
          break;
        case ')':
          token.kind = TokenKind::kRParen;
          break;
        case '[':
          token.kind = TokenKind::kLBracket;
          break;
        case ']':
          token.kind = TokenKind::kRBracket;
          break;
        case ',':
          token.kind = TokenKind::kComma;
          break;
        case '.':
          token.kind = TokenKind::kDot;
          break;
        case '=':
          token.kind = TokenKind::kEq;
          break;
        case '+':
          token.kind = TokenKind::kPlus;
          break;
        case '-':
          token.kind = TokenKind::kMinus;
          break;
        case '<':
          if (next == '>') {
            token.kind = TokenKind::kNe;
            ++end;
          } else if (next == '=') {
            token.kind = TokenKind::kLe;
            ++end;
          } else {
            token.kind = TokenKind::kLt;
          }
          break;
        case '>':
          if (next == '=') {
            token.kind = TokenKind::kGe;
            ++end;
          } else {
            token.kind = TokenKind::kGt;
          }
          break;
        default:
          token.kind = TokenKind::kUnknown;
          end = i + Utf8SequenceLength(static_cast<unsigned char>(c));
          if (end > n) end = n;
          break;
      }
    }
    token.end = end;
    token.text = text.substr(i, end - i);
    tokens.push_back(token);
    i = end;
  }
  Token eof;
  eof.kind = TokenKind::kEof;
  eof.text = "<EOF>";
  eof.start = n;
  eof.end = n;
  tokens.push_back(eof);
  return tokens;
}

bool IsKeyword(const Token& token, std::string_view keyword) {
  if (token.kind != TokenKind::kIdentifier) return false;
  if (token.text.size() != keyword.size()) return false;
  for (size_t i = 0; i < keyword.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(token.text[i])) != keyword[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace eddy::store::expr
