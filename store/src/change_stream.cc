#include <cstdio>
#include <ctime>
#include <random>

#include "catalog.h"
#include "change_stream_impl.h"
#include "eddy/change_record.pb.h"
#include "eddy/store/item_codec.h"

namespace eddy::store {
namespace {

std::string NewEventId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx",
                static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

std::string_view StreamViewTypeName(StreamViewType type) {
  switch (type) {
    case StreamViewType::kKeysOnly:
      return "KEYS_ONLY";
    case StreamViewType::kNewImage:
      return "NEW_IMAGE";
    case StreamViewType::kOldImage:
      return "OLD_IMAGE";
    case StreamViewType::kNewAndOldImages:
      return "NEW_AND_OLD_IMAGES";
  }
  return "NEW_AND_OLD_IMAGES";
}

bool ParseStreamViewType(std::string_view text, StreamViewType* type) {
  for (StreamViewType t :
       {StreamViewType::kKeysOnly, StreamViewType::kNewImage,
        StreamViewType::kOldImage, StreamViewType::kNewAndOldImages}) {
    if (text == StreamViewTypeName(t)) {
      *type = t;
      return true;
    }
  }
  return false;
}

std::string_view ChangeEventName(ChangeEvent event) {
  switch (event) {
    case ChangeEvent::kInsert:
      return "INSERT";
    case ChangeEvent::kModify:
      return "MODIFY";
    case ChangeEvent::kRemove:
      return "REMOVE";
  }
  return "MODIFY";
}

std::string StreamLabel(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03d",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

ChangeStreamImpl::ChangeStreamImpl(std::string dir, uint64_t table_id,
                                   StreamDescription description,
                                   std::shared_ptr<spdlog::logger> logger)
    : dir_(std::move(dir)),
      table_id_(table_id),
      logger_(std::move(logger)),
      description_(std::move(description)) {}

Result<std::shared_ptr<ChangeStreamImpl>> ChangeStreamImpl::Open(
    std::string dir, uint64_t table_id, StreamDescription description,
    std::shared_ptr<spdlog::logger> logger, streams::FileSystem* file_system) {
  const bool disabled = !description.enabled();
  streams::StreamLog::Options options;
  options.dir = dir;
  options.shard_count = description.shard_count;
  options.shard_options.logger = logger;
  options.shard_options.first_sequence = kFirstRecordSequence;
  options.shard_options.file_system = file_system;
  Result<std::unique_ptr<streams::StreamLog>> log =
      streams::StreamLog::Open(options);
  if (!log.ok()) return log.status();
  std::shared_ptr<ChangeStreamImpl> stream(new ChangeStreamImpl(
      std::move(dir), table_id, std::move(description), logger));
  stream->log_ = std::move(*log);
  for (uint32_t i = 0; i < stream->log_->shard_count(); ++i) {
    stream->shards_.push_back(std::make_unique<Shard>());
  }
  // A stream disabled just before a crash may not have been sealed yet.
  if (disabled && !stream->log_->sealed()) {
    EDDY_RETURN_IF_ERROR(stream->log_->Seal());
  }
  return stream;
}

StreamDescription ChangeStreamImpl::description() const {
  std::lock_guard<std::mutex> lock(description_mu_);
  return description_;
}

std::string ChangeStreamImpl::MarkerKey(uint32_t shard) const {
  std::string key(1, kAppliedPrefix);
  AppendBigEndian64(table_id_, &key);
  std::lock_guard<std::mutex> lock(description_mu_);
  key += description_.label;
  key.push_back('\0');
  AppendBigEndian32(shard, &key);
  return key;
}

std::string ChangeStreamImpl::EncodeChange(const std::string& db_key,
                                           const Item& keys,
                                           const std::optional<Item>& old_image,
                                           const std::optional<Item>& new_image,
                                           bool service_delete,
                                           uint64_t transaction_id) const {
  proto::ChangeRecord r;
  r.set_event_name(!old_image  ? proto::ChangeRecord::INSERT
                   : new_image ? proto::ChangeRecord::MODIFY
                               : proto::ChangeRecord::REMOVE);
  EncodeItem(keys, r.mutable_keys());
  // Both images are always kept: the new one is the redo entry, and
  // triggers may want either; Decode filters by the view type.
  if (old_image) {
    r.set_has_old_image(true);
    EncodeItem(*old_image, r.mutable_old_image());
  }
  if (new_image) {
    r.set_has_new_image(true);
    EncodeItem(*new_image, r.mutable_new_image());
  }
  r.set_db_key(db_key);
  r.set_event_id(NewEventId());
  r.set_service_delete(service_delete);
  r.set_transaction_id(transaction_id);
  // SizeBytes counts what the view type puts in the record.
  uint64_t size = ItemSize(keys);
  const StreamViewType view = description_.view_type;  // Immutable.
  if (old_image && (view == StreamViewType::kOldImage ||
                    view == StreamViewType::kNewAndOldImages)) {
    size += ItemSize(*old_image);
  }
  if (new_image && (view == StreamViewType::kNewImage ||
                    view == StreamViewType::kNewAndOldImages)) {
    size += ItemSize(*new_image);
  }
  r.set_size_bytes(size);
  return r.SerializeAsString();
}

Result<ChangeRecord> ChangeStreamImpl::Decode(
    const streams::LogRecord& record) const {
  proto::ChangeRecord r;
  if (!r.ParseFromString(record.payload)) {
    return Status::Corruption("undecodable stream record " +
                              std::to_string(record.sequence));
  }
  ChangeRecord out;
  out.sequence = record.sequence;
  out.timestamp_ms = record.timestamp_ms;
  switch (r.event_name()) {
    case proto::ChangeRecord::INSERT:
      out.event = ChangeEvent::kInsert;
      break;
    case proto::ChangeRecord::MODIFY:
      out.event = ChangeEvent::kModify;
      break;
    case proto::ChangeRecord::REMOVE:
      out.event = ChangeEvent::kRemove;
      break;
    default:
      return Status::Corruption("stream record without event name");
  }
  out.event_id = r.event_id();
  out.size_bytes = r.size_bytes();
  out.service_delete = r.service_delete();
  EDDY_ASSIGN_OR_RETURN(out.keys, DecodeItem(r.keys()));
  const StreamViewType view = description_.view_type;
  if (r.has_old_image() && (view == StreamViewType::kOldImage ||
                            view == StreamViewType::kNewAndOldImages)) {
    EDDY_ASSIGN_OR_RETURN(Item old_image, DecodeItem(r.old_image()));
    out.old_image = std::move(old_image);
  }
  if (r.has_new_image() && (view == StreamViewType::kNewImage ||
                            view == StreamViewType::kNewAndOldImages)) {
    EDDY_ASSIGN_OR_RETURN(Item new_image, DecodeItem(r.new_image()));
    out.new_image = std::move(new_image);
  }
  return out;
}

Result<ChangeStreamImpl::Ticket> ChangeStreamImpl::Append(
    uint32_t shard_index, std::string_view payload, int64_t timestamp_ms) {
  Shard& shard = *shards_[shard_index];
  std::lock_guard<std::mutex> lock(shard.mu);
  Result<uint64_t> sequence =
      log_->shard(shard_index)->Append(payload, timestamp_ms);
  if (!sequence.ok()) return sequence.status();
  shard.inflight.insert(*sequence);
  Ticket ticket;
  ticket.shard = shard_index;
  ticket.sequence = *sequence;
  ticket.marker = *shard.inflight.begin() - 1;
  return ticket;
}

Status ChangeStreamImpl::Sync(const Ticket& ticket) {
  return log_->shard(ticket.shard)->Sync(ticket.sequence);
}

void ChangeStreamImpl::Applied(const Ticket& ticket) {
  Shard& shard = *shards_[ticket.shard];
  std::lock_guard<std::mutex> lock(shard.mu);
  shard.inflight.erase(ticket.sequence);
}

Status ChangeStreamImpl::SealIfDisabled() {
  if (description().enabled() || log_->sealed()) return Status::OK();
  return log_->Seal();
}

void ChangeStreamImpl::ResetInflight() {
  for (const auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mu);
    shard->inflight.clear();
  }
}

Status ChangeStreamImpl::Disable(int64_t disabled_ms) {
  {
    std::lock_guard<std::mutex> lock(description_mu_);
    description_.disabled_ms = disabled_ms;
  }
  return log_->Seal();
}

}  // namespace eddy::store
