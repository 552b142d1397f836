#include "dispatcher/remote_stream_source.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>

#include "wire/stream_record.h"

namespace eddy::runtime::dispatcher {
namespace {

using JsonOut = rapidjson::Writer<rapidjson::StringBuffer>;

std::string Body(const std::function<void(JsonOut*)>& members) {
  rapidjson::StringBuffer buffer;
  JsonOut w(buffer);
  w.StartObject();
  members(&w);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

void Put(JsonOut* w, const char* key, const std::string& value) {
  w->Key(key);
  w->String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

const rapidjson::Value* Member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::string String(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = Member(v, name);
  return m != nullptr && m->IsString()
             ? std::string(m->GetString(), m->GetStringLength())
             : std::string();
}

Status Malformed(const std::string& what) {
  return Status::IOError("a malformed " + what + " answer");
}

class RemoteShardReader : public ShardReader {
 public:
  RemoteShardReader(std::shared_ptr<DynamoTransport> streams,
                    std::string stream_arn, std::string shard_id,
                    ShardPosition from, int limit,
                    std::shared_ptr<spdlog::logger> logger)
      : streams_(std::move(streams)),
        stream_arn_(std::move(stream_arn)),
        shard_id_(std::move(shard_id)),
        position_(std::move(from)),
        limit_(limit),
        logger_(std::move(logger)) {}

  Result<ShardBatch> Read(size_t max_records, size_t /*max_bytes*/) override {
    ShardBatch batch;
    if (position_.kind == ShardPosition::Kind::kShardEnd) {
      batch.end_of_shard = true;
      batch.next = position_;
      return batch;
    }
    // At most: one iterator renewal (expired) and one restart at the trim
    // horizon per read.
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (iterator_.empty()) {
        Status got = GetIterator(&batch);
        if (!got.ok()) return got;
      }
      std::string error_type;
      const int limit = static_cast<int>(
          std::clamp<size_t>(max_records, 1, static_cast<size_t>(limit_)));
      Result<rapidjson::Document> answer = CallDynamo(
          streams_.get(), StreamsTarget("GetRecords"), Body([&](JsonOut* w) {
            Put(w, "ShardIterator", iterator_);
            w->Key("Limit");
            w->Int(limit);
          }),
          &error_type);
      if (!answer.ok()) {
        if (error_type == "ExpiredIteratorException") {
          // A new iterator where this one was: nothing lost or repeated.
          logger_->info("shard {}: iterator expired; a new one at {}",
                        shard_id_, position_.ToString());
          iterator_.clear();
          continue;
        }
        if (error_type == "TrimmedDataAccessException") {
          TrimSkip(&batch);
          continue;
        }
        return answer.status();
      }
      return Accept(*answer, std::move(batch));
    }
    return Status::Busy("shard " + shard_id_ +
                        ": no usable iterator after renewals");
  }

  bool Subscribe(std::function<void()> /*wake*/) override { return false; }

 private:
  // Lambda: records trimmed before they were read are lost; resume at the
  // trim horizon.
  void TrimSkip(ShardBatch* batch) {
    logger_->error(
        "shard {}: records after {} were trimmed before they were read "
        "(TrimmedDataAccessException); resuming at TRIM_HORIZON",
        shard_id_, position_.ToString());
    batch->trim_skipped = true;
    position_ = ShardPosition::TrimHorizon();
    iterator_.clear();
  }

  Status GetIterator(ShardBatch* batch) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string type;
      switch (position_.kind) {
        case ShardPosition::Kind::kTrimHorizon:
          type = "TRIM_HORIZON";
          break;
        case ShardPosition::Kind::kLatest:
          type = "LATEST";
          break;
        case ShardPosition::Kind::kAtSequence:
          type = "AT_SEQUENCE_NUMBER";
          break;
        case ShardPosition::Kind::kAfterSequence:
        case ShardPosition::Kind::kShardEnd:
          type = "AFTER_SEQUENCE_NUMBER";
          break;
      }
      std::string error_type;
      Result<rapidjson::Document> answer =
          CallDynamo(streams_.get(), StreamsTarget("GetShardIterator"),
                     Body([&](JsonOut* w) {
                       Put(w, "StreamArn", stream_arn_);
                       Put(w, "ShardId", shard_id_);
                       Put(w, "ShardIteratorType", type);
                       if (!position_.sequence.empty()) {
                         Put(w, "SequenceNumber", position_.sequence);
                       }
                     }),
                     &error_type);
      if (!answer.ok()) {
        if (error_type == "TrimmedDataAccessException") {
          TrimSkip(batch);
          continue;
        }
        return answer.status();
      }
      iterator_ = String(*answer, "ShardIterator");
      if (iterator_.empty()) return Malformed("GetShardIterator");
      return Status::OK();
    }
    return Status::Busy("shard " + shard_id_ + ": no iterator");
  }

  Result<ShardBatch> Accept(const rapidjson::Document& answer,
                            ShardBatch batch) {
    const rapidjson::Value* records = Member(answer, "Records");
    if (records == nullptr || !records->IsArray()) {
      return Malformed("GetRecords");
    }
    batch.records.reserve(records->Size());
    for (const rapidjson::Value& json : records->GetArray()) {
      wire::StreamRecordText text;
      wire::DecodeStatus s = wire::ReadStreamRecord(json, &text);
      if (!s.ok()) {
        // Not the handler's fault and not fixable by retrying: count it as
        // a dead letter and keep the shard moving, but move the position
        // past it if it says where it is.
        logger_->critical(
            "shard {}: a record does not decode ({}); skipping "
            "it",
            shard_id_, s.status().message());
        ++batch.undecodable;
        if (wire::IsSequenceNumber(text.sequence_number)) {
          position_ = ShardPosition::After(text.sequence_number);
        }
        continue;
      }
      position_ = ShardPosition::After(text.sequence_number);
      SourceRecord record;
      record.record = std::move(text.record);
      record.sequence_number = std::move(text.sequence_number);
      batch.records.push_back(std::move(record));
    }
    iterator_ = String(answer, "NextShardIterator");
    if (iterator_.empty()) {
      batch.end_of_shard = true;
      position_ = ShardPosition::ShardEnd();
    }
    batch.next = position_;
    return batch;
  }

  std::shared_ptr<DynamoTransport> streams_;
  std::string stream_arn_;
  std::string shard_id_;
  ShardPosition position_;
  int limit_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string iterator_;  // "" until GetShardIterator (or after expiry).
};

}  // namespace

Result<std::unique_ptr<RemoteStreamSource>> RemoteStreamSource::Open(
    Options options) {
  if (!options.stream_arn.empty()) {
    std::unique_ptr<RemoteStreamSource> source(
        new RemoteStreamSource(std::move(options)));
    source->stream_arn_ = source->options_.stream_arn;
    return source;
  }
  const std::string table = options.table;
  Result<rapidjson::Document> described =
      CallDynamo(options.tables.get(), DynamoTarget("DescribeTable"),
                 Body([&](JsonOut* w) { Put(w, "TableName", table); }));
  if (!described.ok()) {
    if (described.status().IsNotFound()) {
      return Status::NotFound("table " + table + " not found at " +
                              options.tables->endpoint());
    }
    return described.status();
  }
  const rapidjson::Value* t = Member(*described, "Table");
  if (t == nullptr) return Malformed("DescribeTable");
  const rapidjson::Value* spec = Member(*t, "StreamSpecification");
  const rapidjson::Value* enabled =
      spec != nullptr ? Member(*spec, "StreamEnabled") : nullptr;
  const std::string arn = String(*t, "LatestStreamArn");
  if (arn.empty() || enabled == nullptr || !enabled->IsBool() ||
      !enabled->GetBool()) {
    return Status::InvalidArgument(
        "table " + table + " at " + options.tables->endpoint() +
        " has no enabled stream; enable one with StreamSpecification "
        "(aws dynamodb update-table --table-name " +
        table +
        " --stream-specification "
        "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES)");
  }
  std::unique_ptr<RemoteStreamSource> source(
      new RemoteStreamSource(std::move(options)));
  source->stream_arn_ = arn;
  return source;
}

Result<StreamInfo> RemoteStreamSource::Describe() {
  EDDY_ASSIGN_OR_RETURN(
      rapidjson::Document answer,
      CallDynamo(options_.streams.get(), StreamsTarget("DescribeStream"),
                 Body([&](JsonOut* w) {
                   Put(w, "StreamArn", stream_arn_);
                   w->Key("Limit");
                   w->Int(1);
                 })));
  const rapidjson::Value* d = Member(answer, "StreamDescription");
  if (d == nullptr) return Malformed("DescribeStream");
  StreamInfo info;
  info.stream_arn = stream_arn_;
  info.table = String(*d, "TableName");
  if (info.table.empty()) info.table = options_.table;
  if (!store::ParseStreamViewType(String(*d, "StreamViewType"),
                                  &info.view_type)) {
    return Malformed("DescribeStream (StreamViewType)");
  }
  const std::string status = String(*d, "StreamStatus");
  info.enabled = status == "ENABLED" || status == "ENABLING";
  if (const rapidjson::Value* keys = Member(*d, "KeySchema");
      keys != nullptr && keys->IsArray()) {
    for (const rapidjson::Value& key : keys->GetArray()) {
      if (String(key, "KeyType") == "HASH") {
        info.hash_key = String(key, "AttributeName");
      }
    }
  }
  return info;
}

Result<std::vector<ShardInfo>> RemoteStreamSource::ListShards() {
  std::vector<ShardInfo> shards;
  std::string start;
  // Bounded: a stream has at most a few thousand shards a day.
  for (int page = 0; page < 10'000; ++page) {
    EDDY_ASSIGN_OR_RETURN(
        rapidjson::Document answer,
        CallDynamo(options_.streams.get(), StreamsTarget("DescribeStream"),
                   Body([&](JsonOut* w) {
                     Put(w, "StreamArn", stream_arn_);
                     if (!start.empty()) Put(w, "ExclusiveStartShardId", start);
                   })));
    const rapidjson::Value* d = Member(answer, "StreamDescription");
    const rapidjson::Value* list = d ? Member(*d, "Shards") : nullptr;
    if (list == nullptr || !list->IsArray()) return Malformed("DescribeStream");
    for (const rapidjson::Value& s : list->GetArray()) {
      ShardInfo shard;
      shard.shard_id = String(s, "ShardId");
      if (shard.shard_id.empty()) return Malformed("DescribeStream (ShardId)");
      shard.parent_id = String(s, "ParentShardId");
      if (const rapidjson::Value* range = Member(s, "SequenceNumberRange")) {
        shard.starting_sequence = String(*range, "StartingSequenceNumber");
        shard.ending_sequence = String(*range, "EndingSequenceNumber");
      }
      shards.push_back(std::move(shard));
    }
    const std::string last = String(*d, "LastEvaluatedShardId");
    if (last.empty()) break;
    if (last == start) return Malformed("DescribeStream (paging)");
    start = last;
  }
  // Creation order: ids sort by creation time on DynamoDB and Eddy; then
  // make sure every listed parent comes before its children.
  std::sort(shards.begin(), shards.end(),
            [](const ShardInfo& a, const ShardInfo& b) {
              return a.shard_id < b.shard_id;
            });
  std::map<std::string, size_t> depth;
  for (const ShardInfo& s : shards) depth[s.shard_id] = 0;
  for (size_t pass = 0; pass < shards.size(); ++pass) {
    bool changed = false;
    for (const ShardInfo& s : shards) {
      auto parent = depth.find(s.parent_id);
      if (parent != depth.end() && depth[s.shard_id] <= parent->second) {
        depth[s.shard_id] = parent->second + 1;
        changed = true;
      }
    }
    if (!changed) break;
  }
  std::stable_sort(shards.begin(), shards.end(),
                   [&](const ShardInfo& a, const ShardInfo& b) {
                     return depth[a.shard_id] < depth[b.shard_id];
                   });
  return shards;
}

Result<std::unique_ptr<ShardReader>> RemoteStreamSource::OpenShard(
    const std::string& shard_id, const ShardPosition& from) {
  return std::unique_ptr<ShardReader>(std::make_unique<RemoteShardReader>(
      options_.streams, stream_arn_, shard_id, from, options_.limit,
      options_.logger));
}

}  // namespace eddy::runtime::dispatcher
