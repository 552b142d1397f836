// Fuzz target: the PartiQL parser (runtime/partiql/parser.h) and what the
// API does next with a statement (plan.h): binding parameters, planning a
// read against a key schema, the key of a write, the projection, and the
// store expressions a WHERE and SET/REMOVE become.
//
// Input: the statement text (at most DynamoDB's 8192 bytes, as the API
// checks before parsing).
//
// Properties: the generated store expressions of a statement that plans
// are parsed by the store's own parser without crashing, and a parameter
// count mismatch is always refused.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "partiql/parser.h"
#include "partiql/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eddy::runtime::partiql;
  namespace store = eddy::store;
  if (size > kMaxStatementBytes) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  eddy::Result<Statement> parsed = Parse(text);
  if (!parsed.ok()) {
    EDDY_FUZZ_CHECK(parsed.status().IsInvalidArgument());
    return 0;
  }
  Statement st = std::move(*parsed);

  // One parameter too many is refused; the right number binds.
  std::vector<store::AttributeValue> parameters(
      st.parameter_count + 1, store::AttributeValue::String("p"));
  EDDY_FUZZ_CHECK(!BindParameters(parameters, &st).ok());
  parameters.pop_back();
  EDDY_FUZZ_CHECK(BindParameters(parameters, &st).ok());

  KeySchema keys;
  keys.hash = {"pk", store::ValueType::kS};
  keys.range = store::KeyElement{"sk", store::ValueType::kN};
  (void)CheckProjection(st).ok();
  (void)AttributeNames(st);
  (void)LeadingKeyValues(st, "pk");
  if (st.is_read()) {
    (void)PlanRead(st, keys).ok();
    store::Item item{{"pk", store::AttributeValue::String("p")},
                     {"a", store::AttributeValue::Bool(true)}};
    (void)Project(st, item);
  }
  for (KeyMode mode : {KeyMode::kWrite, KeyMode::kExists, KeyMode::kGet}) {
    (void)MatchKey(st.where, keys, mode).ok();
  }
  ExpressionBuilder builder;
  if (st.where.has_value()) (void)builder.Condition(*st.where).ok();
  if (!st.actions.empty()) (void)builder.Update(st.actions).ok();
  return 0;
}
