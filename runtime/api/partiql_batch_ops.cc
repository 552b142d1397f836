// BatchExecuteStatement and ExecuteTransaction.
//
// A batch is all reads or all writes. Each read names one item by its full
// primary key (a GetItem); each write runs on its own as ExecuteStatement
// runs it; every statement gets its own response, an error included, and a
// malformed statement does not stop the others.
//
// A transaction is all reads (TransactGetItems) or all writes and EXISTS
// checks (TransactWriteItems, through the same Database::TransactWrite, so
// it commits atomically with its stream records). Its statements are checked
// in order, as DynamoDB does: a statement DynamoDB cannot run at all fails
// the request ("Validation failed in TransactStatements[i]: ..."), one that
// names a missing table or no single item becomes a cancellation reason,
// and conditions are evaluated at commit.
#include <rapidjson/stringbuffer.h>

#include <chrono>
#include <functional>
#include <map>

#include "api/partiql_support.h"
#include "api/transaction_tokens.h"
#include "partiql/plan.h"

namespace eddy::runtime::api {
namespace {

using partiql::Statement;
using partiql::StatementKind;
using store::Item;

constexpr size_t kMaxBatchStatements = 25;
constexpr size_t kMaxTransactStatements = 100;
constexpr size_t kMaxTokenLength = 36;

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CapacityMode ModeOf(const std::optional<std::string>& text) {
  if (!text || *text == "NONE") return CapacityMode::kNone;
  return *text == "TOTAL" ? CapacityMode::kTotal : CapacityMode::kIndexes;
}

// Reads the statement list (`member`: Statements / TransactStatements) and
// each statement's members.
struct Member {
  StatementInput input;
  std::optional<bool> consistent;
  std::optional<std::string> on_failure;
};
ApiStatus ReadMembers(const Params& params, const char* member,
                      const std::string& path, size_t max, bool batch,
                      ConstraintErrors* errors, std::vector<Member>* out) {
  const rapidjson::Value* list = nullptr;
  API_RETURN_IF_ERROR(params.Array(member, &list));
  if (list == nullptr) {
    errors->Add("null", path, "Member must not be null");
    return ApiStatus();
  }
  if (list->Empty()) {
    errors->Add("[]", path,
                "Member must have length greater than or equal to 1");
    return ApiStatus();
  }
  if (list->Size() > max) {
    errors->Add(
        "[...]", path,
        "Member must have length less than or equal to " + std::to_string(max));
    return ApiStatus();
  }
  out->resize(list->Size());
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const rapidjson::Value& v = (*list)[i];
    if (!v.IsObject()) return WrongType(v, "Structure");
    Params p(v);
    const std::string prefix = path + "." + std::to_string(i + 1) + ".member.";
    Member& m = (*out)[i];
    API_RETURN_IF_ERROR(ReadStatementInput(p, prefix, errors, &m.input));
    if (batch) API_RETURN_IF_ERROR(p.Bool("ConsistentRead", &m.consistent));
    API_RETURN_IF_ERROR(ReadEnum(p, "ReturnValuesOnConditionCheckFailure",
                                 prefix, {"ALL_OLD", "NONE"}, errors,
                                 &m.on_failure));
  }
  return ApiStatus();
}

bool IsWrite(const Statement& st) { return st.kind != StatementKind::kSelect; }

// ConsumedCapacity as a list, one entry per table.
void WriteCapacityList(CapacityMode mode,
                       const std::map<std::string, Capacity>& units, bool write,
                       JsonWriter* out) {
  if (mode == CapacityMode::kNone || units.empty()) return;
  out->Key("ConsumedCapacity");
  out->StartArray();
  for (const auto& [table, capacity] : units) {
    WriteCapacityObject(mode, table, capacity, write, out);
  }
  out->EndArray();
}

const char* const kBatchSelectKey =
    "Select statements within BatchExecuteStatement must specify the primary "
    "key in the where clause.";
const char* const kTransactSelectKey =
    "Select statements within ExecuteTransaction must specify the primary key "
    "in the where clause.";
const char* const kExistsOutsideTransaction =
    "EXISTS can only be used in ExecuteTransaction write requests.";

// One SELECT of a batch: the item at its key.
ApiStatus BatchRead(const OperationContext& ctx, const Statement& st,
                    bool consistent, JsonWriter* out,
                    std::map<std::string, Capacity>* units) {
  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, st.table, &table));
  if (st.index) return ApiError::Validation(kBatchSelectKey);
  API_RETURN_IF_ERROR(partiql::CheckProjection(st));
  Result<partiql::KeyMatch> match =
      partiql::MatchKey(st.where, partiql::KeySchema::Of(table->schema()),
                        partiql::KeyMode::kGet);
  if (!match.ok()) {
    if (match.status().message() == "kGet") {
      return ApiError::Validation(kBatchSelectKey);
    }
    return match.status();
  }
  Result<std::optional<Item>> item = table->Get(match->key);
  if (!item.ok()) return item.status();
  out->StartObject();
  out->Key("TableName");
  Str(out, st.table);
  size_t size = 0;
  if (item->has_value()) {
    size = store::ItemSize(**item);
    WriteItemMember("Item", partiql::Project(st, **item), out);
  }
  out->EndObject();
  const double used = ReadUnits(size, consistent);
  ReportConsumed(ctx, st.table, used, /*write=*/false);
  (*units)[st.table].table += used;
  return ApiStatus();
}

void WriteBatchError(const ApiError& error, const std::string* table,
                     JsonWriter* out) {
  out->StartObject();
  out->Key("Error");
  out->StartObject();
  out->Key("Code");
  Str(out, BatchErrorCode(error));
  out->Key("Message");
  Str(out, error.message);
  out->EndObject();
  if (table != nullptr) {
    out->Key("TableName");
    Str(out, *table);
  }
  out->EndObject();
}

// One statement of a transaction, ready for the store.
struct TransactStatement {
  Statement st;
  std::shared_ptr<store::Table> table;
  store::TransactWriteAction action;  // Writes and EXISTS.
  Item key;                           // Reads.
  std::unique_ptr<store::Condition> condition;
  std::unique_ptr<store::Update> update;
  bool return_old_on_failure = false;
};

ApiError ValidationIn(size_t index, const std::string& message) {
  return ApiError::Validation("Validation failed in TransactStatements[" +
                              std::to_string(index) + "]: " + message);
}

ApiError Cancelled(const std::vector<store::CancellationReason>& reasons,
                   const std::vector<TransactStatement>& statements) {
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
    Str(&w, r.code);
    if (!r.message.empty()) {
      w.Key("Message");
      Str(&w, r.message);
    }
    if (r.item && statements[i].return_old_on_failure) {
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

// Prepares statement `index` of a transaction for the store. A problem that
// cancels the transaction goes to *reason; one that fails the request is
// returned.
ApiStatus PrepareTransactStatement(const OperationContext& ctx, size_t index,
                                   TransactStatement* t,
                                   store::CancellationReason* reason) {
  const Statement& st = t->st;
  t->table = ctx.db->GetTable(st.table);
  if (t->table == nullptr) {
    reason->code = "ResourceNotFound";
    reason->message = "Requested resource not found";
    return ApiStatus();
  }
  if (st.returning != partiql::Returning::kNone) {
    return ValidationIn(index,
                        "RETURNING clause is not supported in "
                        "ExecuteTransaction.");
  }
  if (st.index) {
    return ValidationIn(
        index, st.kind == StatementKind::kSelect
                   ? "Reads on indices are not supported within transactions."
                   : "Operations on indices are not supported in "
                     "transactions");
  }
  const store::TableSchema& schema = t->table->schema();
  const partiql::KeySchema keys = partiql::KeySchema::Of(schema);
  auto key_mismatch = [&] {
    reason->code = "ValidationError";
    reason->message = "The provided key element does not match the schema";
  };
  partiql::ExpressionBuilder builder;
  store::TransactWriteAction& action = t->action;
  action.table = t->table;
  switch (st.kind) {
    case StatementKind::kSelect: {
      if (Status s = partiql::CheckProjection(st); !s.ok()) {
        return ValidationIn(index, s.message());
      }
      Result<partiql::KeyMatch> match =
          partiql::MatchKey(st.where, keys, partiql::KeyMode::kGet);
      if (!match.ok()) {
        if (match.status().message() == "kGet") {
          return ValidationIn(index, kTransactSelectKey);
        }
        key_mismatch();
        return ApiStatus();
      }
      t->key = std::move(match->key);
      return ApiStatus();
    }
    case StatementKind::kInsert: {
      action.kind = store::TransactWriteAction::Kind::kPut;
      action.item = InsertItem(st);
      if (Status s = t->table->ValidateItem(action.item); !s.ok()) {
        reason->code = "ValidationError";
        reason->message = s.message();
        return ApiStatus();
      }
      Result<std::unique_ptr<store::Condition>> c =
          builder.Guarded(schema.hash_key.name, /*exists=*/false, std::nullopt);
      if (!c.ok()) return ValidationIn(index, c.status().message());
      t->condition = std::move(*c);
      break;
    }
    case StatementKind::kUpdate:
    case StatementKind::kDelete: {
      const bool is_update = st.kind == StatementKind::kUpdate;
      action.kind = is_update ? store::TransactWriteAction::Kind::kUpdate
                              : store::TransactWriteAction::Kind::kDelete;
      Result<partiql::KeyMatch> match =
          partiql::MatchKey(st.where, keys, partiql::KeyMode::kWrite);
      if (!match.ok()) {
        key_mismatch();
        return ApiStatus();
      }
      action.item = std::move(match->key);
      if (is_update || match->rest) {
        Result<std::unique_ptr<store::Condition>> c =
            builder.Guarded(schema.hash_key.name, is_update, match->rest);
        if (!c.ok()) return ValidationIn(index, c.status().message());
        t->condition = std::move(*c);
      }
      if (is_update) {
        Result<std::unique_ptr<store::Update>> u = builder.Update(st.actions);
        if (!u.ok()) return ValidationIn(index, u.status().message());
        t->update = std::move(*u);
      }
      break;
    }
    case StatementKind::kExists: {
      action.kind = store::TransactWriteAction::Kind::kConditionCheck;
      Result<partiql::KeyMatch> match =
          partiql::MatchKey(st.where, keys, partiql::KeyMode::kExists);
      if (!match.ok()) {
        if (match.status().message().rfind("EXISTS()", 0) == 0) {
          return ValidationIn(index, match.status().message());
        }
        key_mismatch();
        return ApiStatus();
      }
      action.item = std::move(match->key);
      Result<std::unique_ptr<store::Condition>> c =
          builder.Condition(*match->rest);
      if (!c.ok()) return ValidationIn(index, c.status().message());
      t->condition = std::move(*c);
      break;
    }
  }
  action.condition = t->condition.get();
  action.update = t->update.get();
  return ApiStatus();
}

ApiStatus TransactRead(const OperationContext& ctx,
                       std::vector<TransactStatement>& statements,
                       CapacityMode capacity, JsonWriter* out) {
  std::vector<store::TransactGetAction> gets;
  for (TransactStatement& t : statements) {
    for (const store::TransactGetAction& g : gets) {
      if (g.table == t.table && g.key == t.key) {
        return ApiError::Validation(
            "Transaction request cannot include multiple operations on one "
            "item");
      }
    }
    gets.push_back({t.table, t.key});
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
      WriteItemMember("Item", partiql::Project(statements[i].st, *item), out);
    }
    out->EndObject();
    units[statements[i].st.table].table += 2 * ReadUnits(size, true);
  }
  out->EndArray();
  for (const auto& [table, used] : units) {
    ReportConsumed(ctx, table, used, /*write=*/false);
  }
  WriteCapacityList(capacity, units, /*write=*/false, out);
  out->EndObject();
  return ApiStatus();
}

}  // namespace

ApiStatus BatchExecuteStatement(const OperationContext& ctx,
                                const rapidjson::Value& request,
                                JsonWriter* out) {
  Params params(request);
  ConstraintErrors errors;
  std::vector<Member> members;
  API_RETURN_IF_ERROR(ReadMembers(params, "Statements", "statements",
                                  kMaxBatchStatements, /*batch=*/true, &errors,
                                  &members));
  std::optional<std::string> capacity_text;
  API_RETURN_IF_ERROR(ReadEnum(params, "ReturnConsumedCapacity", "",
                               {"INDEXES", "TOTAL", "NONE"}, &errors,
                               &capacity_text));
  API_RETURN_IF_ERROR(errors.ToStatus());
  const CapacityMode capacity = ModeOf(capacity_text);

  std::vector<Statement> statements(members.size());
  std::vector<ApiStatus> prepared(members.size());
  bool reads = false, writes = false;
  for (size_t i = 0; i < members.size(); ++i) {
    prepared[i] = PrepareStatement(members[i].input, &statements[i]);
    if (!prepared[i].ok()) continue;
    if (statements[i].kind == StatementKind::kSelect) reads = true;
    if (statements[i].kind != StatementKind::kSelect &&
        statements[i].kind != StatementKind::kExists) {
      writes = true;
    }
  }
  if (reads && writes) {
    return ApiError::Validation(
        "The entire batch must consist of either read statements or write "
        "statements, you cannot mix both in one batch.");
  }

  std::map<std::string, Capacity> units;
  out->StartObject();
  out->Key("Responses");
  out->StartArray();
  for (size_t i = 0; i < members.size(); ++i) {
    const Statement& st = statements[i];
    if (!prepared[i].ok()) {
      WriteBatchError(prepared[i].error(), nullptr, out);
      continue;
    }
    if (st.kind == StatementKind::kExists) {
      WriteBatchError(ApiError::Validation(kExistsOutsideTransaction), nullptr,
                      out);
      continue;
    }
    // With capacity enforced, a statement on a table whose capacity is used
    // up fails alone (ProvisionedThroughputExceeded); the others run.
    if (ApiStatus admitted = AdmitCapacity(ctx, st.table, IsWrite(st));
        !admitted.ok()) {
      WriteBatchError(admitted.error(), &st.table, out);
      continue;
    }
    if (st.kind == StatementKind::kSelect) {
      // BatchRead writes nothing before its checks pass.
      ApiStatus s = BatchRead(ctx, st, members[i].consistent.value_or(false),
                              out, &units);
      if (!s.ok()) WriteBatchError(s.error(), nullptr, out);
      continue;
    }
    PartiqlWrite write;
    ApiStatus s =
        ExecutePartiqlWrite(ctx, st, /*return_old_on_failure=*/false, &write);
    if (!s.ok()) {
      WriteBatchError(s.error(), write.executed ? &st.table : nullptr, out);
      continue;
    }
    units[st.table].Add(write.capacity);
    out->StartObject();
    out->Key("TableName");
    Str(out, st.table);
    if (write.row) WriteItemMember("Item", *write.row, out);
    out->EndObject();
  }
  out->EndArray();
  WriteCapacityList(capacity, units, /*write=*/writes, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus ExecuteTransaction(const OperationContext& ctx,
                             const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  ConstraintErrors errors;
  std::vector<Member> members;
  API_RETURN_IF_ERROR(ReadMembers(params, "TransactStatements",
                                  "transactStatements", kMaxTransactStatements,
                                  /*batch=*/false, &errors, &members));
  std::optional<std::string> token;
  API_RETURN_IF_ERROR(params.String("ClientRequestToken", &token));
  if (token && (token->empty() || token->size() > kMaxTokenLength)) {
    errors.Add(*token, "clientRequestToken",
               token->empty()
                   ? "Member must have length greater than or equal to 1"
                   : "Member must have length less than or equal to 36");
  }
  std::optional<std::string> capacity_text;
  API_RETURN_IF_ERROR(ReadEnum(params, "ReturnConsumedCapacity", "",
                               {"INDEXES", "TOTAL", "NONE"}, &errors,
                               &capacity_text));
  API_RETURN_IF_ERROR(errors.ToStatus());
  const CapacityMode capacity = ModeOf(capacity_text);

  std::vector<TransactStatement> statements(members.size());
  bool reads = false, writes = false;
  for (size_t i = 0; i < members.size(); ++i) {
    ApiStatus s = PrepareStatement(members[i].input, &statements[i].st);
    if (!s.ok()) return ValidationIn(i, s.error().message);
    (IsWrite(statements[i].st) ? writes : reads) = true;
    statements[i].return_old_on_failure =
        members[i].on_failure && *members[i].on_failure == "ALL_OLD";
  }
  if (reads && writes) {
    return ApiError::Validation(
        "The entire transaction must consist of either read statements or "
        "write statements, you cannot mix both in one transaction.");
  }
  std::vector<store::CancellationReason> reasons(statements.size());
  bool cancelled = false;
  for (size_t i = 0; i < statements.size(); ++i) {
    API_RETURN_IF_ERROR(
        PrepareTransactStatement(ctx, i, &statements[i], &reasons[i]));
    if (reasons[i].code != "None") cancelled = true;
  }
  if (cancelled) return Cancelled(reasons, statements);
  if (reads) return TransactRead(ctx, statements, capacity, out);

  // Units per table, as TransactWriteItems counts them: twice those of the
  // plain writes (the request's item sizes until the outcome is known).
  std::map<std::string, Capacity> units;
  auto charge = [&](const std::string& table, Capacity c) {
    c.table *= 2;
    for (auto* indexes : {&c.global_indexes, &c.local_indexes}) {
      for (auto& [name, n] : *indexes) n *= 2;
    }
    units[table].Add(c);
  };
  for (const TransactStatement& t : statements) {
    charge(t.st.table,
           Capacity{WriteUnits(store::ItemSize(t.action.item)), {}, {}});
  }
  auto respond = [&]() {
    out->StartObject();
    WriteCapacityList(capacity, units, /*write=*/true, out);
    out->EndObject();
    return ApiStatus();
  };
  TransactionTokens* tokens = token ? ctx.transaction_tokens : nullptr;
  if (tokens != nullptr) {
    const rapidjson::Value* list = params.Get("TransactStatements");
    const uint64_t hash =
        std::hash<std::string>{}("PartiQL\n" + JsonText(*list));
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
  actions.reserve(statements.size());
  for (const TransactStatement& t : statements) actions.push_back(t.action);
  Result<store::TransactWriteResult> result = ctx.db->TransactWrite(actions);
  const bool committed = result.ok() && result->committed;
  if (tokens != nullptr) tokens->Finish(*token, committed, NowMs());
  if (!result.ok()) return result.status();
  if (!committed) {
    for (size_t i = 0; i < statements.size(); ++i) {
      store::CancellationReason& r = result->reasons[i];
      if (statements[i].st.kind == StatementKind::kInsert &&
          r.code == "ConditionalCheckFailed") {
        // The INSERT's own condition: its key exists.
        r.code = "ValidationError";
        r.message = "Duplicate primary key exists in table";
        r.item.reset();
      }
    }
    return Cancelled(result->reasons, statements);
  }
  units.clear();
  for (size_t i = 0; i < statements.size(); ++i) {
    charge(statements[i].st.table, WriteCapacity(result->outcomes[i]));
  }
  for (const auto& [table, used] : units) {
    ReportConsumed(ctx, table, used, /*write=*/true);
  }
  return respond();
}

}  // namespace eddy::runtime::api
