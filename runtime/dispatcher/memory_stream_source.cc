#include "dispatcher/memory_stream_source.h"

#include <algorithm>

#include "wire/stream_record.h"

namespace eddy::runtime::dispatcher {

class MemoryStreamSource::Reader : public ShardReader {
 public:
  Reader(MemoryStreamSource* source, std::string shard_id, uint64_t next)
      : source_(source), shard_id_(std::move(shard_id)), next_(next) {}

  Result<ShardBatch> Read(size_t max_records, size_t /*max_bytes*/) override {
    std::lock_guard<std::mutex> lock(source_->mu_);
    if (source_->failures_ > 0) {
      --source_->failures_;
      return source_->failure_;
    }
    auto it = source_->shards_.find(shard_id_);
    if (it == source_->shards_.end()) {
      return Status::NotFound("no shard " + shard_id_);
    }
    const Shard& shard = it->second;
    ShardBatch batch;
    if (next_ < shard.first) {
      batch.trim_skipped = true;
      batch.trimmed = shard.first - next_;
      next_ = shard.first;
    }
    for (uint64_t seq = next_;
         seq < shard.next && batch.records.size() < max_records; ++seq) {
      batch.records.push_back(shard.records[seq - shard.first]);
      next_ = seq + 1;
    }
    batch.end_of_shard = shard.closed && next_ >= shard.next;
    batch.next = batch.end_of_shard
                     ? ShardPosition::ShardEnd()
                     : ShardPosition::At(wire::SequenceString(next_));
    return batch;
  }

  bool Subscribe(std::function<void()> /*wake*/) override { return false; }

 private:
  MemoryStreamSource* source_;
  std::string shard_id_;
  uint64_t next_;
};

void MemoryStreamSource::AddShard(const std::string& shard_id,
                                  const std::string& parent_id) {
  std::lock_guard<std::mutex> lock(mu_);
  shards_[shard_id].parent_id = parent_id;
  order_.push_back(shard_id);
}

std::string MemoryStreamSource::Append(const std::string& shard_id,
                                       store::ChangeRecord record) {
  std::lock_guard<std::mutex> lock(mu_);
  Shard& shard = shards_.at(shard_id);
  SourceRecord out;
  out.sequence_number = wire::SequenceString(shard.next++);
  out.record = std::move(record);
  shard.records.push_back(out);
  return out.sequence_number;
}

void MemoryStreamSource::Close(const std::string& shard_id) {
  std::lock_guard<std::mutex> lock(mu_);
  shards_.at(shard_id).closed = true;
}

void MemoryStreamSource::Trim(const std::string& shard_id, size_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  Shard& shard = shards_.at(shard_id);
  count = std::min(count, shard.records.size());
  shard.records.erase(shard.records.begin(),
                      shard.records.begin() + static_cast<ptrdiff_t>(count));
  shard.first += count;
}

void MemoryStreamSource::Forget(const std::string& shard_id) {
  std::lock_guard<std::mutex> lock(mu_);
  shards_.erase(shard_id);
  order_.erase(std::remove(order_.begin(), order_.end(), shard_id),
               order_.end());
}

void MemoryStreamSource::FailReads(int count, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_ = count;
  failure_ = std::move(status);
}

Result<StreamInfo> MemoryStreamSource::Describe() {
  std::lock_guard<std::mutex> lock(mu_);
  return info_;
}

Result<std::vector<ShardInfo>> MemoryStreamSource::ListShards() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ShardInfo> out;
  for (const std::string& id : order_) {
    const Shard& shard = shards_.at(id);
    ShardInfo info;
    info.shard_id = id;
    info.parent_id = shard.parent_id;
    info.starting_sequence = wire::SequenceString(0);
    if (shard.closed) {
      info.ending_sequence = wire::SequenceString(shard.next - 1);
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::unique_ptr<ShardReader>> MemoryStreamSource::OpenShard(
    const std::string& shard_id, const ShardPosition& from) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = shards_.find(shard_id);
  if (it == shards_.end()) return Status::NotFound("no shard " + shard_id);
  const Shard& shard = it->second;
  uint64_t next = shard.first;
  uint64_t seq = 0;
  switch (from.kind) {
    case ShardPosition::Kind::kTrimHorizon:
      break;
    case ShardPosition::Kind::kLatest:
    case ShardPosition::Kind::kShardEnd:
      next = shard.next;
      break;
    case ShardPosition::Kind::kAtSequence:
    case ShardPosition::Kind::kAfterSequence:
      if (!wire::ParseSequence(from.sequence, &seq)) {
        return Status::InvalidArgument("bad sequence " + from.sequence);
      }
      next = from.kind == ShardPosition::Kind::kAfterSequence ? seq + 1 : seq;
      break;
  }
  return std::unique_ptr<ShardReader>(
      std::make_unique<Reader>(this, shard_id, next));
}

}  // namespace eddy::runtime::dispatcher
