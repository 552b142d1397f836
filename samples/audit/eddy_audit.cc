// eddy-audit: checks an audit log written by the audit handler.
//
//   eddy-audit verify LOG [--anchor HASH]
//
// Walks the chain (format: audit_entry.h) and prints a summary with the
// head's hash, exit status 0, if every entry is intact. Otherwise it names
// the first broken line and why, and exits with 1:
//   - an entry that is not an audit entry, or a last line cut short;
//   - an entry whose content does not match its hash (it was altered);
//   - an entry whose prev is not the hash of the line before it (entries
//     were removed, inserted or reordered), or whose number is out of line;
//   - a record logged twice (a shard's sequence number that does not grow).
// Removing entries from the end leaves a valid, shorter chain: keep the
// head's hash somewhere else and pass it as --anchor, which fails unless
// that entry is still in the log.
//
// Exit status 2: bad usage, or the log cannot be read.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <utility>

#include "audit_entry.h"

namespace eddy::audit {
namespace {

constexpr int kIntact = 0;
constexpr int kBroken = 1;
constexpr int kUsage = 2;

void Usage(std::ostream& out) {
  out << "usage: eddy-audit verify LOG [--anchor HASH]\n"
         "  Checks the hash chain of an audit log written by the audit "
         "handler.\n"
         "  --anchor HASH  also require the entry with this hash (a head "
         "recorded\n"
         "                 earlier) to be in the log\n"
         "Exit status: 0 intact, 1 broken, 2 usage or I/O error.\n";
}

// Where a shard's records were last seen.
struct ShardPosition {
  std::string sequence_number;
  uint64_t line = 0;
};

std::string Range(uint64_t first, uint64_t last) {
  return first == last ? "entry " + std::to_string(first) + " is"
                       : "entries " + std::to_string(first) + " to " +
                             std::to_string(last) + " are";
}

// Why entry `header` on line `line` does not follow the chain so far
// (`entries` intact entries ending in `head`), or "" if it does.
std::string CheckLink(const EntryHeader& header, uint64_t line,
                      uint64_t entries, const std::string& head) {
  const uint64_t expected = entries + 1;
  const std::string entry = "entry " + std::to_string(header.entry);
  if (header.prev != head) {
    if (entries == 0) {
      return entry + " does not start the chain (its prev is not the " +
             "genesis hash)" +
             (header.entry > 1 ? ": " + Range(1, header.entry - 1) + " missing"
                               : std::string());
    }
    if (header.entry > expected) {
      return entry + " follows entry " + std::to_string(entries) + ": " +
             Range(expected, header.entry - 1) + " missing (deleted)";
    }
    return entry + "'s prev is not the hash of line " +
           std::to_string(line - 1) +
           ": entries were reordered, or the one before it was replaced";
  }
  if (header.entry != expected) {
    return "holds entry " + std::to_string(header.entry) + " where entry " +
           std::to_string(expected) + " belongs";
  }
  return std::string();
}

int Verify(const std::string& path, const std::string& anchor) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "eddy-audit: cannot open " << path << ": "
              << std::strerror(errno) << "\n";
    return kUsage;
  }
  auto broken = [&path](uint64_t line, const std::string& why) {
    std::cout << "BROKEN: " << path << ": line " << line << ": " << why << "\n";
    return kBroken;
  };

  uint64_t entries = 0;
  std::string head(kGenesisHash);
  std::string head_time;
  bool anchor_seen = false;
  std::map<std::string, uint64_t> per_table;
  std::map<std::string, ShardPosition> shards;
  std::string text;
  for (uint64_t line = 1; std::getline(in, text); ++line) {
    if (in.eof()) {
      return broken(line,
                    "incomplete entry (no newline at the end): a write was "
                    "cut short");
    }
    EntryHeader header;
    std::string error;
    if (!ParseEntry(text, &header, &error)) {
      return broken(line, "not an audit entry: " + error);
    }
    if (CanonicalHash(text) != header.hash) {
      return broken(line, "entry " + std::to_string(header.entry) +
                              " was altered: its content does not match "
                              "its hash");
    }
    if (std::string why = CheckLink(header, line, entries, head);
        !why.empty()) {
      return broken(line, why);
    }
    ShardPosition& shard = shards[header.shard];
    if (shard.line != 0 &&
        !SequenceBefore(shard.sequence_number, header.sequence_number)) {
      return broken(line, "entry " + std::to_string(header.entry) +
                              " logs sequence number " +
                              header.sequence_number + " of " + header.shard +
                              ", not after " + shard.sequence_number +
                              " (line " + std::to_string(shard.line) +
                              "): a record was logged twice or out of order");
    }
    shard = ShardPosition{header.sequence_number, line};
    ++entries;
    head = header.hash;
    head_time = header.time;
    ++per_table[header.table];
    if (head == anchor) anchor_seen = true;
  }
  if (in.bad()) {
    std::cerr << "eddy-audit: cannot read " << path << ": "
              << std::strerror(errno) << "\n";
    return kUsage;
  }
  if (!anchor.empty() && !anchor_seen) {
    std::cout << "BROKEN: " << path << ": no entry has the anchor hash "
              << anchor << ": entries were removed from the end, or the log "
              << "was rewritten\n";
    return kBroken;
  }

  std::cout << "OK: " << path << ": " << entries << " entries, chain intact";
  const char* separator = " (";
  for (const auto& [table, count] : per_table) {
    std::cout << separator << table << " " << count;
    separator = ", ";
  }
  std::cout << (per_table.empty() ? "" : ")") << "\n";
  if (entries == 0) {
    std::cout << "head: none (empty log)\n";
  } else {
    std::cout << "head: entry " << entries << ", " << head_time << ", hash "
              << head << "\n";
  }
  return kIntact;
}

int Main(int argc, char** argv) {
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 ||
                    std::strcmp(argv[1], "-h") == 0)) {
    Usage(std::cout);
    return kIntact;
  }
  if (argc < 3 || std::strcmp(argv[1], "verify") != 0) {
    Usage(std::cerr);
    return kUsage;
  }
  std::string path;
  std::string anchor;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--anchor" && i + 1 < argc) {
      anchor = argv[++i];
    } else if (arg.rfind("--anchor=", 0) == 0) {
      anchor = arg.substr(std::strlen("--anchor="));
    } else if (path.empty() && !arg.empty() && arg[0] != '-') {
      path = arg;
    } else {
      Usage(std::cerr);
      return kUsage;
    }
  }
  if (path.empty()) {
    Usage(std::cerr);
    return kUsage;
  }
  return Verify(path, anchor);
}

}  // namespace
}  // namespace eddy::audit

int main(int argc, char** argv) { return eddy::audit::Main(argc, argv); }
