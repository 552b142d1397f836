// TransactWriteItems and TransactGetItems.
//
// The request is validated whole before any item is touched (shape, limits,
// expressions, tables, keys); the store then applies every action in one
// atomic commit or none (store/src/transaction.h). A condition that fails,
// or an action that cannot apply to the current item, cancels the
// transaction: TransactionCanceledException with one CancellationReason per
// action, in request order.
#include <rapidjson/stringbuffer.h>

#include <chrono>
#include <functional>
#include <map>

#include "api/operations.h"
#include "api/transaction_tokens.h"
#include "eddy/store/expression.h"

namespace eddy::runtime::api {
namespace {

using store::Item;
using Kind = store::TransactWriteAction::Kind;

constexpr size_t kMaxTransactItems = 100;
constexpr size_t kMaxTransactBytes = 4 * 1024 * 1024;
constexpr size_t kMaxTokenLength = 36;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One TransactWriteItems action, with the expressions it owns.
struct ParsedWrite {
  std::string table_name;
  store::TransactWriteAction action;
  std::unique_ptr<store::Update> update;
  std::unique_ptr<store::Condition> condition;
  bool return_old_on_failure = false;
};

struct KindSpec {
  const char* member;  // "Put", ...
  const char* path;    // "put", ... in constraint messages.
  Kind kind;
};
constexpr KindSpec kKinds[] = {
    {"ConditionCheck", "conditionCheck", Kind::kConditionCheck},
    {"Put", "put", Kind::kPut},
    {"Delete", "delete", Kind::kDelete},
    {"Update", "update", Kind::kUpdate},
};

ApiError OneKindOnly() {
  return ApiError::Validation(
      "TransactItems can only contain one of Check, Put, Update or Delete");
}

// Validates the TransactItems list: present, 1..100 entries, objects.
ApiStatus ReadTransactItems(const Params& params,
                            const rapidjson::Value** items) {
  API_RETURN_IF_ERROR(params.Array("TransactItems", items));
  ConstraintErrors errors;
  if (*items == nullptr) {
    errors.Add("null", "transactItems", "Member must not be null");
  } else if ((*items)->Empty()) {
    errors.Add("[]", "transactItems",
               "Member must have length greater than or equal to 1");
  } else if ((*items)->Size() > kMaxTransactItems) {
    errors.Add("[...]", "transactItems",
               "Member must have length less than or equal to 100");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  for (const rapidjson::Value& entry : (*items)->GetArray()) {
    if (!entry.IsObject()) {
      return ApiError::Serialization(
          "Unexpected value type in payload: TransactItems members must be "
          "objects");
    }
  }
  return ApiStatus();
}

// Parses one TransactWriteItem (index is 1-based, as in DynamoDB's
// messages).
ApiStatus ParseWrite(const OperationContext& ctx, const rapidjson::Value& entry,
                     size_t index, ParsedWrite* out) {
  const KindSpec* spec = nullptr;
  for (const KindSpec& k : kKinds) {
    if (entry.HasMember(k.member)) {
      if (spec != nullptr) return OneKindOnly();
      spec = &k;
    }
  }
  if (spec == nullptr) return OneKindOnly();
  const rapidjson::Value& body = entry[spec->member];
  if (!body.IsObject()) return WrongType(body, "Structure");
  Params params(body);
  out->action.kind = spec->kind;
  const std::string prefix =
      "transactItems." + std::to_string(index) + ".member." + spec->path + ".";

  API_RETURN_IF_ERROR(ReadTableName(params, &out->table_name));
  std::optional<Item> item;
  const char* item_member = spec->kind == Kind::kPut ? "Item" : "Key";
  API_RETURN_IF_ERROR(params.ItemMember(item_member, &item));
  std::optional<std::string> update_text, condition_text;
  if (spec->kind == Kind::kUpdate) {
    API_RETURN_IF_ERROR(
        ReadExpressionText(params, "UpdateExpression", &update_text));
  }
  API_RETURN_IF_ERROR(
      ReadExpressionText(params, "ConditionExpression", &condition_text));
  ConstraintErrors errors;
  if (!item) {
    errors.Add("null", prefix + (spec->kind == Kind::kPut ? "item" : "key"),
               "Member must not be null");
  }
  if (spec->kind == Kind::kUpdate && !update_text) {
    errors.Add("null", prefix + "updateExpression", "Member must not be null");
  }
  if (spec->kind == Kind::kConditionCheck && !condition_text) {
    errors.Add("null", prefix + "conditionExpression",
               "Member must not be null");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  out->action.item = std::move(*item);
  API_RETURN_IF_ERROR(ReadReturnOnFailure(params, &out->return_old_on_failure));

  ExpressionInputs inputs;
  API_RETURN_IF_ERROR(CheckExpressionParams(
      params, {"UpdateExpression", "ConditionExpression"}, {}));
  API_RETURN_IF_ERROR(ParseWriteExpressions(params, update_text, condition_text,
                                            &inputs, &out->update,
                                            &out->condition));
  out->action.update = out->update.get();
  out->action.condition = out->condition.get();
  return FindTable(ctx, out->table_name, &out->action.table);
}

std::string Serialize(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  value.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// TransactionCanceledException with its CancellationReasons.
ApiError Cancelled(const std::vector<store::CancellationReason>& reasons,
                   const std::vector<ParsedWrite>& writes) {
  std::string codes;
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("CancellationReasons");
  w.StartArray();
  for (size_t i = 0; i < reasons.size(); ++i) {
    const store::CancellationReason& r = reasons[i];
    codes += (i == 0 ? "" : ", ") + r.code;
    w.StartObject();
    w.Key("Code");
    w.String(r.code.c_str());
    if (!r.message.empty()) {
      w.Key("Message");
      w.String(r.message.data(),
               static_cast<rapidjson::SizeType>(r.message.size()));
    }
    if (r.item && writes[i].return_old_on_failure) {
      WriteItemMember("Item", *r.item, &w);
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

// ConsumedCapacity of a transaction: a list with one entry per table;
// transactional reads and writes cost twice the units of plain ones.
void WriteTransactCapacity(CapacityMode mode,
                           const std::map<std::string, Capacity>& units,
                           bool write, JsonWriter* out) {
  if (mode == CapacityMode::kNone) return;
  out->Key("ConsumedCapacity");
  out->StartArray();
  for (const auto& [table, capacity] : units) {
    WriteCapacityObject(mode, table, capacity, write, out);
  }
  out->EndArray();
}

}  // namespace

ApiStatus TransactWriteItems(const OperationContext& ctx,
                             const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  const rapidjson::Value* items = nullptr;
  API_RETURN_IF_ERROR(ReadTransactItems(params, &items));
  CapacityMode capacity;
  API_RETURN_IF_ERROR(ReadCapacityMode(params, &capacity));
  bool collection_metrics = false;
  API_RETURN_IF_ERROR(ReadCollectionMetrics(params, &collection_metrics));
  std::optional<std::string> token;
  API_RETURN_IF_ERROR(params.String("ClientRequestToken", &token));
  if (token && (token->empty() || token->size() > kMaxTokenLength)) {
    ConstraintErrors errors;
    errors.Add(*token, "clientRequestToken",
               token->empty()
                   ? "Member must have length greater than or equal to 1"
                   : "Member must have length less than or equal to 36");
    return errors.ToStatus();
  }

  std::vector<ParsedWrite> writes(items->Size());
  size_t total_bytes = 0;
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    API_RETURN_IF_ERROR(ParseWrite(ctx, (*items)[i], i + 1, &writes[i]));
    total_bytes += store::ItemSize(writes[i].action.item);
  }
  if (total_bytes > kMaxTransactBytes) {
    return ApiError::Validation(
        "Transaction request size exceeds the maximum allowed size of 4 MB");
  }

  // Units per table, as DynamoDB counts transactional writes: twice (prepare
  // and commit) those of the plain write, table and indexes. Until the
  // outcome is known (an idempotent replay never learns it), the request's
  // item sizes stand in.
  std::map<std::string, Capacity> units;
  auto charge = [&](const std::string& table, Capacity c) {
    c.table *= 2;
    for (auto* indexes : {&c.global_indexes, &c.local_indexes}) {
      for (auto& [name, n] : *indexes) n *= 2;
    }
    units[table].Add(c);
  };
  for (const ParsedWrite& w : writes) {
    charge(w.table_name,
           Capacity{WriteUnits(store::ItemSize(w.action.item)), {}, {}});
  }
  auto respond = [&]() -> ApiStatus {
    out->StartObject();
    WriteTransactCapacity(capacity, units, /*write=*/true, out);
    if (collection_metrics) {
      std::vector<WrittenItem> written;
      for (const ParsedWrite& w : writes) {
        if (w.action.kind == Kind::kConditionCheck) continue;
        written.push_back({w.table_name, w.action.table, w.action.item});
      }
      API_RETURN_IF_ERROR(WriteCollectionMetricsByTable(written, out));
    }
    out->EndObject();
    return ApiStatus();
  };

  // Idempotency: the same request with a token seen in the last 10 minutes
  // is answered without applying it again.
  TransactionTokens* tokens = token ? ctx.transaction_tokens : nullptr;
  if (tokens != nullptr) {
    const uint64_t hash = std::hash<std::string>{}(Serialize(*items));
    switch (tokens->Begin(*token, hash, NowMs())) {
      case TransactionTokens::Claim::kNew:
        break;
      case TransactionTokens::Claim::kCommitted:
        return respond();
      case TransactionTokens::Claim::kInProgress:
        return ApiError::Dynamo(
            "TransactionInProgressException",
            "The transaction with the given request token is already in "
            "progress.");
      case TransactionTokens::Claim::kMismatch:
        return ApiError::Dynamo(
            "IdempotentParameterMismatchException",
            "DynamoDB rejected the request because you retried a request "
            "with a different payload but with an idempotent token that was "
            "already used.");
    }
  }

  std::vector<store::TransactWriteAction> actions;
  actions.reserve(writes.size());
  for (const ParsedWrite& w : writes) actions.push_back(w.action);
  Result<store::TransactWriteResult> result = ctx.db->TransactWrite(actions);
  const bool committed = result.ok() && result->committed;
  if (tokens != nullptr) tokens->Finish(*token, committed, NowMs());
  if (!result.ok()) return result.status();
  if (!committed) return Cancelled(result->reasons, writes);
  units.clear();
  for (size_t i = 0; i < writes.size(); ++i) {
    // A ConditionCheck leaves the item as it is: its size, old and new.
    charge(writes[i].table_name, WriteCapacity(result->outcomes[i]));
  }
  for (const auto& [table, used] : units) {
    ReportConsumed(ctx, table, used, /*write=*/true);
  }
  return respond();
}

ApiStatus TransactGetItems(const OperationContext& ctx,
                           const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  const rapidjson::Value* items = nullptr;
  API_RETURN_IF_ERROR(ReadTransactItems(params, &items));
  CapacityMode capacity;
  API_RETURN_IF_ERROR(ReadCapacityMode(params, &capacity));

  std::vector<store::TransactGetAction> gets(items->Size());
  std::vector<std::string> table_names(items->Size());
  std::vector<std::optional<store::Projection>> projections(items->Size());
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    const rapidjson::Value& entry = (*items)[i];
    const rapidjson::Value* get = nullptr;
    API_RETURN_IF_ERROR(Params(entry).Object("Get", &get));
    if (get == nullptr) {
      ConstraintErrors errors;
      errors.Add("null",
                 "transactItems." + std::to_string(i + 1) + ".member.get",
                 "Member must not be null");
      return errors.ToStatus();
    }
    Params p(*get);
    API_RETURN_IF_ERROR(ReadTableName(p, &table_names[i]));
    std::optional<Item> key;
    API_RETURN_IF_ERROR(p.ItemMember("Key", &key));
    if (!key) {
      ConstraintErrors errors;
      errors.Add("null",
                 "transactItems." + std::to_string(i + 1) + ".member.get.key",
                 "Member must not be null");
      return errors.ToStatus();
    }
    std::optional<std::string> projection_text;
    API_RETURN_IF_ERROR(
        ReadExpressionText(p, "ProjectionExpression", &projection_text));
    ExpressionInputs inputs;
    API_RETURN_IF_ERROR(
        ReadExpressionInputs(p, projection_text.has_value(), &inputs));
    store::ExpressionContext ectx(inputs.names ? &*inputs.names : nullptr,
                                  inputs.values ? &*inputs.values : nullptr);
    if (projection_text) {
      Result<store::Projection> projection =
          store::Projection::Parse(*projection_text, &ectx);
      if (!projection.ok()) return projection.status();
      projections[i] = std::move(*projection);
    }
    API_RETURN_IF_ERROR(ectx.CheckAllUsed());
    API_RETURN_IF_ERROR(FindTable(ctx, table_names[i], &gets[i].table));
    gets[i].key = std::move(*key);
  }

  Result<std::vector<std::optional<Item>>> read = ctx.db->TransactGet(gets);
  if (!read.ok()) return read.status();
  std::map<std::string, Capacity> units;
  out->StartObject();
  out->Key("Responses");
  out->StartArray();
  for (size_t i = 0; i < read->size(); ++i) {
    const std::optional<Item>& item = (*read)[i];
    out->StartObject();
    size_t size = 0;
    if (item) {
      size = store::ItemSize(*item);
      WriteItemMember(
          "Item", projections[i] ? projections[i]->Apply(*item) : *item, out);
    }
    out->EndObject();
    units[table_names[i]].table += 2 * ReadUnits(size, /*consistent=*/true);
  }
  out->EndArray();
  for (const auto& [table, used] : units) {
    ReportConsumed(ctx, table, used, /*write=*/false);
  }
  WriteTransactCapacity(capacity, units, /*write=*/false, out);
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
