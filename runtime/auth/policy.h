// Policy: an IAM identity-based policy document, parsed once and evaluated
// per request the way IAM does: a request is allowed when some Allow
// statement matches it and no Deny statement does (an explicit Deny wins;
// no match is an implicit deny).
//
// Supported grammar (anything else is rejected at load, so a policy never
// means less than it says):
//   {"Version": "2012-10-17" | "2008-10-17", "Id"?: str,
//    "Statement": statement | [statement, ...]}
//   statement: {"Sid"?: str, "Effect": "Allow" | "Deny",
//               "Action" | "NotAction": str | [str],
//               "Resource" | "NotResource": str | [str],
//               "Condition"?: {operator: {key: str | [str]}}}
// Actions ("dynamodb:Get*", "eddy:*", "*") match case-insensitively with
// `*` and `?` wildcards; resources (ARNs) case-sensitively with `*` and `?`.
// Condition operators: StringEquals, StringNotEquals,
// StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike,
// StringNotLike, each optionally with the IfExists suffix and the
// ForAllValues: / ForAnyValue: prefixes, Bool (optionally IfExists) and
// Null. Condition keys: dynamodb:LeadingKeys, dynamodb:Attributes,
// dynamodb:Select, dynamodb:ReturnValues, dynamodb:ReturnConsumedCapacity,
// dynamodb:EnclosingOperation, dynamodb:FullTableScan (PartiQL SELECTs),
// aws:username, aws:userid, aws:PrincipalArn.
// With Version 2012-10-17, ${aws:username}, ${aws:userid} and
// ${aws:PrincipalArn} (and ${*}, ${?}, ${$}) are substituted in resources and
// condition values.
//
// Fail-closed deviation from IAM, on purpose: when an operation touches an
// unbounded set of partition keys (Scan) or attributes (a read without a
// projection), the key's value set is "everything": ForAllValues on it is
// false and ForAnyValue true. IAM's literal rule would treat the set as
// empty and let ForAllValues pass, which is how a LeadingKeys policy that
// grants Scan leaks every item.
//
// Thread-safety: immutable after Parse; Evaluate may run concurrently.
#ifndef EDDY_RUNTIME_AUTH_POLICY_H_
#define EDDY_RUNTIME_AUTH_POLICY_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/result.h"

namespace eddy::runtime::auth {

// A multi-valued condition key's values in one request.
struct ValueSet {
  enum class State : uint8_t {
    kAbsent,     // The operation has no such key.
    kKnown,      // `values` is the set.
    kUnbounded,  // Every value (Scan's keys, a read of all attributes).
  };
  State state = State::kAbsent;
  std::vector<std::string> values;

  static ValueSet Known(std::vector<std::string> v) {
    return {State::kKnown, std::move(v)};
  }
  static ValueSet Unbounded() { return {State::kUnbounded, {}}; }
};

// What the condition keys are for one (action, resource) of a request.
struct RequestFacts {
  ValueSet leading_keys;
  ValueSet attributes;
  std::optional<std::string> select;
  std::optional<std::string> return_values;
  std::optional<std::string> return_consumed_capacity;
  std::optional<std::string> enclosing_operation;
  // "true" or "false" for a PartiQL SELECT: whether it scans the table (or
  // index) rather than querying partitions.
  std::optional<std::string> full_table_scan;
};

// Who is asking (the policy variables and aws: keys).
struct Principal {
  std::string_view username;  // aws:username
  std::string_view userid;    // aws:userid
  std::string_view arn;       // aws:PrincipalArn
};

enum class Decision { kAllow, kImplicitDeny, kExplicitDeny };

class Policy {
 public:
  // Errors are InvalidArgument naming the statement and member at fault,
  // e.g. "Statement[1]: unknown member \"Principal\"".
  static Result<Policy> Parse(const rapidjson::Value& document);
  // The same from JSON text.
  static Result<Policy> ParseText(std::string_view json);
  // A policy that allows everything (Action "*", Resource "*").
  static Policy AllowAll();

  // A policy without statements: it allows nothing.
  Policy();
  Policy(Policy&&) noexcept;
  Policy& operator=(Policy&&) noexcept;
  ~Policy();

  // `facts` may be null when the caller has not computed them; a statement
  // whose conditions need them then does not match when it would Allow and
  // matches when it would Deny (fail closed). needs_item_facts() says
  // whether to compute them.
  Decision Evaluate(std::string_view action, std::string_view resource,
                    const Principal& principal,
                    const RequestFacts* facts) const;

  // True when some statement has a condition on a dynamodb: key, so that
  // the caller must compute RequestFacts for it to be evaluated.
  bool needs_item_facts() const { return needs_item_facts_; }
  // True when Evaluate allows every request: an unconditional Allow of
  // Action "*" on Resource "*" and no Deny (lets the caller skip the work).
  bool allows_everything() const { return allows_everything_; }

 private:
  struct Statement;
  static Status ParseStatement(const rapidjson::Value& json,
                               const std::string& where, bool variables,
                               Statement* out);
  std::vector<Statement> statements_;
  bool needs_item_facts_ = false;
  bool allows_everything_ = false;
  bool variables_ = false;  // Version 2012-10-17: ${...} substitution.
};

// Glob match with `*` (any run, also empty) and `?` (one character).
bool WildcardMatch(std::string_view pattern, std::string_view text,
                   bool ignore_case);

}  // namespace eddy::runtime::auth

#endif  // EDDY_RUNTIME_AUTH_POLICY_H_
