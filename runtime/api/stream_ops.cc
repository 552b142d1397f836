// The DynamoDB Streams API: ListStreams, DescribeStream, GetShardIterator,
// GetRecords.
//
// Identifiers have AWS's shapes:
//   stream ARN     arn:aws:dynamodb:<region>:<account>:table/<T>/stream/<label>
//   shard id       shardId-<20-digit stream creation ms>-<8 hex digits>
//   sequence       "1" followed by the shard log's sequence, zero-padded to 20
//                  digits (21 digits, increasing within a shard)
//   shard iterator <stream ARN>|1|<shard index>.<position>.<issued ms>.<check>
// where position is the sequence of the next record to read. Iterators
// expire 15 minutes after they are issued; every GetRecords answer carries a
// fresh one.
#include <chrono>

#include "api/operations.h"
#include "api/stream_format.h"
#include "eddy/store/key_codec.h"

namespace eddy::runtime::api {
namespace {

using store::ChangeStream;
using store::StreamDescription;

constexpr int64_t kIteratorLifetimeMs = 15 * 60 * 1000;
constexpr size_t kMaxRecordsBytes = 1024 * 1024;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// A stream named by its ARN.
ApiStatus FindStream(const OperationContext& ctx, const std::string& arn,
                     std::shared_ptr<ChangeStream>* stream) {
  const std::string prefix = "arn:aws:dynamodb:" + ctx.config->region + ":" +
                             ctx.config->account_id + ":table/";
  const size_t marker = arn.find("/stream/");
  if (arn.compare(0, prefix.size(), prefix) == 0 &&
      marker != std::string::npos && marker > prefix.size()) {
    const std::string table = arn.substr(prefix.size(), marker - prefix.size());
    const std::string label = arn.substr(marker + 8);
    *stream = ctx.db->GetStream(table, label);
    if (*stream != nullptr) return ApiStatus();
  }
  return ApiError::ResourceNotFound(
      "Requested resource not found: Stream: " + arn + " not found");
}

ApiStatus ReadStreamArn(const Params& params, std::string* arn) {
  std::optional<std::string> value;
  API_RETURN_IF_ERROR(params.String("StreamArn", &value));
  ConstraintErrors errors;
  if (!value) {
    errors.Add("null", "streamArn", "Member must not be null");
  } else if (value->size() < 37 || value->size() > 1024) {
    errors.Add(*value, "streamArn",
               value->size() < 37
                   ? "Member must have length greater than or equal to 37"
                   : "Member must have length less than or equal to 1024");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  *arn = std::move(*value);
  return ApiStatus();
}

ApiStatus FindShard(const std::shared_ptr<ChangeStream>& stream,
                    const std::string& shard_id, uint32_t* index) {
  const StreamDescription d = stream->description();
  for (uint32_t i = 0; i < stream->shard_count(); ++i) {
    if (ShardId(d, i) == shard_id) {
      *index = i;
      return ApiStatus();
    }
  }
  return ApiError::ResourceNotFound(
      "Requested resource not found: Shard does not exist");
}

uint64_t IteratorCheck(const std::string& arn, uint32_t shard,
                       uint64_t position, int64_t issued) {
  return store::KeyHash(arn + "|" + std::to_string(shard) + "|" +
                        std::to_string(position) + "|" +
                        std::to_string(issued));
}

std::string MakeIterator(const std::string& arn, uint32_t shard,
                         uint64_t position, int64_t issued) {
  return arn + "|1|" + std::to_string(shard) + "." + std::to_string(position) +
         "." + std::to_string(issued) + "." +
         std::to_string(IteratorCheck(arn, shard, position, issued));
}

struct Iterator {
  std::string arn;
  uint32_t shard = 0;
  uint64_t position = 0;
  int64_t issued_ms = 0;
};

bool ParseIterator(const std::string& text, Iterator* it) {
  const size_t bar = text.rfind("|1|");
  if (bar == std::string::npos) return false;
  it->arn = text.substr(0, bar);
  uint64_t parts[4];
  std::string_view rest = std::string_view(text).substr(bar + 3);
  for (int i = 0; i < 4; ++i) {
    const size_t dot = rest.find('.');
    std::string_view part = rest.substr(0, dot);
    if (part.empty() || part.size() > 20) return false;
    uint64_t v = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    parts[i] = v;
    if ((dot == std::string_view::npos) != (i == 3)) return false;
    if (dot != std::string_view::npos) rest = rest.substr(dot + 1);
  }
  it->shard = static_cast<uint32_t>(parts[0]);
  it->position = parts[1];
  it->issued_ms = static_cast<int64_t>(parts[2]);
  return parts[3] ==
         IteratorCheck(it->arn, it->shard, it->position, it->issued_ms);
}

ApiError TrimmedError() {
  ApiError e = ApiError::ResourceNotFound("");
  e.type = "com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException";
  e.message =
      "The operation attempted to read past the oldest stream record in a "
      "shard.";
  return e;
}

}  // namespace

ApiStatus ListStreams(const OperationContext& ctx,
                      const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::optional<std::string> table, start;
  std::optional<int64_t> limit;
  API_RETURN_IF_ERROR(params.String("TableName", &table));
  API_RETURN_IF_ERROR(params.String("ExclusiveStartStreamArn", &start));
  API_RETURN_IF_ERROR(params.Int64("Limit", &limit));
  ConstraintErrors errors;
  if (limit && (*limit < 1 || *limit > 100)) {
    errors.Add(std::to_string(*limit), "limit",
               *limit < 1 ? "Member must have value greater than or equal to 1"
                          : "Member must have value less than or equal to 100");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  if (table && ctx.db->GetTable(*table) == nullptr) {
    return ApiError::ResourceNotFound(
        "Requested resource not found: Table: " + *table + " not found");
  }
  std::vector<std::shared_ptr<ChangeStream>> streams =
      ctx.db->ListStreams(table);
  const size_t page = static_cast<size_t>(limit.value_or(100));
  out->StartObject();
  out->Key("Streams");
  out->StartArray();
  bool started = !start.has_value();
  size_t written = 0;
  std::string last_arn;
  bool more = false;
  for (const auto& stream : streams) {
    const StreamDescription d = stream->description();
    const std::string arn = StreamArn(*ctx.config, d.table_name, d.label);
    if (!started) {
      started = arn == *start;
      continue;
    }
    if (written == page) {
      more = true;
      break;
    }
    out->StartObject();
    out->Key("StreamArn");
    Str(out, arn);
    out->Key("TableName");
    Str(out, d.table_name);
    out->Key("StreamLabel");
    Str(out, d.label);
    out->EndObject();
    ++written;
    last_arn = arn;
  }
  out->EndArray();
  if (more) {
    out->Key("LastEvaluatedStreamArn");
    Str(out, last_arn);
  }
  out->EndObject();
  return ApiStatus();
}

ApiStatus DescribeStream(const OperationContext& ctx,
                         const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::string arn;
  API_RETURN_IF_ERROR(ReadStreamArn(params, &arn));
  std::optional<int64_t> limit;
  std::optional<std::string> start;
  API_RETURN_IF_ERROR(params.Int64("Limit", &limit));
  API_RETURN_IF_ERROR(params.String("ExclusiveStartShardId", &start));
  ConstraintErrors errors;
  if (limit && (*limit < 1 || *limit > 100)) {
    errors.Add(std::to_string(*limit), "limit",
               *limit < 1 ? "Member must have value greater than or equal to 1"
                          : "Member must have value less than or equal to 100");
  }
  const rapidjson::Value* filter = nullptr;
  API_RETURN_IF_ERROR(params.Object("ShardFilter", &filter));
  std::optional<std::string> filter_type, filter_shard;
  if (filter != nullptr) {
    Params fp(*filter);
    API_RETURN_IF_ERROR(fp.String("Type", &filter_type));
    API_RETURN_IF_ERROR(fp.String("ShardId", &filter_shard));
    if (filter_type && *filter_type != "CHILD_SHARDS") {
      errors.Add(*filter_type, "shardFilter.type",
                 "Member must satisfy enum value set: [CHILD_SHARDS]");
    }
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  std::shared_ptr<ChangeStream> stream;
  API_RETURN_IF_ERROR(FindStream(ctx, arn, &stream));
  const StreamDescription d = stream->description();
  std::shared_ptr<store::Table> table = ctx.db->GetTable(d.table_name);

  out->StartObject();
  out->Key("StreamDescription");
  out->StartObject();
  out->Key("StreamArn");
  Str(out, arn);
  out->Key("StreamLabel");
  Str(out, d.label);
  out->Key("StreamStatus");
  out->String(d.enabled() ? "ENABLED" : "DISABLED");
  out->Key("StreamViewType");
  Str(out, store::StreamViewTypeName(d.view_type));
  out->Key("CreationRequestDateTime");
  out->Double(static_cast<double>(d.created_ms) / 1000.0);
  out->Key("TableName");
  Str(out, d.table_name);
  if (table != nullptr) {
    const store::TableSchema& s = table->schema();
    out->Key("KeySchema");
    out->StartArray();
    auto element = [out](const std::string& name, const char* type) {
      out->StartObject();
      out->Key("AttributeName");
      Str(out, name);
      out->Key("KeyType");
      out->String(type);
      out->EndObject();
    };
    element(s.hash_key.name, "HASH");
    if (s.range_key) element(s.range_key->name, "RANGE");
    out->EndArray();
  }
  out->Key("Shards");
  out->StartArray();
  // Shards never split here, so no shard has children: CHILD_SHARDS lists
  // none.
  const size_t page = static_cast<size_t>(limit.value_or(100));
  bool started = !start.has_value();
  size_t written = 0;
  std::string last_id;
  bool more = false;
  if (!filter_type) {
    for (uint32_t i = 0; i < stream->shard_count(); ++i) {
      const std::string id = ShardId(d, i);
      if (!started) {
        started = id == *start;
        continue;
      }
      if (written == page) {
        more = true;
        break;
      }
      streams::ShardLog* log = stream->shard(i);
      out->StartObject();
      out->Key("ShardId");
      Str(out, id);
      out->Key("SequenceNumberRange");
      out->StartObject();
      out->Key("StartingSequenceNumber");
      Str(out, SequenceString(log->first_sequence()));
      if (log->sealed()) {
        out->Key("EndingSequenceNumber");
        Str(out, SequenceString(
                     std::max(log->last_sequence(), log->first_sequence())));
      }
      out->EndObject();
      out->EndObject();
      ++written;
      last_id = id;
    }
  }
  out->EndArray();
  if (more) {
    out->Key("LastEvaluatedShardId");
    Str(out, last_id);
  }
  out->EndObject();
  out->EndObject();
  return ApiStatus();
}

ApiStatus GetShardIterator(const OperationContext& ctx,
                           const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::string arn;
  API_RETURN_IF_ERROR(ReadStreamArn(params, &arn));
  std::optional<std::string> shard_id, type, sequence_text;
  API_RETURN_IF_ERROR(params.String("ShardId", &shard_id));
  API_RETURN_IF_ERROR(params.String("ShardIteratorType", &type));
  API_RETURN_IF_ERROR(params.String("SequenceNumber", &sequence_text));
  ConstraintErrors errors;
  if (!shard_id) {
    errors.Add("null", "shardId", "Member must not be null");
  } else if (shard_id->size() < 28 || shard_id->size() > 65) {
    errors.Add(*shard_id, "shardId",
               shard_id->size() < 28
                   ? "Member must have length greater than or equal to 28"
                   : "Member must have length less than or equal to 65");
  }
  if (!type) {
    errors.Add("null", "shardIteratorType", "Member must not be null");
  } else if (*type != "TRIM_HORIZON" && *type != "LATEST" &&
             *type != "AT_SEQUENCE_NUMBER" &&
             *type != "AFTER_SEQUENCE_NUMBER") {
    errors.Add(*type, "shardIteratorType",
               "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, "
               "LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  const bool at = *type == "AT_SEQUENCE_NUMBER";
  const bool after = *type == "AFTER_SEQUENCE_NUMBER";
  uint64_t sequence = 0;
  if (at || after) {
    if (!sequence_text) {
      return ApiError::Validation(
          "A sequence number is required for the given ShardIteratorType: " +
          *type);
    }
    if (!ParseSequence(*sequence_text, &sequence)) {
      return ApiError::Validation("Invalid SequenceNumber: " + *sequence_text);
    }
  }
  std::shared_ptr<ChangeStream> stream;
  API_RETURN_IF_ERROR(FindStream(ctx, arn, &stream));
  uint32_t shard = 0;
  API_RETURN_IF_ERROR(FindShard(stream, *shard_id, &shard));
  streams::ShardLog* log = stream->shard(shard);
  uint64_t position = 0;
  if (*type == "TRIM_HORIZON") {
    position = log->first_sequence();
  } else if (*type == "LATEST") {
    position = log->last_sequence() + 1;
  } else {
    position = at ? sequence : sequence + 1;
    if (sequence > log->last_sequence()) {
      return ApiError::Validation(
          "Invalid SequenceNumber: " + *sequence_text + " for shard " +
          *shard_id + ": it is beyond the last record of the shard");
    }
    if (position < log->first_sequence()) return TrimmedError();
  }
  out->StartObject();
  out->Key("ShardIterator");
  Str(out, MakeIterator(arn, shard, position, NowMs()));
  out->EndObject();
  return ApiStatus();
}

std::string IteratorStreamArn(const std::string& iterator) {
  Iterator it;
  return ParseIterator(iterator, &it) ? it.arn : std::string();
}

ApiStatus GetRecords(const OperationContext& ctx,
                     const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::optional<std::string> iterator_text;
  std::optional<int64_t> limit;
  API_RETURN_IF_ERROR(params.String("ShardIterator", &iterator_text));
  API_RETURN_IF_ERROR(params.Int64("Limit", &limit));
  ConstraintErrors errors;
  if (!iterator_text) {
    errors.Add("null", "shardIterator", "Member must not be null");
  } else if (iterator_text->empty() || iterator_text->size() > 2048) {
    errors.Add(*iterator_text, "shardIterator",
               iterator_text->empty()
                   ? "Member must have length greater than or equal to 1"
                   : "Member must have length less than or equal to 2048");
  }
  if (limit && (*limit < 1 || *limit > 1000)) {
    errors.Add(std::to_string(*limit), "limit",
               *limit < 1
                   ? "Member must have value greater than or equal to 1"
                   : "Member must have value less than or equal to 1000");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  Iterator it;
  if (!ParseIterator(*iterator_text, &it)) {
    return ApiError::Validation("Invalid ShardIterator");
  }
  const int64_t now = NowMs();
  if (now - it.issued_ms > kIteratorLifetimeMs) {
    ApiError e = ApiError::ResourceNotFound("");
    e.type = "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException";
    e.message = "Iterator expired. The iterator was created at time " +
                std::to_string(it.issued_ms / 1000) +
                " while right now the time is " + std::to_string(now / 1000) +
                ". Iterators are valid for 15 minutes.";
    return e;
  }
  std::shared_ptr<ChangeStream> stream;
  API_RETURN_IF_ERROR(FindStream(ctx, it.arn, &stream));
  if (it.shard >= stream->shard_count()) {
    return ApiError::ResourceNotFound(
        "Requested resource not found: Shard does not exist");
  }
  streams::ShardLog* log = stream->shard(it.shard);
  Result<streams::ReadResult> read = log->Read(
      it.position, static_cast<size_t>(limit.value_or(1000)), kMaxRecordsBytes);
  if (!read.ok()) {
    if (read.status().IsOutOfRange()) return TrimmedError();
    return read.status();
  }
  const StreamDescription d = stream->description();
  uint64_t next = it.position;
  out->StartObject();
  out->Key("Records");
  out->StartArray();
  for (const streams::LogRecord& raw : read->records) {
    Result<store::ChangeRecord> record = stream->Decode(raw);
    if (!record.ok()) return record.status();
    next = raw.sequence + 1;
    WriteStreamRecord(*record, raw.sequence, d.view_type, ctx.config->region,
                      "", out);
  }
  out->EndArray();
  // A sealed shard read to its end has no next iterator.
  const bool drained = log->sealed() && next > log->last_sequence();
  if (!drained) {
    out->Key("NextShardIterator");
    Str(out, MakeIterator(it.arn, it.shard, next, now));
  }
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
