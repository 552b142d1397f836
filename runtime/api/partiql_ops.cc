// ExecuteStatement, and the helpers the three PartiQL operations share
// (partiql_support.h).
//
// A SELECT runs as a Query of each partition its WHERE pins (in order,
// paging across them) or as a Scan, with the whole WHERE as the filter and
// Limit counting the items read; NextToken carries the partition reached
// and the last key read, tied to the statement and its parameters. Writes
// run as the store's single-item writes: INSERT is a Put on
// attribute_not_exists(<hash key>), UPDATE an UpdateItem on
// attribute_exists(<hash key>) AND <the rest of the WHERE>, DELETE a Delete
// on attribute_not_exists(<hash key>) OR <the rest> (deleting a missing
// item succeeds, as DynamoDB documents).
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "api/partiql_support.h"
#include "partiql/parser.h"
#include "partiql/plan.h"

namespace eddy::runtime::api {
namespace {

using partiql::Returning;
using partiql::Statement;
using partiql::StatementKind;
using store::Item;

constexpr size_t kMaxNextTokenLength = 32768;

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// FNV-1a: a stable fingerprint of a statement and its parameters.
uint64_t Fingerprint(std::string_view text, std::string_view parameters) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix(text);
  mix(std::string_view("\0", 1));
  mix(parameters);
  return h;
}

std::string Hex(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[v & 15];
    v >>= 4;
  }
  return out;
}

// Where a paged SELECT goes on: the partition (index into the plan's
// partitions; 0 for a Scan) and the last key read in it.
struct Resume {
  size_t partition = 0;
  std::optional<Item> last_key;
};

// NextToken = base64 of {"f": fingerprint, "p": partition, "k": key}.
std::string EncodeNextToken(uint64_t fingerprint, const Resume& resume) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("f");
  Str(&w, Hex(fingerprint));
  w.Key("p");
  w.Uint64(resume.partition);
  if (resume.last_key) WriteItemMember("k", *resume.last_key, &w);
  w.EndObject();
  return Base64Encode(std::string_view(buf.GetString(), buf.GetSize()));
}

ApiStatus DecodeNextToken(const std::string& token, uint64_t fingerprint,
                          Resume* out) {
  const ApiError invalid = ApiError::Validation("Invalid NextToken");
  std::string json;
  if (!Base64Decode(token, &json)) return invalid;
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return invalid;
  auto f = doc.FindMember("f");
  auto p = doc.FindMember("p");
  if (f == doc.MemberEnd() || !f->value.IsString() || p == doc.MemberEnd() ||
      !p->value.IsUint64()) {
    return invalid;
  }
  if (std::string_view(f->value.GetString(), f->value.GetStringLength()) !=
      Hex(fingerprint)) {
    return ApiError::Validation("NextToken does not match request");
  }
  out->partition = p->value.GetUint64();
  auto k = doc.FindMember("k");
  if (k != doc.MemberEnd()) {
    Item key;
    if (!k->value.IsObject() || !ReadItem(k->value, &key).ok()) return invalid;
    out->last_key = std::move(key);
  }
  return ApiStatus();
}

// The index a SELECT reads, checked as DynamoDB checks it.
ApiStatus ResolveIndex(const store::Table& table, const Statement& st,
                       bool consistent, std::optional<store::IndexInfo>* out) {
  if (!st.index) return ApiStatus();
  std::optional<store::IndexInfo> index = table.DescribeIndex(*st.index);
  if (!index) {
    return ApiError::Validation("The table does not have the specified index");
  }
  if (index->global && consistent) {
    return ApiError::Validation(
        "Strongly consistent read is not supported on Global Secondary "
        "Indexes");
  }
  if (index->global && index->status == store::IndexStatus::kCreating) {
    return ApiError::Validation(
        "Cannot read from backfilling global secondary index: " + *st.index);
  }
  *out = std::move(index);
  return ApiStatus();
}

void CollectTopLevel(const partiql::Expr& e, std::vector<std::string>* out) {
  if (e.kind == partiql::Expr::Kind::kPath && !e.path.empty() &&
      std::find(out->begin(), out->end(), e.path[0].name) == out->end()) {
    out->push_back(e.path[0].name);
  }
  for (const partiql::Expr& arg : e.args) CollectTopLevel(arg, out);
}

// An index without projection ALL holds only some attributes: a SELECT of
// it may neither filter on nor project the others.
ApiStatus CheckIndexProjection(const store::TableSchema& table,
                               const store::IndexInfo& index,
                               const Statement& st) {
  const store::IndexSchema& schema = index.schema;
  if (schema.projection == store::ProjectionType::kAll) return ApiStatus();
  auto projected = [&](const std::string& name) {
    if (partiql::KeySchema::Of(table).IsKey(name) ||
        partiql::KeySchema::Of(schema).IsKey(name)) {
      return true;
    }
    return std::find(schema.non_key_attributes.begin(),
                     schema.non_key_attributes.end(),
                     name) != schema.non_key_attributes.end();
  };
  auto missing = [&](const std::vector<std::string>& names) {
    std::string list;
    for (const std::string& name : names) {
      if (projected(name)) continue;
      list += (list.empty() ? "" : ", ") + name;
    }
    return list;
  };
  if (st.where) {
    std::vector<std::string> names;
    CollectTopLevel(*st.where, &names);
    const std::string list = missing(names);
    if (!list.empty()) {
      return ApiError::Validation(
          "One or more parameter values were invalid: Secondary index " +
          schema.name + " does not project one or more filter attributes: [" +
          list + "]");
    }
  }
  std::vector<std::string> names;
  for (const store::Path& path : st.projection) {
    if (std::find(names.begin(), names.end(), path[0].name) == names.end()) {
      names.push_back(path[0].name);
    }
  }
  const std::string list = missing(names);
  if (!list.empty()) {
    return ApiError::Validation(
        std::string("One or more parameter values were invalid: ") +
        (index.global ? "Global" : "Local") + " secondary index " +
        schema.name + " does not project [" + list + "]");
  }
  return ApiStatus();
}

struct SelectOptions {
  bool consistent = false;
  std::optional<int64_t> limit;
  std::optional<std::string> next_token;
  uint64_t fingerprint = 0;
  CapacityMode capacity = CapacityMode::kNone;
};

ApiStatus ExecuteSelect(const OperationContext& ctx, const Statement& st,
                        const SelectOptions& o, JsonWriter* out) {
  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, st.table, &table));
  API_RETURN_IF_ERROR(partiql::CheckProjection(st));
  std::optional<store::IndexInfo> index;
  API_RETURN_IF_ERROR(ResolveIndex(*table, st, o.consistent, &index));
  const partiql::KeySchema keys = index
                                      ? partiql::KeySchema::Of(index->schema)
                                      : partiql::KeySchema::Of(table->schema());
  Result<partiql::ReadPlan> plan = partiql::PlanRead(st, keys);
  if (!plan.ok()) return plan.status();
  partiql::ExpressionBuilder builder;
  std::unique_ptr<store::Condition> filter;
  if (st.where) {
    Result<std::unique_ptr<store::Condition>> c = builder.Condition(*st.where);
    if (!c.ok()) return c.status();
    filter = std::move(*c);
  }
  if (index) {
    API_RETURN_IF_ERROR(CheckIndexProjection(table->schema(), *index, st));
  }
  Resume resume;
  if (o.next_token) {
    API_RETURN_IF_ERROR(DecodeNextToken(*o.next_token, o.fingerprint, &resume));
  }

  std::vector<Item> rows;
  double units = 0;
  int64_t read = 0;
  size_t bytes = 0;
  std::optional<Resume> next;
  const size_t partitions = plan->scan ? 1 : plan->partitions.size();
  for (size_t p = resume.partition; p < partitions; ++p) {
    std::optional<int64_t> limit;
    if (o.limit) limit = *o.limit - read;
    std::optional<Item> start;
    if (p == resume.partition) start = std::move(resume.last_key);
    auto read_page = [&]() -> Result<store::ReadPage> {
      if (plan->scan) {
        store::ScanRequest s;
        if (index) s.index_name = index->schema.name;
        s.filter = filter.get();
        s.limit = limit;
        s.exclusive_start_key = std::move(start);
        return table->Scan(s);
      }
      store::QueryRequest q;
      if (index) q.index_name = index->schema.name;
      q.key_condition.partition_value = plan->partitions[p];
      q.key_condition.sort = plan->sort;
      q.scan_forward = plan->forward;
      q.filter = filter.get();
      q.limit = limit;
      q.exclusive_start_key = std::move(start);
      return table->Query(q);
    };
    Result<store::ReadPage> page = read_page();
    if (!page.ok()) return page.status();
    for (const Item& item : page->items) {
      rows.push_back(partiql::Project(st, item));
    }
    read += page->scanned_count;
    bytes += page->scanned_bytes;
    units += ReadUnits(page->scanned_bytes, o.consistent);
    if (page->last_evaluated_key) {
      next = Resume{p, std::move(page->last_evaluated_key)};
      break;
    }
    const bool limit_reached = o.limit && read >= *o.limit;
    if ((limit_reached || bytes >= store::Table::kMaxPageBytes) &&
        p + 1 < partitions) {
      next = Resume{p + 1, std::nullopt};
      break;
    }
  }

  out->StartObject();
  out->Key("Items");
  out->StartArray();
  for (const Item& row : rows) WriteItem(row, out);
  out->EndArray();
  if (next) {
    out->Key("NextToken");
    Str(out, EncodeNextToken(o.fingerprint, *next));
    if (next->last_key)
      WriteItemMember("LastEvaluatedKey", *next->last_key, out);
  }
  Capacity capacity;
  if (!index) {
    capacity.table = units;
  } else {
    (index->global ? capacity.global_indexes
                   : capacity.local_indexes)[index->schema.name] = units;
  }
  ReportConsumed(ctx, st.table, capacity, /*write=*/false);
  WriteConsumedCapacity(o.capacity, st.table, capacity, /*write=*/false, out);
  out->EndObject();
  return ApiStatus();
}

// A failed single-item write as the API reports it.
ApiError WriteFailed(const Status& status, bool return_old,
                     const store::WriteOutcome& outcome) {
  ApiError error = ApiError::FromStatus(status);
  if (status.IsConditionFailed() && return_old && outcome.old_item) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    WriteItemMember("Item", *outcome.old_item, &w);
    w.EndObject();
    std::string json(buf.GetString(), buf.GetSize());
    error.extra_json = json.substr(1, json.size() - 2);
  }
  return error;
}

}  // namespace

ApiStatus ReadEnum(const Params& params, const char* member,
                   const std::string& path,
                   std::initializer_list<const char*> allowed,
                   ConstraintErrors* errors, std::optional<std::string>* out) {
  API_RETURN_IF_ERROR(params.String(member, out));
  if (!*out) return ApiStatus();
  for (const char* a : allowed) {
    if (**out == a) return ApiStatus();
  }
  std::string set;
  for (const char* a : allowed)
    set += (set.empty() ? "" : ", ") + std::string(a);
  std::string name(member);
  name[0] = static_cast<char>(name[0] - 'A' + 'a');
  errors->Add(**out, path + name,
              "Member must satisfy enum value set: [" + set + "]");
  return ApiStatus();
}

ApiStatus ReadStatementInput(const Params& params, const std::string& path,
                             ConstraintErrors* errors, StatementInput* out) {
  API_RETURN_IF_ERROR(params.String("Statement", &out->text));
  if (!out->text) {
    errors->Add("null", path + "statement", "Member must not be null");
  } else if (out->text->empty()) {
    errors->Add("", path + "statement",
                "Member must have length greater than or equal to 1");
  } else if (out->text->size() > partiql::kMaxStatementBytes) {
    errors->Add(*out->text, path + "statement",
                "Member must have length less than or equal to 8192");
  }
  const rapidjson::Value* list = nullptr;
  API_RETURN_IF_ERROR(params.Array("Parameters", &list));
  if (list == nullptr) return ApiStatus();
  out->parameters_json = list;
  if (list->Empty()) {
    errors->Add("[]", path + "parameters",
                "Member must have length greater than or equal to 1");
    return ApiStatus();
  }
  for (const rapidjson::Value& v : list->GetArray()) {
    store::AttributeValue value;
    API_RETURN_IF_ERROR(ReadAttributeValue(v, 1, &value));
    out->parameters.push_back(std::move(value));
  }
  return ApiStatus();
}

ApiStatus PrepareStatement(const StatementInput& input, Statement* out) {
  Result<Statement> st = partiql::Parse(*input.text);
  if (!st.ok()) return st.status();
  *out = std::move(*st);
  return partiql::BindParameters(input.parameters, out);
}

Item InsertItem(const Statement& st) {
  Item item;
  for (const auto& [name, value] : st.item) item.emplace(name, value.value);
  return item;
}

std::string_view PartiqlAction(StatementKind kind) {
  switch (kind) {
    case StatementKind::kInsert:
      return "dynamodb:PartiQLInsert";
    case StatementKind::kUpdate:
      return "dynamodb:PartiQLUpdate";
    case StatementKind::kDelete:
      return "dynamodb:PartiQLDelete";
    case StatementKind::kSelect:
    case StatementKind::kExists:
      break;
  }
  return "dynamodb:PartiQLSelect";
}

std::string BatchErrorCode(const ApiError& error) {
  const std::string_view type = error.type;
  const std::string_view name = type.substr(type.find('#') + 1);
  if (name == "ConditionalCheckFailedException")
    return "ConditionalCheckFailed";
  if (name == "ResourceNotFoundException") return "ResourceNotFound";
  if (name == "DuplicateItemException") return "DuplicateItem";
  if (name == "AccessDeniedException") return "AccessDenied";
  if (name == "TransactionConflictException") return "TransactionConflict";
  if (name == "ItemCollectionSizeLimitExceededException") {
    return "ItemCollectionSizeLimitExceeded";
  }
  if (name == "ProvisionedThroughputExceededException") {
    return "ProvisionedThroughputExceeded";
  }
  if (name == "InternalServerError") return "InternalServerError";
  return "ValidationError";
}

std::string JsonText(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  value.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

ApiStatus ExecutePartiqlWrite(const OperationContext& ctx, const Statement& st,
                              bool return_old_on_failure, PartiqlWrite* out) {
  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, st.table, &table));
  const store::TableSchema& schema = table->schema();
  const partiql::KeySchema keys = partiql::KeySchema::Of(schema);
  partiql::ExpressionBuilder builder;
  store::WriteOutcome outcome;
  outcome.want_old_item = return_old_on_failure ||
                          st.returning == Returning::kAllOld ||
                          st.returning == Returning::kModifiedOld;
  outcome.want_new_item = st.returning == Returning::kAllNew ||
                          st.returning == Returning::kModifiedNew;
  Status s;
  std::unique_ptr<store::Update> update;
  switch (st.kind) {
    case StatementKind::kInsert: {
      Result<std::unique_ptr<store::Condition>> absent =
          builder.Guarded(schema.hash_key.name, /*exists=*/false, std::nullopt);
      if (!absent.ok()) return absent.status();
      out->executed = true;
      s = table->Put(InsertItem(st), absent->get(), &outcome);
      if (s.IsConditionFailed()) {
        ReportConsumed(ctx, st.table, WriteUnits(outcome.old_size),
                       /*write=*/true);
        return ApiError::Dynamo("DuplicateItemException",
                                "Duplicate primary key exists in table");
      }
      break;
    }
    case StatementKind::kUpdate:
    case StatementKind::kDelete: {
      Result<partiql::KeyMatch> match =
          partiql::MatchKey(st.where, keys, partiql::KeyMode::kWrite);
      if (!match.ok()) return match.status();
      const bool is_update = st.kind == StatementKind::kUpdate;
      std::unique_ptr<store::Condition> condition;
      if (is_update || match->rest) {
        Result<std::unique_ptr<store::Condition>> c =
            builder.Guarded(schema.hash_key.name, is_update, match->rest);
        if (!c.ok()) return c.status();
        condition = std::move(*c);
      }
      if (is_update) {
        Result<std::unique_ptr<store::Update>> u = builder.Update(st.actions);
        if (!u.ok()) return u.status();
        update = std::move(*u);
        out->executed = true;
        s = table->UpdateItem(match->key, update.get(), condition.get(),
                              &outcome);
      } else {
        out->executed = true;
        s = table->Delete(match->key, condition.get(), &outcome);
      }
      break;
    }
    case StatementKind::kSelect:
    case StatementKind::kExists:
      return ApiError::Internal("Internal server error");
  }
  if (!s.ok()) {
    // A failed condition consumes the existing item's units, as on DynamoDB.
    if (s.IsConditionFailed()) {
      ReportConsumed(ctx, st.table, WriteUnits(outcome.old_size),
                     /*write=*/true);
    }
    return WriteFailed(s, return_old_on_failure, outcome);
  }
  out->capacity = WriteCapacity(outcome);
  ReportConsumed(ctx, st.table, out->capacity, /*write=*/true);
  std::optional<Item> row;
  switch (st.returning) {
    case Returning::kNone:
      break;
    case Returning::kAllOld:
      row = std::move(outcome.old_item);
      break;
    case Returning::kAllNew:
      row = std::move(outcome.new_item);
      break;
    case Returning::kModifiedOld:
    case Returning::kModifiedNew: {
      const std::optional<Item>& source =
          st.returning == Returning::kModifiedOld ? outcome.old_item
                                                  : outcome.new_item;
      if (source && update) {
        row = store::Projection(update->paths()).Apply(*source);
      }
      break;
    }
  }
  if (row && !row->empty()) out->row = std::move(row);
  return ApiStatus();
}

ApiStatus ExecuteStatement(const OperationContext& ctx,
                           const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  ConstraintErrors errors;
  StatementInput input;
  API_RETURN_IF_ERROR(ReadStatementInput(params, "", &errors, &input));
  std::optional<bool> consistent;
  API_RETURN_IF_ERROR(params.Bool("ConsistentRead", &consistent));
  std::optional<std::string> next_token;
  API_RETURN_IF_ERROR(params.String("NextToken", &next_token));
  if (next_token && next_token->empty()) {
    errors.Add("", "nextToken",
               "Member must have length greater than or equal to 1");
  } else if (next_token && next_token->size() > kMaxNextTokenLength) {
    errors.Add(*next_token, "nextToken",
               "Member must have length less than or equal to 32768");
  }
  std::optional<int64_t> limit;
  API_RETURN_IF_ERROR(params.Int64("Limit", &limit));
  if (limit && *limit < 1) {
    errors.Add(std::to_string(*limit), "limit",
               "Member must have value greater than or equal to 1");
  }
  std::optional<std::string> capacity_text, on_failure;
  API_RETURN_IF_ERROR(ReadEnum(params, "ReturnConsumedCapacity", "",
                               {"INDEXES", "TOTAL", "NONE"}, &errors,
                               &capacity_text));
  API_RETURN_IF_ERROR(ReadEnum(params, "ReturnValuesOnConditionCheckFailure",
                               "", {"ALL_OLD", "NONE"}, &errors, &on_failure));
  API_RETURN_IF_ERROR(errors.ToStatus());
  const CapacityMode capacity =
      !capacity_text || *capacity_text == "NONE" ? CapacityMode::kNone
      : *capacity_text == "TOTAL"                ? CapacityMode::kTotal
                                                 : CapacityMode::kIndexes;

  Statement st;
  API_RETURN_IF_ERROR(PrepareStatement(input, &st));
  switch (st.kind) {
    case StatementKind::kExists:
      return ApiError::Validation(
          "EXISTS can only be used in ExecuteTransaction write requests.");
    case StatementKind::kSelect: {
      SelectOptions o;
      o.consistent = consistent.value_or(false);
      o.limit = limit;
      o.next_token = std::move(next_token);
      o.capacity = capacity;
      o.fingerprint = Fingerprint(
          *input.text,
          input.parameters_json ? JsonText(*input.parameters_json) : "");
      return ExecuteSelect(ctx, st, o, out);
    }
    case StatementKind::kInsert:
    case StatementKind::kUpdate:
    case StatementKind::kDelete:
      break;
  }
  PartiqlWrite write;
  API_RETURN_IF_ERROR(ExecutePartiqlWrite(
      ctx, st, on_failure && *on_failure == "ALL_OLD", &write));
  out->StartObject();
  out->Key("Items");
  out->StartArray();
  if (write.row) WriteItem(*write.row, out);
  out->EndArray();
  WriteConsumedCapacity(capacity, st.table, write.capacity, /*write=*/true,
                        out);
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
