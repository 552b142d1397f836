"""DynamoDB's answers to invalid Query, Scan, BatchGetItem and BatchWriteItem
requests, layer by layer (see validation_cases.py for the case format and
the sources)."""

import unittest

from validation_cases import (
    CO_ENUM, EMPTY_VALUE, INVALID, KEY_SCHEMA, MAX255, MIN3, MULTIPLE_TYPES, NOT_FOUND,
    NOT_FOUND_TEXT, NOT_NULL, OP_ENUM, RCC_ENUM, RICM_ENUM, SELECT_ENUM, TABLE_PATTERN,
    Regex, Unordered, ValidationCase, aggregated, attr_struct_cases, case, type_cases,
    validation, violation)

MAP_KEYS = ("Map keys must satisfy constraint: [Member must have length less than or "
            "equal to 255, Member must have length greater than or equal to 3, Member must "
            "satisfy regular expression pattern: [a-zA-Z0-9_.-]+]")
MAP_VALUES = ("Map value must satisfy constraint: [Member must have length less than or "
              "equal to 25, Member must have length greater than or equal to 1]")
START_KEY = "The provided starting key is invalid: "

QUERY = "Query"
QUERY_CASES = (
    type_cases(QUERY, "TableName", "String", limit=3)
    + type_cases(QUERY, "ExclusiveStartKey", "Map<AttributeValue>", limit=5)[-2:]
    + attr_struct_cases(QUERY, "ExclusiveStartKey.Attr")[:5]
    + type_cases(QUERY, "AttributesToGet", "List", limit=2)
    + type_cases(QUERY, "ConsistentRead", "Boolean", limit=3)
    + type_cases(QUERY, "QueryFilter", "Map<Condition>", limit=5)[-2:]
    + type_cases(QUERY, "QueryFilter.Attr", "ValueStruct<Condition>", limit=5)[-2:]
    + type_cases(QUERY, "QueryFilter.Attr.ComparisonOperator", "String", limit=2)
    + type_cases(QUERY, "QueryFilter.Attr.AttributeValueList", "List", limit=2)
    + type_cases(QUERY, "IndexName", "String", limit=2)
    + type_cases(QUERY, "ScanIndexForward", "Boolean", limit=2)
    + type_cases(QUERY, "Select", "String", limit=2)
    + type_cases(QUERY, "Limit", "Integer")
    + type_cases(QUERY, "KeyConditions.Attr", "ValueStruct<Condition>", limit=5)[-1:]
    + type_cases(QUERY, "KeyConditionExpression", "String", limit=2)
    + type_cases(QUERY, "FilterExpression", "String", limit=2)
    + [
        validation("no TableName", QUERY, {},
                   aggregated(violation(None, "tableName", NOT_NULL))),
        validation("long TableName", QUERY, {"TableName": "a" * 256},
                   aggregated(violation("a" * 256, "tableName", MAX255))),
        validation("short IndexName", QUERY, {"TableName": "abc", "IndexName": "a;"},
                   Unordered([violation("a;", "indexName", TABLE_PATTERN),
                              violation("a;", "indexName", MIN3)])),
        # Ten violations at most, in DynamoDB's order (recorded).
        validation("incorrect attributes: the first ten, in DynamoDB's order", QUERY,
                   {"TableName": "abc;", "ReturnConsumedCapacity": "hi", "AttributesToGet": [],
                    "IndexName": "abc;", "Select": "hi", "Limit": -1,
                    "KeyConditions": {"a": {}, "b": {"ComparisonOperator": ""}},
                    "ConditionalOperator": "AN",
                    "QueryFilter": {"a": {}, "b": {"ComparisonOperator": ""}}},
                   aggregated(
                       violation("hi", "select", SELECT_ENUM),
                       violation("abc;", "indexName", TABLE_PATTERN),
                       violation("hi", "returnConsumedCapacity", RCC_ENUM),
                       violation(None, "queryFilter.a.member.comparisonOperator", NOT_NULL),
                       violation("", "queryFilter.b.member.comparisonOperator", OP_ENUM),
                       violation("abc;", "tableName", TABLE_PATTERN),
                       violation("AN", "conditionalOperator", CO_ENUM),
                       violation("[]", "attributesToGet",
                                 "Member must have length greater than or equal to 1"),
                       violation("-1", "limit",
                                 "Member must have value greater than or equal to 1"),
                       violation(None, "keyConditions.a.member.comparisonOperator",
                                 NOT_NULL))),
        validation("all expressions and non-expressions", QUERY,
                   {"TableName": "abc", "ExclusiveStartKey": {"a": {}},
                    "Select": "SPECIFIC_ATTRIBUTES", "AttributesToGet": ["a", "a"],
                    "QueryFilter": {"a": {"ComparisonOperator": "EQ",
                                          "AttributeValueList": [{}]}},
                    "ConditionalOperator": "OR",
                    "KeyConditions": {"a": {"ComparisonOperator": "EQ",
                                            "AttributeValueList": [{}]}},
                    "ProjectionExpression": "", "FilterExpression": "",
                    "KeyConditionExpression": "", "ExpressionAttributeNames": {},
                    "ExpressionAttributeValues": {}},
                   "Can not use both expression and non-expression parameters in the same "
                   "request: Non-expression parameters: {AttributesToGet, QueryFilter, "
                   "ConditionalOperator, KeyConditions} Expression parameters: "
                   "{ProjectionExpression, FilterExpression, KeyConditionExpression}"),
        validation("KeyConditions alone beside FilterExpression", QUERY,
                   {"TableName": "abc",
                    "QueryFilter": {"a": {"ComparisonOperator": "EQ",
                                          "AttributeValueList": [{}]}},
                    "AttributesToGet": ["a", "a"], "ExclusiveStartKey": {"a": {}},
                    "KeyConditions": {"a": {"ComparisonOperator": "EQ",
                                            "AttributeValueList": [{}]}},
                    "ConditionalOperator": "OR", "Select": "SPECIFIC_ATTRIBUTES",
                    "FilterExpression": "", "ProjectionExpression": "",
                    "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}},
                   "Can not use both expression and non-expression parameters in the same "
                   "request: Non-expression parameters: {AttributesToGet, QueryFilter, "
                   "ConditionalOperator} Expression parameters: {ProjectionExpression, "
                   "FilterExpression}"),
        validation("ExpressionAttributeNames without expressions", QUERY,
                   {"TableName": "abc",
                    "QueryFilter": {"a": {"ComparisonOperator": "EQ",
                                          "AttributeValueList": [{}]}},
                    "AttributesToGet": ["a", "a"], "ExclusiveStartKey": {"a": {}},
                    "ConditionalOperator": "OR", "Select": "SPECIFIC_ATTRIBUTES",
                    "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}},
                   "ExpressionAttributeNames can only be specified when using expressions"),
        validation("ExpressionAttributeValues without expressions", QUERY,
                   {"TableName": "abc",
                    "QueryFilter": {"a": {"ComparisonOperator": "EQ",
                                          "AttributeValueList": [{}]}},
                    "AttributesToGet": ["a", "a"], "ExclusiveStartKey": {"a": {}},
                    "ConditionalOperator": "OR", "Select": "SPECIFIC_ATTRIBUTES",
                    "ExpressionAttributeValues": {}},
                   "ExpressionAttributeValues can only be specified when using expressions: "
                   "FilterExpression and KeyConditionExpression are null"),
        validation("QueryFilter values first", QUERY,
                   {"TableName": "abc", "ExclusiveStartKey": {"a": {}},
                    "AttributesToGet": ["a", "a"],
                    "KeyConditions": {"a": {"ComparisonOperator": "EQ",
                                            "AttributeValueList": [{}]}},
                    "QueryFilter": {"a": {"ComparisonOperator": "EQ",
                                          "AttributeValueList": [{}, {"S": ""}]}}},
                   EMPTY_VALUE),
        validation("QueryFilter argument count", QUERY,
                   {"TableName": "abc", "ExclusiveStartKey": {"a": {}},
                    "AttributesToGet": ["a", "a"],
                    "KeyConditions": {"a": {"ComparisonOperator": "EQ",
                                            "AttributeValueList": [{}]}},
                    "QueryFilter": {"a": {"ComparisonOperator": "BETWEEN"}}},
                   INVALID + "Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
        validation("AttributesToGet duplicates before the start key", QUERY,
                   {"TableName": "abc", "QueryFilter": {}, "ExclusiveStartKey": {"a": {}},
                    "AttributesToGet": ["a", "a"]},
                   INVALID + "Duplicate value in attribute name: a"),
        validation("empty value in ExclusiveStartKey", QUERY,
                   {"TableName": "abc", "KeyConditions": {"a": {"ComparisonOperator": "EQ"}},
                    "ExclusiveStartKey": {"a": {}}},
                   START_KEY + EMPTY_VALUE),
        validation("false NULL in ExclusiveStartKey", QUERY,
                   {"TableName": "abc", "KeyConditionExpression": "",
                    "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {},
                    "ExclusiveStartKey": {"a": {"NULL": False}}},
                   START_KEY + INVALID + "Null attribute value types must have the value "
                                         "of true"),
        validation("empty string set in ExclusiveStartKey", QUERY,
                   {"TableName": "abc", "KeyConditionExpression": "",
                    "ExclusiveStartKey": {"a": {"SS": []}}},
                   START_KEY + INVALID + "An string set  may not be empty"),
        validation("empty number set in ExclusiveStartKey (no prefix)", QUERY,
                   {"TableName": "abc", "KeyConditionExpression": "",
                    "ExclusiveStartKey": {"a": {"NS": []}}},
                   INVALID + "An number set  may not be empty"),
        validation("bad number in ExclusiveStartKey (no prefix)", QUERY,
                   {"TableName": "abc", "KeyConditionExpression": "",
                    "ExclusiveStartKey": {"a": {"S": "a", "N": "b"}}},
                   "The parameter cannot be converted to a numeric value: b"),
        validation("two types in ExclusiveStartKey", QUERY,
                   {"TableName": "abc", "KeyConditionExpression": "",
                    "ExclusiveStartKey": {"a": {"S": "a", "N": "1"}}},
                   START_KEY + MULTIPLE_TYPES),
        validation("neither KeyConditions nor KeyConditionExpression", QUERY,
                   {"TableName": "abc"},
                   "Either the KeyConditions or KeyConditionExpression parameter must be "
                   "specified in the request."),
        validation("empty ExpressionAttributeNames", QUERY,
                   {"TableName": "abc", "KeyConditionExpression": "",
                    "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}},
                   "ExpressionAttributeNames must not be empty"),
        validation("invalid ExpressionAttributeNames key", QUERY,
                   {"TableName": "abc", "KeyConditionExpression": "",
                    "ExpressionAttributeNames": {"a": "a"}, "ExpressionAttributeValues": {}},
                   'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
        validation("empty ExpressionAttributeValues", QUERY,
                   {"TableName": "abc", "KeyConditionExpression": "",
                    "ExpressionAttributeValues": {}},
                   "ExpressionAttributeValues must not be empty"),
        validation("invalid ExpressionAttributeValues key", QUERY,
                   {"TableName": "abc", "KeyConditionExpression": "",
                    "ExpressionAttributeValues": {"a": {"S": "b"}}},
                   'ExpressionAttributeValues contains invalid key: Syntax error; key: "a"'),
        validation("empty KeyConditionExpression", QUERY,
                   {"TableName": "abc", "KeyConditionExpression": "", "FilterExpression": "",
                    "ProjectionExpression": "", "ExpressionAttributeValues": {":0": {"S": "b"}}},
                   "Invalid KeyConditionExpression: The expression can not be empty;"),
        validation("KeyConditions values", QUERY,
                   {"TableName": "abc",
                    "KeyConditions": {"a": {"ComparisonOperator": "EQ",
                                            "AttributeValueList": [{"N": "1"}, {"SS": []}]}}},
                   INVALID + "An string set  may not be empty"),
        validation("KeyConditions argument count", QUERY,
                   {"TableName": "abc", "QueryFilter": {},
                    "KeyConditions": {"a": {"ComparisonOperator": "NULL",
                                            "AttributeValueList": [{"S": "a"}]}}},
                   INVALID + "Invalid number of argument(s) for the NULL ComparisonOperator"),
        validation("KeyConditions of different types", QUERY,
                   {"TableName": "abc",
                    "KeyConditions": {"a": {"ComparisonOperator": "IN",
                                            "AttributeValueList": [{"S": "b"}, {"N": "1"}]}}},
                   INVALID + "AttributeValues inside AttributeValueList must be of same type"),
        validation("KeyConditions BETWEEN out of order", QUERY,
                   {"TableName": "abc",
                    "KeyConditions": {"a": {"ComparisonOperator": "BETWEEN",
                                            "AttributeValueList": [{"S": "b"}, {"S": "a"}]}}},
                   "The BETWEEN condition was provided a range where the lower bound is "
                   "greater than the upper bound"),
        validation("LT on a set", QUERY,
                   {"TableName": "abc",
                    "KeyConditions": {"a": {"ComparisonOperator": "LT",
                                            "AttributeValueList": [{"SS": ["a"]}]}}},
                   INVALID + "ComparisonOperator LT is not valid for SS AttributeValue type"),
        validation("three KeyConditions", QUERY,
                   {"TableName": "abc", "QueryFilter": {},
                    "KeyConditions": {"a": {"ComparisonOperator": "NULL"},
                                      "b": {"ComparisonOperator": "NULL"},
                                      "c": {"ComparisonOperator": "NULL"}}},
                   "Conditions can be of length 1 or 2 only"),
        case("missing table with an invalid start key", QUERY,
             {"TableName": "{missing}", "ExclusiveStartKey": {"b": {"S": "a"}},
              "KeyConditionExpression": "z = :a", "ExpressionAttributeValues": {":a": {"N": "1"}}},
             NOT_FOUND, NOT_FOUND_TEXT),
        validation("unknown index", QUERY,
                   {"TableName": "{hash}", "IndexName": "whatever",
                    "KeyConditionExpression": "a = :a",
                    "ExpressionAttributeValues": {":a": {"S": "x"}}},
                   "The table does not have the specified index: whatever"),
        validation("key condition on a non-key attribute", QUERY,
                   {"TableName": "{hash}", "KeyConditionExpression": "z = :a",
                    "ExpressionAttributeValues": {":a": {"S": "x"}}},
                   "Query condition missed key schema element: a"),
        validation("Select SPECIFIC_ATTRIBUTES without a projection", QUERY,
                   {"TableName": "{hash}", "Select": "SPECIFIC_ATTRIBUTES",
                    "KeyConditionExpression": "a = :a",
                    "ExpressionAttributeValues": {":a": {"S": "x"}}},
                   "Must specify the AttributesToGet or ProjectionExpression when choosing to "
                   "get SPECIFIC_ATTRIBUTES", source="eddy"),
    ]
)

SCAN = "Scan"
SCAN_CASES = (
    type_cases(SCAN, "TableName", "String", limit=2)
    + type_cases(SCAN, "Segment", "Integer", limit=3)
    + type_cases(SCAN, "TotalSegments", "Integer", limit=2)
    + type_cases(SCAN, "ScanFilter", "Map<Condition>", limit=5)[-2:]
    + type_cases(SCAN, "ScanFilter.Attr.AttributeValueList.0", "ValueStruct<AttributeValue>",
                 limit=5)[-2:]
    + type_cases(SCAN, "ExclusiveStartKey.Attr.N", "String", limit=2)
    + type_cases(SCAN, "ExpressionAttributeValues.Attr.BS", "List", limit=2)
    + [
        validation("no TableName", SCAN, {},
                   aggregated(violation(None, "tableName", NOT_NULL))),
        validation("empty TableName", SCAN, {"TableName": ""},
                   Unordered([violation("", "tableName", TABLE_PATTERN),
                              violation("", "tableName", MIN3)])),
        # Recorded against DynamoDB: these ten, in this order.
        validation("incorrect attributes: ten, in DynamoDB's order", SCAN,
                   {"TableName": "abc;", "ReturnConsumedCapacity": "hi", "AttributesToGet": [],
                    "IndexName": "abc;", "Segment": -1, "TotalSegments": -1, "Select": "hi",
                    "Limit": -1, "ScanFilter": {"a": {}, "b": {"ComparisonOperator": ""}},
                    "ConditionalOperator": "AN", "ExpressionAttributeNames": {},
                    "ExpressionAttributeValues": {}, "ProjectionExpression": ""},
                   aggregated(
                       violation("hi", "select", SELECT_ENUM),
                       violation("abc;", "indexName", TABLE_PATTERN),
                       violation("-1", "totalSegments",
                                 "Member must have value greater than or equal to 1"),
                       violation("hi", "returnConsumedCapacity", RCC_ENUM),
                       violation("abc;", "tableName", TABLE_PATTERN),
                       violation("AN", "conditionalOperator", CO_ENUM),
                       violation(None, "scanFilter.a.member.comparisonOperator", NOT_NULL),
                       violation("", "scanFilter.b.member.comparisonOperator", OP_ENUM),
                       violation("-1", "segment",
                                 "Member must have value greater than or equal to 0"),
                       violation("[]", "attributesToGet",
                                 "Member must have length greater than or equal to 1"))),
        validation("Segment too large", SCAN,
                   {"TableName": "abc", "Segment": 1000000, "TotalSegments": 1000001},
                   Unordered([violation("1000001", "totalSegments",
                                        "Member must have value less than or equal to "
                                        "1000000"),
                              violation("1000000", "segment",
                                        "Member must have value less than or equal to 999999")])),
        validation("expression and non-expression", SCAN,
                   {"TableName": "abc", "ExclusiveStartKey": {"a": {}},
                    "FilterExpression": "", "ScanFilter": {}, "AttributesToGet": ["a"]},
                   "Can not use both expression and non-expression parameters in the same "
                   "request: Non-expression parameters: {AttributesToGet, ScanFilter} "
                   "Expression parameters: {FilterExpression}"),
        validation("ExpressionAttributeValues without expressions", SCAN,
                   {"TableName": "abc", "ExpressionAttributeValues": {}},
                   "ExpressionAttributeValues can only be specified when using expressions: "
                   "FilterExpression is null"),
        validation("AttributesToGet duplicates before ScanFilter", SCAN,
                   {"TableName": "abc", "AttributesToGet": ["a", "a"],
                    "ScanFilter": {"a": {"ComparisonOperator": "EQ"}}},
                   INVALID + "Duplicate value in attribute name: a"),
        validation("ScanFilter argument count", SCAN,
                   {"TableName": "abc", "ExclusiveStartKey": {"a": {}},
                    "ScanFilter": {"a": {"ComparisonOperator": "EQ"}}},
                   INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator"),
        validation("CONTAINS on a set", SCAN,
                   {"TableName": "abc",
                    "ScanFilter": {"a": {"ComparisonOperator": "CONTAINS",
                                         "AttributeValueList": [{"NS": ["1"]}]}}},
                   INVALID + "ComparisonOperator CONTAINS is not valid for NS AttributeValue "
                             "type"),
        validation("BEGINS_WITH on a number", SCAN,
                   {"TableName": "abc",
                    "ScanFilter": {"a": {"ComparisonOperator": "BEGINS_WITH",
                                         "AttributeValueList": [{"N": "1"}]}}},
                   INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue "
                             "type"),
        validation("empty value in ExclusiveStartKey", SCAN,
                   {"TableName": "abc", "ExclusiveStartKey": {"a": {}}},
                   START_KEY + EMPTY_VALUE),
        validation("Segment without TotalSegments", SCAN,
                   {"TableName": "abc", "Segment": 1},
                   "The TotalSegments parameter is required but was not present in the request "
                   "when Segment parameter is present"),
        validation("TotalSegments without Segment", SCAN,
                   {"TableName": "abc", "TotalSegments": 1},
                   "The Segment parameter is required but was not present in the request when "
                   "parameter TotalSegments is present"),
        validation("Segment not less than TotalSegments", SCAN,
                   {"TableName": "abc", "Segment": 1, "TotalSegments": 1},
                   "The Segment parameter is zero-based and must be less than parameter "
                   "TotalSegments: Segment: 1 is not less than TotalSegments: 1"),
        validation("empty FilterExpression", SCAN,
                   {"TableName": "abc", "FilterExpression": ""},
                   "Invalid FilterExpression: The expression can not be empty;"),
        validation("empty ProjectionExpression", SCAN,
                   {"TableName": "abc", "FilterExpression": "a > b", "ProjectionExpression": ""},
                   "Invalid ProjectionExpression: The expression can not be empty;"),
        validation("syntax error in FilterExpression", SCAN,
                   {"TableName": "abc", "FilterExpression": "things are not gonna be ok"},
                   Regex(r"^Invalid FilterExpression: Syntax error; ")),
        validation("unused values", SCAN,
                   {"TableName": "abc", "FilterExpression": "a > b",
                    "ExpressionAttributeValues": {":a": {"S": "a"}, ":b": {"S": "b"}}},
                   "Value provided in ExpressionAttributeValues unused in expressions: "
                   "keys: {:a, :b}"),
        case("missing table", SCAN, {"TableName": "{missing}"}, NOT_FOUND, NOT_FOUND_TEXT),
        validation("unknown index", SCAN, {"TableName": "{hash}", "IndexName": "nope"},
                   "The table does not have the specified index: nope"),
    ]
)

BATCH_GET = "BatchGetItem"
BATCH_GET_CASES = (
    type_cases(BATCH_GET, "RequestItems", "Map<KeysAndAttributes>")
    + type_cases(BATCH_GET, "RequestItems.Attr", "ValueStruct<KeysAndAttributes>")
    + type_cases(BATCH_GET, "RequestItems.Attr.Keys", "List", limit=3)
    + type_cases(BATCH_GET, "RequestItems.Attr.Keys.0", "ParameterizedMap")
    + type_cases(BATCH_GET, "RequestItems.Attr.Keys.0.Attr.S", "String", limit=2)
    + type_cases(BATCH_GET, "RequestItems.Attr.ConsistentRead", "Boolean", limit=2)
    + type_cases(BATCH_GET, "ReturnConsumedCapacity", "String", limit=1)
    + [
        validation("no RequestItems", BATCH_GET, {},
                   aggregated(violation(None, "requestItems", NOT_NULL))),
        validation("empty RequestItems", BATCH_GET, {"RequestItems": {}},
                   aggregated(violation("{}", "requestItems",
                                        "Member must have length greater than or equal to 1"))),
        validation("short table name with no keys", BATCH_GET,
                   {"RequestItems": {"a": {}}, "ReturnConsumedCapacity": "hi"},
                   Regex(r"^3 validation errors detected: ")),
        validation("empty keys", BATCH_GET, {"RequestItems": {"abc": {"Keys": []}}},
                   aggregated(violation("[]", "requestItems.abc.member.keys",
                                        "Member must have length greater than or equal to 1"))),
        validation("short table name with keys", BATCH_GET,
                   {"RequestItems": {"a": {"Keys": [{"a": {"S": "a"}}]}}},
                   Regex(r"^1 validation error detected: Value '\{.+\}' at 'requestItems' "
                         r"failed to satisfy constraint: " + MAP_KEYS.replace("[", r"\[")
                         .replace("]", r"\]").replace("+", r"\+").replace(".", r"\.") + "$")),
        validation("more than 100 keys in one table", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{"a": {"S": str(i)}} for i in range(101)]}}},
                   Regex(r"^1 validation error detected: Value '\[.+\]' at "
                         r"'requestItems\.abc\.member\.keys' failed to satisfy constraint: "
                         r"Member must have length less than or equal to 100$")),
        validation("expression and non-expression", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{}], "AttributesToGet": ["a"],
                                             "ExpressionAttributeNames": {},
                                             "ProjectionExpression": ""}}},
                   "Can not use both expression and non-expression parameters in the same "
                   "request: Non-expression parameters: {AttributesToGet} Expression "
                   "parameters: {ProjectionExpression}"),
        validation("ExpressionAttributeNames without ProjectionExpression", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{}], "AttributesToGet": ["a"],
                                             "ExpressionAttributeNames": {}}}},
                   "ExpressionAttributeNames can only be specified when using expressions"),
        validation("empty ExpressionAttributeNames", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{}], "ExpressionAttributeNames": {},
                                             "ProjectionExpression": ""}}},
                   "ExpressionAttributeNames must not be empty"),
        validation("invalid ExpressionAttributeNames key", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{}],
                                             "ExpressionAttributeNames": {"a": "a"},
                                             "ProjectionExpression": ""}}},
                   'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
        validation("empty ProjectionExpression", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{}], "ProjectionExpression": ""}}},
                   "Invalid ProjectionExpression: The expression can not be empty;"),
        validation("more than 100 keys over two tables", BATCH_GET,
                   {"RequestItems": {
                       "abc": {"Keys": [{"a": {"S": str(i)}} for i in range(100)]},
                       "abd": {"Keys": [{"a": {"S": "100"}}]}}},
                   "Too many items requested for the BatchGetItem call"),
        case("exactly 100 keys, missing table", BATCH_GET,
             {"RequestItems": {"{missing}": {"Keys": [{"a": {"S": str(i)}} for i in range(100)]}}},
             NOT_FOUND, NOT_FOUND_TEXT),
        validation("empty value in a key", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{"a": {}}]}}}, EMPTY_VALUE),
        validation("empty string set in a key", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{"a": {"SS": []}}]}}},
                   INVALID + "An string set  may not be empty"),
        validation("two types in a key", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{"a": {"S": "a", "N": "1"}}]}}},
                   MULTIPLE_TYPES),
        validation("expression maps before duplicate keys", BATCH_GET,
                   {"RequestItems": {"abc": {
                       "Keys": [{"a": {"S": "x"}, "b": {"N": "1"}},
                                {"b": {"N": "1"}, "a": {"S": "x"}}],
                       "ExpressionAttributeNames": {}, "ProjectionExpression": ""}}},
                   "ExpressionAttributeNames must not be empty"),
        validation("duplicate keys, before the table is looked up", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{"a": {"S": "x"}, "b": {"N": "1"}},
                                                      {"b": {"N": "1"}, "a": {"S": "x"}}]}}},
                   "Provided list of item keys contains duplicates"),
        validation("AttributesToGet duplicates before duplicate keys", BATCH_GET,
                   {"RequestItems": {"abc": {"Keys": [{"a": {"S": "x"}}, {"a": {"S": "x"}}],
                                             "AttributesToGet": ["a", "a"]}}},
                   INVALID + "Duplicate value in attribute name: a"),
        case("missing table with an empty key", BATCH_GET,
             {"RequestItems": {"{missing}": {"Keys": [{}]}}}, NOT_FOUND, NOT_FOUND_TEXT),
        validation("key not matching the schema", BATCH_GET,
                   {"RequestItems": {"{hash}": {"Keys": [{"b": {"S": "a"}}]}}}, KEY_SCHEMA),
        validation("range key missing", BATCH_GET,
                   {"RequestItems": {"{range}": {"Keys": [{"a": {"S": "a"}}]}}}, KEY_SCHEMA),
        validation("hash key over 2048 bytes", BATCH_GET,
                   {"RequestItems": {"{hash}": {"Keys": [{"a": {"S": "k" * 2049}}]}}},
                   INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"),
    ]
)

BATCH_WRITE = "BatchWriteItem"
BATCH_WRITE_CASES = (
    type_cases(BATCH_WRITE, "RequestItems",
               "Map<java.util.List<com.amazonaws.dynamodb.v20120810.WriteRequest>>")
    + type_cases(BATCH_WRITE, "RequestItems.Attr", "ParameterizedList")
    + type_cases(BATCH_WRITE, "RequestItems.Attr.0", "ValueStruct<WriteRequest>")
    + type_cases(BATCH_WRITE, "RequestItems.Attr.0.DeleteRequest", "FieldStruct<DeleteRequest>")
    + type_cases(BATCH_WRITE, "RequestItems.Attr.0.DeleteRequest.Key",
                 "Map<AttributeValue>", limit=5)[-2:]
    + type_cases(BATCH_WRITE, "RequestItems.Attr.0.PutRequest", "FieldStruct<PutRequest>",
                 limit=5)[-2:]
    + type_cases(BATCH_WRITE, "RequestItems.Attr.0.PutRequest.Item.Attr.B", "Blob",
                 limit=8)[-3:]
    + type_cases(BATCH_WRITE, "ReturnItemCollectionMetrics", "String", limit=2)
    + [
        validation("empty body", BATCH_WRITE, {},
                   aggregated(violation(None, "requestItems", NOT_NULL))),
        validation("missing RequestItems", BATCH_WRITE,
                   {"ReturnConsumedCapacity": "hi", "ReturnItemCollectionMetrics": "hi"},
                   Unordered([violation("hi", "returnConsumedCapacity", RCC_ENUM),
                              violation("hi", "returnItemCollectionMetrics", RICM_ENUM),
                              violation(None, "requestItems", NOT_NULL)])),
        validation("empty RequestItems", BATCH_WRITE, {"RequestItems": {}},
                   aggregated(violation("{}", "requestItems",
                                        "Member must have length greater than or equal to 1"))),
        validation("short table name and no requests", BATCH_WRITE,
                   {"RequestItems": {"a": []}},
                   Regex(r"^2 validation errors detected: Value '\{.+\}' at 'requestItems' "
                         r"failed to satisfy constraint: Map keys must satisfy constraint: .*; "
                         r"Value '\{.+\}' at 'requestItems' failed to satisfy constraint: Map "
                         r"value must satisfy constraint: \[Member must have length less than "
                         r"or equal to 25, Member must have length greater than or equal to "
                         r"1\]$")),
        validation("incorrect attributes", BATCH_WRITE,
                   {"RequestItems": {"aa;": [{"PutRequest": {}, "DeleteRequest": {}}]},
                    "ReturnConsumedCapacity": "hi", "ReturnItemCollectionMetrics": "hi"},
                   Regex(r"^5 validation errors detected: .*Value null at "
                         r"'requestItems\.aa;\.member\.1\.member\.deleteRequest\.key' failed "
                         r"to satisfy constraint: Member must not be null")),
        validation("26 requests", BATCH_WRITE,
                   {"RequestItems": {"abc": [
                       {"DeleteRequest": {"Key": {"a": {"S": str(i)}}}} if i % 2 else
                       {"PutRequest": {"Item": {"a": {"S": str(i)}}}} for i in range(26)]}},
                   Regex(r"^1 validation error detected: Value '\{.+\}' at 'requestItems' "
                         r"failed to satisfy constraint: Map value must satisfy constraint: "
                         r"\[Member must have length less than or equal to 25, Member must "
                         r"have length greater than or equal to 1\]$")),
        case("exactly 25 requests, missing table", BATCH_WRITE,
             {"RequestItems": {"{missing}": [
                 {"DeleteRequest": {"Key": {"a": {"S": str(i)}}}} if i % 2 else
                 {"PutRequest": {"Item": {"a": {"S": str(i)}}}} for i in range(25)]}},
             NOT_FOUND, NOT_FOUND_TEXT),
        validation("an empty WriteRequest", BATCH_WRITE, {"RequestItems": {"abc": [{}]}},
                   MULTIPLE_TYPES),
        validation("empty value in an item", BATCH_WRITE,
                   {"RequestItems": {"abc": [{"PutRequest": {"Item": {"a": {}}}}]}},
                   EMPTY_VALUE),
        validation("false NULL in an item", BATCH_WRITE,
                   {"RequestItems": {"abc": [{"PutRequest": {"Item": {"a": {"NULL": False}}}}]}},
                   INVALID + "Null attribute value types must have the value of true"),
        validation("duplicate numbers in an item", BATCH_WRITE,
                   {"RequestItems": {"abc": [{"PutRequest": {"Item": {"a": {"NS": ["1", "1"]}}}}]}},
                   "Input collection contains duplicates"),
        validation("bad number in a key", BATCH_WRITE,
                   {"RequestItems": {"abc": [{"DeleteRequest": {"Key": {"a": {"N": "b"}}}}]}},
                   "The parameter cannot be converted to a numeric value: b"),
        validation("item over 400 KB, missing table", BATCH_WRITE,
                   {"RequestItems": {"{missing}": [{"PutRequest": {"Item": {
                       "a": {"S": "k"}, "b": {"S": "x" * 409600}}}}]}},
                   "Item size has exceeded the maximum allowed size"),
        case("item of exactly 400 KB, missing table", BATCH_WRITE,
             {"RequestItems": {"{missing}": [{"PutRequest": {"Item": {
                 "a": {"S": "k"}, "b": {"S": "x" * 409597}}}}]}},
             NOT_FOUND, NOT_FOUND_TEXT),
        case("duplicates on a missing table: the table first", BATCH_WRITE,
             {"RequestItems": {"{missing}": [
                 {"PutRequest": {"Item": {"a": {"S": "x"}, "c": {"S": "c"}}}},
                 {"DeleteRequest": {"Key": {"a": {"S": "x"}}}}]}},
             NOT_FOUND, NOT_FOUND_TEXT),
        validation("put and delete of one item", BATCH_WRITE,
                   {"RequestItems": {"{hash}": [
                       {"PutRequest": {"Item": {"a": {"S": "x"}, "c": {"S": "c"}}}},
                       {"DeleteRequest": {"Key": {"a": {"S": "x"}}}}]}},
                   "Provided list of item keys contains duplicates"),
        validation("delete then put of one item", BATCH_WRITE,
                   {"RequestItems": {"{hash}": [
                       {"DeleteRequest": {"Key": {"a": {"S": "x"}}}},
                       {"PutRequest": {"Item": {"a": {"S": "x"}, "c": {"S": "c"}}}}]}},
                   "Provided list of item keys contains duplicates"),
        validation("key not matching the schema", BATCH_WRITE,
                   {"RequestItems": {"{hash}": [{"DeleteRequest": {"Key": {"b": {"S": "a"}}}}]}},
                   KEY_SCHEMA),
        validation("item without its key", BATCH_WRITE,
                   {"RequestItems": {"{range}": [{"PutRequest": {"Item": {"a": {"S": "a"}}}}]}},
                   INVALID + "Missing the key b in the item"),
    ]
)


class QueryValidationTest(ValidationCase):
    CASES = QUERY_CASES


class ScanValidationTest(ValidationCase):
    CASES = SCAN_CASES


class BatchGetItemValidationTest(ValidationCase):
    CASES = BATCH_GET_CASES


class BatchWriteItemValidationTest(ValidationCase):
    CASES = BATCH_WRITE_CASES


if __name__ == "__main__":
    unittest.main()
