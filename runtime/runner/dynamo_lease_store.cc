#include "runner/dynamo_lease_store.h"

#include <rapidjson/stringbuffer.h>

#include <chrono>
#include <thread>

#include "wire/item_json.h"

namespace eddy::runtime::runner {
namespace {

using store::AttributeValue;
using store::Item;

constexpr char kGroupKey[] = "eddy:group";
constexpr char kRunnerPrefix[] = "eddy:runner:";
constexpr char kFormat[] = "1";
// CreateTable is asynchronous on DynamoDB: wait this long for ACTIVE.
constexpr int64_t kCreateTimeoutMs = 120'000;

AttributeValue S(std::string s) { return AttributeValue::String(std::move(s)); }
AttributeValue N(int64_t n) {
  return AttributeValue::NumFromCanonical(std::to_string(n));
}
AttributeValue N(uint64_t n) {
  return AttributeValue::NumFromCanonical(std::to_string(n));
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Builds one request body: {"TableName": table, <members>}.
class Request {
 public:
  explicit Request(const std::string& table) : w_(buffer_) {
    w_.StartObject();
    String("TableName", table);
  }
  Request& String(const char* key, const std::string& value) {
    w_.Key(key);
    w_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    return *this;
  }
  Request& Bool(const char* key, bool value) {
    w_.Key(key);
    w_.Bool(value);
    return *this;
  }
  Request& Int(const char* key, int value) {
    w_.Key(key);
    w_.Int(value);
    return *this;
  }
  Request& Item(const char* key, const store::Item& item) {
    wire::WriteItemMember(key, item, &w_);
    return *this;
  }
  // {"#o": "leaseOwner", ...}
  Request& Names(std::initializer_list<std::pair<const char*, const char*>> n) {
    w_.Key("ExpressionAttributeNames");
    w_.StartObject();
    for (const auto& [alias, name] : n) {
      w_.Key(alias);
      w_.String(name);
    }
    w_.EndObject();
    return *this;
  }
  Request& Raw(const char* key,
               const std::function<void(wire::JsonWriter*)>& write) {
    w_.Key(key);
    write(&w_);
    return *this;
  }
  std::string Done() {
    w_.EndObject();
    return std::string(buffer_.GetString(), buffer_.GetSize());
  }

 private:
  rapidjson::StringBuffer buffer_;
  wire::JsonWriter w_;
};

const AttributeValue* Get(const Item& item, const char* name) {
  auto it = item.find(name);
  return it == item.end() ? nullptr : &it->second;
}

std::string StringOf(const Item& item, const char* name) {
  const AttributeValue* v = Get(item, name);
  return v != nullptr && v->type() == store::ValueType::kS ? v->scalar() : "";
}

bool IntOf(const Item& item, const char* name, int64_t* out) {
  const AttributeValue* v = Get(item, name);
  if (v == nullptr || v->type() != store::ValueType::kN) return false;
  try {
    size_t used = 0;
    *out = std::stoll(v->scalar(), &used);
    return used == v->scalar().size();
  } catch (...) {
    return false;
  }
}

Result<Item> ReadItemJson(const rapidjson::Value& json) {
  Item item;
  wire::DecodeStatus s = wire::ReadItem(json, &item);
  if (!s.ok()) {
    return Status::Corruption("an item that does not decode: " +
                              s.status().message());
  }
  return item;
}

Result<Lease> LeaseFromItem(const Item& item, const std::string& table) {
  Lease lease;
  lease.shard_id = StringOf(item, "leaseKey");
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("table " + table + " holds an item " +
                                   lease.shard_id +
                                   " that is not an Eddy lease (" + why +
                                   "): was it written by something else?");
  };
  lease.owner = StringOf(item, "leaseOwner");
  lease.pending_owner = StringOf(item, "pendingOwner");
  int64_t counter = 0;
  if (!IntOf(item, "leaseCounter", &counter) || counter < 0) {
    return bad("no leaseCounter");
  }
  lease.counter = static_cast<uint64_t>(counter);
  if (!ShardPosition::Parse(StringOf(item, "checkpoint"), &lease.checkpoint)) {
    return bad("checkpoint " + StringOf(item, "checkpoint"));
  }
  if (const AttributeValue* parents = Get(item, "parentShardIds")) {
    if (parents->type() != store::ValueType::kL) return bad("parentShardIds");
    for (const AttributeValue& p : parents->list()) {
      if (p.type() != store::ValueType::kS) return bad("parentShardIds");
      lease.parents.push_back(p.scalar());
    }
  }
  int64_t n = 0;
  if (IntOf(item, "ownerSwitchesSinceCheckpoint", &n) && n >= 0) {
    lease.owner_switches = static_cast<uint64_t>(n);
  }
  IntOf(item, "checkpointTime", &lease.checkpoint_ms);
  IntOf(item, "iteratorAgeMs", &lease.iterator_age_ms);
  int64_t start = 0, end = 0;
  if (IntOf(item, "windowStart", &start) && IntOf(item, "windowEnd", &end)) {
    const AttributeValue* state = Get(item, "windowState");
    lease.window = WindowCheckpoint{
        start, end,
        state != nullptr && state->type() == store::ValueType::kB
            ? state->scalar()
            : std::string()};
  }
  return lease;
}

RunnerRecord RunnerFromItem(const Item& item) {
  RunnerRecord r;
  r.id = StringOf(item, "leaseKey").substr(sizeof(kRunnerPrefix) - 1);
  r.host = StringOf(item, "host");
  IntOf(item, "pid", &r.pid);
  IntOf(item, "startedMs", &r.started_ms);
  IntOf(item, "heartbeatMs", &r.heartbeat_ms);
  r.metrics = StringOf(item, "metrics");
  return r;
}

// The condition every write of a held lease carries.
std::string OwnedBy(const Lease& lease, Item* values) {
  (*values)[":counter"] = N(lease.counter);
  if (lease.owner.empty()) return "attribute_not_exists(#o) AND #c = :counter";
  (*values)[":owner"] = S(lease.owner);
  return "#o = :owner AND #c = :counter";
}

}  // namespace

std::string DynamoLeaseStore::TableName(const std::string& group) {
  return "eddy-leases-" + group;
}

DynamoLeaseStore::DynamoLeaseStore(std::shared_ptr<DynamoTransport> transport,
                                   std::string group,
                                   std::shared_ptr<spdlog::logger> logger)
    : transport_(std::move(transport)),
      group_(std::move(group)),
      table_(TableName(group_)),
      logger_(std::move(logger)) {}

Status DynamoLeaseStore::CheckKeySchema(const rapidjson::Value& table) {
  std::string found;
  bool ok = false;
  auto keys = table.FindMember("KeySchema");
  if (keys != table.MemberEnd() && keys->value.IsArray()) {
    ok = keys->value.Size() == 1;
    for (const rapidjson::Value& key : keys->value.GetArray()) {
      const auto name = key.FindMember("AttributeName");
      const auto type = key.FindMember("KeyType");
      if (name == key.MemberEnd() || !name->value.IsString() ||
          type == key.MemberEnd() || !type->value.IsString()) {
        ok = false;
        continue;
      }
      found += std::string(found.empty() ? "" : ", ") +
               name->value.GetString() + " " + type->value.GetString();
      ok = ok && std::string(name->value.GetString()) == "leaseKey" &&
           std::string(type->value.GetString()) == "HASH";
    }
  }
  if (ok) return Status::OK();
  return Status::InvalidArgument(
      "table " + table_ +
      " exists but is not an Eddy lease table (its key "
      "is " +
      (found.empty() ? "unreadable" : found) +
      ", not leaseKey HASH): give the group another --group name, or point "
      "--lease-endpoint elsewhere");
}

Status DynamoLeaseStore::WaitActive() {
  const int64_t deadline = NowMs() + kCreateTimeoutMs;
  while (true) {
    EDDY_ASSIGN_OR_RETURN(
        rapidjson::Document d,
        CallDynamo(transport_.get(), DynamoTarget("DescribeTable"),
                   Request(table_).Done()));
    auto table = d.FindMember("Table");
    if (table != d.MemberEnd() && table->value.IsObject()) {
      EDDY_RETURN_IF_ERROR(CheckKeySchema(table->value));
      auto status = table->value.FindMember("TableStatus");
      if (status != table->value.MemberEnd() && status->value.IsString() &&
          std::string(status->value.GetString()) == "ACTIVE") {
        return Status::OK();
      }
    }
    if (NowMs() > deadline) {
      return Status::Busy("lease table " + table_ + " is not ACTIVE after " +
                          std::to_string(kCreateTimeoutMs / 1000) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Status DynamoLeaseStore::CheckGroup(const rapidjson::Value& json,
                                    const LeaseGroup& group) {
  EDDY_ASSIGN_OR_RETURN(Item item, ReadItemJson(json));
  if (StringOf(item, "eddyLeaseTable") != kFormat) {
    return Status::InvalidArgument(
        "table " + table_ + " has a group record Eddy does not know (format " +
        StringOf(item, "eddyLeaseTable") +
        "): was it written by something else, or a newer Eddy?");
  }
  const std::string owner_group = StringOf(item, "eddyGroup");
  const std::string stream = StringOf(item, "streamArn");
  if (owner_group != group.group || stream != group.stream_arn) {
    return Status::InvalidArgument(
        "lease table " + table_ + " belongs to group " + owner_group +
        " reading stream " + stream + ", not " + group.stream_arn +
        " (a group reads one stream; a table's stream changes when it is "
        "disabled and enabled again): use another --group, or delete the "
        "table to start the group over");
  }
  return Status::OK();
}

Status DynamoLeaseStore::Prepare(const LeaseGroup& group) {
  std::string error_type;
  Result<rapidjson::Document> described =
      CallDynamo(transport_.get(), DynamoTarget("DescribeTable"),
                 Request(table_).Done(), &error_type);
  if (!described.ok() && described.status().IsNotFound()) {
    logger_->info("creating the lease table {} at {}", table_,
                  transport_->endpoint());
    Result<rapidjson::Document> created =
        CallDynamo(transport_.get(), DynamoTarget("CreateTable"),
                   Request(table_)
                       .Raw("KeySchema",
                            [](wire::JsonWriter* w) {
                              w->StartArray();
                              w->StartObject();
                              w->Key("AttributeName");
                              w->String("leaseKey");
                              w->Key("KeyType");
                              w->String("HASH");
                              w->EndObject();
                              w->EndArray();
                            })
                       .Raw("AttributeDefinitions",
                            [](wire::JsonWriter* w) {
                              w->StartArray();
                              w->StartObject();
                              w->Key("AttributeName");
                              w->String("leaseKey");
                              w->Key("AttributeType");
                              w->String("S");
                              w->EndObject();
                              w->EndArray();
                            })
                       .String("BillingMode", "PAY_PER_REQUEST")
                       .Done(),
                   &error_type);
    // Another runner of the group may have created it just now.
    if (!created.ok() && error_type != "ResourceInUseException") {
      return created.status();
    }
  } else if (!described.ok()) {
    return described.status();
  }
  EDDY_RETURN_IF_ERROR(WaitActive());

  for (int attempt = 0; attempt < 2; ++attempt) {
    EDDY_ASSIGN_OR_RETURN(
        rapidjson::Document got,
        CallDynamo(transport_.get(), DynamoTarget("GetItem"),
                   Request(table_)
                       .Item("Key", {{"leaseKey", S(kGroupKey)}})
                       .Bool("ConsistentRead", true)
                       .Done()));
    auto item = got.FindMember("Item");
    if (item != got.MemberEnd()) return CheckGroup(item->value, group);
    // No group record: the table must be empty, or it is someone else's.
    EDDY_ASSIGN_OR_RETURN(rapidjson::Document scan,
                          CallDynamo(transport_.get(), DynamoTarget("Scan"),
                                     Request(table_)
                                         .Int("Limit", 1)
                                         .Bool("ConsistentRead", true)
                                         .Done()));
    auto items = scan.FindMember("Items");
    if (items != scan.MemberEnd() && items->value.IsArray() &&
        !items->value.Empty()) {
      return Status::InvalidArgument(
          "table " + table_ +
          " holds items but no Eddy group record: it was written by "
          "something else (another tool's lease table?); use another "
          "--group, or point --lease-endpoint elsewhere");
    }
    Item record = {
        {"leaseKey", S(kGroupKey)},    {"eddyLeaseTable", S(kFormat)},
        {"eddyGroup", S(group.group)}, {"streamArn", S(group.stream_arn)},
        {"tableName", S(group.table)}, {"createdMs", N(NowMs())}};
    Result<rapidjson::Document> put = CallDynamo(
        transport_.get(), DynamoTarget("PutItem"),
        Request(table_)
            .Item("Item", record)
            .String("ConditionExpression", "attribute_not_exists(leaseKey)")
            .Done());
    if (put.ok()) return Status::OK();
    if (!put.status().IsConditionFailed()) return put.status();
    // Another runner wrote it first: read and check it.
  }
  return Status::Busy("the group record of " + table_ + " keeps changing");
}

Result<LeaseGroup> DynamoLeaseStore::ReadGroup() {
  EDDY_ASSIGN_OR_RETURN(
      rapidjson::Document got,
      CallDynamo(transport_.get(), DynamoTarget("GetItem"),
                 Request(table_)
                     .Item("Key", {{"leaseKey", S(kGroupKey)}})
                     .Bool("ConsistentRead", true)
                     .Done()));
  auto json = got.FindMember("Item");
  if (json == got.MemberEnd()) {
    return Status::NotFound("table " + table_ +
                            " has no Eddy group record: it is not a lease "
                            "table of Eddy's");
  }
  EDDY_ASSIGN_OR_RETURN(Item item, ReadItemJson(json->value));
  if (StringOf(item, "eddyLeaseTable") != kFormat) {
    return Status::InvalidArgument("table " + table_ +
                                   " has a group record Eddy does not know");
  }
  LeaseGroup group;
  group.group = StringOf(item, "eddyGroup");
  group.stream_arn = StringOf(item, "streamArn");
  group.table = StringOf(item, "tableName");
  return group;
}

Result<LeaseTableSnapshot> DynamoLeaseStore::Scan() {
  LeaseTableSnapshot snapshot;
  std::optional<Item> start;
  for (int page = 0; page < 100'000; ++page) {
    Request request(table_);
    request.Bool("ConsistentRead", true);
    if (start) request.Item("ExclusiveStartKey", *start);
    EDDY_ASSIGN_OR_RETURN(
        rapidjson::Document answer,
        CallDynamo(transport_.get(), DynamoTarget("Scan"), request.Done()));
    auto items = answer.FindMember("Items");
    if (items == answer.MemberEnd() || !items->value.IsArray()) {
      return Status::IOError("a malformed Scan answer");
    }
    for (const rapidjson::Value& json : items->value.GetArray()) {
      EDDY_ASSIGN_OR_RETURN(Item item, ReadItemJson(json));
      const std::string key = StringOf(item, "leaseKey");
      if (key == kGroupKey) continue;
      if (StringOf(item, "eddyGroup") != group_) {
        return Status::InvalidArgument(
            "table " + table_ + " holds an item " + key +
            " of another group or tool: was it written by something else?");
      }
      if (key.rfind(kRunnerPrefix, 0) == 0) {
        snapshot.runners.push_back(RunnerFromItem(item));
        continue;
      }
      EDDY_ASSIGN_OR_RETURN(Lease lease, LeaseFromItem(item, table_));
      snapshot.leases.push_back(std::move(lease));
    }
    auto last = answer.FindMember("LastEvaluatedKey");
    if (last == answer.MemberEnd()) return snapshot;
    EDDY_ASSIGN_OR_RETURN(Item next, ReadItemJson(last->value));
    start = std::move(next);
  }
  return Status::IOError("Scan of " + table_ + " does not end");
}

Result<Lease> DynamoLeaseStore::GetLease(const std::string& shard_id) {
  EDDY_ASSIGN_OR_RETURN(rapidjson::Document got,
                        CallDynamo(transport_.get(), DynamoTarget("GetItem"),
                                   Request(table_)
                                       .Item("Key", {{"leaseKey", S(shard_id)}})
                                       .Bool("ConsistentRead", true)
                                       .Done()));
  auto json = got.FindMember("Item");
  if (json == got.MemberEnd()) {
    return Status::NotFound("no lease for " + shard_id);
  }
  EDDY_ASSIGN_OR_RETURN(Item item, ReadItemJson(json->value));
  return LeaseFromItem(item, table_);
}

Status DynamoLeaseStore::CreateLease(const Lease& lease) {
  Item item = {{"leaseKey", S(lease.shard_id)},
               {"eddyGroup", S(group_)},
               {"leaseCounter", N(lease.counter)},
               {"checkpoint", S(lease.checkpoint.ToString())},
               {"ownerSwitchesSinceCheckpoint", N(lease.owner_switches)}};
  if (!lease.owner.empty()) item["leaseOwner"] = S(lease.owner);
  if (!lease.parents.empty()) {
    store::AttributeList parents;
    for (const std::string& p : lease.parents) parents.push_back(S(p));
    item["parentShardIds"] = AttributeValue::List(std::move(parents));
  }
  Result<rapidjson::Document> put = CallDynamo(
      transport_.get(), DynamoTarget("PutItem"),
      Request(table_)
          .Item("Item", item)
          .String("ConditionExpression", "attribute_not_exists(leaseKey)")
          .Done());
  if (!put.ok() && put.status().IsConditionFailed()) {
    return Status::AlreadyExists("lease " + lease.shard_id + " exists");
  }
  return put.status();
}

namespace {

// UpdateItem of a held lease: `update` with the values in `values` (plus
// :counter/:owner of the condition and :next, the bumped counter).
Status UpdateLease(DynamoTransport* transport, const std::string& table,
                   Lease* lease, const std::string& update, Item values) {
  const std::string condition = OwnedBy(*lease, &values);
  values[":next"] = N(lease->counter + 1);
  Request request(table);
  request.Item("Key", {{"leaseKey", S(lease->shard_id)}})
      .String("UpdateExpression", update)
      .String("ConditionExpression", condition)
      .Item("ExpressionAttributeValues", values);
  request.Names({{"#o", "leaseOwner"}, {"#c", "leaseCounter"}});
  Result<rapidjson::Document> answer =
      CallDynamo(transport, DynamoTarget("UpdateItem"), request.Done());
  if (!answer.ok()) {
    if (answer.status().IsConditionFailed()) {
      return Status::ConditionFailed("lease " + lease->shard_id +
                                     " was changed by another runner");
    }
    return answer.status();
  }
  ++lease->counter;
  return Status::OK();
}

}  // namespace

Status DynamoLeaseStore::Renew(Lease* lease) {
  return UpdateLease(transport_.get(), table_, lease, "SET #c = :next", {});
}

Status DynamoLeaseStore::Take(Lease* lease, const std::string& new_owner) {
  Lease copy = *lease;
  EDDY_RETURN_IF_ERROR(UpdateLease(
      transport_.get(), table_, &copy,
      "SET #c = :next, #o = :new, ownerSwitchesSinceCheckpoint = :switches "
      "REMOVE pendingOwner",
      {{":new", S(new_owner)}, {":switches", N(lease->owner_switches + 1)}}));
  *lease = std::move(copy);
  lease->owner = new_owner;
  lease->pending_owner.clear();
  ++lease->owner_switches;
  return Status::OK();
}

Status DynamoLeaseStore::RequestHandoff(Lease* lease, const std::string& to) {
  EDDY_RETURN_IF_ERROR(UpdateLease(transport_.get(), table_, lease,
                                   "SET #c = :next, pendingOwner = :to",
                                   {{":to", S(to)}}));
  lease->pending_owner = to;
  return Status::OK();
}

Status DynamoLeaseStore::Transfer(Lease* lease) {
  if (lease->pending_owner.empty()) {
    return Status::ConditionFailed("lease " + lease->shard_id +
                                   " has no pending owner");
  }
  const std::string to = lease->pending_owner;
  Lease copy = *lease;
  EDDY_RETURN_IF_ERROR(UpdateLease(
      transport_.get(), table_, &copy,
      "SET #c = :next, #o = :to, ownerSwitchesSinceCheckpoint = :switches "
      "REMOVE pendingOwner",
      {{":to", S(to)}, {":switches", N(lease->owner_switches + 1)}}));
  *lease = std::move(copy);
  lease->owner = to;
  lease->pending_owner.clear();
  ++lease->owner_switches;
  return Status::OK();
}

Status DynamoLeaseStore::Release(Lease* lease) {
  EDDY_RETURN_IF_ERROR(UpdateLease(transport_.get(), table_, lease,
                                   "SET #c = :next REMOVE #o, pendingOwner",
                                   {}));
  lease->owner.clear();
  lease->pending_owner.clear();
  return Status::OK();
}

Status DynamoLeaseStore::Checkpoint(Lease* lease,
                                    const ShardCheckpoint& checkpoint,
                                    int64_t now_ms) {
  Item values = {{":cp", S(checkpoint.position.ToString())},
                 {":zero", N(int64_t{0})},
                 {":time", N(now_ms)},
                 {":age", N(checkpoint.iterator_age_ms)}};
  std::string update =
      "SET #c = :next, checkpoint = :cp, ownerSwitchesSinceCheckpoint = "
      ":zero, checkpointTime = :time, iteratorAgeMs = :age";
  if (checkpoint.window) {
    values[":ws"] = N(checkpoint.window->start_ms);
    values[":we"] = N(checkpoint.window->end_ms);
    values[":state"] = AttributeValue::Binary(checkpoint.window->state);
    update += ", windowStart = :ws, windowEnd = :we, windowState = :state";
  } else {
    update += " REMOVE windowStart, windowEnd, windowState";
  }
  EDDY_RETURN_IF_ERROR(
      UpdateLease(transport_.get(), table_, lease, update, values));
  lease->checkpoint = checkpoint.position;
  lease->window = checkpoint.window;
  lease->owner_switches = 0;
  lease->checkpoint_ms = now_ms;
  lease->iterator_age_ms = checkpoint.iterator_age_ms;
  return Status::OK();
}

Status DynamoLeaseStore::DeleteLease(const Lease& lease) {
  Result<rapidjson::Document> answer = CallDynamo(
      transport_.get(), DynamoTarget("DeleteItem"),
      Request(table_)
          .Item("Key", {{"leaseKey", S(lease.shard_id)}})
          .String("ConditionExpression", "#c = :counter")
          .Names({{"#c", "leaseCounter"}})
          .Item("ExpressionAttributeValues", {{":counter", N(lease.counter)}})
          .Done());
  return answer.status();
}

Status DynamoLeaseStore::PutRunner(const RunnerRecord& runner) {
  Item item = {{"leaseKey", S(kRunnerPrefix + runner.id)},
               {"eddyGroup", S(group_)},
               {"host", S(runner.host)},
               {"pid", N(runner.pid)},
               {"startedMs", N(runner.started_ms)},
               {"heartbeatMs", N(runner.heartbeat_ms)}};
  if (!runner.metrics.empty()) item["metrics"] = S(runner.metrics);
  return CallDynamo(transport_.get(), DynamoTarget("PutItem"),
                    Request(table_).Item("Item", item).Done())
      .status();
}

Status DynamoLeaseStore::DeleteRunner(const std::string& id) {
  return CallDynamo(transport_.get(), DynamoTarget("DeleteItem"),
                    Request(table_)
                        .Item("Key", {{"leaseKey", S(kRunnerPrefix + id)}})
                        .Done())
      .status();
}

}  // namespace eddy::runtime::runner
