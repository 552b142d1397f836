#include "audit_entry.h"

#include <openssl/evp.h>

#include <cstdio>
#include <ctime>

namespace eddy::audit {
namespace {

constexpr std::string_view kHashMember = ",\"hash\":\"";
constexpr size_t kHashSize = 64;

bool IsHex(std::string_view s) {
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A cursor over the fixed-order members at the start of an entry.
class Reader {
 public:
  explicit Reader(std::string_view text) : rest_(text) {}

  bool Literal(std::string_view expected) {
    if (rest_.substr(0, expected.size()) != expected) return false;
    rest_.remove_prefix(expected.size());
    return true;
  }
  // A string member's value up to its closing quote (no escapes: the
  // header members never need them).
  bool PlainString(std::string* out) {
    const size_t end = rest_.find_first_of("\"\\");
    if (end == std::string_view::npos || rest_[end] != '"') return false;
    out->assign(rest_.substr(0, end));
    rest_.remove_prefix(end + 1);
    return true;
  }
  bool Integer(int64_t* out) {
    bool negative = Literal("-");
    size_t digits = 0;
    int64_t value = 0;
    while (digits < rest_.size() && digits < 18 && rest_[digits] >= '0' &&
           rest_[digits] <= '9') {
      value = value * 10 + (rest_[digits] - '0');
      ++digits;
    }
    if (digits == 0) return false;
    rest_.remove_prefix(digits);
    *out = negative ? -value : value;
    return true;
  }

 private:
  std::string_view rest_;
};

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(),
                 nullptr) != 1) {
    return std::string();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string JsonQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string IsoTime(int64_t epoch_ms) {
  int64_t seconds = epoch_ms / 1000;
  int64_t millis = epoch_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf;
}

std::string SealEntry(std::string body, std::string* hash) {
  *hash = Sha256Hex(body + "}");
  body += kHashMember;
  body += *hash;
  body += "\"}";
  return body;
}

bool ParseEntry(std::string_view line, EntryHeader* header,
                std::string* error) {
  if (line.empty()) {
    *error = "empty line";
    return false;
  }
  const size_t suffix_size = kHashMember.size() + kHashSize + 2;
  const size_t hash_at = line.size() >= suffix_size ? line.size() - suffix_size
                                                    : std::string_view::npos;
  if (hash_at == std::string_view::npos ||
      line.substr(hash_at, kHashMember.size()) != kHashMember ||
      line.substr(line.size() - 2) != "\"}" ||
      !IsHex(line.substr(hash_at + kHashMember.size(), kHashSize))) {
    *error = "it does not end with a \"hash\" member";
    return false;
  }
  header->hash.assign(line.substr(hash_at + kHashMember.size(), kHashSize));

  Reader r(line.substr(0, hash_at));
  int64_t entry = 0;
  const char* member = "entry";
  bool ok = r.Literal("{\"entry\":") && r.Integer(&entry) && entry > 0;
  if (ok) {
    member = "prev";
    ok = r.Literal(",\"prev\":\"") && r.PlainString(&header->prev) &&
         header->prev.size() == kHashSize && IsHex(header->prev);
  }
  if (ok) {
    member = "time";
    ok = r.Literal(",\"time\":\"") && r.PlainString(&header->time);
  }
  if (ok) {
    member = "approximateCreationDateTime";
    ok = r.Literal(",\"approximateCreationDateTime\":") &&
         r.Integer(&header->approximate_creation_date_time);
  }
  if (ok) {
    member = "sequenceNumber";
    ok = r.Literal(",\"sequenceNumber\":\"") &&
         r.PlainString(&header->sequence_number) &&
         !header->sequence_number.empty();
  }
  if (ok) {
    member = "shard";
    ok = r.Literal(",\"shard\":\"") && r.PlainString(&header->shard);
  }
  if (ok) {
    member = "table";
    ok = r.Literal(",\"table\":\"") && r.PlainString(&header->table);
  }
  if (ok) {
    member = "eventName";
    ok = r.Literal(",\"eventName\":\"") && r.PlainString(&header->event_name);
  }
  if (!ok) {
    *error =
        std::string("its \"") + member + "\" member is missing or malformed";
    return false;
  }
  header->entry = static_cast<uint64_t>(entry);
  return true;
}

std::string CanonicalHash(std::string_view line) {
  const size_t suffix_size = kHashMember.size() + kHashSize + 2;
  std::string canonical(line.substr(0, line.size() - suffix_size));
  canonical += '}';
  return Sha256Hex(canonical);
}

bool SequenceBefore(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

}  // namespace eddy::audit
