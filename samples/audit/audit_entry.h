// audit_entry.h: one entry of the audit log, shared by the handler (which
// writes entries) and eddy-audit (which verifies them).
//
// The log is JSON lines, one entry per line, members in this order:
//
//   {"entry":3,"prev":"<64 hex>","time":"2026-11-26T22:41:15.123Z",
//    "approximateCreationDateTime":1795732875,
//    "sequenceNumber":"100000000000000000007",
//    "shard":"shardId-00000001795732873820-30b3505d","table":"Accounts",
//    "eventName":"MODIFY","who":"unknown",
//    "keys":{...},"oldImage":{...},"newImage":{...},"hash":"<64 hex>"}
//
//   entry     1, 2, 3, ...: the entry's position in the chain.
//   prev      the previous entry's hash; 64 zeros for entry 1.
//   time      ApproximateCreationDateTime with milliseconds (UTC);
//             approximateCreationDateTime is the record's own value (epoch
//             seconds).
//   sequenceNumber, shard: where the record sits in its table's stream.
//   who       the principal if known, else "unknown". A delete made by Time
//             To Live also carries the record's userIdentity,
//             {"type":"Service","principalId":"dynamodb.amazonaws.com"}, and
//             "who":"dynamodb.amazonaws.com".
//   keys, oldImage, newImage: as in the stream record (DynamoDB JSON); an
//             image the record does not have is left out.
//   hash      SHA-256 (lower-case hex) of the entry's canonical text: the
//             line without its `,"hash":"..."` member, i.e. everything
//             before `,"hash":"` followed by `}`.
//
// So altering an entry breaks its own hash, and removing, inserting or
// reordering entries breaks the next entry's prev.
//
// Thread-safety: plain functions and a value type.
#ifndef EDDY_SAMPLES_AUDIT_AUDIT_ENTRY_H_
#define EDDY_SAMPLES_AUDIT_AUDIT_ENTRY_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace eddy::audit {

// prev of the first entry.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The members an entry starts with (everything up to "who").
struct EntryHeader {
  uint64_t entry = 0;
  std::string prev;
  std::string time;
  int64_t approximate_creation_date_time = 0;
  std::string sequence_number;
  std::string shard;
  std::string table;
  std::string event_name;
  std::string hash;  // The hash the line claims (its last member).
};

// SHA-256 of `data` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view s);

// Epoch milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string IsoTime(int64_t epoch_ms);

// Completes an entry: `body` is the entry without its closing brace (it ends
// with the last member before "hash"). Returns the full line, without a
// newline, and sets *hash to the entry's hash.
std::string SealEntry(std::string body, std::string* hash);

// Reads the header and the claimed hash of `line` (no newline). Returns
// false, with a reason in *error, if the line does not have the shape above.
// Does not check the hash; see CanonicalHash.
bool ParseEntry(std::string_view line, EntryHeader* header, std::string* error);

// The hash `line` should carry: SHA-256 of its canonical text.
// REQUIRES: ParseEntry(line, ...) succeeded.
std::string CanonicalHash(std::string_view line);

// True if sequence number `a` comes before `b` (decimal digits, no leading
// zeros: shorter is smaller).
bool SequenceBefore(std::string_view a, std::string_view b);

}  // namespace eddy::audit

#endif  // EDDY_SAMPLES_AUDIT_AUDIT_ENTRY_H_
