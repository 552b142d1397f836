// The DynamoDB Streams API: ListStreams, DescribeStream, GetShardIterator,
// GetRecords. Identifiers (stream ARNs, shard ids, sequence numbers, shard
// iterators) have AWS's shapes; stream_format.h defines them.
//
// Each operation checks its request in DynamoDB's layers: the members'
// constraints (all violations in one "N validation errors detected"
// message), then the operation's own rules, then whether what the request
// names exists. A malformed stream ARN or shard iterator is a
// ValidationException; a well-formed one naming no stream or shard (never
// created, or trimmed after its retention) is a ResourceNotFoundException.
//
// Shards are listed in lexical order of their ids, which is their creation
// order (stream_format.h); DescribeStream pages through that order. Shards
// roll over (eddy serve --stream-shard-rollover): a closed shard has an
// EndingSequenceNumber, its child a ParentShardId; closed shards whose
// records all expired are no longer listed.
//
// A shard's SequenceNumberRange is [StartingSequenceNumber, the newest
// record] (EndingSequenceNumber once it is closed). StartingSequenceNumber
// is one below the shard's first record (store/change_stream.h), so AT and
// AFTER it both read the shard from its beginning, also while it is empty.
// Positions below the oldest untrimmed record give
// TrimmedDataAccessException.
//
// Iterators expire 15 minutes after they are issued; every GetRecords
// answer carries a fresh one, except at the end of a closed shard (a
// disabled stream's, or a deleted table's), where NextShardIterator is
// absent.
#include <algorithm>
#include <chrono>

#include "api/operations.h"
#include "api/stream_format.h"

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
  StreamArnParts parts;
  if (!ParseStreamArn(arn, &parts)) {
    return ApiError::Validation("Invalid StreamArn");
  }
  if (parts.partition == "aws" && parts.region == ctx.config->region &&
      parts.account == ctx.config->account_id) {
    *stream = ctx.db->GetStream(parts.table, parts.label);
    if (*stream != nullptr) return ApiStatus();
  }
  return ApiError::ResourceNotFound(
      "Requested resource not found: Stream: " + arn + " not found");
}

// Adds the length violations of a string member to `errors`.
void CheckLength(const std::optional<std::string>& value, const char* path,
                 size_t min, size_t max, bool required,
                 ConstraintErrors* errors) {
  if (!value) {
    if (required) errors->Add("null", path, "Member must not be null");
    return;
  }
  if (value->size() < min) {
    errors->Add(*value, path,
                "Member must have length greater than or equal to " +
                    std::to_string(min));
  } else if (value->size() > max) {
    errors->Add(
        *value, path,
        "Member must have length less than or equal to " + std::to_string(max));
  }
}

void CheckRange(const std::optional<int64_t>& value, const char* path,
                int64_t min, int64_t max, ConstraintErrors* errors) {
  if (!value) return;
  if (*value < min) {
    errors->Add(std::to_string(*value), path,
                "Member must have value greater than or equal to " +
                    std::to_string(min));
  } else if (*value > max) {
    errors->Add(
        std::to_string(*value), path,
        "Member must have value less than or equal to " + std::to_string(max));
  }
}

struct ShardEntry {
  std::string id;
  uint32_t index = 0;
};

// The stream's shards in the order the Streams API lists them: by id, which
// is creation order.
std::vector<ShardEntry> ListedShards(const ChangeStream& stream) {
  const StreamDescription d = stream.description();
  std::vector<ShardEntry> shards;
  const uint32_t first = stream.first_shard();
  const uint32_t count = stream.shard_count();
  shards.reserve(count - first);
  for (uint32_t i = first; i < count; ++i) shards.push_back({ShardId(d, i), i});
  std::sort(
      shards.begin(), shards.end(),
      [](const ShardEntry& a, const ShardEntry& b) { return a.id < b.id; });
  return shards;
}

ApiStatus FindShard(const ChangeStream& stream, const std::string& shard_id,
                    uint32_t* index) {
  for (const ShardEntry& shard : ListedShards(stream)) {
    if (shard.id == shard_id) {
      *index = shard.index;
      return ApiStatus();
    }
  }
  return ApiError::ResourceNotFound(
      "Requested resource not found: Shard does not exist");
}

ApiError TrimmedError() {
  return ApiError::Dynamo(
      "TrimmedDataAccessException",
      "The operation attempted to read past the oldest stream record in a "
      "shard.");
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
  CheckLength(start, "exclusiveStartStreamArn", 37, 1024, false, &errors);
  CheckRange(limit, "limit", 1, 100, &errors);
  CheckLength(table, "tableName", 3, 255, false, &errors);
  API_RETURN_IF_ERROR(errors.ToStatus());
  StreamArnParts start_parts;
  if (start && !ParseStreamArn(*start, &start_parts)) {
    return ApiError::Validation("Invalid StreamArn");
  }
  // A deleted table's streams stay listed until their retention passes.
  std::vector<std::shared_ptr<ChangeStream>> streams =
      ctx.db->ListStreams(table);
  if (table && streams.empty() && ctx.db->GetTable(*table) == nullptr) {
    return ApiError::ResourceNotFound(
        "Requested resource not found: Table: " + *table + " not found");
  }
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
  std::optional<std::string> arn, start;
  std::optional<int64_t> limit;
  API_RETURN_IF_ERROR(params.String("StreamArn", &arn));
  API_RETURN_IF_ERROR(params.Int64("Limit", &limit));
  API_RETURN_IF_ERROR(params.String("ExclusiveStartShardId", &start));
  const rapidjson::Value* filter = nullptr;
  API_RETURN_IF_ERROR(params.Object("ShardFilter", &filter));
  std::optional<std::string> filter_type, filter_shard;
  if (filter != nullptr) {
    Params fp(*filter);
    API_RETURN_IF_ERROR(fp.String("Type", &filter_type));
    API_RETURN_IF_ERROR(fp.String("ShardId", &filter_shard));
  }
  ConstraintErrors errors;
  CheckLength(arn, "streamArn", 37, 1024, true, &errors);
  CheckRange(limit, "limit", 1, 100, &errors);
  CheckLength(start, "exclusiveStartShardId", 28, 65, false, &errors);
  if (filter != nullptr) {
    if (!filter_type) {
      errors.Add("null", "shardFilter.type", "Member must not be null");
    } else if (*filter_type != "CHILD_SHARDS") {
      errors.Add(*filter_type, "shardFilter.type",
                 "Member must satisfy enum value set: [CHILD_SHARDS]");
    }
    CheckLength(filter_shard, "shardFilter.shardId", 28, 65, false, &errors);
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  std::shared_ptr<ChangeStream> stream;
  API_RETURN_IF_ERROR(FindStream(ctx, *arn, &stream));
  const StreamDescription d = stream->description();

  out->StartObject();
  out->Key("StreamDescription");
  out->StartObject();
  out->Key("StreamArn");
  Str(out, *arn);
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
  // The key schema the table had: a stream outlives its table.
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
  element(d.hash_key, "HASH");
  if (!d.range_key.empty()) element(d.range_key, "RANGE");
  out->EndArray();
  out->Key("Shards");
  out->StartArray();
  // Shards roll over (change_stream.h): a shard of a later generation
  // names its parent; CHILD_SHARDS lists the children of the given shard.
  const size_t page = static_cast<size_t>(limit.value_or(100));
  size_t written = 0;
  std::string last_id;
  bool more = false;
  std::vector<ShardEntry> listed = ListedShards(*stream);
  if (filter_type) {
    std::vector<ShardEntry> children;
    for (const ShardEntry& shard : listed) {
      const int64_t parent = stream->parent_shard(shard.index);
      if (filter_shard && parent >= 0 &&
          ShardId(d, static_cast<uint32_t>(parent)) == *filter_shard) {
        children.push_back(shard);
      }
    }
    listed = std::move(children);
  }
  {
    for (const ShardEntry& shard : listed) {
      // Lexical, as DynamoDB: an ExclusiveStartShardId that names no shard
      // still starts after where it would sort.
      if (start && shard.id <= *start) continue;
      if (written == page) {
        more = true;
        break;
      }
      streams::ShardLog* log = stream->shard(shard.index);
      out->StartObject();
      out->Key("ShardId");
      Str(out, shard.id);
      if (const int64_t parent = stream->parent_shard(shard.index);
          parent >= 0) {
        out->Key("ParentShardId");
        Str(out, ShardId(d, static_cast<uint32_t>(parent)));
      }
      out->Key("SequenceNumberRange");
      out->StartObject();
      out->Key("StartingSequenceNumber");
      Str(out, SequenceString(stream->start_sequence(shard.index)));
      if (log->sealed()) {
        out->Key("EndingSequenceNumber");
        Str(out, SequenceString(log->last_sequence()));
      }
      out->EndObject();
      out->EndObject();
      ++written;
      last_id = shard.id;
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
  std::optional<std::string> arn, shard_id, type, sequence_text;
  API_RETURN_IF_ERROR(params.String("StreamArn", &arn));
  API_RETURN_IF_ERROR(params.String("ShardId", &shard_id));
  API_RETURN_IF_ERROR(params.String("ShardIteratorType", &type));
  API_RETURN_IF_ERROR(params.String("SequenceNumber", &sequence_text));
  ConstraintErrors errors;
  CheckLength(arn, "streamArn", 37, 1024, true, &errors);
  CheckLength(shard_id, "shardId", 28, 65, true, &errors);
  if (!type) {
    errors.Add("null", "shardIteratorType", "Member must not be null");
  } else if (*type != "TRIM_HORIZON" && *type != "LATEST" &&
             *type != "AT_SEQUENCE_NUMBER" &&
             *type != "AFTER_SEQUENCE_NUMBER") {
    errors.Add(*type, "shardIteratorType",
               "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, "
               "LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]");
  }
  CheckLength(sequence_text, "sequenceNumber", 21, 40, false, &errors);
  API_RETURN_IF_ERROR(errors.ToStatus());
  const bool at = *type == "AT_SEQUENCE_NUMBER";
  const bool after = *type == "AFTER_SEQUENCE_NUMBER";
  if ((at || after) && !sequence_text) {
    return ApiError::Validation(
        "A sequence number is required for the given ShardIteratorType: " +
        *type);
  }
  if (!at && !after && sequence_text) {
    return ApiError::Validation(
        "A sequence number may only be given with AT_SEQUENCE_NUMBER or "
        "AFTER_SEQUENCE_NUMBER, not with ShardIteratorType: " +
        *type);
  }
  if (sequence_text &&
      !std::all_of(sequence_text->begin(), sequence_text->end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return ApiError::Validation("Invalid SequenceNumber: " + *sequence_text);
  }
  std::shared_ptr<ChangeStream> stream;
  API_RETURN_IF_ERROR(FindStream(ctx, *arn, &stream));
  uint32_t shard = 0;
  API_RETURN_IF_ERROR(FindShard(*stream, *shard_id, &shard));
  streams::ShardLog* log = stream->shard(shard);
  uint64_t position = 0;
  if (*type == "TRIM_HORIZON") {
    position = log->first_sequence();
  } else if (*type == "LATEST") {
    position = log->last_sequence() + 1;
  } else {
    // The shard's range: its StartingSequenceNumber up to its newest record
    // (its EndingSequenceNumber once closed).
    const uint64_t start = stream->start_sequence(shard);
    const uint64_t end = log->last_sequence();
    uint64_t sequence = 0;
    if (!ParseSequence(*sequence_text, &sequence) || sequence < start ||
        sequence > end) {
      return ApiError::Validation(
          "Invalid SequenceNumber: " + *sequence_text + " is not in the " +
          "SequenceNumberRange of shard " + *shard_id + " (" +
          SequenceString(start) + " to " + SequenceString(end) + ")");
    }
    // No record has the starting number: AT it reads from the first record.
    position = at ? std::max(sequence, start + 1) : sequence + 1;
    if (position < log->first_sequence()) return TrimmedError();
  }
  out->StartObject();
  out->Key("ShardIterator");
  Str(out, EncodeShardIterator({*arn, shard, position, NowMs()}));
  out->EndObject();
  return ApiStatus();
}

std::string IteratorStreamArn(const std::string& iterator) {
  ShardIterator it;
  return DecodeShardIterator(iterator, &it) ? it.stream_arn : std::string();
}

ApiStatus GetRecords(const OperationContext& ctx,
                     const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::optional<std::string> iterator_text;
  std::optional<int64_t> limit;
  API_RETURN_IF_ERROR(params.String("ShardIterator", &iterator_text));
  API_RETURN_IF_ERROR(params.Int64("Limit", &limit));
  ConstraintErrors errors;
  CheckLength(iterator_text, "shardIterator", 1, 2048, true, &errors);
  CheckRange(limit, "limit", 1, 1000, &errors);
  API_RETURN_IF_ERROR(errors.ToStatus());
  ShardIterator it;
  if (!DecodeShardIterator(*iterator_text, &it)) {
    return ApiError::Validation("Invalid ShardIterator");
  }
  const int64_t now = NowMs();
  if (now - it.issued_ms > kIteratorLifetimeMs) {
    return ApiError::Dynamo(
        "ExpiredIteratorException",
        "Iterator expired. The iterator was created at time " +
            std::to_string(it.issued_ms / 1000) +
            " while right now the time is " + std::to_string(now / 1000) +
            ". Iterators are valid for 15 minutes.");
  }
  std::shared_ptr<ChangeStream> stream;
  API_RETURN_IF_ERROR(FindStream(ctx, it.stream_arn, &stream));
  if (it.shard >= stream->shard_count() || it.shard < stream->first_shard()) {
    return ApiError::ResourceNotFound("Invalid ShardId in ShardIterator");
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
    Result<store::ChangeRecord> record = stream->Decode(it.shard, raw);
    if (!record.ok()) return record.status();
    next = raw.sequence + 1;
    WriteStreamRecord(*record, raw.sequence, d.view_type, ctx.config->region,
                      "", out);
  }
  out->EndArray();
  // A closed shard read to its end has no next iterator.
  const bool drained = log->sealed() && next > log->last_sequence();
  if (!drained) {
    out->Key("NextShardIterator");
    Str(out, EncodeShardIterator({it.stream_arn, it.shard, next, now}));
  }
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
