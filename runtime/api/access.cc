#include "api/access.h"

#include <filesystem>
#include <set>

#include "eddy/store/expression.h"

namespace eddy::runtime::api {
namespace {

using auth::RequestFacts;
using auth::ValueSet;

std::optional<std::string> StringMember(const rapidjson::Value& obj,
                                        const char* name) {
  if (!obj.IsObject()) return std::nullopt;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

const rapidjson::Value* ObjectMember(const rapidjson::Value& obj,
                                     const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsObject()) return nullptr;
  return &it->value;
}

// The names the expressions and legacy parameters of one request object
// (a request, or one entry of a transaction) refer to, and its partition
// key values.
class FactCollector {
 public:
  explicit FactCollector(const rapidjson::Value& obj) : obj_(obj) {
    Params params(obj);
    if (!params.StringMap("ExpressionAttributeNames", &names_map_).ok() ||
        !params.ItemMember("ExpressionAttributeValues", &values_).ok()) {
      failed_ = true;
    }
  }

  // Every attribute of the item (PutItem's Item, a key).
  void AddItemNames(const rapidjson::Value* item) {
    if (item == nullptr || !item->IsObject()) {
      failed_ = true;
      return;
    }
    for (const auto& m : item->GetObject()) {
      names_.emplace(m.name.GetString(), m.name.GetStringLength());
    }
  }
  // The keys of a legacy map parameter (Expected, AttributeUpdates, ...).
  void AddMapKeys(const char* member) {
    if (const rapidjson::Value* map = ObjectMember(obj_, member)) {
      AddItemNames(map);
    }
  }
  // AttributesToGet. Returns whether it was given.
  bool AddAttributesToGet() {
    if (!obj_.IsObject()) return false;
    auto it = obj_.FindMember("AttributesToGet");
    if (it == obj_.MemberEnd() || it->value.IsNull()) return false;
    if (!it->value.IsArray()) {
      failed_ = true;
      return true;
    }
    for (const auto& v : it->value.GetArray()) {
      if (!v.IsString()) {
        failed_ = true;
        continue;
      }
      names_.emplace(v.GetString(), v.GetStringLength());
    }
    return true;
  }
  void AddCondition(const char* member) {
    const std::optional<std::string> text = StringMember(obj_, member);
    if (!text) return;
    store::ExpressionContext ectx = Context();
    auto parsed = store::Condition::Parse(*text, member, &ectx);
    if (!parsed.ok()) {
      failed_ = true;
      return;
    }
    AddPaths((*parsed)->paths());
  }
  void AddUpdate() {
    const std::optional<std::string> text =
        StringMember(obj_, "UpdateExpression");
    if (!text) return;
    store::ExpressionContext ectx = Context();
    auto parsed = store::Update::Parse(*text, &ectx);
    if (!parsed.ok()) {
      failed_ = true;
      return;
    }
    AddPaths((*parsed)->paths());
  }
  // ProjectionExpression. Returns whether it was given.
  bool AddProjection() {
    const std::optional<std::string> text =
        StringMember(obj_, "ProjectionExpression");
    if (!text) return false;
    store::ExpressionContext ectx = Context();
    auto parsed = store::Projection::Parse(*text, &ectx);
    if (!parsed.ok()) {
      failed_ = true;
      return true;
    }
    AddPaths(parsed->paths());
    return true;
  }
  // The partition key value of KeyConditionExpression (or the legacy
  // KeyConditions' EQ) for a schema whose keys are `hash` and `range`.
  void AddKeyCondition(const std::string& hash, const std::string& range) {
    names_.insert(hash);
    if (!range.empty()) names_.insert(range);
    if (const std::optional<std::string> text =
            StringMember(obj_, "KeyConditionExpression")) {
      store::ExpressionContext ectx = Context();
      auto parsed = store::KeyCondition::Parse(*text, &ectx, hash, range);
      if (!parsed.ok()) {
        failed_ = true;
        return;
      }
      AddKeyValue(parsed->partition_value);
      return;
    }
    const rapidjson::Value* conditions = ObjectMember(obj_, "KeyConditions");
    const rapidjson::Value* eq =
        conditions ? ObjectMember(*conditions, hash.c_str()) : nullptr;
    auto list = eq ? eq->FindMember("AttributeValueList")
                   : rapidjson::Value::ConstMemberIterator();
    if (eq == nullptr || list == eq->MemberEnd() || !list->value.IsArray() ||
        list->value.Empty()) {
      keys_failed_ = true;
      return;
    }
    AddKeyJson(&list->value[0]);
  }
  // The partition key value of an item or key object.
  void AddLeadingKey(const rapidjson::Value* item, const std::string& hash) {
    const rapidjson::Value* value =
        item ? ObjectMember(*item, hash.c_str()) : nullptr;
    AddKeyJson(value);
  }
  void SetUnboundedKeys() { keys_unbounded_ = true; }
  void SetUnboundedAttributes() { attributes_unbounded_ = true; }
  void Fail() { failed_ = true; }

  // Merges into `facts` (so a batch's entries can share one table entry).
  void Finish(RequestFacts* facts) const {
    if (failed_ || attributes_unbounded_ ||
        facts->attributes.state == ValueSet::State::kUnbounded) {
      facts->attributes = ValueSet::Unbounded();
    } else {
      std::set<std::string> all(facts->attributes.values.begin(),
                                facts->attributes.values.end());
      all.insert(names_.begin(), names_.end());
      facts->attributes =
          ValueSet::Known(std::vector<std::string>(all.begin(), all.end()));
    }
    if (keys_failed_ || keys_unbounded_ ||
        facts->leading_keys.state == ValueSet::State::kUnbounded) {
      facts->leading_keys = ValueSet::Unbounded();
    } else {
      std::set<std::string> all(facts->leading_keys.values.begin(),
                                facts->leading_keys.values.end());
      all.insert(keys_.begin(), keys_.end());
      facts->leading_keys =
          ValueSet::Known(std::vector<std::string>(all.begin(), all.end()));
    }
  }

 private:
  store::ExpressionContext Context() const {
    return store::ExpressionContext(names_map_ ? &*names_map_ : nullptr,
                                    values_ ? &*values_ : nullptr);
  }
  void AddPaths(const std::vector<store::Path>& paths) {
    for (const store::Path& p : paths) {
      if (!p.empty() && !p[0].is_index) names_.insert(p[0].name);
    }
  }
  void AddKeyValue(const store::AttributeValue& v) {
    switch (v.type()) {
      case store::ValueType::kS:
      case store::ValueType::kN:  // Canonical text: "1.0" is "1".
        keys_.insert(v.scalar());
        return;
      case store::ValueType::kB:
        keys_.insert(Base64Encode(v.scalar()));
        return;
      default:
        keys_failed_ = true;
    }
  }
  // {"S": "x"} / {"N": "1"} / {"B": "base64"} -> its text.
  void AddKeyJson(const rapidjson::Value* value) {
    store::AttributeValue v;
    if (value == nullptr || !ReadAttributeValue(*value, 1, &v).ok()) {
      keys_failed_ = true;
      return;
    }
    AddKeyValue(v);
  }

  const rapidjson::Value& obj_;
  std::optional<std::map<std::string, std::string>> names_map_;
  std::optional<store::Item> values_;
  std::set<std::string> names_;
  std::set<std::string> keys_;
  bool failed_ = false;
  bool keys_failed_ = false;
  bool keys_unbounded_ = false;
  bool attributes_unbounded_ = false;
};

void SetOptional(const rapidjson::Value& obj, const char* member,
                 std::optional<std::string>* out) {
  if (auto v = StringMember(obj, member)) *out = std::move(*v);
}

// The table's key attribute names; false when the table does not exist.
struct KeyNames {
  std::string hash, range;
};
bool TableKeys(const OperationContext& ctx, const std::string& table,
               KeyNames* out) {
  std::shared_ptr<store::Table> t = ctx.db->GetTable(table);
  if (t == nullptr) return false;
  const store::TableSchema& schema = t->schema();
  out->hash = schema.hash_key.name;
  out->range = schema.range_key ? schema.range_key->name : std::string();
  return true;
}

// Facts of one single-item action (GetItem, PutItem, UpdateItem,
// DeleteItem, ConditionCheckItem), on the request object or a transaction
// entry `obj`.
RequestFacts ItemFacts(const OperationContext& ctx, std::string_view verb,
                       const std::string& table, const rapidjson::Value& obj) {
  RequestFacts facts;
  FactCollector c(obj);
  KeyNames keys;
  if (!TableKeys(ctx, table, &keys)) {
    c.Fail();
    c.SetUnboundedKeys();
    c.Finish(&facts);
    return facts;
  }
  const bool is_put = verb == "PutItem";
  const rapidjson::Value* item = ObjectMember(obj, is_put ? "Item" : "Key");
  c.AddLeadingKey(item, keys.hash);
  c.AddItemNames(item);
  if (verb == "GetItem") {
    const bool projected = c.AddProjection();
    if (!c.AddAttributesToGet() && !projected) c.SetUnboundedAttributes();
  } else {
    c.AddCondition("ConditionExpression");
    c.AddMapKeys("Expected");
    if (verb == "UpdateItem") {
      c.AddUpdate();
      c.AddMapKeys("AttributeUpdates");
    }
    SetOptional(obj, "ReturnValues", &facts.return_values);
  }
  SetOptional(obj, "ReturnConsumedCapacity", &facts.return_consumed_capacity);
  c.Finish(&facts);
  return facts;
}

RequestFacts QueryScanFacts(const OperationContext& ctx, bool query,
                            const std::string& table,
                            const std::optional<std::string>& index,
                            const rapidjson::Value& request) {
  RequestFacts facts;
  FactCollector c(request);
  SetOptional(request, "Select", &facts.select);
  SetOptional(request, "ReturnConsumedCapacity",
              &facts.return_consumed_capacity);
  const bool projected = c.AddProjection();
  const bool listed = c.AddAttributesToGet();
  if (!facts.select) {
    facts.select = projected || listed ? "SPECIFIC_ATTRIBUTES"
                   : index             ? "ALL_PROJECTED_ATTRIBUTES"
                                       : "ALL_ATTRIBUTES";
  }
  if (*facts.select != "COUNT" && *facts.select != "SPECIFIC_ATTRIBUTES") {
    c.SetUnboundedAttributes();
  }
  c.AddCondition("FilterExpression");
  c.AddMapKeys(query ? "QueryFilter" : "ScanFilter");
  if (!query) {
    c.SetUnboundedKeys();
    c.Finish(&facts);
    return facts;
  }
  KeyNames keys;
  bool found = TableKeys(ctx, table, &keys);
  if (found && index) {
    found = false;
    const store::TableInfo info = ctx.db->GetTable(table)->Describe();
    for (const store::IndexInfo& i : info.indexes) {
      if (i.schema.name != *index) continue;
      keys.hash = i.schema.hash_key.name;
      keys.range = i.schema.range_key ? i.schema.range_key->name : "";
      found = true;
    }
  }
  if (!found) {
    c.Fail();
    c.SetUnboundedKeys();
  } else {
    c.AddKeyCondition(keys.hash, keys.range);
  }
  c.Finish(&facts);
  return facts;
}

std::string OperationName(std::string_view action) {
  return std::string(action.substr(action.find(':') + 1));
}

// A trigger's "table:<name>" OnFailureDestination: dynamodb:PutItem on it.
template <typename Add>
void AddDestination(const OperationContext& ctx,
                    const rapidjson::Value& request, Add&& add) {
  constexpr std::string_view kTable = "table:";
  const std::optional<std::string> destination =
      StringMember(request, "OnFailureDestination");
  if (destination && destination->compare(0, kTable.size(), kTable) == 0) {
    add("dynamodb:PutItem",
        TableArn(*ctx.config, destination->substr(kTable.size())));
  }
}

}  // namespace

std::string TriggerArn(const EndpointConfig& config, std::string_view name) {
  std::string arn =
      "arn:eddy:" + config.region + ":" + config.account_id + ":trigger/";
  arn.append(name);
  return arn;
}

void DescribeAccess(AccessKind kind, std::string_view action,
                    const OperationContext& ctx,
                    const rapidjson::Value& request, bool with_facts,
                    std::vector<AccessEntry>* out) {
  const EndpointConfig& config = *ctx.config;
  auto add = [&](std::string_view entry_action, std::string resource) {
    out->push_back(
        AccessEntry{std::string(entry_action), std::move(resource), {}});
    return &out->back();
  };
  const std::optional<std::string> table = StringMember(request, "TableName");
  switch (kind) {
    case AccessKind::kOpen:
      return;
    case AccessKind::kAccount:
      add(action, "*");
      return;
    case AccessKind::kTable:
      if (table) add(action, TableArn(config, *table));
      return;
    case AccessKind::kTableOrAll:
      add(action, table ? TableArn(config, *table) : "*");
      return;
    case AccessKind::kItem: {
      if (!table) return;
      AccessEntry* e = add(action, TableArn(config, *table));
      if (with_facts) {
        e->facts = ItemFacts(ctx, OperationName(action), *table, request);
      }
      return;
    }
    case AccessKind::kQueryScan: {
      if (!table) return;
      const std::optional<std::string> index =
          StringMember(request, "IndexName");
      AccessEntry* e =
          add(action, index ? TableArn(config, *table) + "/index/" + *index
                            : TableArn(config, *table));
      if (with_facts) {
        e->facts = QueryScanFacts(ctx, OperationName(action) == "Query", *table,
                                  index, request);
      }
      return;
    }
    case AccessKind::kBatchGet:
    case AccessKind::kBatchWrite: {
      const rapidjson::Value* items = ObjectMember(request, "RequestItems");
      if (items == nullptr) return;
      for (const auto& m : items->GetObject()) {
        const std::string name(m.name.GetString(), m.name.GetStringLength());
        AccessEntry* e = add(action, TableArn(config, name));
        if (!with_facts) continue;
        SetOptional(request, "ReturnConsumedCapacity",
                    &e->facts.return_consumed_capacity);
        KeyNames keys;
        const bool known = TableKeys(ctx, name, &keys);
        if (kind == AccessKind::kBatchGet) {
          FactCollector c(m.value);
          const rapidjson::Value* key_list = nullptr;
          if (m.value.IsObject()) {
            auto it = m.value.FindMember("Keys");
            if (it != m.value.MemberEnd() && it->value.IsArray()) {
              key_list = &it->value;
            }
          }
          if (!known || key_list == nullptr) {
            c.Fail();
            c.SetUnboundedKeys();
          } else {
            for (const auto& key : key_list->GetArray()) {
              c.AddLeadingKey(&key, keys.hash);
              c.AddItemNames(&key);
            }
          }
          const bool projected = c.AddProjection();
          if (!c.AddAttributesToGet() && !projected) {
            c.SetUnboundedAttributes();
          }
          c.Finish(&e->facts);
          continue;
        }
        FactCollector c(request);  // No expressions in BatchWriteItem.
        if (!known || !m.value.IsArray()) {
          c.Fail();
          c.SetUnboundedKeys();
        } else {
          for (const auto& w : m.value.GetArray()) {
            const rapidjson::Value* put = ObjectMember(w, "PutRequest");
            const rapidjson::Value* del = ObjectMember(w, "DeleteRequest");
            const rapidjson::Value* item = put   ? ObjectMember(*put, "Item")
                                           : del ? ObjectMember(*del, "Key")
                                                 : nullptr;
            c.AddLeadingKey(item, keys.hash);
            c.AddItemNames(item);
          }
        }
        c.Finish(&e->facts);
      }
      return;
    }
    case AccessKind::kTransactGet:
    case AccessKind::kTransactWrite: {
      if (!request.IsObject()) return;
      auto it = request.FindMember("TransactItems");
      if (it == request.MemberEnd() || !it->value.IsArray()) return;
      const char* enclosing = kind == AccessKind::kTransactGet
                                  ? "TransactGetItems"
                                  : "TransactWriteItems";
      for (const auto& entry : it->value.GetArray()) {
        static constexpr std::pair<const char*, const char*> kVerbs[] = {
            {"Get", "GetItem"},
            {"Put", "PutItem"},
            {"Update", "UpdateItem"},
            {"Delete", "DeleteItem"},
            {"ConditionCheck", "ConditionCheckItem"},
        };
        for (const auto& [member, verb] : kVerbs) {
          const rapidjson::Value* op = ObjectMember(entry, member);
          if (op == nullptr) continue;
          const std::optional<std::string> name =
              StringMember(*op, "TableName");
          if (!name) continue;
          AccessEntry* e =
              add(std::string("dynamodb:") + verb, TableArn(config, *name));
          if (!with_facts) continue;
          e->facts = ItemFacts(ctx, verb, *name, *op);
          e->facts.enclosing_operation = enclosing;
          SetOptional(request, "ReturnConsumedCapacity",
                      &e->facts.return_consumed_capacity);
        }
      }
      return;
    }
    case AccessKind::kResourceArn:
      if (auto arn = StringMember(request, "ResourceArn")) add(action, *arn);
      return;
    case AccessKind::kStream:
      if (auto arn = StringMember(request, "StreamArn")) add(action, *arn);
      return;
    case AccessKind::kShardIterator:
      if (auto it = StringMember(request, "ShardIterator")) {
        const std::string arn = IteratorStreamArn(*it);
        if (!arn.empty()) add(action, arn);
      }
      return;
    case AccessKind::kTrigger:
      if (auto name = StringMember(request, "Name")) {
        add(action, TriggerArn(config, *name));
      }
      if (action == "eddy:UpdateTrigger") AddDestination(ctx, request, add);
      return;
    case AccessKind::kPartiqlStatement:
    case AccessKind::kPartiqlBatch:
    case AccessKind::kPartiqlTransaction:
      DescribePartiqlAccess(kind, ctx, request, with_facts, out);
      return;
    case AccessKind::kBackupArn:
      if (auto arn = StringMember(request, "BackupArn")) add(action, *arn);
      return;
    case AccessKind::kExportTable:
      if (auto arn = StringMember(request, "TableArn")) add(action, *arn);
      return;
    case AccessKind::kExportArn:
      if (auto arn = StringMember(request, "ExportArn")) add(action, *arn);
      return;
    case AccessKind::kImportTable:
      if (const rapidjson::Value* p =
              ObjectMember(request, "TableCreationParameters")) {
        if (auto name = StringMember(*p, "TableName")) {
          add(action, TableArn(config, *name));
        }
      }
      return;
    case AccessKind::kImportArn:
      if (auto arn = StringMember(request, "ImportArn")) add(action, *arn);
      return;
    case AccessKind::kRestoreFromBackup:
    case AccessKind::kRestoreToPointInTime: {
      if (kind == AccessKind::kRestoreFromBackup) {
        if (auto arn = StringMember(request, "BackupArn")) add(action, *arn);
      } else if (auto arn = StringMember(request, "SourceTableArn")) {
        add(action, *arn);
      } else if (auto name = StringMember(request, "SourceTableName")) {
        add(action, TableArn(config, *name));
      }
      if (auto target = StringMember(request, "TargetTableName")) {
        for (const char* item_action :
             {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
              "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
              "dynamodb:BatchWriteItem"}) {
          add(item_action, TableArn(config, *target));
        }
      }
      return;
    }
    case AccessKind::kCreateTrigger: {
      std::optional<std::string> name = StringMember(request, "Name");
      if (!name && table) {
        // The dispatcher's default name, "<table>-<handler file stem>".
        const std::optional<std::string> handler =
            StringMember(request, "Handler");
        const std::string stem =
            handler ? std::filesystem::path(*handler).stem().string() : "";
        name = *table + "-" + (stem.empty() ? "h" : stem);
      }
      if (name) add(action, TriggerArn(config, *name));
      // The trigger reads the table's stream and may write failed batches
      // to a table: the caller must be allowed both, or CreateTrigger would
      // lend it the server's rights.
      if (table) {
        std::shared_ptr<store::Table> t = ctx.db->GetTable(*table);
        const store::TableInfo info =
            t != nullptr ? t->Describe() : store::TableInfo{};
        add("dynamodb:GetRecords",
            info.streams.empty()
                ? TableArn(config, *table) + "/stream/*"
                : StreamArn(config, *table, info.streams.front().label));
      }
      AddDestination(ctx, request, add);
      return;
    }
  }
}

}  // namespace eddy::runtime::api
