// Tests for eddy::store::Number: DynamoDB's number syntax, normalisation,
// limits and messages, exact arithmetic and the ordered encoding.

#include "eddy/store/number.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace eddy {
// Prints a Result as its status or "OK" (not its bytes) in failures.
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  *os << r.status().ToString();
}
}  // namespace eddy

namespace eddy::store {
namespace {

using ::testing::HasSubstr;

MATCHER(IsOk, "is OK") {
  if (!arg.ok()) *result_listener << arg.status().ToString();
  return arg.ok();
}

// An InvalidArgument Result with exactly this message.
MATCHER_P(FailsWith, message, "fails with \"" + std::string(message) + "\"") {
  if (arg.ok()) {
    *result_listener << "is OK";
    return false;
  }
  *result_listener << arg.status().ToString();
  return arg.status().IsInvalidArgument() && arg.status().message() == message;
}

constexpr char kNotNumeric[] =
    "The parameter cannot be converted to a numeric value: ";
constexpr char kTooManyDigits[] =
    "Attempting to store more than 38 significant digits in a Number";
constexpr char kOverflow[] =
    "Number overflow. Attempting to store a number with magnitude larger than "
    "supported range";
constexpr char kUnderflow[] =
    "Number underflow. Attempting to store a number with magnitude smaller "
    "than supported range";

// The largest magnitude: 38 nines at E+125.
const std::string kMaxText = "9." + std::string(37, '9') + "E+125";

class NumberTest : public ::testing::Test {
 protected:
  // Parses `text`, which must be valid.
  static Number N(std::string_view text) {
    Result<Number> n = Number::Parse(text);
    EXPECT_THAT(n, IsOk()) << text;
    return n.ok() ? *n : Number();
  }

  // Canonical text of `text`.
  static std::string Canon(std::string_view text) { return N(text).ToString(); }

  static Result<Number> Parse(std::string_view text) {
    return Number::Parse(text);
  }

  // Canonical text of a + b, or the error message.
  static std::string Sum(std::string_view a, std::string_view b) {
    return TextOf(N(a).Add(N(b)));
  }
  static std::string Difference(std::string_view a, std::string_view b) {
    return TextOf(N(a).Subtract(N(b)));
  }

  static std::string TextOf(const Result<Number>& r) {
    return r.ok() ? r->ToString() : r.status().message();
  }

  static std::string Encode(const Number& n) {
    std::string out;
    n.AppendOrderedEncoding(&out);
    return out;
  }

  // A random valid number: 1..38 digits, any exponent, either sign, zero
  // now and then.
  static Number RandomNumber(std::mt19937_64& rng) {
    std::uniform_int_distribution<int> len_dist(1, Number::kMaxDigits);
    std::uniform_int_distribution<int> digit_dist(0, 9);
    std::uniform_int_distribution<int> exp_dist(-129, 126);
    if (rng() % 50 == 0) return Number();
    // Small digit counts and exponents collide often, which exercises ties
    // and shared prefixes.
    const bool narrow = rng() % 2 == 0;
    const int len = narrow ? 1 + static_cast<int>(rng() % 4) : len_dist(rng);
    std::string digits;
    for (int i = 0; i < len; ++i) {
      digits.push_back(static_cast<char>('0' + digit_dist(rng)));
    }
    digits.front() = static_cast<char>('1' + rng() % 9);
    digits.back() = static_cast<char>('1' + rng() % 9);
    const int exp = narrow ? static_cast<int>(rng() % 5) - 2 : exp_dist(rng);
    std::string text =
        (rng() % 2 == 0 ? "-0." : "0.") + digits + "e" + std::to_string(exp);
    return N(text);
  }
};

// Plain integers and signs parse as written.
TEST_F(NumberTest, ParsesIntegersAndSigns) {
  EXPECT_EQ(Canon("1"), "1");
  EXPECT_EQ(Canon("-1"), "-1");
  EXPECT_EQ(Canon("+3"), "3");
  EXPECT_EQ(Canon("1234567890"), "1234567890");
}

// Equal values have one canonical text, so equality is text equality.
TEST_F(NumberTest, TrailingZerosAreNormalised) {
  EXPECT_EQ(Canon("1.0"), "1");
  EXPECT_EQ(Canon("01"), "1");
  EXPECT_EQ(Canon("1e0"), "1");
  EXPECT_EQ(Canon("10E-1"), "1");
  EXPECT_EQ(Canon("1.500"), "1.5");
  EXPECT_EQ(Canon("000.000100"), "0.0001");
  EXPECT_EQ(Canon("1000"), "1000");
  EXPECT_EQ(Canon("100.00e1"), "1000");
}

// DynamoDB accepts a bare leading or trailing decimal point.
TEST_F(NumberTest, AcceptsPointWithoutDigitsOnOneSide) {
  EXPECT_EQ(Canon(".5"), "0.5");
  EXPECT_EQ(Canon("5."), "5");
  EXPECT_EQ(Canon("-.5"), "-0.5");
  EXPECT_EQ(Canon("+5.e1"), "50");
}

// Exponents are applied exactly and the result printed in plain notation.
TEST_F(NumberTest, ExponentsArePrintedPlain) {
  EXPECT_EQ(Canon("1e10"), "10000000000");
  EXPECT_EQ(Canon("1E-5"), "0.00001");
  EXPECT_EQ(Canon("1e+2"), "100");
  EXPECT_EQ(Canon("-1.25e1"), "-12.5");
  EXPECT_EQ(Canon("123.456e-3"), "0.123456");
  EXPECT_EQ(Canon("123.456e2"), "12345.6");
  EXPECT_EQ(Canon("0.001"), "0.001");
}

// Every spelling of zero is "0", never "-0".
TEST_F(NumberTest, NegativeZeroIsZero) {
  for (const char* text : {"0", "-0", "+0", "-0.000", "0.0", ".0", "0.",
                           "0e999999", "-0e-999999999999", "000"}) {
    const Number n = N(text);
    EXPECT_TRUE(n.IsZero()) << text;
    EXPECT_FALSE(n.negative()) << text;
    EXPECT_EQ(n.ToString(), "0") << text;
    EXPECT_EQ(n, Number()) << text;
  }
}

// Anything outside the grammar is rejected with the text quoted back.
TEST_F(NumberTest, MalformedTextIsNotNumeric) {
  for (const char* text :
       {"",          " 1", "1 ",    "dog", "NaN", "nan", "Infinity",
        "-Infinity", "1e", "1e+",   "e5",  "--1", "+-1", "0x10",
        "1.2.3",     ".",  "-",     "+",   "-.",  "1,5", "1e5.5",
        "1e1e1",     "١",  "1_000", "\t1", "1\n"}) {
    EXPECT_THAT(Parse(text), FailsWith(kNotNumeric + std::string(text)))
        << "'" << text << "'";
  }
}

// Embedded NUL bytes are not digits.
TEST_F(NumberTest, EmbeddedNulIsNotNumeric) {
  const std::string text(
      "1\0"
      "2",
      3);
  EXPECT_THAT(Parse(text), FailsWith(kNotNumeric + text));
}

// 38 significant digits are the limit; leading and trailing zeros do not
// count.
TEST_F(NumberTest, ThirtyEightDigitsIsTheLimit) {
  const std::string d38 = "1" + std::string(36, '2') + "3";
  ASSERT_EQ(d38.size(), 38u);
  EXPECT_EQ(Canon(d38), d38);
  EXPECT_EQ(Canon("-" + d38), "-" + d38);
  EXPECT_THAT(Parse(d38 + "4"), FailsWith(kTooManyDigits));
  EXPECT_THAT(Parse("0." + d38 + "4"), FailsWith(kTooManyDigits));
  EXPECT_THAT(Parse("1." + std::string(37, '0') + "1"),
              FailsWith(kTooManyDigits));
  EXPECT_EQ(Canon("000" + d38 + "000"), d38 + "000");
  EXPECT_EQ(Canon("0.000" + d38 + "000"), "0.000" + d38);
  EXPECT_EQ(Canon("1" + std::string(100, '0')), "1" + std::string(100, '0'));
}

// The smallest magnitude is 1E-130; anything smaller but non-zero
// underflows.
TEST_F(NumberTest, UnderflowBoundary) {
  EXPECT_EQ(Canon("1E-130"), "0." + std::string(129, '0') + "1");
  EXPECT_EQ(Canon("-1E-130"), "-0." + std::string(129, '0') + "1");
  EXPECT_EQ(Canon("0.1E-129"), Canon("1E-130"));
  EXPECT_THAT(Parse("1E-131"), FailsWith(kUnderflow));
  EXPECT_THAT(Parse("-1E-131"), FailsWith(kUnderflow));
  EXPECT_THAT(Parse("9.9E-131"), FailsWith(kUnderflow));
  EXPECT_THAT(Parse("0." + std::string(130, '0') + "1"), FailsWith(kUnderflow));
}

// The largest magnitude is 9.99..(38 digits)E+125; 1E+126 overflows.
TEST_F(NumberTest, OverflowBoundary) {
  const Number max = N(kMaxText);
  EXPECT_EQ(max.ToString(), std::string(38, '9') + std::string(88, '0'));
  EXPECT_EQ(Canon("-" + kMaxText), "-" + max.ToString());
  EXPECT_EQ(Canon("1E+125"), "1" + std::string(125, '0'));
  EXPECT_THAT(Parse("1E+126"), FailsWith(kOverflow));
  EXPECT_THAT(Parse("-1E+126"), FailsWith(kOverflow));
  EXPECT_THAT(Parse("10E125"), FailsWith(kOverflow));
  EXPECT_THAT(Parse("1" + std::string(126, '0')), FailsWith(kOverflow));
}

// Out of range and too precise at once: the range error wins.
TEST_F(NumberTest, RangeErrorWinsOverPrecision) {
  EXPECT_THAT(Parse(std::string(40, '7') + "e100"), FailsWith(kOverflow));
  EXPECT_THAT(Parse("0." + std::string(40, '7') + "e-140"),
              FailsWith(kUnderflow));
}

// Huge exponents cannot overflow the parser's arithmetic nor allocate
// digits for the exponent.
TEST_F(NumberTest, HugeExponentsAreRangeErrors) {
  EXPECT_THAT(Parse("1e999999999999"), FailsWith(kOverflow));
  EXPECT_THAT(Parse("1e-999999999999"), FailsWith(kUnderflow));
  EXPECT_THAT(Parse("1e" + std::string(400, '9')), FailsWith(kOverflow));
  EXPECT_THAT(Parse("-1e-" + std::string(400, '9')), FailsWith(kUnderflow));
  EXPECT_THAT(Parse("1e9223372036854775807"), FailsWith(kOverflow));
  EXPECT_THAT(Parse("1e-9223372036854775808"), FailsWith(kUnderflow));
  EXPECT_EQ(Canon("0e" + std::string(400, '9')), "0");
}

// Long mantissas and exponents cancel exactly.
TEST_F(NumberTest, LongMantissaWithCancellingExponent) {
  EXPECT_EQ(Canon("0." + std::string(200, '0') + "1e201"), "1");
  EXPECT_EQ(Canon("1" + std::string(200, '0') + "e-200"), "1");
  EXPECT_EQ(Canon(std::string(100000, '0') + "5"), "5");
}

// Numbers compare by value, whatever their spelling.
TEST_F(NumberTest, CompareIsNumeric) {
  EXPECT_LT(N("-1"), N("0"));
  EXPECT_LT(N("0"), N("1"));
  EXPECT_LT(N("0.1"), N("0.12"));
  EXPECT_LT(N("-0.12"), N("-0.1"));
  EXPECT_LT(N("9"), N("10"));
  EXPECT_LT(N("-10"), N("-9"));
  EXPECT_LT(N("1e-130"), N("2e-130"));
  EXPECT_EQ(N("1"), N("1.00"));
  EXPECT_EQ(N("1").Compare(N("1e0")), 0);
  EXPECT_EQ(N("2").Compare(N("1")), 1);
  EXPECT_EQ(N("1").Compare(N("2")), -1);
}

// StorageSize is (significant digits + 1) / 2 + 1.
TEST_F(NumberTest, StorageSizeCountsSignificantDigits) {
  EXPECT_EQ(N("0").StorageSize(), 1u);
  EXPECT_EQ(N("1").StorageSize(), 2u);
  EXPECT_EQ(N("12").StorageSize(), 2u);
  EXPECT_EQ(N("123").StorageSize(), 3u);
  EXPECT_EQ(N("-1000").StorageSize(), 2u);
  EXPECT_EQ(N("0.001").StorageSize(), 2u);
  EXPECT_EQ(N("1.5").StorageSize(), 2u);
  EXPECT_EQ(N(kMaxText).StorageSize(), 20u);
}

// IsCanonical accepts exactly ToString's output.
TEST_F(NumberTest, IsCanonicalAcceptsOnlyToStringOutput) {
  for (const char* text : {"0", "1", "-1", "1.5", "0.001", "1000", "-12.5"}) {
    EXPECT_TRUE(Number::IsCanonical(text)) << text;
  }
  for (const char* text : {"", "-0", "+1", "01", "1.0", "1.", ".5", "1e3",
                           "0.0", "dog", "1E-131", "00"}) {
    EXPECT_FALSE(Number::IsCanonical(text)) << text;
  }
}

// IsCanonical checks the text's form without parsing it; it must agree with
// its definition, "Parse succeeds and ToString gives the text back", on
// everything: short random texts over the number alphabet, and texts at the
// limits (38 digits, exponents 126 and -129) and one step beyond them.
TEST_F(NumberTest, IsCanonicalIsParseThenToString) {
  auto by_definition = [](std::string_view text) {
    Result<Number> n = Number::Parse(text);
    return n.ok() && n->ToString() == text;
  };
  std::vector<std::string> texts;
  std::mt19937_64 rng(11);
  static constexpr char kAlphabet[] = "0123456789.-+eE";
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    for (uint64_t len = rng() % 9; len > 0; --len) {
      // Digits most of the time, so that many texts are numbers.
      text.push_back(rng() % 3 != 0 ? static_cast<char>('0' + rng() % 10)
                                    : kAlphabet[rng() % 15]);
    }
    texts.push_back(std::move(text));
  }
  const std::string digits38 = "12345678901234567890123456789012345678";
  for (const std::string sign : {"", "-"}) {
    for (size_t zeros : {0, 1, 87, 88, 89, 127, 128, 129, 130}) {
      const std::string z(zeros, '0');
      texts.push_back(sign + "0." + z + "1");
      texts.push_back(sign + "0." + z + digits38);
      texts.push_back(sign + "0." + z + digits38 + "9");
      texts.push_back(sign + "1" + z);
      texts.push_back(sign + "9" + z);
      texts.push_back(sign + digits38 + z);
      texts.push_back(sign + digits38 + "9" + z);
      texts.push_back(sign + "1" + z + ".5");
      texts.push_back(sign + "1" + z + "." + digits38);
      texts.push_back(sign + digits38.substr(0, 20) + "." + z + "1");
    }
  }
  int canonical = 0;
  for (const std::string& text : texts) {
    const bool expected = by_definition(text);
    EXPECT_EQ(Number::IsCanonical(text), expected) << text;
    canonical += expected ? 1 : 0;
  }
  EXPECT_GT(canonical, 1000);  // The random texts are not all rejects.
}

// Addition carries across digits and grows the exponent.
TEST_F(NumberTest, AddCarries) {
  EXPECT_EQ(Sum("99", "1"), "100");
  EXPECT_EQ(Sum("9.99", "0.01"), "10");
  EXPECT_EQ(Sum("-99", "-1"), "-100");
  EXPECT_EQ(Sum("1", "1"), "2");
  EXPECT_EQ(Sum("123", "0.456"), "123.456");
}

// Decimal fractions add exactly, unlike binary floating point.
TEST_F(NumberTest, DecimalFractionsAreExact) {
  EXPECT_EQ(Sum("0.1", "0.2"), "0.3");
  EXPECT_EQ(Difference("0.3", "0.1"), "0.2");
  EXPECT_EQ(Sum("1e-130", "1e-130"), "0." + std::string(129, '0') + "2");
}

// Subtraction borrows across digits and shrinks the exponent.
TEST_F(NumberTest, SubtractBorrows) {
  EXPECT_EQ(Difference("100", "1"), "99");
  EXPECT_EQ(Difference("1", "0.001"), "0.999");
  EXPECT_EQ(Difference("1000.5", "1000"), "0.5");
  EXPECT_EQ(Difference("10", "9.99"), "0.01");
}

// Mixed signs subtract magnitudes and take the larger one's sign.
TEST_F(NumberTest, SignChanges) {
  EXPECT_EQ(Difference("1", "2"), "-1");
  EXPECT_EQ(Sum("-5", "3"), "-2");
  EXPECT_EQ(Sum("5", "-3"), "2");
  EXPECT_EQ(Sum("-3", "5"), "2");
  EXPECT_EQ(Difference("-1", "-2"), "1");
  EXPECT_EQ(Difference("-2", "1"), "-3");
}

// x - x is the canonical, non-negative zero.
TEST_F(NumberTest, CancellationGivesZero) {
  for (const char* text : {"1", "-1.5", "1e-130", kMaxText.c_str()}) {
    Result<Number> r = N(text).Subtract(N(text));
    ASSERT_THAT(r, IsOk());
    EXPECT_TRUE(r->IsZero());
    EXPECT_FALSE(r->negative());
    EXPECT_EQ(r->ToString(), "0");
    EXPECT_EQ(Sum(text, Difference("0", text)), "0");
  }
}

// Zero operands return the other operand (with the right sign).
TEST_F(NumberTest, ZeroOperands) {
  EXPECT_EQ(Sum("0", "-1.5"), "-1.5");
  EXPECT_EQ(Sum("-1.5", "0"), "-1.5");
  EXPECT_EQ(Difference("0", "-1.5"), "1.5");
  EXPECT_EQ(Difference("0", "2"), "-2");
  EXPECT_EQ(Difference("2", "0"), "2");
  EXPECT_EQ(Sum("0", "0"), "0");
}

// Exact results needing more than 38 digits fail; trimmed trailing zeros do
// not count, so a carry into a new digit can still fit.
TEST_F(NumberTest, ResultsBeyondThirtyEightDigits) {
  EXPECT_EQ(Sum("1e20", "1e-20"), kTooManyDigits);
  EXPECT_EQ(Sum("1e125", "1e-129"), kTooManyDigits);
  const std::string nines38(38, '9');
  EXPECT_EQ(Sum(nines38, "1"), "1" + std::string(38, '0'));
  EXPECT_EQ(Sum(nines38, "2"), kTooManyDigits);
  EXPECT_EQ(Sum("1" + std::string(36, '0') + "1", "0.5"), kTooManyDigits);
  const std::string d37 = "1" + std::string(35, '0') + "1";
  EXPECT_EQ(Sum(d37, "0.5"), d37 + ".5");
}

// Results outside the range fail like Parse does.
TEST_F(NumberTest, ResultsOutOfRange) {
  EXPECT_EQ(Sum(kMaxText, "1e88"), kOverflow);
  EXPECT_EQ(Sum("-" + kMaxText, "-" + kMaxText), kOverflow);
  EXPECT_EQ(Difference(kMaxText, "-5e125"), kOverflow);
  // 1.1E-130 - 1E-130 = 1E-131.
  EXPECT_EQ(Difference("1.1e-130", "1e-130"), kUnderflow);
  EXPECT_EQ(Difference("2e-130", "1e-130"), Canon("1e-130"));
}

// Arithmetic agrees with 128-bit integer arithmetic on random values of a
// shared scale.
TEST_F(NumberTest, ArithmeticMatchesInt128) {
  std::mt19937_64 rng(20240611);
  auto to_text = [](__int128 v, int scale) {
    const bool negative = v < 0;
    unsigned __int128 m = negative ? -static_cast<unsigned __int128>(v)
                                   : static_cast<unsigned __int128>(v);
    std::string digits;
    do {
      digits.insert(digits.begin(), static_cast<char>('0' + m % 10));
      m /= 10;
    } while (m != 0);
    return (negative ? "-" : "") + digits + "e" + std::to_string(-scale);
  };
  for (int i = 0; i < 5000; ++i) {
    // Magnitudes below 2^100 (31 digits) keep sums within 38 digits.
    const int bits = 1 + static_cast<int>(rng() % 100);
    auto random_value = [&] {
      __int128 v = static_cast<__int128>(rng() >> 1) << 40 ^
                   static_cast<__int128>(rng() >> 24);
      v &= (static_cast<__int128>(1) << bits) - 1;
      return rng() % 2 == 0 ? -v : v;
    };
    const __int128 a = random_value();
    const __int128 b = random_value();
    const int scale = static_cast<int>(rng() % 60) - 20;
    const std::string ta = to_text(a, scale);
    const std::string tb = to_text(b, scale);
    EXPECT_EQ(Sum(ta, tb), Canon(to_text(a + b, scale))) << ta << " + " << tb;
    EXPECT_EQ(Difference(ta, tb), Canon(to_text(a - b, scale)))
        << ta << " - " << tb;
    EXPECT_EQ(N(ta).Compare(N(tb)), a < b ? -1 : (a > b ? 1 : 0));
  }
}

// Known encodings pin the format: it is persisted in keys.
TEST_F(NumberTest, OrderedEncodingIsStable) {
  EXPECT_EQ(Encode(N("0")), std::string("\x02", 1));
  // 1 = 0.1e1: exponent byte 1 + 129 = 130, pair (1, 0) = 11.
  EXPECT_EQ(Encode(N("1")), std::string("\x03\x82\x0b\x00", 4));
  // -12.5 = -0.125e2: 255 - 131, pairs (1,2)=13, (5,0)=51 inverted.
  EXPECT_EQ(Encode(N("-12.5")), std::string("\x01\x7c\xf1\xcb\xff", 5));
  EXPECT_EQ(Encode(N(kMaxText)).size(), 22u);
}

// Sorting by encoding and sorting by value agree on thousands of random
// numbers, and every encoding decodes back to its number.
TEST_F(NumberTest, OrderedEncodingSortsNumerically) {
  std::mt19937_64 rng(42);
  std::vector<Number> numbers;
  for (int i = 0; i < 5000; ++i) numbers.push_back(RandomNumber(rng));
  for (const char* edge :
       {"1e-130", "-1e-130", "0", "1", "-1", "0.1", "-0.1"}) {
    numbers.push_back(N(edge));
  }
  numbers.push_back(N(kMaxText));
  numbers.push_back(N("-" + kMaxText));

  std::vector<std::pair<std::string, Number>> encoded;
  for (const Number& n : numbers) encoded.emplace_back(Encode(n), n);
  std::sort(encoded.begin(), encoded.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < encoded.size(); ++i) {
    const int by_value = encoded[i - 1].second.Compare(encoded[i].second);
    EXPECT_LE(by_value, 0) << encoded[i - 1].second.ToString() << " vs "
                           << encoded[i].second.ToString();
    // Equal encodings exactly when equal values.
    EXPECT_EQ(by_value == 0, encoded[i - 1].first == encoded[i].first);
  }
  for (const auto& [bytes, n] : encoded) {
    std::string_view in = bytes;
    Result<Number> decoded = Number::DecodeOrdered(&in);
    ASSERT_THAT(decoded, IsOk());
    EXPECT_EQ(decoded->ToString(), n.ToString());
    EXPECT_TRUE(in.empty());
  }
}

// Encodings are self-delimiting: a sequence decodes one number at a time.
TEST_F(NumberTest, OrderedEncodingIsSelfDelimiting) {
  std::string bytes;
  const std::vector<std::string> texts = {"-12.5", "0", "1e-130", "7",
                                          kMaxText};
  for (const std::string& t : texts) N(t).AppendOrderedEncoding(&bytes);
  bytes += "tail";
  std::string_view in = bytes;
  for (const std::string& t : texts) {
    Result<Number> n = Number::DecodeOrdered(&in);
    ASSERT_THAT(n, IsOk());
    EXPECT_EQ(*n, N(t));
  }
  EXPECT_EQ(in, "tail");
}

// Malformed or non-canonical encodings are Corruption, and leave the input
// untouched.
TEST_F(NumberTest, DecodeOrderedRejectsMalformedInput) {
  const std::vector<std::string> bad = {
      std::string(),                           // Empty.
      std::string("\x04", 1),                  // Unknown tag.
      std::string("\x03", 1),                  // No exponent.
      std::string("\x03\x82", 2),              // No terminator.
      std::string("\x03\x82\x0b", 3),          // No terminator.
      std::string("\x03\x82\x00", 3),          // No digits.
      std::string("\x03\x82\x65\x00", 4),      // Pair byte 101.
      std::string("\x03\x82\x01\x00", 4),      // Leading zero (pair 00).
      std::string("\x03\x82\x0b\x01\x00", 5),  // Trailing zeros (pair 00).
      std::string("\x01\x7d\xff", 3),          // Negative, no digits.
      std::string("\x01\x7d\x00\xff", 4),      // Negative, bad pair byte.
      std::string("\x03\x82") + std::string(20, '\x0c') + std::string(1, '\0'),
  };
  for (const std::string& bytes : bad) {
    std::string_view in = bytes;
    Result<Number> n = Number::DecodeOrdered(&in);
    EXPECT_FALSE(n.ok());
    if (!n.ok()) {
      EXPECT_TRUE(n.status().IsCorruption());
    }
    EXPECT_EQ(in.size(), bytes.size());
  }
  // Random bytes never crash and, when accepted, re-encode identically.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(1 + rng() % 24, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (rng() % 2 == 0) bytes[0] = static_cast<char>(1 + rng() % 3);
    std::string_view in = bytes;
    Result<Number> n = Number::DecodeOrdered(&in);
    if (n.ok()) {
      const size_t used = bytes.size() - in.size();
      EXPECT_EQ(Encode(*n), bytes.substr(0, used));
    }
  }
}

// Error messages name the offending text verbatim, even when long.
TEST_F(NumberTest, NotNumericMessageQuotesInput) {
  Result<Number> r = Number::Parse("12abc");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("numeric value: 12abc"));
}

}  // namespace
}  // namespace eddy::store
