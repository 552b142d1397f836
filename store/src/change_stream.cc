#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string_view>

#include "catalog.h"
#include "change_stream_impl.h"
#include "eddy/change_record.pb.h"
#include "eddy/store/item_codec.h"

namespace eddy::store {
namespace {

// SplitMix64's finalizer: a bijection of 64-bit values that spreads every
// input bit over the output.
uint64_t Mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a, 64 bits: fixed for all time (eventIDs derive from it), unlike
// std::hash.
uint64_t Fnv1a64(std::string_view bytes,
                 uint64_t hash = 0xcbf29ce484222325ULL) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

uint64_t EventIdSeed(uint64_t table_id, std::string_view label) {
  std::string bytes;
  AppendBigEndian64(table_id, &bytes);
  bytes += label;
  return Fnv1a64(bytes);
}

// A record's eventID (32 hex digits, as DynamoDB's): the high half names the
// shard of this stream, the low half is a bijection of the sequence number
// keyed by it. So IDs are unique within a shard by construction, across
// shards and streams but for a 64-bit hash collision, and the same at every
// read (derived, not stored: 34 bytes less per record).
std::string EventId(uint64_t seed, uint32_t shard, uint64_t sequence) {
  const uint64_t high = Mix64(seed ^ (uint64_t{shard} * 0x9e3779b97f4a7c15ULL));
  const uint64_t low = Mix64(sequence + high);
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx",
                static_cast<unsigned long long>(high),
                static_cast<unsigned long long>(low));
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
                                   streams::ShardLog::Options shard_options)
    : dir_(std::move(dir)),
      table_id_(table_id),
      width_(description.shard_count),
      event_id_seed_(EventIdSeed(table_id, description.label)),
      shard_options_(std::move(shard_options)),
      description_(std::move(description)) {
  if (description_.generations.empty()) {
    description_.generations.push_back(description_.created_ms);
  }
}

std::string ChangeStreamImpl::GenerationDir(uint32_t generation) const {
  if (generation == 0) return dir_;
  char name[32];
  std::snprintf(name, sizeof(name), "/gen-%06u", generation);
  return dir_ + name;
}

Result<std::unique_ptr<streams::StreamLog>> ChangeStreamImpl::OpenGeneration(
    uint32_t generation) const {
  streams::StreamLog::Options options;
  options.dir = GenerationDir(generation);
  options.shard_count = width_;
  options.shard_options = shard_options_;
  options.shard_options.first_sequence = kFirstRecordSequence;
  return streams::StreamLog::Open(options);
}

Result<std::shared_ptr<ChangeStreamImpl>> ChangeStreamImpl::Open(
    std::string dir, uint64_t table_id, StreamDescription description,
    streams::ShardLog::Options shard_options) {
  if (description.shard_count == 0) {
    return Status::Corruption("stream " + description.label + " has no shards");
  }
  std::shared_ptr<ChangeStreamImpl> stream(
      new ChangeStreamImpl(std::move(dir), table_id, std::move(description),
                           std::move(shard_options)));
  const StreamDescription& d = stream->description_;
  const uint32_t count = d.generation_count();
  const uint32_t first = std::min(d.first_generation, count - 1);
  // What a crash left of retired generations goes now.
  for (uint32_t g = 0; g < first; ++g) {
    EDDY_RETURN_IF_ERROR(streams::StreamLog::DestroyStream(
        stream->GenerationDir(g), stream->shard_options_.file_system));
  }
  for (uint32_t g = 0; g < count; ++g) {
    std::unique_ptr<streams::StreamLog> log;
    if (g >= first) {
      EDDY_ASSIGN_OR_RETURN(log, stream->OpenGeneration(g));
      // Closed generations (and all of a disabled stream) are sealed; a
      // crash between a rollover's catalog write and its seal, or just
      // before a disable's seal, may have left them open.
      if ((g + 1 < count || !d.enabled()) && !log->sealed()) {
        EDDY_RETURN_IF_ERROR(log->Seal());
      }
    }
    for (uint32_t i = 0; i < stream->width_; ++i) {
      stream->shards_.push_back(log ? std::make_unique<Shard>() : nullptr);
    }
    stream->generations_.push_back(std::move(log));
  }
  stream->current_base_.store((count - 1) * stream->width_);
  return stream;
}

StreamDescription ChangeStreamImpl::description() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return description_;
}

uint32_t ChangeStreamImpl::shard_count() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return static_cast<uint32_t>(shards_.size());
}

uint32_t ChangeStreamImpl::first_shard() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return description_.first_generation * width_;
}

streams::ShardLog* ChangeStreamImpl::shard(uint32_t index) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  const uint32_t g = index / width_;
  if (g >= generations_.size() || generations_[g] == nullptr) return nullptr;
  return generations_[g]->shard(index % width_);
}

ChangeStreamImpl::Shard* ChangeStreamImpl::ShardState(uint32_t index) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return index < shards_.size() ? shards_[index].get() : nullptr;
}

std::string ChangeStreamImpl::MarkerKey(uint32_t shard) const {
  std::string key(1, kAppliedPrefix);
  AppendBigEndian64(table_id_, &key);
  key += description_.label;  // Immutable.
  key.push_back('\0');
  AppendBigEndian32(shard, &key);
  return key;
}

namespace {

// The old image of a MODIFY into `r`: as a delta of the new one
// (old_image_is_delta) when that is smaller, which is whenever the change
// leaves some attribute as it was.
void EncodeOldImage(const Item& old_image, const Item& new_image,
                    proto::ChangeRecord* r) {
  Item changed;
  size_t delta_bytes = 0;
  for (const auto& [name, value] : old_image) {
    auto it = new_image.find(name);
    if (it == new_image.end() || !(it->second == value)) {
      changed.emplace(name, value);
      delta_bytes += name.size() + value.Size();
    }
  }
  std::vector<const std::string*> absent;
  for (const auto& [name, value] : new_image) {
    if (old_image.find(name) == old_image.end()) {
      absent.push_back(&name);
      delta_bytes += name.size() + 2;
    }
  }
  if (delta_bytes >= ItemSize(old_image)) {
    EncodeItem(old_image, r->mutable_old_image());
    return;
  }
  r->set_old_image_is_delta(true);
  EncodeItem(changed, r->mutable_old_image());
  for (const std::string* name : absent) r->add_old_absent(*name);
}

}  // namespace

std::string ChangeStreamImpl::EncodeChange(const std::optional<Item>& old_image,
                                           const std::optional<Item>& new_image,
                                           std::string_view new_encoded,
                                           bool service_delete,
                                           uint64_t transaction_id) const {
  // Stored: what nothing else tells. Not the key attributes, the item's
  // LevelDB key or the eventID: Decode takes the keys from an image and
  // derives the ID (EventId), the redo the LevelDB key from the image. Not
  // SizeBytes: Decode computes it from what it shows. Not whether an image
  // is there (an encoded item is never empty), nor the event name where the
  // images tell it (INSERT: a new image alone; MODIFY: both; REMOVE: an old
  // image alone). The new image is always kept (the redo entry); the old
  // one where the view type shows it, and for a REMOVE, whose keys it holds.
  // Decode filters by the view type.
  proto::ChangeRecord r;
  const StreamViewType view = description_.view_type;  // Immutable.
  const bool view_old = view == StreamViewType::kOldImage ||
                        view == StreamViewType::kNewAndOldImages;
  if (old_image && new_image && view_old) {
    EncodeOldImage(*old_image, *new_image, &r);
  } else if (old_image && !new_image) {
    EncodeItem(*old_image, r.mutable_old_image());
  } else if (old_image) {
    r.set_event_name(proto::ChangeRecord::MODIFY);  // The view leaves it out.
  }
  if (new_image) {
    if (new_encoded.empty()) {
      EncodeItem(*new_image, r.mutable_new_image());
    } else {
      r.set_new_image(std::string(new_encoded));
    }
  }
  r.set_service_delete(service_delete);
  r.set_transaction_id(transaction_id);
  return r.SerializeAsString();
}

bool StoredNewImage(const proto::ChangeRecord& record) {
  return record.has_new_image() || !record.new_image().empty();
}

bool StoredOldImage(const proto::ChangeRecord& record) {
  return record.has_old_image() || !record.old_image().empty();
}

Result<ChangeRecord> ChangeStreamImpl::Decode(
    uint32_t shard, const streams::LogRecord& record) const {
  proto::ChangeRecord r;
  if (!r.ParseFromString(record.payload)) {
    return Status::Corruption("undecodable stream record " +
                              std::to_string(record.sequence));
  }
  ChangeRecord out;
  out.sequence = record.sequence;
  out.timestamp_ms = record.timestamp_ms;
  const bool has_new = StoredNewImage(r);
  const bool has_old = StoredOldImage(r);
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
    case proto::ChangeRecord::EVENT_UNKNOWN:
      if (!has_new && !has_old) {
        return Status::Corruption("stream record " +
                                  std::to_string(record.sequence) +
                                  " has neither an event name nor an image");
      }
      out.event = !has_old  ? ChangeEvent::kInsert
                  : has_new ? ChangeEvent::kModify
                            : ChangeEvent::kRemove;
      break;
    default:
      return Status::Corruption("stream record " +
                                std::to_string(record.sequence) +
                                " has an unknown event name");
  }
  // Records written before the ID was derived carry their own.
  out.event_id = r.event_id().empty()
                     ? EventId(event_id_seed_, shard, record.sequence)
                     : r.event_id();
  out.service_delete = r.service_delete();
  const StreamViewType view = description_.view_type;
  const bool view_old = view == StreamViewType::kOldImage ||
                        view == StreamViewType::kNewAndOldImages;
  const bool view_new = view == StreamViewType::kNewImage ||
                        view == StreamViewType::kNewAndOldImages;
  const bool stored_keys = !r.keys().empty();  // Written before they were
                                               // taken from the image.
  // The new image is decoded when shown, when the old one is a delta of
  // it, or when the keys come from it; the old one when shown, or for the
  // keys of a REMOVE.
  std::optional<Item> new_image;
  if (has_new &&
      (view_new || !stored_keys || (view_old && r.old_image_is_delta()))) {
    EDDY_ASSIGN_OR_RETURN(new_image, DecodeItem(r.new_image()));
  }
  std::optional<Item> old_image;
  if (has_old && (view_old || (!stored_keys && !new_image))) {
    EDDY_ASSIGN_OR_RETURN(Item stored, DecodeItem(r.old_image()));
    if (r.old_image_is_delta()) {
      if (!new_image) {
        return Status::Corruption("stream record " +
                                  std::to_string(record.sequence) +
                                  " has an old image delta without a new "
                                  "image");
      }
      old_image = *new_image;
      for (const std::string& name : r.old_absent()) old_image->erase(name);
      for (auto& [name, value] : stored) {
        (*old_image)[name] = std::move(value);
      }
    } else {
      old_image = std::move(stored);
    }
  }
  if (stored_keys) {
    EDDY_ASSIGN_OR_RETURN(out.keys, DecodeItem(r.keys()));
  } else {
    // The key attributes of the image the record has (the new one, or the
    // old one of a REMOVE).
    const std::optional<Item>& image = new_image ? new_image : old_image;
    if (!image) {
      return Status::Corruption("stream record " +
                                std::to_string(record.sequence) +
                                " has neither keys nor an image");
    }
    EDDY_RETURN_IF_ERROR(KeysOf(*image, record.sequence, &out.keys));
  }
  if (view_old) out.old_image = std::move(old_image);
  if (view_new) out.new_image = std::move(new_image);
  // SizeBytes counts what the view type shows (stored by earlier versions).
  out.size_bytes = r.size_bytes();
  if (out.size_bytes == 0) {
    out.size_bytes = ItemSize(out.keys);
    if (out.old_image) out.size_bytes += ItemSize(*out.old_image);
    if (out.new_image) out.size_bytes += ItemSize(*out.new_image);
  }
  return out;
}

Result<std::string> ChangeStreamImpl::ItemIdentity(
    const proto::ChangeRecord& record) const {
  if (!record.db_key().empty()) return record.db_key();
  const bool has_new = StoredNewImage(record);
  if (!has_new && !StoredOldImage(record)) {
    return Status::Corruption("a stream record without an image");
  }
  // A REMOVE's old image is whole (deltas are of a new image).
  EDDY_ASSIGN_OR_RETURN(Item image, DecodeItem(has_new ? record.new_image()
                                                       : record.old_image()));
  Item keys;
  EDDY_RETURN_IF_ERROR(KeysOf(image, 0, &keys));
  std::string identity;
  EncodeItem(keys, &identity);
  return identity;
}

Status ChangeStreamImpl::KeysOf(const Item& image, uint64_t sequence,
                                Item* keys) const {
  for (const std::string* name :
       {&description_.hash_key, &description_.range_key}) {
    if (name->empty()) continue;
    auto it = image.find(*name);
    if (it == image.end()) {
      return Status::Corruption("stream record " + std::to_string(sequence) +
                                "'s image lacks key attribute " + *name);
    }
    keys->emplace(it->first, it->second);
  }
  return Status::OK();
}

Result<ChangeStreamImpl::Ticket> ChangeStreamImpl::Append(
    uint32_t shard_index, std::string_view payload, int64_t timestamp_ms) {
  Shard* state = ShardState(shard_index);
  streams::ShardLog* log = shard(shard_index);
  if (state == nullptr || log == nullptr) {
    return Status::Internal("append to a retired or unknown shard " +
                            std::to_string(shard_index));
  }
  std::lock_guard<std::mutex> lock(state->mu);
  Result<uint64_t> sequence = log->Append(payload, timestamp_ms);
  if (!sequence.ok()) return sequence.status();
  state->inflight.insert(*sequence);
  Ticket ticket;
  ticket.shard = shard_index;
  ticket.sequence = *sequence;
  ticket.marker = *state->inflight.begin() - 1;
  return ticket;
}

Status ChangeStreamImpl::Sync(const Ticket& ticket) {
  return shard(ticket.shard)->Sync(ticket.sequence);
}

void ChangeStreamImpl::Applied(const Ticket& ticket) {
  Shard* state = ShardState(ticket.shard);
  std::lock_guard<std::mutex> lock(state->mu);
  state->inflight.erase(ticket.sequence);
}

Status ChangeStreamImpl::SealIfDisabled() {
  std::vector<streams::StreamLog*> logs;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (description_.enabled()) return Status::OK();
    for (const auto& log : generations_) {
      if (log && !log->sealed()) logs.push_back(log.get());
    }
  }
  for (streams::StreamLog* log : logs) EDDY_RETURN_IF_ERROR(log->Seal());
  return Status::OK();
}

void ChangeStreamImpl::ResetInflight() {
  std::shared_lock<std::shared_mutex> lock(mu_);
  for (const auto& shard : shards_) {
    if (shard == nullptr) continue;  // A generation retired before Open.
    std::lock_guard<std::mutex> shard_lock(shard->mu);
    shard->inflight.clear();
  }
}

Status ChangeStreamImpl::Close() {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Status result;
  for (const auto& log : generations_) {
    if (log == nullptr) continue;
    Status s = log->Close();
    if (!s.ok() && result.ok()) result = s;
  }
  if (prepared_) {
    Status s = prepared_->Close();
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

Status ChangeStreamImpl::Checkpoint() {
  std::vector<streams::StreamLog*> logs;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    for (uint32_t g = description_.first_generation; g < generations_.size();
         ++g) {
      if (generations_[g]) logs.push_back(generations_[g].get());
    }
  }
  Status result;
  for (streams::StreamLog* log : logs) {
    Status s = log->Checkpoint();
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

Status ChangeStreamImpl::Disable(int64_t disabled_ms) {
  std::vector<streams::StreamLog*> logs;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    description_.disabled_ms = disabled_ms;
    for (const auto& log : generations_) {
      if (log) logs.push_back(log.get());
    }
  }
  for (streams::StreamLog* log : logs) EDDY_RETURN_IF_ERROR(log->Seal());
  return Status::OK();
}

Status ChangeStreamImpl::TrimBefore(int64_t timestamp_ms) {
  std::vector<streams::StreamLog*> logs;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    for (uint32_t g = description_.first_generation; g < generations_.size();
         ++g) {
      if (generations_[g]) logs.push_back(generations_[g].get());
    }
  }
  Status result;
  for (streams::StreamLog* log : logs) {
    Status s = log->TrimBefore(timestamp_ms);
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

Status ChangeStreamImpl::Destroy() {
  Status result;
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (prepared_) {
    Status s = prepared_->Destroy();
    if (!s.ok()) result = s;
    prepared_.reset();
  }
  // Later generations live inside generation 0's directory: they go first.
  for (uint32_t g = static_cast<uint32_t>(generations_.size()); g-- > 0;) {
    Status s = generations_[g]
                   ? generations_[g]->Destroy()
                   : streams::StreamLog::DestroyStream(
                         GenerationDir(g), shard_options_.file_system);
    if (!s.ok() && result.ok()) result = s;
  }
  // An unknown next generation left by a crashed rollover.
  Status s = streams::StreamLog::DestroyStream(
      GenerationDir(static_cast<uint32_t>(generations_.size())),
      shard_options_.file_system);
  if (!s.ok() && result.ok()) result = s;
  ::rmdir(dir_.c_str());
  return result;
}

Result<StreamDescription> ChangeStreamImpl::PrepareRollover(int64_t now_ms) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (!description_.enabled()) {
    return Status::InvalidArgument("a disabled stream does not roll over");
  }
  const uint32_t next = static_cast<uint32_t>(generations_.size());
  EDDY_ASSIGN_OR_RETURN(prepared_, OpenGeneration(next));
  prepared_ms_ = std::max(now_ms, description_.generations.back() + 1);
  StreamDescription d = description_;
  d.generations.push_back(prepared_ms_);
  return d;
}

Status ChangeStreamImpl::CommitRollover() {
  streams::StreamLog* closing = nullptr;
  uint32_t base = 0;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (!prepared_) return Status::Internal("no rollover prepared");
    closing = generations_.back().get();
    base = static_cast<uint32_t>(generations_.size()) * width_;
    generations_.push_back(std::move(prepared_));
    for (uint32_t i = 0; i < width_; ++i) {
      shards_.push_back(std::make_unique<Shard>());
    }
    description_.generations.push_back(prepared_ms_);
  }
  current_base_.store(base, std::memory_order_release);
  // The catalog already says these shards are closed: a failed seal is
  // sticky in the log and Open seals them again.
  return closing != nullptr ? closing->Seal() : Status::OK();
}

uint32_t ChangeStreamImpl::RetirableBefore(int64_t horizon_ms) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  uint32_t g = description_.first_generation;
  // Never the current generation.
  for (; g + 1 < generations_.size(); ++g) {
    const streams::StreamLog* log = generations_[g].get();
    if (log == nullptr) continue;
    for (uint32_t i = 0; i < width_; ++i) {
      const streams::ShardLog* s = log->shard(i);
      if (!s->sealed() || s->sealed_timestamp_ms() >= horizon_ms ||
          s->last_sequence() >= s->first_sequence()) {
        return g;
      }
    }
  }
  return g;
}

Status ChangeStreamImpl::Retire(uint32_t first) {
  std::vector<streams::StreamLog*> logs;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    for (uint32_t g = description_.first_generation;
         g < first && g + 1 < generations_.size(); ++g) {
      if (generations_[g]) logs.push_back(generations_[g].get());
    }
    description_.first_generation =
        std::max(description_.first_generation, first);
  }
  Status result;
  for (streams::StreamLog* log : logs) {
    // Closes the shards (readers get IOError) and deletes the files; the
    // objects stay until the stream goes, so shard() pointers stay valid.
    Status s = log->Destroy();
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

}  // namespace eddy::store
