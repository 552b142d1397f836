#include "api/stream_format.h"

#include <cinttypes>
#include <cstdio>

#include "eddy/store/key_codec.h"

namespace eddy::runtime::api {

namespace {

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "YYYY-MM-DDTHH:MM:SS.mmm"
bool IsStreamLabel(std::string_view s) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddd";
  if (s.size() != kShape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (kShape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != kShape[i]) {
      return false;
    }
  }
  return true;
}

// DynamoDB table names: 3-255 of [a-zA-Z0-9_.-].
bool IsTableName(std::string_view s) {
  if (s.size() < 3 || s.size() > 255) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Splits off the text before the next `sep`; false if there is none.
bool Take(std::string_view* rest, char sep, std::string_view* part) {
  const size_t at = rest->find(sep);
  if (at == std::string_view::npos) return false;
  *part = rest->substr(0, at);
  rest->remove_prefix(at + 1);
  return true;
}

uint64_t IteratorCheck(const ShardIterator& it) {
  return store::KeyHash(it.stream_arn + "|" + std::to_string(it.shard) + "|" +
                        std::to_string(it.position) + "|" +
                        std::to_string(it.issued_ms));
}

}  // namespace

bool ParseStreamArn(std::string_view arn, StreamArnParts* parts) {
  std::string_view rest = arn, scheme, partition, service, region, account;
  if (!Take(&rest, ':', &scheme) || scheme != "arn") return false;
  if (!Take(&rest, ':', &partition) || partition.empty()) return false;
  if (!Take(&rest, ':', &service) || service != "dynamodb") return false;
  if (!Take(&rest, ':', &region) || region.empty()) return false;
  if (!Take(&rest, ':', &account) || account.empty()) return false;
  constexpr std::string_view kTable = "table/";
  if (rest.substr(0, kTable.size()) != kTable) return false;
  rest.remove_prefix(kTable.size());
  std::string_view table, stream;
  if (!Take(&rest, '/', &table) || !IsTableName(table)) return false;
  if (!Take(&rest, '/', &stream) || stream != "stream") return false;
  if (!IsStreamLabel(rest)) return false;
  parts->partition = std::string(partition);
  parts->region = std::string(region);
  parts->account = std::string(account);
  parts->table = std::string(table);
  parts->label = std::string(rest);
  return true;
}

std::string EncodeShardIterator(const ShardIterator& it) {
  return it.stream_arn + "|1|" + std::to_string(it.shard) + "." +
         std::to_string(it.position) + "." + std::to_string(it.issued_ms) +
         "." + std::to_string(IteratorCheck(it));
}

bool DecodeShardIterator(std::string_view text, ShardIterator* it) {
  const size_t bar = text.rfind("|1|");
  if (bar == std::string_view::npos) return false;
  it->stream_arn = std::string(text.substr(0, bar));
  uint64_t parts[4];
  std::string_view rest = text.substr(bar + 3);
  for (int i = 0; i < 4; ++i) {
    const size_t dot = rest.find('.');
    if ((dot == std::string_view::npos) != (i == 3)) return false;
    const std::string_view part = rest.substr(0, dot);
    if (!IsDigits(part) || part.size() > 19) return false;
    uint64_t v = 0;
    for (char c : part) v = v * 10 + static_cast<uint64_t>(c - '0');
    parts[i] = v;
    if (dot != std::string_view::npos) rest.remove_prefix(dot + 1);
  }
  if (parts[0] > UINT32_MAX) return false;
  it->shard = static_cast<uint32_t>(parts[0]);
  it->position = parts[1];
  it->issued_ms = static_cast<int64_t>(parts[2]);
  StreamArnParts arn;
  return parts[3] == IteratorCheck(*it) && ParseStreamArn(it->stream_arn, &arn);
}

}  // namespace eddy::runtime::api
