// Fuzz target: the shard log reader (streams/): a segment file's bytes as
// ShardLog::Open finds them after a crash or on a damaged disk, then read
// back through the public API.
//
// Input: a flags byte and a base byte, then the file. Flags let the fuzzer
// past the checksums it cannot forge: bit 0 prepends a valid segment
// header (bit 2: of version 1, else of the current version), bit 1
// recomputes the CRC of every record whose header parses and whose length
// fits, so that sequence numbers, lengths, timestamps and truncation are
// explored too.
//
// Properties: Open either fails with Corruption or IOError, or yields a
// log whose records read back numbered without gaps; the log takes a new
// record after recovery, and reopening it shows the same records again
// (recovery is idempotent).
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eddy/streams/shard_log.h"
#include "fuzz_util.h"
#include "log_format.h"
#include "spdlog/sinks/null_sink.h"
#include "spdlog/spdlog.h"

namespace eddy::streams {
namespace {

// One scratch directory per process, in memory when /dev/shm exists;
// removed at exit.
std::string* g_scratch_dir = nullptr;

const std::string& ScratchDir() {
  if (g_scratch_dir == nullptr) {
    const std::string root =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string pattern = root + "/eddy-fuzz-shard-log-XXXXXX";
    EDDY_FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
    g_scratch_dir = new std::string(pattern);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(*g_scratch_dir, ignored);
    });
  }
  return *g_scratch_dir;
}

// The smallest record: a version 2 header with one-byte varints, no
// payload.
constexpr size_t kMinRecordBytes = 8;

// Recomputes the checksum of every record whose header parses and whose
// declared length fits, numbering each as it claims (format::
// ClaimedSequence).
void FixRecordChecksums(const format::SegmentHeader& segment,
                        std::string* file) {
  size_t offset = format::kSegmentHeaderSize;
  uint64_t expected = segment.base_sequence;
  while (offset < file->size()) {
    char* record = file->data() + offset;
    format::RecordHeader header;
    if (format::ParseRecordHeader(segment, record, file->size() - offset,
                                  &header) != format::HeaderParse::kOk ||
        header.record_size() > file->size() - offset ||
        format::RecordHeaderSize(segment, header.payload_size,
                                 header.timestamp_ms) != header.header_size) {
      return;  // FinishRecord writes minimal varints only.
    }
    const uint64_t sequence =
        format::ClaimedSequence(segment, header, expected);
    format::FinishRecord(segment, record, header.header_size,
                         header.payload_size, sequence, header.timestamp_ms);
    expected = sequence + 1;
    offset += header.record_size();
  }
}

std::unique_ptr<ShardLog> OpenLog(const std::string& dir, Status* status) {
  static auto logger = std::make_shared<spdlog::logger>(
      "fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  ShardLog::Options options;
  options.dir = dir;
  options.segment_bytes = 4096;
  options.logger = logger;
  options.clock_ms = [] { return int64_t{1}; };
  Result<std::unique_ptr<ShardLog>> log = ShardLog::Open(options);
  *status = log.status();
  return log.ok() ? std::move(*log) : nullptr;
}

// Every record, checked to be numbered without gaps; nullopt when a read
// fails (with Corruption: older segments are checked when read).
std::optional<std::vector<LogRecord>> ReadAll(ShardLog* log) {
  std::vector<LogRecord> all;
  uint64_t next = log->first_sequence();
  for (;;) {
    Result<ReadResult> read = log->Read(next, 7, 1000);
    if (!read.ok()) {
      EDDY_FUZZ_CHECK(read.status().IsCorruption() ||
                      read.status().IsIOError());
      return std::nullopt;
    }
    if (read->records.empty()) break;
    for (LogRecord& record : read->records) {
      EDDY_FUZZ_CHECK(record.sequence == next);
      ++next;
      all.push_back(std::move(record));
    }
    EDDY_FUZZ_CHECK(read->next_sequence == next);
  }
  EDDY_FUZZ_CHECK(next == log->last_sequence() + 1);
  return all;
}

bool SameRecords(const std::vector<LogRecord>& a,
                 const std::vector<LogRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].sequence != b[i].sequence || a[i].payload != b[i].payload ||
        a[i].timestamp_ms != b[i].timestamp_ms) {
      return false;
    }
  }
  return true;
}

}  // namespace
}  // namespace eddy::streams

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eddy::streams;
  eddy::fuzz::FuzzInput input(data, size);
  const uint8_t flags = input.Byte();
  const uint64_t base = 1 + input.Byte() % 3;
  std::string file;
  if ((flags & 1) != 0) {
    const format::SegmentHeader header{
        (flags & 4) != 0 ? format::kVersion1 : format::kCurrentVersion, base,
        1};
    file.resize(format::kSegmentHeaderSize);
    format::EncodeSegmentHeader(header, file.data());
  }
  file += input.Rest();
  if ((flags & 2) != 0 && file.size() >= format::kSegmentHeaderSize) {
    if (std::optional<format::SegmentHeader> header =
            format::DecodeSegmentHeader(file.data())) {
      FixRecordChecksums(*header, &file);
    }
  }

  const std::string dir = ScratchDir() + "/log";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir + "/" + format::SegmentFileName(base),
                      std::ios::binary);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
    EDDY_FUZZ_CHECK(out.good());
  }

  eddy::Status status;
  std::unique_ptr<ShardLog> log = OpenLog(dir, &status);
  if (log == nullptr) {
    EDDY_FUZZ_CHECK(status.IsCorruption() || status.IsIOError());
    return 0;
  }
  std::optional<std::vector<LogRecord>> records = ReadAll(log.get());
  if (!records.has_value()) return 0;
  EDDY_FUZZ_CHECK(records->size() <= file.size() / kMinRecordBytes);

  // The recovered log takes a new record, numbered next.
  const uint64_t expected = log->last_sequence() + 1;
  eddy::Result<uint64_t> appended = log->Append("appended", 7);
  EDDY_FUZZ_CHECK(appended.ok() && *appended == expected);
  records->push_back({expected, 7, "appended"});
  EDDY_FUZZ_CHECK(log->Close().ok());
  log.reset();

  // Reopening finds the same log.
  log = OpenLog(dir, &status);
  EDDY_FUZZ_CHECK(log != nullptr);
  std::optional<std::vector<LogRecord>> again = ReadAll(log.get());
  EDDY_FUZZ_CHECK(again.has_value() && SameRecords(*records, *again));
  EDDY_FUZZ_CHECK(log->Close().ok());
  return 0;
}
