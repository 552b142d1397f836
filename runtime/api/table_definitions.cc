#include "api/table_definitions.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

namespace eddy::runtime::api {
namespace {

using store::BillingMode;
using store::TableInfo;
using store::TableSchema;
using store::ValueType;

// Key attribute names (and index key names) are at most 255 bytes.
constexpr size_t kMaxKeyNameBytes = 255;

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

using store::IndexInfo;
using store::IndexSchema;
using store::ProjectionType;

// DynamoDB's limits on a projection's NonKeyAttributes: 20 per index (a
// constraint on the list) and 100 summed over the table's indexes.
constexpr size_t kMaxNonKeyAttributesPerIndex = 20;
constexpr size_t kMaxNonKeyAttributesPerTable = 100;

std::string_view ProjectionTypeName(ProjectionType type) {
  switch (type) {
    case ProjectionType::kAll:
      return "ALL";
    case ProjectionType::kKeysOnly:
      return "KEYS_ONLY";
    case ProjectionType::kInclude:
      return "INCLUDE";
  }
  return "ALL";
}

std::string_view IndexStatusName(store::IndexStatus status) {
  switch (status) {
    case store::IndexStatus::kCreating:
      return "CREATING";
    case store::IndexStatus::kActive:
      return "ACTIVE";
    case store::IndexStatus::kDeleting:
      return "DELETING";
    case store::IndexStatus::kUpdating:
      return "UPDATING";
  }
  return "ACTIVE";
}

std::string Join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

// IndexName: 3..255 characters of [a-zA-Z0-9_.-].
ApiStatus ReadIndexName(const Params& p, const std::string& path,
                        ConstraintErrors* errors, std::string* out) {
  std::optional<std::string> name;
  API_RETURN_IF_ERROR(p.String("IndexName", &name));
  if (!name) {
    errors->Add("null", path, "Member must not be null");
    return ApiStatus();
  }
  bool pattern_ok = !name->empty();
  for (char c : *name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '.')) {
      pattern_ok = false;
    }
  }
  if (name->size() < 3) {
    errors->Add(*name, path,
                "Member must have length greater than or equal to 3");
  } else if (name->size() > 255) {
    errors->Add(*name, path,
                "Member must have length less than or equal to 255");
  }
  if (!pattern_ok) {
    errors->Add(*name, path,
                "Member must satisfy regular expression pattern: "
                "[a-zA-Z0-9_.-]+");
  }
  *out = std::move(*name);
  return ApiStatus();
}

// Projection {ProjectionType, NonKeyAttributes} at `path`.
ApiStatus ReadProjection(const Params& p, const std::string& path,
                         ConstraintErrors* errors, IndexRequest* out) {
  const rapidjson::Value* projection = nullptr;
  API_RETURN_IF_ERROR(p.Object("Projection", &projection));
  if (projection == nullptr) {
    errors->Add("null", path, "Member must not be null");
    return ApiStatus();
  }
  Params pp(*projection);
  API_RETURN_IF_ERROR(pp.String("ProjectionType", &out->projection_type));
  if (out->projection_type && *out->projection_type != "ALL" &&
      *out->projection_type != "KEYS_ONLY" &&
      *out->projection_type != "INCLUDE") {
    errors->Add(*out->projection_type, path + ".projectionType",
                "Member must satisfy enum value set: [ALL, INCLUDE, "
                "KEYS_ONLY]");
  }
  const rapidjson::Value* non_key = nullptr;
  API_RETURN_IF_ERROR(pp.Array("NonKeyAttributes", &non_key));
  if (non_key != nullptr) {
    std::vector<std::string> names;
    for (const rapidjson::Value& v : non_key->GetArray()) {
      if (!v.IsString()) return WrongType(v, "String");
      names.emplace_back(v.GetString(), v.GetStringLength());
    }
    if (names.empty() || names.size() > kMaxNonKeyAttributesPerIndex) {
      errors->Add("[" + Join(names) + "]", path + ".nonKeyAttributes",
                  names.empty()
                      ? "Member must have length greater than or equal to 1"
                      : "Member must have length less than or equal to 20");
    }
    out->non_key_attributes = std::move(names);
  }
  return ApiStatus();
}

// One element of LocalSecondaryIndexes / GlobalSecondaryIndexes, or an
// UpdateTable Create action, at `path` ("globalSecondaryIndexes.1.member").
ApiStatus ReadIndexRequest(const rapidjson::Value& json,
                           const std::string& path, bool global,
                           ConstraintErrors* errors, IndexRequest* out) {
  if (!json.IsObject()) return WrongType(json, "Structure");
  Params p(json);
  API_RETURN_IF_ERROR(
      ReadIndexName(p, path + ".indexName", errors, &out->name));
  const rapidjson::Value* keys = nullptr;
  API_RETURN_IF_ERROR(p.Array("KeySchema", &keys));
  API_RETURN_IF_ERROR(
      ReadKeySchema(keys, path + ".keySchema", errors, &out->keys));
  API_RETURN_IF_ERROR(ReadProjection(p, path + ".projection", errors, out));
  if (global) {
    const rapidjson::Value* throughput = nullptr;
    API_RETURN_IF_ERROR(p.Object("ProvisionedThroughput", &throughput));
    if (throughput != nullptr) {
      out->has_throughput = true;
      API_RETURN_IF_ERROR(ReadThroughput(*throughput, &out->rcu, &out->wcu,
                                         errors,
                                         path + ".provisionedThroughput"));
    }
  }
  return ApiStatus();
}

// The rules on an index's own KeySchema (the same texts as the table's).
ApiStatus CheckIndexKeys(const IndexRequest& r) {
  if (r.keys.size() == 2 && r.keys[0].first == r.keys[1].first) {
    return ApiError::Validation(
        "Both the Hash Key and the Range Key element in the KeySchema have the "
        "same name");
  }
  if (r.keys[0].second != "HASH") {
    return ApiError::Validation(
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  }
  if (r.keys.size() == 2 && r.keys[1].second != "RANGE") {
    return ApiError::Validation(
        "Invalid KeySchema: The second KeySchemaElement is not a RANGE key "
        "type");
  }
  return ApiStatus();
}

// The rules on an index's Projection.
ApiStatus CheckProjection(const IndexRequest& r) {
  if (!r.projection_type) {
    return ApiError::Validation(std::string(kInvalidParameters) +
                                "Unknown ProjectionType: null");
  }
  if (r.non_key_attributes && *r.projection_type != "INCLUDE") {
    return ApiError::Validation(std::string(kInvalidParameters) +
                                "ProjectionType is " + *r.projection_type +
                                ", but NonKeyAttributes is specified");
  }
  if (!r.non_key_attributes && *r.projection_type == "INCLUDE") {
    return ApiError::Validation(
        std::string(kInvalidParameters) +
        "ProjectionType is INCLUDE, but NonKeyAttributes is not specified");
  }
  if (r.non_key_attributes) {
    std::set<std::string> seen;
    for (const std::string& n : *r.non_key_attributes) {
      if (!seen.insert(n).second) {
        return ApiError::Validation(
            std::string(kInvalidParameters) +
            "Duplicate element in NonKeyAttributes: " + n);
      }
    }
  }
  return ApiStatus();
}

// The IndexSchema of a checked request; `types` holds the attribute
// definitions, which cover its keys.
IndexSchema MakeIndexSchema(const IndexRequest& r,
                            const std::map<std::string, ValueType>& types) {
  IndexSchema s;
  s.name = r.name;
  s.hash_key = {r.keys[0].first, types.at(r.keys[0].first)};
  if (r.keys.size() == 2) {
    s.range_key = store::KeyElement{r.keys[1].first, types.at(r.keys[1].first)};
  }
  if (*r.projection_type == "KEYS_ONLY") {
    s.projection = ProjectionType::kKeysOnly;
  } else if (*r.projection_type == "INCLUDE") {
    s.projection = ProjectionType::kInclude;
    s.non_key_attributes = *r.non_key_attributes;
  } else {
    s.projection = ProjectionType::kAll;
  }
  s.read_capacity_units = r.rcu;
  s.write_capacity_units = r.wcu;
  return s;
}

ApiError LimitExceeded(std::string message) {
  return ApiError::Dynamo("LimitExceededException", std::move(message));
}

ApiError OneOnlineIndex() {
  return LimitExceeded(
      "Subscriber limit exceeded: Only 1 online index can be created or "
      "deleted simultaneously per table");
}

// The key attributes the table and its indexes use, with their types and
// roles, for the redefinition check of a new GSI.
struct KeyUse {
  ValueType type;
  const char* role;  // "HASH" or "RANGE".
};

std::string SchemaElement(const std::string& name, ValueType type,
                          const char* role) {
  return "Schema:[SchemaElement: key{" + name + ":" +
         std::string(store::ValueTypeName(type)) + ":" + role + "}]";
}

}  // namespace

void WriteKeySchema(const store::KeyElement& hash,
                    const std::optional<store::KeyElement>& range,
                    JsonWriter* w) {
  w->Key("KeySchema");
  w->StartArray();
  auto element = [w](const store::KeyElement& e, const char* type) {
    w->StartObject();
    w->Key("AttributeName");
    Str(w, e.name);
    w->Key("KeyType");
    w->String(type);
    w->EndObject();
  };
  element(hash, "HASH");
  if (range) element(*range, "RANGE");
  w->EndArray();
}

bool ParseAttributeType(const std::string& text, ValueType* type) {
  if (text == "S")
    *type = ValueType::kS;
  else if (text == "N")
    *type = ValueType::kN;
  else if (text == "B")
    *type = ValueType::kB;
  else
    return false;
  return true;
}

ApiStatus ReadThroughput(const rapidjson::Value& json, int64_t* rcu,
                         int64_t* wcu, ConstraintErrors* errors,
                         const std::string& path) {
  if (!json.IsObject()) return WrongType(json, "Structure");
  Params p(json);
  std::optional<int64_t> r, w;
  API_RETURN_IF_ERROR(p.Int64("ReadCapacityUnits", &r));
  API_RETURN_IF_ERROR(p.Int64("WriteCapacityUnits", &w));
  auto check = [&](const std::optional<int64_t>& v, const std::string& at) {
    if (!v) {
      errors->Add("null", at, "Member must not be null");
    } else if (*v < 1) {
      errors->Add(std::to_string(*v), at,
                  "Member must have value greater than or equal to 1");
    }
  };
  check(r, path + ".readCapacityUnits");
  check(w, path + ".writeCapacityUnits");
  *rcu = r.value_or(0);
  *wcu = w.value_or(0);
  return ApiStatus();
}

ApiStatus ReadKeySchema(const rapidjson::Value* keys, const std::string& path,
                        ConstraintErrors* errors,
                        std::vector<std::pair<std::string, std::string>>* out) {
  if (keys == nullptr) {
    errors->Add("null", path, "Member must not be null");
    return ApiStatus();
  }
  if (keys->Size() < 1 || keys->Size() > 2) {
    errors->Add("[...]", path,
                keys->Size() < 1
                    ? "Member must have length greater than or equal to 1"
                    : "Member must have length less than or equal to 2");
  }
  int i = 0;
  for (const rapidjson::Value& k : keys->GetArray()) {
    ++i;
    if (!k.IsObject()) return WrongType(k, "Structure");
    Params kp(k);
    std::optional<std::string> name, type;
    API_RETURN_IF_ERROR(kp.String("AttributeName", &name));
    API_RETURN_IF_ERROR(kp.String("KeyType", &type));
    const std::string base = path + "." + std::to_string(i) + ".member.";
    if (!name) {
      errors->Add("null", base + "attributeName", "Member must not be null");
    } else if (name->empty() || name->size() > kMaxKeyNameBytes) {
      errors->Add(*name, base + "attributeName",
                  name->empty()
                      ? "Member must have length greater than or equal to 1"
                      : "Member must have length less than or equal to 255");
    }
    if (!type) {
      errors->Add("null", base + "keyType", "Member must not be null");
    } else if (*type != "HASH" && *type != "RANGE") {
      errors->Add(*type, base + "keyType",
                  "Member must satisfy enum value set: [HASH, RANGE]");
    }
    out->emplace_back(name.value_or(""), type.value_or(""));
  }
  return ApiStatus();
}

ApiStatus ReadAttributeDefinitions(
    const rapidjson::Value& defs, ConstraintErrors* errors,
    std::map<std::string, ValueType>* types,
    std::vector<store::AttributeDefinition>* list) {
  int i = 0;
  for (const rapidjson::Value& d : defs.GetArray()) {
    ++i;
    if (!d.IsObject()) return WrongType(d, "Structure");
    Params dp(d);
    std::optional<std::string> name, type;
    API_RETURN_IF_ERROR(dp.String("AttributeName", &name));
    API_RETURN_IF_ERROR(dp.String("AttributeType", &type));
    const std::string base =
        "attributeDefinitions." + std::to_string(i) + ".member.";
    ValueType vt = ValueType::kS;
    if (!name)
      errors->Add("null", base + "attributeName", "Member must not be null");
    if (!type) {
      errors->Add("null", base + "attributeType", "Member must not be null");
    } else if (!ParseAttributeType(*type, &vt)) {
      errors->Add(*type, base + "attributeType",
                  "Member must satisfy enum value set: [B, N, S]");
    }
    if (name) {
      if (types->count(*name) != 0) {
        return ApiError::Validation(
            "Cannot have two attributes with the same name");
      }
      (*types)[*name] = vt;
      list->push_back({*name, vt});
    }
  }
  return ApiStatus();
}

ApiStatus ReadIndexList(const Params& params, const char* member,
                        const std::string& path, bool global,
                        ConstraintErrors* errors, bool* present,
                        std::vector<IndexRequest>* out) {
  const rapidjson::Value* list = nullptr;
  API_RETURN_IF_ERROR(params.Array(member, &list));
  *present = list != nullptr;
  if (list == nullptr) return ApiStatus();
  int i = 0;
  for (const rapidjson::Value& v : list->GetArray()) {
    ++i;
    IndexRequest r;
    API_RETURN_IF_ERROR(ReadIndexRequest(
        v, path + "." + std::to_string(i) + ".member", global, errors, &r));
    out->push_back(std::move(r));
  }
  return ApiStatus();
}

ApiStatus CheckIndexDefinitions(
    const std::vector<std::pair<std::string, std::string>>& table_keys,
    const std::vector<IndexRequest>& local,
    const std::vector<IndexRequest>& global,
    const std::vector<store::AttributeDefinition>& definitions) {
  std::vector<std::string> used;
  auto use = [&used](const std::string& name) {
    if (std::find(used.begin(), used.end(), name) == used.end()) {
      used.push_back(name);
    }
  };
  for (const auto& k : table_keys) use(k.first);
  for (const auto* list : {&local, &global}) {
    for (const IndexRequest& r : *list) {
      for (const auto& k : r.keys) use(k.first);
    }
  }
  std::vector<std::string> defined, missing, unused;
  for (const store::AttributeDefinition& d : definitions) {
    defined.push_back(d.name);
  }
  for (const std::string& u : used) {
    if (std::find(defined.begin(), defined.end(), u) == defined.end()) {
      missing.push_back(u);
    }
  }
  if (!missing.empty()) {
    return ApiError::Validation(
        std::string(kInvalidParameters) +
        "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [" +
        Join(missing) + "], AttributeDefinitions: [" + Join(defined) + "]");
  }
  for (const std::string& d : defined) {
    if (std::find(used.begin(), used.end(), d) == used.end()) {
      unused.push_back(d);
    }
  }
  if (!unused.empty()) {
    return ApiError::Validation(
        std::string(kInvalidParameters) +
        "Some AttributeDefinitions are not used. AttributeDefinitions: [" +
        Join(defined) + "], keys used: [" + Join(used) + "]");
  }
  return ApiStatus();
}

ApiStatus CheckCreateIndexes(const std::vector<IndexRequest>& local,
                             bool local_present,
                             const std::vector<IndexRequest>& global,
                             bool global_present,
                             const std::map<std::string, ValueType>& types,
                             TableSchema* schema) {
  std::set<std::string> names;
  size_t non_key_total = 0;
  // Names are unique across LSIs and GSIs; projected attributes are
  // limited over all of them.
  auto count_index = [&](const IndexRequest& r) -> ApiStatus {
    if (!names.insert(r.name).second) {
      return ApiError::Validation(std::string(kInvalidParameters) +
                                  "Duplicate index name: " + r.name);
    }
    if (r.non_key_attributes) non_key_total += r.non_key_attributes->size();
    return ApiStatus();
  };
  if (local_present) {
    if (local.empty()) {
      return ApiError::Validation(std::string(kInvalidParameters) +
                                  "List of LocalSecondaryIndexes is empty");
    }
    if (!schema->range_key) {
      return ApiError::Validation(
          std::string(kInvalidParameters) +
          "Table KeySchema does not have a range key, which is required when "
          "specifying a LocalSecondaryIndex");
    }
    for (const IndexRequest& r : local) {
      API_RETURN_IF_ERROR(CheckIndexKeys(r));
      if (r.keys.size() != 2) {
        return ApiError::Validation(
            std::string(kInvalidParameters) +
            "Index KeySchema does not have a range key for index: " + r.name);
      }
      if (r.keys[0].first != schema->hash_key.name) {
        return ApiError::Validation(
            std::string(kInvalidParameters) +
            "Index KeySchema does not have the same leading hash key as table "
            "KeySchema for index: " +
            r.name + ". index hash key: " + r.keys[0].first +
            ", table hash key: " + schema->hash_key.name);
      }
      API_RETURN_IF_ERROR(CheckProjection(r));
      API_RETURN_IF_ERROR(count_index(r));
    }
    if (local.size() > store::kMaxLocalIndexes) {
      return ApiError::Validation(
          std::string(kInvalidParameters) +
          "Number of LocalSecondaryIndexes exceeds per-table limit of " +
          std::to_string(store::kMaxLocalIndexes));
    }
  }
  if (global_present) {
    if (global.empty()) {
      return ApiError::Validation(std::string(kInvalidParameters) +
                                  "List of GlobalSecondaryIndexes is empty");
    }
    for (const IndexRequest& r : global) {
      API_RETURN_IF_ERROR(CheckIndexKeys(r));
      API_RETURN_IF_ERROR(CheckProjection(r));
      if (schema->billing_mode == BillingMode::kPayPerRequest &&
          r.has_throughput) {
        return ApiError::Validation(
            std::string(kInvalidParameters) +
            "ProvisionedThroughput should not be specified for index: " +
            r.name + " when BillingMode is PAY_PER_REQUEST");
      }
      if (schema->billing_mode == BillingMode::kProvisioned &&
          !r.has_throughput) {
        return ApiError::Validation(
            std::string(kInvalidParameters) +
            "ProvisionedThroughput is not specified for index: " + r.name);
      }
      API_RETURN_IF_ERROR(count_index(r));
    }
    if (global.size() > store::kMaxGlobalIndexes) {
      return ApiError::Validation(
          std::string(kInvalidParameters) +
          "GlobalSecondaryIndex count exceeds the per-table limit of " +
          std::to_string(store::kMaxGlobalIndexes));
    }
  }
  if (non_key_total > kMaxNonKeyAttributesPerTable) {
    return ApiError::Validation(
        std::string(kInvalidParameters) +
        "Number of projected attributes in all indexes exceeds limit of " +
        std::to_string(kMaxNonKeyAttributesPerTable) +
        ", number of projected attributes:" + std::to_string(non_key_total));
  }
  for (const IndexRequest& r : local) {
    schema->local_indexes.push_back(MakeIndexSchema(r, types));
  }
  for (const IndexRequest& r : global) {
    schema->global_indexes.push_back(MakeIndexSchema(r, types));
  }
  return ApiStatus();
}

ApiStatus ReadGlobalIndexUpdates(const rapidjson::Value& list,
                                 ConstraintErrors* errors,
                                 std::vector<IndexUpdateRequest>* out,
                                 std::string* structural) {
  using Kind = store::GlobalIndexUpdate::Kind;
  int i = 0;
  for (const rapidjson::Value& v : list.GetArray()) {
    ++i;
    if (!v.IsObject()) return WrongType(v, "Structure");
    const std::string path =
        "globalSecondaryIndexUpdates." + std::to_string(i) + ".member";
    Params p(v);
    const rapidjson::Value* create = nullptr;
    const rapidjson::Value* update = nullptr;
    const rapidjson::Value* remove = nullptr;
    API_RETURN_IF_ERROR(p.Object("Create", &create));
    API_RETURN_IF_ERROR(p.Object("Update", &update));
    API_RETURN_IF_ERROR(p.Object("Delete", &remove));
    const int actions =
        (create != nullptr) + (update != nullptr) + (remove != nullptr);
    if (actions != 1 && structural->empty()) {
      *structural =
          actions == 0
              ? std::string(kInvalidParameters) +
                    "One of GlobalSecondaryIndexUpdate.Update, "
                    "GlobalSecondaryIndexUpdate.Create, "
                    "GlobalSecondaryIndexUpdate.Delete must not be null"
              : std::string(kInvalidParameters) +
                    "Only one global secondary index action is allowed per "
                    "GlobalSecondaryIndexUpdate object";
    }
    IndexUpdateRequest r;
    if (create != nullptr) {
      r.kind = Kind::kCreate;
      API_RETURN_IF_ERROR(ReadIndexRequest(*create, path + ".create",
                                           /*global=*/true, errors, &r.index));
    } else if (update != nullptr) {
      r.kind = Kind::kUpdate;
      Params up(*update);
      API_RETURN_IF_ERROR(
          ReadIndexName(up, path + ".update.indexName", errors, &r.index.name));
      const rapidjson::Value* throughput = nullptr;
      API_RETURN_IF_ERROR(up.Object("ProvisionedThroughput", &throughput));
      if (throughput == nullptr) {
        errors->Add("null", path + ".update.provisionedThroughput",
                    "Member must not be null");
      } else {
        r.index.has_throughput = true;
        API_RETURN_IF_ERROR(
            ReadThroughput(*throughput, &r.index.rcu, &r.index.wcu, errors,
                           path + ".update.provisionedThroughput"));
      }
    } else if (remove != nullptr) {
      r.kind = Kind::kDelete;
      API_RETURN_IF_ERROR(ReadIndexName(
          Params(*remove), path + ".delete.indexName", errors, &r.index.name));
    } else {
      continue;
    }
    out->push_back(std::move(r));
  }
  return ApiStatus();
}

ApiStatus CheckIndexUpdatesShape(
    const std::vector<IndexUpdateRequest>& updates, bool table_throughput,
    bool stream, bool protection, const rapidjson::Value* defs,
    const std::map<std::string, ValueType>& types,
    const std::vector<store::AttributeDefinition>& def_list) {
  using Kind = store::GlobalIndexUpdate::Kind;
  std::set<std::string> names;
  int online = 0;
  for (const IndexUpdateRequest& u : updates) {
    if (!names.insert(u.index.name).second) {
      return ApiError::Validation(
          std::string(kInvalidParameters) +
          "Only one global secondary index update per index is allowed "
          "simultaneously. Index: " +
          u.index.name);
    }
    if (u.kind != Kind::kUpdate) ++online;
  }
  if (online > 1) return OneOnlineIndex();
  if (online == 0) return ApiStatus();
  if (table_throughput) {
    return ApiError::Validation(
        std::string(kInvalidParameters) +
        "You cannot create or delete index while updating table IOPS");
  }
  if (stream) {
    return ApiError::Validation(
        std::string(kInvalidParameters) +
        "You cannot create or delete index while changing stream status");
  }
  if (protection) {
    return ApiError::Validation(
        std::string(kInvalidParameters) +
        "DeletionProtection modification must be the only operation in the "
        "request");
  }
  for (const IndexUpdateRequest& u : updates) {
    if (u.kind != Kind::kCreate) continue;
    API_RETURN_IF_ERROR(CheckIndexKeys(u.index));
    API_RETURN_IF_ERROR(CheckProjection(u.index));
    if (defs == nullptr) {
      return ApiError::Validation(
          std::string(kInvalidParameters) +
          "AttributeDefinitions is not specified for index: " + u.index.name);
    }
    std::vector<std::string> missing, defined;
    for (const auto& k : u.index.keys) {
      if (types.count(k.first) == 0) missing.push_back(k.first);
    }
    for (const store::AttributeDefinition& d : def_list) {
      defined.push_back(d.name);
    }
    if (!missing.empty()) {
      return ApiError::Validation(
          std::string(kInvalidParameters) +
          "Some index key attributes are not defined in AttributeDefinitions. "
          "Keys: [" +
          Join(missing) + "], AttributeDefinitions: [" + Join(defined) + "]");
    }
  }
  return ApiStatus();
}

ApiStatus ResolveIndexUpdates(const std::vector<IndexUpdateRequest>& updates,
                              const TableInfo& now, BillingMode mode,
                              bool billing_switch,
                              const std::map<std::string, ValueType>& types,
                              store::TableUpdate* update) {
  using Kind = store::GlobalIndexUpdate::Kind;
  const std::string& table = now.schema.name;
  auto find = [&now](const std::string& name) -> const IndexInfo* {
    for (const IndexInfo& i : now.indexes) {
      if (i.schema.name == name) return &i;
    }
    return nullptr;
  };
  auto not_found = [&table](const std::string& name) {
    return ApiError::ResourceNotFound("Requested resource not found: Index " +
                                      name + " for table " + table);
  };
  size_t global_count = 0;
  bool in_progress = false;  // A GSI is being created or deleted.
  size_t non_key_total = 0;
  for (const IndexInfo& i : now.indexes) {
    if (i.global) ++global_count;
    if (i.global && (i.status == store::IndexStatus::kCreating ||
                     i.status == store::IndexStatus::kDeleting)) {
      in_progress = true;
    }
    non_key_total += i.schema.non_key_attributes.size();
  }
  for (const IndexUpdateRequest& u : updates) {
    const IndexInfo* existing = find(u.index.name);
    store::GlobalIndexUpdate g;
    g.kind = u.kind;
    switch (u.kind) {
      case Kind::kCreate: {
        if (existing != nullptr) {
          return ApiError::Validation(
              "Attempting to create an index which already exists");
        }
        if (in_progress) return OneOnlineIndex();
        if (global_count >= store::kMaxGlobalIndexes) {
          return LimitExceeded(
              "Subscriber limit exceeded: Number of global secondary indexes "
              "exceeds per-table limit of " +
              std::to_string(store::kMaxGlobalIndexes));
        }
        if (mode == BillingMode::kPayPerRequest && u.index.has_throughput) {
          return ApiError::Validation(
              std::string(kInvalidParameters) +
              "Neither ReadCapacityUnits nor WriteCapacityUnits can be "
              "specified for index: " +
              u.index.name + " when BillingMode is PAY_PER_REQUEST");
        }
        if (mode == BillingMode::kProvisioned && !u.index.has_throughput) {
          return ApiError::Validation(
              std::string(kInvalidParameters) +
              "Both ReadCapacityUnits and WriteCapacityUnits must be "
              "specified for index: " +
              u.index.name);
        }
        if (u.index.non_key_attributes &&
            non_key_total + u.index.non_key_attributes->size() >
                kMaxNonKeyAttributesPerTable) {
          const size_t total =
              non_key_total + u.index.non_key_attributes->size();
          return ApiError::Validation(
              std::string(kInvalidParameters) +
              "Number of projected attributes in all indexes exceeds limit "
              "of " +
              std::to_string(kMaxNonKeyAttributesPerTable) +
              ", number of projected attributes:" + std::to_string(total));
        }
        // A key attribute keeps the type it has as another key.
        std::map<std::string, KeyUse> uses;
        uses.emplace(now.schema.hash_key.name,
                     KeyUse{now.schema.hash_key.type, "HASH"});
        if (now.schema.range_key) {
          uses.emplace(now.schema.range_key->name,
                       KeyUse{now.schema.range_key->type, "RANGE"});
        }
        for (const IndexInfo& i : now.indexes) {
          uses.emplace(i.schema.hash_key.name,
                       KeyUse{i.schema.hash_key.type, "HASH"});
          if (i.schema.range_key) {
            uses.emplace(i.schema.range_key->name,
                         KeyUse{i.schema.range_key->type, "RANGE"});
          }
        }
        for (size_t k = 0; k < u.index.keys.size(); ++k) {
          const std::string& name = u.index.keys[k].first;
          auto it = uses.find(name);
          if (it != uses.end() && it->second.type != types.at(name)) {
            return ApiError::Validation(
                std::string(kInvalidParameters) +
                "Attributes cannot be redefined. Please check that your "
                "attribute has the same type as previously defined. Existing "
                "schema: " +
                SchemaElement(name, it->second.type, it->second.role) +
                " New schema: " +
                SchemaElement(name, types.at(name), k == 0 ? "HASH" : "RANGE"));
          }
        }
        g.index = MakeIndexSchema(u.index, types);
        // The table's definitions become those of the keys in use (the
        // table's, the other indexes', the new index's), sorted by name as
        // DynamoDB reports them.
        std::map<std::string, ValueType> in_use;
        for (const auto& [name, use] : uses) in_use[name] = use.type;
        for (const auto& k : u.index.keys) in_use[k.first] = types.at(k.first);
        std::vector<store::AttributeDefinition> defs;
        for (const auto& [name, type] : in_use) defs.push_back({name, type});
        update->attribute_definitions = std::move(defs);
        break;
      }
      case Kind::kUpdate: {
        if (existing == nullptr) return not_found(u.index.name);
        if (!existing->global) {
          return ApiError::Validation(
              "Cannot update an index that is not a GlobalSecondaryIndex: " +
              u.index.name);
        }
        if (existing->status == store::IndexStatus::kDeleting) {
          return ApiError::ResourceInUse(
              "Attempt to change a resource which is still in use: Index is "
              "being deleted. Table: " +
              table + " Index: " + u.index.name);
        }
        if (mode == BillingMode::kPayPerRequest) {
          return ApiError::Validation(
              std::string(kInvalidParameters) +
              "The only Updates for index: " + u.index.name +
              " when TableThroughputMode is PAY_PER_REQUEST can be to "
              "OnDemandThroughput, WarmThroughput");
        }
        const IndexSchema& s = existing->schema;
        if (!billing_switch && s.read_capacity_units == u.index.rcu &&
            s.write_capacity_units == u.index.wcu) {
          const std::string r = std::to_string(u.index.rcu);
          const std::string w = std::to_string(u.index.wcu);
          const std::string& n = u.index.name;
          return ApiError::Validation(
              "The provisioned throughput for the index " + n +
              " will not change. The requested value equals the current "
              "value. Current ReadCapacityUnits provisioned for index " +
              n + ": " + r + ". Requested ReadCapacityUnits: " + r +
              ". Current WriteCapacityUnits provisioned for index " + n + ": " +
              w + ". Requested WriteCapacityUnits: " + w +
              ". Refer to the Amazon DynamoDB Developer Guide for current "
              "limits and how to increase them.");
        }
        g.index = s;
        g.index.read_capacity_units = u.index.rcu;
        g.index.write_capacity_units = u.index.wcu;
        break;
      }
      case Kind::kDelete: {
        if (existing == nullptr) return not_found(u.index.name);
        if (!existing->global) {
          return ApiError::Validation(
              "Cannot delete an index that is not a GlobalSecondaryIndex: " +
              u.index.name);
        }
        if (in_progress) return OneOnlineIndex();
        g.index = existing->schema;
        break;
      }
    }
    update->global_indexes.push_back(std::move(g));
  }
  // A switch to PROVISIONED gives every remaining GSI a throughput.
  if (billing_switch && mode == BillingMode::kProvisioned) {
    std::vector<std::string> missing;
    for (const IndexInfo& i : now.indexes) {
      if (!i.global || i.status == store::IndexStatus::kDeleting) continue;
      bool given = false;
      for (const IndexUpdateRequest& u : updates) {
        given =
            given || (u.index.name == i.schema.name && u.kind != Kind::kCreate);
      }
      if (!given) missing.push_back(i.schema.name);
    }
    if (!missing.empty()) {
      std::string list;
      for (const std::string& m : missing) {
        list += (list.empty() ? "" : ",") + m;
      }
      return ApiError::Validation(
          std::string(kInvalidParameters) +
          "ProvisionedThroughput must be specified for index: " + list);
    }
  }
  return ApiStatus();
}

void WriteIndexes(const OperationContext& ctx, const TableInfo& info,
                  JsonWriter* w) {
  for (const bool global : {false, true}) {
    bool any = false;
    for (const IndexInfo& index : info.indexes) {
      any = any || index.global == global;
    }
    if (!any) continue;
    w->Key(global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes");
    w->StartArray();
    for (const IndexInfo& index : info.indexes) {
      if (index.global != global) continue;
      const IndexSchema& s = index.schema;
      w->StartObject();
      w->Key("IndexName");
      Str(w, s.name);
      WriteKeySchema(s.hash_key, s.range_key, w);
      w->Key("Projection");
      w->StartObject();
      w->Key("ProjectionType");
      Str(w, ProjectionTypeName(s.projection));
      if (s.projection == ProjectionType::kInclude) {
        std::vector<std::string> names = s.non_key_attributes;
        std::sort(names.begin(), names.end());
        w->Key("NonKeyAttributes");
        w->StartArray();
        for (const std::string& n : names) Str(w, n);
        w->EndArray();
      }
      w->EndObject();
      if (global) {
        w->Key("IndexStatus");
        Str(w, IndexStatusName(index.status));
        if (index.backfilling) {
          w->Key("Backfilling");
          w->Bool(true);
        }
        w->Key("ProvisionedThroughput");
        w->StartObject();
        w->Key("NumberOfDecreasesToday");
        w->Int64(0);
        w->Key("ReadCapacityUnits");
        w->Int64(s.read_capacity_units);
        w->Key("WriteCapacityUnits");
        w->Int64(s.write_capacity_units);
        w->EndObject();
      }
      w->Key("IndexSizeBytes");
      w->Int64(index.size_bytes);
      w->Key("ItemCount");
      w->Int64(index.item_count);
      w->Key("IndexArn");
      Str(w, TableArn(*ctx.config, info.schema.name) + "/index/" + s.name);
      w->EndObject();
    }
    w->EndArray();
  }
}

}  // namespace eddy::runtime::api
