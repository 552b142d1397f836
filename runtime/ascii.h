// ASCII case folding for protocol tokens: HTTP header names and values,
// IAM condition keys and operators, filter pattern names. Locale-free: the
// bytes A-Z fold to a-z and nothing else changes.
//
// Thread-safety: pure functions.
#ifndef EDDY_RUNTIME_ASCII_H_
#define EDDY_RUNTIME_ASCII_H_

#include <cstddef>
#include <string_view>

namespace eddy::runtime {

inline char ToLowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

}  // namespace eddy::runtime

#endif  // EDDY_RUNTIME_ASCII_H_
