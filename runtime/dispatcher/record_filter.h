// RecordFilter: Lambda's event filtering for DynamoDB stream triggers
// (reference/streams-triggers.md §2.6): up to 5 JSON patterns, OR-ed; a
// record that matches none is dropped and the checkpoint moves past it.
//
// A pattern is matched against the record as Lambda shows it to a function
// (eventName, eventID, eventSource, awsRegion, dynamodb{Keys, NewImage,
// OldImage, SequenceNumber, SizeBytes, StreamViewType, ...}), so attribute
// values are typed: {"dynamodb":{"NewImage":{"x":{"S":["v"]}}}}.
//
// Pattern syntax (EventBridge's, as Lambda supports it for streams):
//   {"field": {nested pattern}}      all fields of an object must match
//   {"field": [rule, rule, ...]}     the value must match one of the rules
//   {"$or": [pattern, pattern]}      one of the patterns must match
// Rules: a string, number, boolean or null (exact; numbers compare by value,
// also against DynamoDB's "N" strings), "" (empty string),
// {"prefix": "x"}, {"prefix": {"equals-ignore-case": "x"}}, {"suffix": "x"},
// {"suffix": {"equals-ignore-case": "x"}}, {"equals-ignore-case": "x"},
// {"anything-but": value | [values] | {"prefix": "x"} | {"suffix": "x"}},
// {"numeric": [">", 0, "<=", 5]} (operators =, <, <=, >, >=), and
// {"exists": true | false}. A rule list matching an array value matches if
// any element matches. Missing fields match only {"exists": false}.
//
// Thread-safety: immutable after Create; Matches may be called
// concurrently.
#ifndef EDDY_RUNTIME_DISPATCHER_RECORD_FILTER_H_
#define EDDY_RUNTIME_DISPATCHER_RECORD_FILTER_H_

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <vector>

#include "eddy/result.h"

namespace eddy::runtime::dispatcher {

class RecordFilter {
 public:
  // Parses and checks the patterns; InvalidArgument names the bad one.
  // No patterns: everything matches.
  static Result<std::unique_ptr<RecordFilter>> Create(
      const std::vector<std::string>& patterns);

  bool empty() const { return patterns_.empty(); }
  // `record` is the record's Lambda JSON, parsed.
  bool Matches(const rapidjson::Value& record) const;

 private:
  RecordFilter() = default;
  std::vector<std::unique_ptr<rapidjson::Document>> patterns_;
};

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_RECORD_FILTER_H_
