#include "partiql/lexer.h"

namespace eddy::runtime::partiql {
namespace {

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '$'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
         c == '\v';
}
char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

Status Malformed() {
  return Status::InvalidArgument(std::string(kNotWellFormed));
}

// Reads a quoted run starting at text[*i] (the opening quote); a doubled
// quote stands for one. Advances *i past the closing quote.
Status ReadQuoted(std::string_view text, size_t* i, std::string* out) {
  const char quote = text[*i];
  size_t j = *i + 1;
  while (j < text.size()) {
    if (text[j] == quote) {
      if (j + 1 < text.size() && text[j + 1] == quote) {
        out->push_back(quote);
        j += 2;
        continue;
      }
      *i = j + 1;
      return Status::OK();
    }
    out->push_back(text[j]);
    ++j;
  }
  return Malformed();
}

// A number: digits [. digits] [(e|E) [+|-] digits], or . digits [...].
// Returns the end of the number, or npos when the text at i is not one.
size_t NumberEnd(std::string_view text, size_t i) {
  const size_t n = text.size();
  size_t j = i;
  bool digits = false;
  while (j < n && IsDigit(text[j])) {
    ++j;
    digits = true;
  }
  if (j < n && text[j] == '.') {
    size_t k = j + 1;
    bool fraction = false;
    while (k < n && IsDigit(text[k])) {
      ++k;
      fraction = true;
    }
    if (digits || fraction) {
      j = k;
      digits = true;
    }
  }
  if (!digits) return std::string_view::npos;
  if (j < n && (text[j] == 'e' || text[j] == 'E')) {
    size_t k = j + 1;
    if (k < n && (text[k] == '+' || text[k] == '-')) ++k;
    if (k < n && IsDigit(text[k])) {
      while (k < n && IsDigit(text[k])) ++k;
      j = k;
    }
  }
  return j;
}

}  // namespace

bool IsKeyword(const Token& token, std::string_view keyword) {
  if (token.kind != TokenKind::kWord || token.text.size() != keyword.size()) {
    return false;
  }
  for (size_t i = 0; i < keyword.size(); ++i) {
    if (Lower(token.text[i]) != Lower(keyword[i])) return false;
  }
  return true;
}

Result<std::vector<Token>> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const char c = text[i];
    const char next = i + 1 < n ? text[i + 1] : '\0';
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    if (c == '-' && next == '-') {
      while (i < n && text[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && next == '*') {
      const size_t end = text.find("*/", i + 2);
      if (end == std::string_view::npos) return Malformed();
      i = end + 2;
      continue;
    }
    Token token;
    token.offset = i;
    if (IsAlpha(c)) {
      size_t j = i + 1;
      while (j < n && IsWordChar(text[j])) ++j;
      token.kind = TokenKind::kWord;
      token.text = std::string(text.substr(i, j - i));
      i = j;
    } else if (c == '"' || c == '\'') {
      token.kind = c == '"' ? TokenKind::kQuotedIdentifier : TokenKind::kString;
      EDDY_RETURN_IF_ERROR(ReadQuoted(text, &i, &token.text));
    } else if (IsDigit(c) || (c == '.' && IsDigit(next))) {
      const size_t j = NumberEnd(text, i);
      token.kind = TokenKind::kNumber;
      token.text = std::string(text.substr(i, j - i));
      i = j;
    } else {
      TokenKind kind = TokenKind::kOperator;
      size_t length = 1;
      switch (c) {
        case '?':
          kind = TokenKind::kParameter;
          break;
        case '(':
          kind = TokenKind::kLParen;
          break;
        case ')':
          kind = TokenKind::kRParen;
          break;
        case '[':
          kind = TokenKind::kLBracket;
          break;
        case ']':
          kind = TokenKind::kRBracket;
          break;
        case '{':
          kind = TokenKind::kLBrace;
          break;
        case '}':
          kind = TokenKind::kRBrace;
          break;
        case ',':
          kind = TokenKind::kComma;
          break;
        case '.':
          kind = TokenKind::kDot;
          break;
        case ':':
          kind = TokenKind::kColon;
          break;
        case ';':
          kind = TokenKind::kSemicolon;
          break;
        case '*':
          kind = TokenKind::kStar;
          break;
        case '+':
          kind = TokenKind::kPlus;
          break;
        case '-':
          kind = TokenKind::kMinus;
          break;
        case '=':
          kind = TokenKind::kEq;
          break;
        case '!':
          if (next != '=') return Malformed();
          kind = TokenKind::kNe;
          length = 2;
          break;
        case '<':
          if (next == '>') {
            kind = TokenKind::kNe;
            length = 2;
          } else if (next == '=') {
            kind = TokenKind::kLe;
            length = 2;
          } else if (next == '<') {
            kind = TokenKind::kLBag;
            length = 2;
          } else {
            kind = TokenKind::kLt;
          }
          break;
        case '>':
          if (next == '=') {
            kind = TokenKind::kGe;
            length = 2;
          } else if (next == '>') {
            kind = TokenKind::kRBag;
            length = 2;
          } else {
            kind = TokenKind::kGt;
          }
          break;
        case '|':
          if (next != '|') return Malformed();
          length = 2;
          break;
        case '/':
        case '%':
          break;
        default:
          return Malformed();
      }
      token.kind = kind;
      token.text = std::string(text.substr(i, length));
      i += length;
    }
    tokens.push_back(std::move(token));
  }
  Token end;
  end.offset = n;
  tokens.push_back(std::move(end));
  return tokens;
}

}  // namespace eddy::runtime::partiql
