// Number: DynamoDB's exact decimal number.
//
// Up to 38 significant decimal digits, magnitude between 1E-130 and
// 9.9999999999999999999999999999999999999E+125 (or zero). Values are kept
// normalised (no leading or trailing zeros in the coefficient), so two
// Numbers are equal exactly when their canonical strings are equal:
// "1.0", "01", "1e0" and "10E-1" all become "1".
//
// Thread-safety: a value type.
#ifndef EDDY_STORE_NUMBER_H_
#define EDDY_STORE_NUMBER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "eddy/result.h"

namespace eddy::store {

class Number {
 public:
  static constexpr int kMaxDigits = 38;

  // Zero.
  Number() = default;

  // Parses DynamoDB's number syntax: optional sign, digits with an optional
  // decimal point, optional exponent (e/E, optional sign, digits). Leading
  // and trailing white space is not allowed. Errors are InvalidArgument with
  // DynamoDB's exact messages:
  //   "The parameter cannot be converted to a numeric value: <text>"
  //   "Attempting to store more than 38 significant digits in a Number"
  //   "Number overflow. Attempting to store a number with magnitude larger
  //    than supported range"
  //   "Number underflow. Attempting to store a number with magnitude smaller
  //    than supported range"
  // Exponents of any length are accepted ("1e999999999999" is an overflow,
  // "0e999999" is zero) without overflowing or allocating in proportion to
  // the exponent. When a value is both out of range and too precise, the
  // range error wins (dynalite's order).
  static Result<Number> Parse(std::string_view text);

  // True when `text` is exactly the canonical text (ToString()) of a valid
  // Number, e.g. "1.5" but not "1.50", "01.5", "+1.5" or "1.5e0".
  static bool IsCanonical(std::string_view text);

  // Canonical plain (non-exponent) text, as DynamoDB returns numbers:
  // "0", "-1.5", "1000", "0.001".
  std::string ToString() const;

  // Exact arithmetic. Fails with the overflow/underflow/precision message
  // when the exact result cannot be represented.
  Result<Number> Add(const Number& other) const;
  Result<Number> Subtract(const Number& other) const;

  // <0, 0, >0 by numeric value.
  int Compare(const Number& other) const;
  bool operator==(const Number& other) const { return Compare(other) == 0; }
  bool operator<(const Number& other) const { return Compare(other) < 0; }

  bool IsZero() const { return digits_.empty(); }
  bool negative() const { return negative_; }

  // Bytes this number counts for in DynamoDB's item size formula: about one
  // byte per two significant digits, plus one.
  size_t StorageSize() const;

  // Appends an encoding whose bytewise order equals numeric order
  // (memcmp-comparable; used for sort keys). The encoding is self-delimiting
  // and no encoding is a proper prefix of another. At most 22 bytes:
  //
  //   zero:     0x02
  //   positive: 0x03, E, P1..Pk, 0x00
  //   negative: 0x01, 255 - E, 0xFE - P1 .. 0xFE - Pk, 0xFF
  //
  // where E = exponent + 129 (0..255; the value is 0.d1d2... * 10^exponent,
  // so E orders magnitudes of normalised numbers) and Pi = 1 + 10 * a + b
  // (1..100) packs the digit pair (a, b) of the significant digits, an odd
  // last digit padded with b = 0. Because the digits carry no trailing zeros
  // the padding is unambiguous, and the terminator (0x00 below every pair
  // byte, or 0xFF above every inverted pair byte) makes a shorter digit
  // string sort first for positives and last for negatives.
  void AppendOrderedEncoding(std::string* out) const;
  // Inverse of AppendOrderedEncoding. On success advances *in past the
  // encoded number; on malformed or non-canonical input returns Corruption
  // and leaves *in unchanged.
  static Result<Number> DecodeOrdered(std::string_view* in);

 private:
  Number(bool negative, std::string digits, int32_t exponent)
      : negative_(negative), digits_(std::move(digits)), exponent_(exponent) {}

  // a + b, or a - b when `negate_b`.
  static Result<Number> AddImpl(const Number& a, const Number& b,
                                bool negate_b);

  bool negative_ = false;
  // Significant digits '0'..'9' without leading or trailing zeros; empty
  // means zero.
  std::string digits_;
  // Value = 0.<digits_> * 10^exponent_ (so 1 is digits "1", exponent 1).
  int32_t exponent_ = 0;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_NUMBER_H_
