// What a PartiQL request touches, for authorization (access.h): one entry
// per statement, dynamodb:PartiQL<Select|Insert|Update|Delete> on its table
// or table/T/index/I (an EXISTS check reads: PartiQLSelect). Facts:
// dynamodb:LeadingKeys from the statement's key (an INSERT's item, the
// equality a write or a keyed SELECT names, with its parameters bound;
// every value for a Scan or a read of a GSI), dynamodb:Attributes from the
// names it mentions (every attribute for SELECT * and RETURNING ALL),
// dynamodb:ReturnValues from RETURNING, dynamodb:FullTableScan for a SELECT
// (whether it scans rather than queries), and dynamodb:EnclosingOperation
// "ExecuteTransaction" inside a transaction.
#include "api/access.h"
#include "api/partiql_support.h"
#include "partiql/parser.h"
#include "partiql/plan.h"

namespace eddy::runtime::api {
namespace {

using auth::ValueSet;
using partiql::Statement;

const char* ReturnValuesName(partiql::Returning r) {
  switch (r) {
    case partiql::Returning::kAllOld:
      return "ALL_OLD";
    case partiql::Returning::kAllNew:
      return "ALL_NEW";
    case partiql::Returning::kModifiedOld:
      return "UPDATED_OLD";
    case partiql::Returning::kModifiedNew:
      return "UPDATED_NEW";
    case partiql::Returning::kNone:
      break;
  }
  return "NONE";
}

// LeadingKeys as policies see them: S and N as text, B in base64.
ValueSet LeadingKeys(const OperationContext& ctx, const Statement& st,
                     bool bound) {
  if (!bound) return ValueSet::Unbounded();
  std::shared_ptr<store::Table> table = ctx.db->GetTable(st.table);
  if (table == nullptr) return ValueSet::Unbounded();
  if (st.index) {
    std::optional<store::IndexInfo> index = table->DescribeIndex(*st.index);
    // An LSI shares the table's partitions; a GSI's keys are other values.
    if (!index || index->global) return ValueSet::Unbounded();
  }
  std::optional<std::vector<store::AttributeValue>> values =
      partiql::LeadingKeyValues(st, table->schema().hash_key.name);
  if (!values) return ValueSet::Unbounded();
  std::vector<std::string> keys;
  for (const store::AttributeValue& v : *values) {
    switch (v.type()) {
      case store::ValueType::kS:
      case store::ValueType::kN:
        keys.push_back(v.scalar());
        break;
      case store::ValueType::kB:
        keys.push_back(Base64Encode(v.scalar()));
        break;
      default:
        return ValueSet::Unbounded();
    }
  }
  return ValueSet::Known(std::move(keys));
}

// Whether a SELECT reads every partition (nullopt: its table, index or plan
// is unknown, and the operation will refuse it).
std::optional<bool> FullTableScan(const OperationContext& ctx,
                                  const Statement& st) {
  std::shared_ptr<store::Table> table = ctx.db->GetTable(st.table);
  if (table == nullptr) return std::nullopt;
  partiql::KeySchema keys = partiql::KeySchema::Of(table->schema());
  if (st.index) {
    std::optional<store::IndexInfo> index = table->DescribeIndex(*st.index);
    if (!index) return std::nullopt;
    keys = partiql::KeySchema::Of(index->schema);
  }
  Result<partiql::ReadPlan> plan = partiql::PlanRead(st, keys);
  if (!plan.ok()) return std::nullopt;
  return plan->scan;
}

void Describe(const OperationContext& ctx, const rapidjson::Value& member,
              bool in_transaction, const std::optional<std::string>& capacity,
              bool with_facts, std::vector<AccessEntry>* out) {
  if (!member.IsObject()) return;
  auto text = member.FindMember("Statement");
  if (text == member.MemberEnd() || !text->value.IsString()) return;
  Result<Statement> parsed = partiql::Parse(
      std::string_view(text->value.GetString(), text->value.GetStringLength()));
  if (!parsed.ok()) return;
  Statement& st = *parsed;
  std::string resource = TableArn(*ctx.config, st.table);
  if (st.index) resource += "/index/" + *st.index;
  out->push_back(AccessEntry{
      std::string(PartiqlAction(st.kind)), std::move(resource), {}});
  if (!with_facts) return;
  auth::RequestFacts& facts = out->back().facts;
  // The values of `?`: facts that depend on them are unbounded when the
  // parameters do not bind.
  std::vector<store::AttributeValue> parameters;
  bool bound = true;
  auto list = member.FindMember("Parameters");
  if (list != member.MemberEnd() && list->value.IsArray()) {
    for (const rapidjson::Value& v : list->value.GetArray()) {
      store::AttributeValue value;
      if (!ReadAttributeValue(v, 1, &value).ok()) bound = false;
      parameters.push_back(std::move(value));
    }
  }
  bound = bound && partiql::BindParameters(parameters, &st).ok();
  facts.leading_keys = LeadingKeys(ctx, st, bound);
  if (st.kind == partiql::StatementKind::kSelect && bound) {
    if (std::optional<bool> scan = FullTableScan(ctx, st)) {
      facts.full_table_scan = *scan ? "true" : "false";
    }
  }
  std::optional<std::vector<std::string>> names = partiql::AttributeNames(st);
  facts.attributes =
      names ? ValueSet::Known(std::move(*names)) : ValueSet::Unbounded();
  if (st.returning != partiql::Returning::kNone) {
    facts.return_values = ReturnValuesName(st.returning);
  }
  facts.return_consumed_capacity = capacity;
  if (in_transaction) facts.enclosing_operation = "ExecuteTransaction";
}

}  // namespace

void DescribePartiqlAccess(AccessKind kind, const OperationContext& ctx,
                           const rapidjson::Value& request, bool with_facts,
                           std::vector<AccessEntry>* out) {
  if (!request.IsObject()) return;
  std::optional<std::string> capacity;
  auto c = request.FindMember("ReturnConsumedCapacity");
  if (c != request.MemberEnd() && c->value.IsString()) {
    capacity = std::string(c->value.GetString(), c->value.GetStringLength());
  }
  if (kind == AccessKind::kPartiqlStatement) {
    Describe(ctx, request, /*in_transaction=*/false, capacity, with_facts, out);
    return;
  }
  const bool transaction = kind == AccessKind::kPartiqlTransaction;
  auto list =
      request.FindMember(transaction ? "TransactStatements" : "Statements");
  if (list == request.MemberEnd() || !list->value.IsArray()) return;
  for (const rapidjson::Value& member : list->value.GetArray()) {
    Describe(ctx, member, transaction, capacity, with_facts, out);
  }
}

}  // namespace eddy::runtime::api
