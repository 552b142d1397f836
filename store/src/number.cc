// Number: parsing, formatting, exact addition and the ordered encoding.
//
// A Number is kept as sign, significant digits without leading or trailing
// zeros, and an exponent such that value = 0.<digits> * 10^exponent. The
// supported range 1E-130 .. 9.99...E+125 is then exponent -129 .. 126.

#include "eddy/store/number.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

namespace eddy::store {
namespace {

// 0.1 * 10^-129 == 1E-130, the smallest magnitude.
constexpr int32_t kMinExponent = -129;
// 0.99..9 * 10^126 == 9.99..9E+125, the largest magnitude.
constexpr int32_t kMaxExponent = 126;
// Exponent digits beyond this are irrelevant: anything this large is out of
// range whatever the mantissa, since mantissas are bounded by the input
// length. Keeps the arithmetic far from int64 overflow.
constexpr int64_t kExponentClamp = int64_t{1} << 50;
// Widest digit buffer an exact sum of two valid Numbers needs: from 10^126
// down to the last digit of a 38-digit number at exponent -129, plus a carry.
constexpr size_t kMaxSumWidth =
    static_cast<size_t>(kMaxExponent - (kMinExponent - Number::kMaxDigits)) + 1;
// Longest ToString(): "-0." + 129 zeros + 38 digits.
constexpr size_t kMaxTextLength = 3 + 129 + Number::kMaxDigits;

// Tags of the ordered encoding.
constexpr uint8_t kTagNegative = 0x01;
constexpr uint8_t kTagZero = 0x02;
constexpr uint8_t kTagPositive = 0x03;
constexpr uint8_t kPositiveTerminator = 0x00;
constexpr uint8_t kNegativeTerminator = 0xFF;
constexpr uint8_t kNegativePairBase = 0xFE;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status NotNumeric(std::string_view text) {
  std::string msg = "The parameter cannot be converted to a numeric value: ";
  msg.append(text);
  return Status::InvalidArgument(std::move(msg));
}

Status TooManyDigits() {
  return Status::InvalidArgument(
      "Attempting to store more than 38 significant digits in a Number");
}

Status Overflow() {
  return Status::InvalidArgument(
      "Number overflow. Attempting to store a number with magnitude larger "
      "than supported range");
}

Status Underflow() {
  return Status::InvalidArgument(
      "Number underflow. Attempting to store a number with magnitude smaller "
      "than supported range");
}

// Range first, then precision (dynalite's order).
Status Validate(int64_t exponent, size_t digit_count) {
  if (exponent > kMaxExponent) return Overflow();
  if (exponent < kMinExponent) return Underflow();
  if (digit_count > static_cast<size_t>(Number::kMaxDigits)) {
    return TooManyDigits();
  }
  return Status::OK();
}

// Writes the plain text of a non-zero value into `buf` (at least
// kMaxTextLength bytes) and returns its length.
size_t Render(bool negative, std::string_view digits, int32_t exponent,
              char* buf) {
  char* p = buf;
  if (negative) *p++ = '-';
  const auto n = static_cast<int32_t>(digits.size());
  if (exponent <= 0) {
    *p++ = '0';
    *p++ = '.';
    std::memset(p, '0', static_cast<size_t>(-exponent));
    p += -exponent;
    std::memcpy(p, digits.data(), digits.size());
    p += n;
  } else if (exponent >= n) {
    std::memcpy(p, digits.data(), digits.size());
    p += n;
    std::memset(p, '0', static_cast<size_t>(exponent - n));
    p += exponent - n;
  } else {
    std::memcpy(p, digits.data(), static_cast<size_t>(exponent));
    p += exponent;
    *p++ = '.';
    std::memcpy(p, digits.data() + exponent, static_cast<size_t>(n - exponent));
    p += n - exponent;
  }
  return static_cast<size_t>(p - buf);
}

}  // namespace

Result<Number> Number::Parse(std::string_view text) {
  const size_t n = text.size();
  size_t i = 0;
  bool negative = false;
  if (i < n && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  const size_t int_begin = i;
  while (i < n && IsDigit(text[i])) ++i;
  const size_t int_end = i;
  size_t frac_begin = i;
  size_t frac_end = i;
  if (i < n && text[i] == '.') {
    frac_begin = ++i;
    while (i < n && IsDigit(text[i])) ++i;
    frac_end = i;
  }
  if (int_begin == int_end && frac_begin == frac_end) return NotNumeric(text);
  int64_t exp = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) {
      exp_negative = text[i] == '-';
      ++i;
    }
    const size_t exp_begin = i;
    while (i < n && IsDigit(text[i])) {
      if (exp < kExponentClamp) exp = exp * 10 + (text[i] - '0');
      ++i;
    }
    if (i == exp_begin) return NotNumeric(text);
    if (exp_negative) exp = -exp;
  }
  if (i != n) return NotNumeric(text);

  // The mantissa digits are int part then fraction part; index k runs over
  // both, skipping the '.'.
  const size_t int_len = int_end - int_begin;
  const size_t total = int_len + (frac_end - frac_begin);
  auto digit_at = [&](size_t k) {
    return k < int_len ? text[int_begin + k] : text[frac_begin + k - int_len];
  };
  size_t first = 0;
  while (first < total && digit_at(first) == '0') ++first;
  if (first == total) return Number();  // Zero, whatever sign or exponent.
  size_t last = total - 1;
  while (digit_at(last) == '0') --last;
  const size_t count = last - first + 1;

  // Input lengths are far below 2^50, so this cannot overflow.
  const int64_t exponent =
      static_cast<int64_t>(int_len) - static_cast<int64_t>(first) + exp;
  EDDY_RETURN_IF_ERROR(Validate(exponent, count));

  std::string digits;
  digits.reserve(count);
  for (size_t k = first; k <= last; ++k) digits.push_back(digit_at(k));
  return Number(negative, std::move(digits), static_cast<int32_t>(exponent));
}

// Checks the text against the forms Render produces, without parsing it into
// a Number (the item codec checks every stored number this way):
//   "0";
//   ["-"] "0." Z D   (value < 1: exponent -|Z|, |Z| zeros, D digits);
//   ["-"] D ["." F]  (value >= 1: exponent |D|);
// where D starts and F and the fraction end with a non-zero digit, and the
// exponent and the significant digits are within Validate's limits.
bool Number::IsCanonical(std::string_view text) {
  const size_t n = text.size();
  size_t i = 0;
  if (i < n && text[i] == '-') ++i;
  const size_t int_begin = i;
  while (i < n && IsDigit(text[i])) ++i;
  const size_t int_len = i - int_begin;
  if (int_len == 0) return false;
  const bool below_one = text[int_begin] == '0';
  if (below_one && int_len > 1) return false;  // A leading zero.
  if (i == n) {
    if (below_one) return text == "0";  // Zero; "-0" is not canonical.
    // An integer: trailing zeros are not significant.
    size_t last = i - 1;
    while (text[last] == '0') --last;
    return int_len <= static_cast<size_t>(kMaxExponent) &&
           last - int_begin + 1 <= static_cast<size_t>(kMaxDigits);
  }
  if (text[i] != '.') return false;
  const size_t frac_begin = ++i;
  while (i < n && IsDigit(text[i])) ++i;
  if (i != n || i == frac_begin || text[n - 1] == '0') return false;
  const size_t frac_len = n - frac_begin;
  if (!below_one) {
    return int_len <= static_cast<size_t>(kMaxExponent) &&
           int_len + frac_len <= static_cast<size_t>(kMaxDigits);
  }
  size_t zeros = 0;
  while (text[frac_begin + zeros] == '0') ++zeros;
  return zeros <= static_cast<size_t>(-kMinExponent) &&
         frac_len - zeros <= static_cast<size_t>(kMaxDigits);
}

std::string Number::ToString() const {
  if (IsZero()) return "0";
  char buf[kMaxTextLength];
  const size_t len = Render(negative_, digits_, exponent_, buf);
  return std::string(buf, len);
}

Result<Number> Number::Add(const Number& other) const {
  return AddImpl(*this, other, /*negate_b=*/false);
}

Result<Number> Number::Subtract(const Number& other) const {
  return AddImpl(*this, other, /*negate_b=*/true);
}

Result<Number> Number::AddImpl(const Number& a, const Number& b,
                               bool negate_b) {
  const bool b_negative = b.negative_ != negate_b;
  if (b.IsZero()) return a;
  if (a.IsZero()) return Number(b_negative, b.digits_, b.exponent_);

  // Lay both magnitudes out in one digit grid. Slot 0 holds a possible
  // carry; slot j has place value 10^(hi - j).
  const int32_t hi = std::max(a.exponent_, b.exponent_);
  const int32_t lo =
      std::min(a.exponent_ - static_cast<int32_t>(a.digits_.size()),
               b.exponent_ - static_cast<int32_t>(b.digits_.size()));
  const auto width = static_cast<size_t>(hi - lo) + 1;
  assert(width <= kMaxSumWidth);
  std::array<uint8_t, kMaxSumWidth> x{};
  std::array<uint8_t, kMaxSumWidth> y{};
  auto place = [&](const Number& v, std::array<uint8_t, kMaxSumWidth>* grid) {
    const auto offset = static_cast<size_t>(hi - v.exponent_) + 1;
    for (size_t i = 0; i < v.digits_.size(); ++i) {
      (*grid)[offset + i] = static_cast<uint8_t>(v.digits_[i] - '0');
    }
  };
  place(a, &x);
  place(b, &y);

  bool negative = a.negative_;
  if (a.negative_ == b_negative) {
    int carry = 0;
    for (size_t j = width; j-- > 0;) {
      const int s = x[j] + y[j] + carry;
      x[j] = static_cast<uint8_t>(s % 10);
      carry = s / 10;
    }
    assert(carry == 0);
  } else {
    const int cmp = std::memcmp(x.data(), y.data(), width);
    if (cmp == 0) return Number();
    // Subtract the smaller magnitude from the larger; the result takes the
    // larger one's sign.
    if (cmp < 0) {
      std::swap(x, y);
      negative = b_negative;
    }
    int borrow = 0;
    for (size_t j = width; j-- > 0;) {
      int d = x[j] - y[j] - borrow;
      borrow = d < 0 ? 1 : 0;
      if (d < 0) d += 10;
      x[j] = static_cast<uint8_t>(d);
    }
    assert(borrow == 0);
  }

  size_t first = 0;
  while (first < width && x[first] == 0) ++first;
  assert(first < width);  // Non-zero: equal magnitudes returned above.
  size_t last = width - 1;
  while (x[last] == 0) --last;
  const size_t count = last - first + 1;
  const int64_t exponent = int64_t{hi} + 1 - static_cast<int64_t>(first);
  EDDY_RETURN_IF_ERROR(Validate(exponent, count));

  std::string digits(count, '0');
  for (size_t k = 0; k < count; ++k) {
    digits[k] = static_cast<char>('0' + x[first + k]);
  }
  return Number(negative, std::move(digits), static_cast<int32_t>(exponent));
}

int Number::Compare(const Number& other) const {
  const int sign = IsZero() ? 0 : (negative_ ? -1 : 1);
  const int other_sign = other.IsZero() ? 0 : (other.negative_ ? -1 : 1);
  if (sign != other_sign) return sign < other_sign ? -1 : 1;
  if (sign == 0) return 0;
  int magnitude;
  if (exponent_ != other.exponent_) {
    magnitude = exponent_ < other.exponent_ ? -1 : 1;
  } else {
    // Same exponent: digit strings compare like the fractions 0.<digits>.
    const int c = digits_.compare(other.digits_);
    magnitude = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return negative_ ? -magnitude : magnitude;
}

size_t Number::StorageSize() const { return (digits_.size() + 1) / 2 + 1; }

void Number::AppendOrderedEncoding(std::string* out) const {
  if (IsZero()) {
    out->push_back(static_cast<char>(kTagZero));
    return;
  }
  char buf[3 + kMaxDigits / 2];
  size_t len = 0;
  const auto biased = static_cast<uint8_t>(exponent_ - kMinExponent);
  buf[len++] = static_cast<char>(negative_ ? kTagNegative : kTagPositive);
  buf[len++] = static_cast<char>(negative_ ? 255 - biased : biased);
  const size_t n = digits_.size();
  for (size_t i = 0; i < n; i += 2) {
    const int hi_digit = digits_[i] - '0';
    const int lo_digit = i + 1 < n ? digits_[i + 1] - '0' : 0;
    const int pair = 1 + 10 * hi_digit + lo_digit;
    buf[len++] = static_cast<char>(negative_ ? kNegativePairBase - pair : pair);
  }
  buf[len++] =
      static_cast<char>(negative_ ? kNegativeTerminator : kPositiveTerminator);
  out->append(buf, len);
}

Result<Number> Number::DecodeOrdered(std::string_view* in) {
  const std::string_view data = *in;
  if (data.empty()) return Status::Corruption("number: missing tag");
  const auto tag = static_cast<uint8_t>(data[0]);
  if (tag == kTagZero) {
    in->remove_prefix(1);
    return Number();
  }
  if (tag != kTagPositive && tag != kTagNegative) {
    return Status::Corruption("number: bad tag");
  }
  const bool negative = tag == kTagNegative;
  if (data.size() < 2) return Status::Corruption("number: truncated");
  const auto biased = static_cast<uint8_t>(data[1]);
  const int32_t exponent = (negative ? 255 - biased : biased) + kMinExponent;

  char digits[kMaxDigits];
  size_t count = 0;
  size_t pos = 2;
  const uint8_t terminator =
      negative ? kNegativeTerminator : kPositiveTerminator;
  for (;;) {
    if (pos >= data.size()) return Status::Corruption("number: truncated");
    const auto b = static_cast<uint8_t>(data[pos++]);
    if (b == terminator) break;
    const int pair = negative ? kNegativePairBase - b : b;
    if (pair < 1 || pair > 100) {
      return Status::Corruption("number: bad digit byte");
    }
    if (count + 2 > static_cast<size_t>(kMaxDigits)) {
      return Status::Corruption("number: too many digits");
    }
    digits[count++] = static_cast<char>('0' + (pair - 1) / 10);
    digits[count++] = static_cast<char>('0' + (pair - 1) % 10);
  }
  // Canonical form: at least one pair, no leading zero, at most one trailing
  // zero (the padding of an odd digit count), which is dropped.
  if (count == 0 || digits[0] == '0') {
    return Status::Corruption("number: not normalised");
  }
  if (digits[count - 1] == '0') --count;
  if (digits[count - 1] == '0') {
    return Status::Corruption("number: not normalised");
  }
  in->remove_prefix(pos);
  return Number(negative, std::string(digits, count), exponent);
}

}  // namespace eddy::store
