#include "dispatcher/local_stream_source.h"

#include <algorithm>
#include <mutex>

#include "wire/stream_record.h"

namespace eddy::runtime::dispatcher {
namespace {

class LocalShardReader : public ShardReader {
 public:
  LocalShardReader(std::shared_ptr<store::ChangeStream> stream, uint32_t index,
                   std::string shard_id, uint64_t next,
                   std::shared_ptr<spdlog::logger> logger)
      : stream_(std::move(stream)),
        index_(index),
        log_(stream_->shard(index)),
        shard_id_(std::move(shard_id)),
        next_(next),
        logger_(std::move(logger)) {}

  ~LocalShardReader() override {
    if (subscription_ != 0) log_->Unsubscribe(subscription_);
  }

  Result<ShardBatch> Read(size_t max_records, size_t max_bytes) override {
    ShardBatch batch;
    Result<streams::ReadResult> read =
        log_->Read(next_, max_records, max_bytes);
    if (!read.ok() && read.status().IsOutOfRange()) {
      // Trimmed before it was read (the records outlived the retention):
      // continue at the oldest record kept.
      const uint64_t first = log_->first_sequence();
      batch.trim_skipped = true;
      batch.trimmed = first > next_ ? first - next_ : 0;
      next_ = std::max(next_, first);
      read = log_->Read(next_, max_records, max_bytes);
    }
    if (!read.ok()) {
      if (read.status().IsOutOfRange()) {
        return Status::Busy("shard " + shard_id_ + " is being trimmed");
      }
      return read.status();
    }
    batch.records.reserve(read->records.size());
    for (streams::LogRecord& raw : read->records) {
      Result<store::ChangeRecord> record = stream_->Decode(index_, raw);
      if (!record.ok()) {
        // A store bug, not the handler's: log loudly and keep the shard
        // moving rather than block it forever.
        logger_->critical(
            "shard {}: record {} cannot be decoded ({}); "
            "skipping it",
            shard_id_, raw.sequence, record.status().ToString());
        ++batch.undecodable;
        continue;
      }
      SourceRecord out;
      out.record = std::move(*record);
      out.record.timestamp_ms = raw.timestamp_ms;
      out.sequence_number = wire::SequenceString(raw.sequence);
      batch.records.push_back(std::move(out));
    }
    next_ = read->next_sequence;
    // Sealed first: after the seal no record is appended, so the newest
    // number read after it is final.
    batch.end_of_shard = log_->sealed() && next_ > log_->last_sequence();
    batch.next = batch.end_of_shard
                     ? ShardPosition::ShardEnd()
                     : ShardPosition::At(wire::SequenceString(next_));
    return batch;
  }

  bool Subscribe(std::function<void()> wake) override {
    if (subscription_ != 0) log_->Unsubscribe(subscription_);
    subscription_ =
        log_->Subscribe([wake = std::move(wake)](uint64_t) { wake(); });
    return true;
  }

 private:
  std::shared_ptr<store::ChangeStream> stream_;
  const uint32_t index_;
  streams::ShardLog* log_;
  std::string shard_id_;
  uint64_t next_;
  std::shared_ptr<spdlog::logger> logger_;
  streams::SubscriptionId subscription_ = 0;
};

}  // namespace

LocalStreamSource::LocalStreamSource(
    std::shared_ptr<store::ChangeStream> stream, std::string stream_arn,
    std::shared_ptr<spdlog::logger> logger)
    : stream_(std::move(stream)),
      stream_arn_(std::move(stream_arn)),
      logger_(std::move(logger)) {}

Result<StreamInfo> LocalStreamSource::Describe() {
  const store::StreamDescription d = stream_->description();
  StreamInfo info;
  info.stream_arn = stream_arn_;
  info.table = d.table_name;
  info.view_type = d.view_type;
  info.hash_key = d.hash_key;
  info.enabled = d.enabled();
  return info;
}

Result<std::vector<ShardInfo>> LocalStreamSource::ListShards() {
  const store::StreamDescription d = stream_->description();
  std::vector<ShardInfo> shards;
  for (uint32_t i = 0; i < stream_->shard_count(); ++i) {
    const streams::ShardLog* log = stream_->shard(i);
    ShardInfo shard;
    shard.shard_id = wire::ShardId(d, i);
    shard.starting_sequence = wire::SequenceString(stream_->start_sequence(i));
    if (log->sealed()) {
      shard.ending_sequence = wire::SequenceString(log->last_sequence());
    }
    shards.push_back(std::move(shard));
  }
  std::sort(shards.begin(), shards.end(),
            [](const ShardInfo& a, const ShardInfo& b) {
              return a.shard_id < b.shard_id;
            });
  return shards;
}

Result<uint64_t> LocalStreamSource::NextSequence(
    const streams::ShardLog& log, const ShardPosition& position) {
  uint64_t sequence = 0;
  switch (position.kind) {
    case ShardPosition::Kind::kTrimHorizon:
      return log.first_sequence();
    case ShardPosition::Kind::kLatest:
    case ShardPosition::Kind::kShardEnd:
      return log.last_sequence() + 1;
    case ShardPosition::Kind::kAtSequence:
    case ShardPosition::Kind::kAfterSequence:
      break;
  }
  if (!wire::ParseSequence(position.sequence, &sequence)) {
    return Status::InvalidArgument("not an Eddy sequence number: " +
                                   position.sequence);
  }
  return position.kind == ShardPosition::Kind::kAfterSequence ? sequence + 1
                                                              : sequence;
}

std::unique_ptr<ShardReader> LocalStreamSource::OpenShardIndex(
    uint32_t index, const ShardPosition& from) {
  const streams::ShardLog& log = *stream_->shard(index);
  Result<uint64_t> next = NextSequence(log, from);
  return std::make_unique<LocalShardReader>(
      stream_, index, wire::ShardId(stream_->description(), index),
      next.ok() ? *next : log.first_sequence(), logger_);
}

Result<std::unique_ptr<ShardReader>> LocalStreamSource::OpenShard(
    const std::string& shard_id, const ShardPosition& from) {
  const store::StreamDescription d = stream_->description();
  for (uint32_t i = 0; i < stream_->shard_count(); ++i) {
    if (wire::ShardId(d, i) != shard_id) continue;
    EDDY_RETURN_IF_ERROR(NextSequence(*stream_->shard(i), from).status());
    return OpenShardIndex(i, from);
  }
  return Status::NotFound("no shard " + shard_id + " in stream " + stream_arn_);
}

}  // namespace eddy::runtime::dispatcher
