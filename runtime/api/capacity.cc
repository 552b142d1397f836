#include "api/capacity.h"

#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "partiql/parser.h"

namespace eddy::runtime::api {
namespace {

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A member of `obj` that is a string, or "" (the operation rejects requests
// without it).
std::string_view StringMember(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return {};
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

const rapidjson::Value* ArrayMember(const rapidjson::Value& obj,
                                    const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsArray()) return nullptr;
  return &it->value;
}

// One table (and index) a request uses. An empty table names nothing.
struct Target {
  std::string table;
  std::optional<std::string> index;
  CapacityUse use = CapacityUse::kRead;
};

// The table a PartiQL statement (a request, or one of its statement list)
// uses; a statement that does not parse names nothing.
Target StatementTarget(const rapidjson::Value& member) {
  Target t;
  const std::string_view text = StringMember(member, "Statement");
  if (text.empty()) return t;
  Result<partiql::Statement> st = partiql::Parse(text);
  if (!st.ok()) return t;
  t.table = std::move(st->table);
  t.index = std::move(st->index);
  // An EXISTS check is a transaction's ConditionCheck: it costs writes.
  t.use = st->is_read() ? CapacityUse::kRead : CapacityUse::kWrite;
  return t;
}

// The action of one TransactWriteItems entry: its table.
Target TransactWriteTarget(const rapidjson::Value& entry) {
  Target t;
  t.use = CapacityUse::kWrite;
  if (!entry.IsObject()) return t;
  for (const char* kind : {"ConditionCheck", "Put", "Delete", "Update"}) {
    auto it = entry.FindMember(kind);
    if (it == entry.MemberEnd()) continue;
    t.table = std::string(StringMember(it->value, "TableName"));
    break;
  }
  return t;
}

// TransactionCanceledException: one reason per item, in request order, the
// throttled ones with their ProvisionedThroughputExceeded message.
ApiError Cancelled(const std::vector<ApiStatus>& items) {
  std::string codes;
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("CancellationReasons");
  w.StartArray();
  for (size_t i = 0; i < items.size(); ++i) {
    const char* code = items[i].ok() ? "None" : "ProvisionedThroughputExceeded";
    codes += std::string(i == 0 ? "" : ", ") + code;
    w.StartObject();
    w.Key("Code");
    w.String(code);
    if (!items[i].ok()) {
      const std::string& message = items[i].error().message;
      w.Key("Message");
      w.String(message.data(),
               static_cast<rapidjson::SizeType>(message.size()));
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  ApiError error = ApiError::Dynamo(
      "TransactionCanceledException",
      "Transaction cancelled, please refer cancellation reasons for specific "
      "reasons [" +
          codes + "]");
  std::string json(buf.GetString(), buf.GetSize());
  error.extra_json = json.substr(1, json.size() - 2);
  return error;
}

}  // namespace

TokenBucket::TokenBucket(double rate, double burst_seconds, int64_t now_us)
    : rate_(rate),
      burst_seconds_(burst_seconds),
      balance_(rate * burst_seconds),
      last_us_(now_us) {}

void TokenBucket::Refill(int64_t now_us) {
  if (now_us <= last_us_) return;
  const double elapsed = static_cast<double>(now_us - last_us_) / 1e6;
  balance_ = std::min(max_balance(), balance_ + rate_ * elapsed);
  last_us_ = now_us;
}

bool TokenBucket::Admits(int64_t now_us) {
  Refill(now_us);
  return balance_ > 0;
}

void TokenBucket::Take(double units, int64_t now_us) {
  Refill(now_us);
  balance_ -= units;
}

void TokenBucket::Resize(double rate, int64_t now_us) {
  Refill(now_us);
  rate_ = rate;
  balance_ = std::min(balance_, max_balance());
}

double TokenBucket::Balance(int64_t now_us) {
  Refill(now_us);
  return balance_;
}

CapacityAdmission AdmissionOf(std::string_view operation) {
  using A = CapacityAdmission;
  static constexpr std::pair<std::string_view, A> kKinds[] = {
      {"GetItem", A::kReadItem},
      {"PutItem", A::kWriteItem},
      {"UpdateItem", A::kWriteItem},
      {"DeleteItem", A::kWriteItem},
      {"Query", A::kQueryScan},
      {"Scan", A::kQueryScan},
      {"TransactGetItems", A::kTransactGet},
      {"TransactWriteItems", A::kTransactWrite},
      {"ExecuteStatement", A::kStatement},
      {"ExecuteTransaction", A::kTransaction},
      {"BatchGetItem", A::kPerItem},
      {"BatchWriteItem", A::kPerItem},
      {"BatchExecuteStatement", A::kPerItem},
  };
  for (const auto& [name, kind] : kKinds) {
    if (name == operation) return kind;
  }
  return A::kNone;
}

CapacityLimiter::CapacityLimiter(store::Database* db, EndpointConfig config,
                                 Options options)
    : db_(db), config_(std::move(config)), options_(std::move(options)) {
  if (!options_.clock_us) options_.clock_us = SteadyMicros;
}

ApiStatus CapacityLimiter::AdmitRequest(CapacityAdmission admission,
                                        const rapidjson::Value& request) {
  using A = CapacityAdmission;
  auto admit = [this](const Target& t) -> ApiStatus {
    if (t.table.empty()) return ApiStatus();
    return Admit(t.table, t.use, t.index ? &*t.index : nullptr);
  };
  // Every item of a transaction, then the cancellation if one is throttled.
  auto admit_all = [&](const std::vector<Target>& targets) -> ApiStatus {
    std::vector<ApiStatus> items;
    items.reserve(targets.size());
    bool throttled = false;
    for (const Target& t : targets) {
      items.push_back(admit(t));
      throttled = throttled || !items.back().ok();
    }
    if (!throttled) return ApiStatus();
    return Cancelled(items);
  };
  switch (admission) {
    case A::kNone:
    case A::kPerItem:
      return ApiStatus();
    case A::kReadItem:
    case A::kWriteItem:
      return admit(Target{std::string(StringMember(request, "TableName")),
                          std::nullopt,
                          admission == A::kReadItem ? CapacityUse::kRead
                                                    : CapacityUse::kWrite});
    case A::kQueryScan: {
      Target t{std::string(StringMember(request, "TableName")), std::nullopt,
               CapacityUse::kRead};
      const std::string_view index = StringMember(request, "IndexName");
      if (!index.empty()) t.index = std::string(index);
      return admit(t);
    }
    case A::kStatement:
      return admit(StatementTarget(request));
    case A::kTransactGet:
    case A::kTransactWrite:
    case A::kTransaction: {
      const char* list_name =
          admission == A::kTransaction ? "TransactStatements" : "TransactItems";
      const rapidjson::Value* list = ArrayMember(request, list_name);
      if (list == nullptr) return ApiStatus();
      std::vector<Target> targets;
      for (const rapidjson::Value& entry : list->GetArray()) {
        if (admission == A::kTransaction) {
          targets.push_back(StatementTarget(entry));
        } else if (admission == A::kTransactWrite) {
          targets.push_back(TransactWriteTarget(entry));
        } else {
          Target t;
          if (entry.IsObject()) {
            auto get = entry.FindMember("Get");
            if (get != entry.MemberEnd()) {
              t.table = std::string(StringMember(get->value, "TableName"));
            }
          }
          targets.push_back(std::move(t));
        }
      }
      return admit_all(targets);
    }
  }
  return ApiStatus();
}

CapacityLimiter::TableBuckets CapacityLimiter::Build(
    const store::TableInfo& info, int64_t now_us) const {
  TableBuckets b;
  const store::TableSchema& s = info.schema;
  if (s.billing_mode != store::BillingMode::kProvisioned) return b;
  const double burst = options_.burst_seconds;
  auto buckets = [&](int64_t read, int64_t write) -> std::optional<Buckets> {
    // DynamoDB's minimum is 1 unit; anything less cannot refill.
    if (read <= 0 || write <= 0) return std::nullopt;
    return Buckets{TokenBucket(static_cast<double>(read), burst, now_us),
                   TokenBucket(static_cast<double>(write), burst, now_us)};
  };
  b.table = buckets(s.read_capacity_units, s.write_capacity_units);
  for (const store::IndexInfo& index : info.indexes) {
    if (!index.global) continue;
    std::optional<Buckets> g = buckets(index.schema.read_capacity_units,
                                       index.schema.write_capacity_units);
    if (g) b.global_indexes.emplace(index.schema.name, std::move(*g));
  }
  return b;
}

CapacityLimiter::TableBuckets* CapacityLimiter::Find(
    const std::string& table, std::unique_lock<std::mutex>* lock) {
  auto it = tables_.find(table);
  if (it != tables_.end()) return &it->second;
  // First use since the start (or since the table was created before this
  // server ran): read its throughput from the store, without the lock.
  lock->unlock();
  std::optional<store::TableInfo> info;
  if (std::shared_ptr<store::Table> t = db_->GetTable(table)) {
    info = t->Describe();
  }
  lock->lock();
  if (!info) return nullptr;
  // Configure may have run meanwhile: what it set stays.
  return &tables_.try_emplace(table, Build(*info, Now())).first->second;
}

ApiError CapacityLimiter::Throttled(const std::string& table,
                                    const std::string* index, CapacityUse use) {
  (use == CapacityUse::kRead ? throttled_reads_ : throttled_writes_)
      .fetch_add(1, std::memory_order_relaxed);
  ApiError error = ApiError::Dynamo(
      "ProvisionedThroughputExceededException",
      std::string(index != nullptr ? kIndexThroughputExceeded
                                   : kTableThroughputExceeded));
  // ThrottlingReasons: ResourceType + OperationType + LimitType, and the
  // table's or index's ARN.
  std::string resource = TableArn(config_, table);
  if (index != nullptr) resource += "/index/" + *index;
  const std::string reason = std::string(index != nullptr ? "Index" : "Table") +
                             (use == CapacityUse::kRead ? "Read" : "Write") +
                             "ProvisionedThroughputExceeded";
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("ThrottlingReasons");
  w.StartArray();
  w.StartObject();
  w.Key("reason");
  w.String(reason.data(), static_cast<rapidjson::SizeType>(reason.size()));
  w.Key("resource");
  w.String(resource.data(), static_cast<rapidjson::SizeType>(resource.size()));
  w.EndObject();
  w.EndArray();
  w.EndObject();
  std::string json(buf.GetString(), buf.GetSize());
  error.extra_json = json.substr(1, json.size() - 2);
  return error;
}

ApiStatus CapacityLimiter::Admit(const std::string& table, CapacityUse use,
                                 const std::string* index) {
  std::unique_lock<std::mutex> lock(mu_);
  TableBuckets* b = Find(table, &lock);
  if (b == nullptr || !b->table) return ApiStatus();
  const int64_t now = Now();
  if (use == CapacityUse::kRead) {
    if (index != nullptr) {
      auto g = b->global_indexes.find(*index);
      if (g != b->global_indexes.end()) {
        if (g->second.read.Admits(now)) return ApiStatus();
        lock.unlock();
        return Throttled(table, index, use);
      }
      // A local secondary index shares the table's throughput.
    }
    if (b->table->read.Admits(now)) return ApiStatus();
    lock.unlock();
    return Throttled(table, nullptr, use);
  }
  if (!b->table->write.Admits(now)) {
    lock.unlock();
    return Throttled(table, nullptr, use);
  }
  // GSI back pressure: a write waits for every GSI of its table.
  for (auto& [name, g] : b->global_indexes) {
    if (g.write.Admits(now)) continue;
    const std::string throttled_index = name;
    lock.unlock();
    return Throttled(table, &throttled_index, use);
  }
  return ApiStatus();
}

void CapacityLimiter::Charge(const std::string& table, const Capacity& used,
                             bool write) {
  std::unique_lock<std::mutex> lock(mu_);
  TableBuckets* b = Find(table, &lock);
  if (b == nullptr || !b->table) return;
  const int64_t now = Now();
  // The table's units and its LSIs' come out of the table's throughput.
  double units = used.table;
  for (const auto& [name, n] : used.local_indexes) units += n;
  (write ? b->table->write : b->table->read).Take(units, now);
  for (const auto& [name, n] : used.global_indexes) {
    auto g = b->global_indexes.find(name);
    if (g == b->global_indexes.end()) continue;
    (write ? g->second.write : g->second.read).Take(n, now);
  }
}

void CapacityLimiter::Configure(const store::TableInfo& info) {
  const int64_t now = Now();
  TableBuckets fresh = Build(info, now);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tables_.find(info.schema.name);
  if (it != tables_.end()) {
    // Buckets that stay keep their balance at their new rate.
    TableBuckets& old = it->second;
    auto carry = [now](Buckets& from, Buckets* to) {
      from.read.Resize(to->read.rate(), now);
      from.write.Resize(to->write.rate(), now);
      *to = from;
    };
    if (old.table && fresh.table) carry(*old.table, &*fresh.table);
    for (auto& [name, g] : fresh.global_indexes) {
      auto before = old.global_indexes.find(name);
      if (before != old.global_indexes.end()) carry(before->second, &g);
    }
    it->second = std::move(fresh);
    return;
  }
  tables_.emplace(info.schema.name, std::move(fresh));
}

void CapacityLimiter::Forget(const std::string& table) {
  std::lock_guard<std::mutex> lock(mu_);
  tables_.erase(table);
}

ApiStatus AdmitCapacityItem(CapacityLimiter* limiter, const std::string& table,
                            bool write) {
  return limiter->Admit(table,
                        write ? CapacityUse::kWrite : CapacityUse::kRead);
}

void ChargeCapacity(CapacityLimiter* limiter, const std::string& table,
                    const Capacity& used, bool write) {
  limiter->Charge(table, used, write);
}

}  // namespace eddy::runtime::api
