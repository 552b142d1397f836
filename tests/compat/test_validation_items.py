"""DynamoDB's answers to invalid GetItem, PutItem, UpdateItem and DeleteItem
requests, layer by layer: JSON types (SerializationException), constraints
(one aggregated ValidationException), the operation's own checks in
DynamoDB's order, then the data. See validation_cases.py for the case
format and the sources."""

import unittest

from validation_cases import (
    CO_ENUM, EMPTY_VALUE, INVALID, KEY_SCHEMA, MAX255, MIN3, MULTIPLE_TYPES, NOT_FOUND,
    NOT_FOUND_TEXT, NOT_NULL, OP_ENUM, RCC_ENUM, RICM_ENUM, RV_ENUM, TABLE_PATTERN,
    Regex, Unordered, ValidationCase, aggregated, attr_struct_cases, case, type_cases,
    validation, violation)

LONG_NAME = "a" * 256

# The AttributeValue checks every operation applies to its keys and items
# (dynalite: "invalid values" and "empty/invalid numbers").
INVALID_VALUES = [
    ({"NULL": False}, INVALID + "Null attribute value types must have the value of true"),
    ({"NULL": "no"}, INVALID + "Null attribute value types must have the value of true"),
    ({"SS": []}, INVALID + "An string set  may not be empty"),
    ({"NS": []}, INVALID + "An number set  may not be empty"),
    ({"BS": []}, INVALID + "Binary sets should not be empty"),
    ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
    ({"BS": ["Yg==", "Yg=="]}, INVALID + "Input collection [Yg==, Yg==]of type BS contains "
                                         "duplicates."),
]
INVALID_NUMBERS = [
    ({"S": "a", "N": ""}, "The parameter cannot be converted to a numeric value"),
    ({"S": "a", "N": "b"}, "The parameter cannot be converted to a numeric value: b"),
    ({"NS": ["1", ""]}, "The parameter cannot be converted to a numeric value"),
    ({"NS": ["1", "b"]}, "The parameter cannot be converted to a numeric value: b"),
    ({"NS": ["1", "1"]}, "Input collection contains duplicates"),
    ({"N": "123456789012345678901234567890123456789"},
     "Attempting to store more than 38 significant digits in a Number"),
    ({"N": "1e126"}, "Number overflow. Attempting to store a number with magnitude larger "
                     "than supported range"),
    ({"N": "-1e-131"}, "Number underflow. Attempting to store a number with magnitude "
                       "smaller than supported range"),
]
EMPTY_VALUES = [{}, {"a": ""}, {"M": {"a": {}}}, {"L": [{}]}, {"L": [{"a": {}}]}]


def value_cases(op, base, where):
    """Invalid AttributeValues at `where` (a key of `base` set per case)."""
    cases = []
    for value in EMPTY_VALUES:
        cases.append(validation(f"empty AttributeValue {value} in {where}", op,
                                dict(base, **{where: {"a": value}}), EMPTY_VALUE))
    for value, text in INVALID_VALUES + INVALID_NUMBERS:
        cases.append(validation(f"{value} in {where}", op,
                                dict(base, **{where: {"a": value}}), text))
    cases.append(validation(f"two types in {where}", op,
                            dict(base, **{where: {"a": {"S": "a", "N": "1"}}}),
                            MULTIPLE_TYPES))
    return cases


def key_schema_cases(op, extra=None):
    """Keys checked against an existing table's schema (dynalite)."""
    extra = extra or {}
    cases = []
    for key in [{}, {"b": {"S": "a"}}, {"a": {"S": "a"}, "b": {"S": "a"}}, {"a": {"N": "1"}},
                {"a": {"B": "abcd"}}, {"a": {"SS": ["a"]}}, {"a": {"M": {}}}]:
        cases.append(validation(f"key {key} on a hash table", op,
                                dict({"TableName": "{hash}", "Key": key}, **extra), KEY_SCHEMA))
    cases += [
        validation("range key missing", op,
                   dict({"TableName": "{range}", "Key": {"a": {"S": "a"}}}, **extra), KEY_SCHEMA),
        # DynamoDB's current wording ("are not valid."), as AWS answers it
        # (moto's AWS-verified tests, SDK error logs); dynalite's tests keep
        # an older "were invalid:" form.
        validation("empty string key", op,
                   dict({"TableName": "{hash}", "Key": {"a": {"S": ""}}}, **extra),
                   "One or more parameter values are not valid. The AttributeValue for a key "
                   "attribute cannot contain an empty string value. Key: a", source="moto"),
        validation("empty binary key", op,
                   dict({"TableName": "{binary}",
                         "Key": {"a": {"S": "a"}, "b": {"B": ""}}}, **extra),
                   "One or more parameter values are not valid. The AttributeValue for a key "
                   "attribute cannot contain an empty binary value. Key: b", source="moto"),
        validation("hash key over 2048 bytes", op,
                   dict({"TableName": "{hash}", "Key": {"a": {"S": "k" * 2049}}}, **extra),
                   INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"),
        validation("range key over 1024 bytes", op,
                   dict({"TableName": "{range}",
                         "Key": {"a": {"S": "a"}, "b": {"S": "r" * 1025}}}, **extra),
                   INVALID + "Aggregated size of all range keys has exceeded the size limit of "
                             "1024 bytes"),
    ]
    return cases


GET = "GetItem"
GET_CASES = (
    type_cases(GET, "TableName", "String")
    + type_cases(GET, "Key", "Map<AttributeValue>")
    + attr_struct_cases(GET, "Key.Attr")
    + type_cases(GET, "AttributesToGet", "List", limit=2)
    + type_cases(GET, "AttributesToGet.0", "String", limit=3)
    + type_cases(GET, "ConsistentRead", "Boolean")
    + type_cases(GET, "ReturnConsumedCapacity", "String", limit=2)
    + type_cases(GET, "ExpressionAttributeNames", "Map<java.lang.String>")
    + type_cases(GET, "ExpressionAttributeNames.Attr", "String", limit=3)
    + type_cases(GET, "ProjectionExpression", "String", limit=3)
    + [
        case("the first wrong member in document order is reported", GET,
             '{"ConsistentRead": "x", "TableName": 5}',
             "com.amazon.coral.service#SerializationException",
             "Unexpected token received from parser", source="dynalite"),
        case("a type error beats any constraint", GET,
             {"TableName": "a;", "Key": {"a": {"S": 5}}},
             "com.amazon.coral.service#SerializationException",
             "NUMBER_VALUE cannot be converted to String", source="dynalite"),
        # Constraints: the violations as dynalite records them (the first
        # cases list them in no particular order; the last exactly).
        validation("no TableName and no Key", GET, {},
                   Unordered([violation(None, "key", NOT_NULL),
                              violation(None, "tableName", NOT_NULL)])),
        validation("empty TableName", GET, {"TableName": ""},
                   Unordered([violation("", "tableName", TABLE_PATTERN),
                              violation("", "tableName", MIN3),
                              violation(None, "key", NOT_NULL)])),
        validation("short TableName", GET, {"TableName": "a;"},
                   Unordered([violation("a;", "tableName", TABLE_PATTERN),
                              violation("a;", "tableName", MIN3),
                              violation(None, "key", NOT_NULL)])),
        validation("long TableName", GET, {"TableName": LONG_NAME},
                   aggregated(violation(None, "key", NOT_NULL),
                              violation(LONG_NAME, "tableName", MAX255))),
        validation("incorrect attributes, in DynamoDB's order", GET,
                   {"TableName": "abc;", "ReturnConsumedCapacity": "hi", "AttributesToGet": []},
                   aggregated(
                       violation("[]", "attributesToGet",
                                 "Member must have length greater than or equal to 1"),
                       violation("hi", "returnConsumedCapacity", RCC_ENUM),
                       violation(None, "key", NOT_NULL),
                       violation("abc;", "tableName", TABLE_PATTERN))),
        # GetItem's own checks, in DynamoDB's order.
        validation("expression and non-expression", GET,
                   {"TableName": "abc", "Key": {"a": {}}, "AttributesToGet": ["a"],
                    "ExpressionAttributeNames": {}, "ProjectionExpression": ""},
                   "Can not use both expression and non-expression parameters in the same "
                   "request: Non-expression parameters: {AttributesToGet} Expression "
                   "parameters: {ProjectionExpression}"),
        validation("ExpressionAttributeNames without ProjectionExpression", GET,
                   {"TableName": "abc", "Key": {"a": {}}, "AttributesToGet": ["a"],
                    "ExpressionAttributeNames": {}},
                   "ExpressionAttributeNames can only be specified when using expressions"),
        validation("invalid Key value before AttributesToGet duplicates", GET,
                   {"TableName": "abc", "Key": {"a": {"SS": []}},
                    "AttributesToGet": ["a", "a"]},
                   INVALID + "An string set  may not be empty"),
        validation("duplicate AttributesToGet", GET,
                   {"TableName": "abc", "Key": {}, "AttributesToGet": ["a", "a"]},
                   INVALID + "Duplicate value in attribute name: a"),
        validation("empty ExpressionAttributeNames", GET,
                   {"TableName": "abc", "Key": {}, "ExpressionAttributeNames": {},
                    "ProjectionExpression": ""},
                   "ExpressionAttributeNames must not be empty"),
        validation("invalid ExpressionAttributeNames key", GET,
                   {"TableName": "abc", "Key": {}, "ExpressionAttributeNames": {"a": "a"},
                    "ProjectionExpression": ""},
                   'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
        validation("empty ProjectionExpression", GET,
                   {"TableName": "abc", "Key": {}, "ProjectionExpression": ""},
                   "Invalid ProjectionExpression: The expression can not be empty;"),
        validation("syntax error in ProjectionExpression", GET,
                   {"TableName": "abc", "Key": {}, "ProjectionExpression": "a,,b"},
                   Regex(r"^Invalid ProjectionExpression: Syntax error; ")),
        validation("reserved word in ProjectionExpression", GET,
                   {"TableName": "abc", "Key": {}, "ProjectionExpression": "a.abORt"},
                   Regex(r"^Invalid ProjectionExpression: Attribute name is a reserved keyword; "
                         r"reserved keyword: ")),
        validation("undefined name in ProjectionExpression", GET,
                   {"TableName": "abc", "Key": {}, "ProjectionExpression": "a,b,a,#a"},
                   "Invalid ProjectionExpression: An expression attribute name used in the "
                   "document path is not defined; attribute name: #a"),
        validation("unused names", GET,
                   {"TableName": "abc", "Key": {}, "ProjectionExpression": "a",
                    "ExpressionAttributeNames": {"#a": "a", "#b": "b"}},
                   "Value provided in ExpressionAttributeNames unused in expressions: "
                   "keys: {#a, #b}"),
        # Then the table, then the key against its schema.
        case("missing table with an empty key", GET, {"TableName": "{missing}", "Key": {}},
             NOT_FOUND, NOT_FOUND_TEXT),
    ]
    + value_cases(GET, {"TableName": "abc"}, "Key")
    + key_schema_cases(GET)
)

PUT = "PutItem"
PUT_CASES = (
    type_cases(PUT, "TableName", "String", limit=4)
    + type_cases(PUT, "Item", "Map<AttributeValue>")
    + attr_struct_cases(PUT, "Item.Attr")[:8]
    + type_cases(PUT, "Expected", "Map<ExpectedAttributeValue>", limit=3)
    + type_cases(PUT, "Expected.Attr", "ValueStruct<ExpectedAttributeValue>", limit=5)
    + type_cases(PUT, "Expected.Attr.Exists", "Boolean", limit=3)
    + type_cases(PUT, "Expected.Attr.Value", "FieldStruct<AttributeValue>", limit=5)
    + type_cases(PUT, "ReturnConsumedCapacity", "String", limit=2)
    + type_cases(PUT, "ReturnItemCollectionMetrics", "String", limit=2)
    + type_cases(PUT, "ReturnValues", "String", limit=2)
    + type_cases(PUT, "ConditionExpression", "String", limit=2)
    + type_cases(PUT, "ExpressionAttributeValues", "Map<AttributeValue>", limit=5)[-1:]
    + type_cases(PUT, "ExpressionAttributeNames.Attr", "String", limit=2)
    + [
        # Layer 1 comes first whatever else is wrong, however deep the value.
        case("a type error deep in the item beats mixing the parameters", PUT,
             {"TableName": "abc", "Item": {"a": {"L": [{"M": {"b": {"N": 5}}}]}},
              "Expected": {"a": {}}, "ConditionExpression": "a = b"},
             "com.amazon.coral.service#SerializationException",
             "NUMBER_VALUE cannot be converted to String"),
        case("a type error in the item beats a missing table", PUT,
             {"TableName": "{missing}", "Item": {"a": {"S": "k"}, "b": {"BOOL": "maybe"}}},
             "com.amazon.coral.service#SerializationException",
             "Unexpected token received from parser"),
        case("non-canonical base64 on an existing table", PUT,
             {"TableName": "{hash}", "Item": {"a": {"S": "k"}, "b": {"B": "+/+="}}},
             "com.amazon.coral.service#SerializationException",
             "Invalid last non-pad Base64 character dectected"),
        case("a type error in the key beats the key schema", GET,
             {"TableName": "{range}", "Key": {"a": {"S": "k"}, "c": {"SS": ["x", 1]}}},
             "com.amazon.coral.service#SerializationException",
             "NUMBER_VALUE cannot be converted to String"),
        validation("no TableName and no Item", PUT, {},
                   Unordered([violation(None, "tableName", NOT_NULL),
                              violation(None, "item", NOT_NULL)])),
        validation("empty TableName", PUT, {"TableName": ""},
                   Unordered([violation("", "tableName", TABLE_PATTERN),
                              violation("", "tableName", MIN3),
                              violation(None, "item", NOT_NULL)])),
        validation("incorrect attributes", PUT,
                   {"TableName": "abc;", "ReturnConsumedCapacity": "hi",
                    "ReturnItemCollectionMetrics": "hi", "ReturnValues": "hi"},
                   Unordered([violation("hi", "returnConsumedCapacity", RCC_ENUM),
                              violation("abc;", "tableName", TABLE_PATTERN),
                              violation(None, "item", NOT_NULL),
                              violation("hi", "returnValues", RV_ENUM),
                              violation("hi", "returnItemCollectionMetrics", RICM_ENUM)])),
        validation("bad ConditionalOperator and ComparisonOperator", PUT,
                   {"TableName": "abc", "Item": {}, "ConditionalOperator": "AN",
                    "Expected": {"a": {"ComparisonOperator": "X"}}},
                   Unordered([violation("AN", "conditionalOperator", CO_ENUM),
                              violation("X", "expected.a.member.comparisonOperator",
                                        OP_ENUM)]),
                   source="dynalite"),
        validation("expression and non-expression", PUT,
                   {"TableName": "abc", "Item": {"a": {}}, "Expected": {"a": {}},
                    "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {},
                    "ConditionExpression": ""},
                   "Can not use both expression and non-expression parameters in the same "
                   "request: Non-expression parameters: {Expected} Expression parameters: "
                   "{ConditionExpression}"),
        validation("ExpressionAttributeNames without ConditionExpression", PUT,
                   {"TableName": "abc", "Item": {"a": {}}, "Expected": {"a": {}},
                    "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}},
                   "ExpressionAttributeNames can only be specified when using expressions"),
        validation("ExpressionAttributeValues without ConditionExpression", PUT,
                   {"TableName": "abc", "Item": {"a": {}}, "Expected": {"a": {}},
                    "ExpressionAttributeValues": {}},
                   "ExpressionAttributeValues can only be specified when using expressions: "
                   "ConditionExpression is null"),
        validation("Item values before the empty expression maps", PUT,
                   {"TableName": "abc", "Item": {"a": {"SS": []}},
                    "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {},
                    "ConditionExpression": ""},
                   INVALID + "An string set  may not be empty"),
        validation("ReturnValues UPDATED_NEW", PUT,
                   {"TableName": "abc", "Item": {}, "ReturnValues": "UPDATED_NEW"},
                   "ReturnValues can only be ALL_OLD or NONE"),
        validation("ReturnValues ALL_NEW", PUT,
                   {"TableName": "abc", "Item": {}, "ReturnValues": "ALL_NEW"},
                   "ReturnValues can only be ALL_OLD or NONE"),
        validation("item over 400 KB, even for a missing table", PUT,
                   {"TableName": "{missing}",
                    "Item": {"a": {"S": "k"}, "b": {"S": "x" * 409600}}},
                   "Item size has exceeded the maximum allowed size"),
        case("item of exactly 400 KB on a missing table", PUT,
             {"TableName": "{missing}", "Item": {"a": {"S": "k"}, "b": {"S": "x" * 409597}}},
             NOT_FOUND, NOT_FOUND_TEXT),
        validation("Expected without Value or Exists", PUT,
                   {"TableName": "abc", "Item": {}, "Expected": {"a": {}}},
                   INVALID + "Value must be provided when Exists is null for Attribute: a"),
        validation("Expected Exists true without Value", PUT,
                   {"TableName": "abc", "Item": {}, "Expected": {"a": {"Exists": True}}},
                   INVALID + "Value must be provided when Exists is true for Attribute: a"),
        validation("Expected Exists false with Value", PUT,
                   {"TableName": "abc", "Item": {},
                    "Expected": {"a": {"Exists": False, "Value": {"S": "a"}}}},
                   INVALID + "Value cannot be used when Exists is false for Attribute: a"),
        validation("Expected ComparisonOperator alone", PUT,
                   {"TableName": "aaa", "Item": {}, "Expected": {"a": {"ComparisonOperator": "LT"}}},
                   INVALID + "Value or AttributeValueList must be used with ComparisonOperator: "
                             "LT for Attribute: a"),
        validation("Expected Exists with ComparisonOperator", PUT,
                   {"TableName": "aaa", "Item": {},
                    "Expected": {"a": {"Exists": True, "ComparisonOperator": "LT"}}},
                   INVALID + "Exists and ComparisonOperator cannot be used together for "
                             "Attribute: a"),
        validation("Expected AttributeValueList without ComparisonOperator", PUT,
                   {"TableName": "aaa", "Item": {},
                    "Expected": {"a": {"AttributeValueList": [{"S": "a"}]}}},
                   INVALID + "AttributeValueList can only be used with a ComparisonOperator for "
                             "Attribute: a"),
        validation("Expected EQ with no values", PUT,
                   {"TableName": "aaa", "Item": {},
                    "Expected": {"a": {"AttributeValueList": [], "ComparisonOperator": "EQ"}}},
                   INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator"),
        validation("empty ExpressionAttributeNames", PUT,
                   {"TableName": "abc", "Item": {}, "ExpressionAttributeNames": {},
                    "ConditionExpression": "a = b"},
                   "ExpressionAttributeNames must not be empty"),
        validation("empty ExpressionAttributeValues", PUT,
                   {"TableName": "abc", "Item": {}, "ExpressionAttributeValues": {},
                    "ConditionExpression": "a = b"},
                   "ExpressionAttributeValues must not be empty"),
        validation("invalid ExpressionAttributeValues key", PUT,
                   {"TableName": "abc", "Item": {}, "ExpressionAttributeValues": {"a": {"S": "b"}},
                    "ConditionExpression": "a = b"},
                   'ExpressionAttributeValues contains invalid key: Syntax error; key: "a"'),
        validation("invalid ExpressionAttributeValues value", PUT,
                   {"TableName": "abc", "Item": {},
                    "ExpressionAttributeValues": {":b": {"SS": []}},
                    "ConditionExpression": "a = :b"},
                   "ExpressionAttributeValues contains invalid value: One or more parameter "
                   "values were invalid: An string set  may not be empty for key :b"),
        validation("empty ConditionExpression", PUT,
                   {"TableName": "abc", "Item": {}, "ConditionExpression": ""},
                   "Invalid ConditionExpression: The expression can not be empty;"),
        validation("unused value", PUT,
                   {"TableName": "abc", "Item": {}, "ConditionExpression": "a = b",
                    "ExpressionAttributeValues": {":c": {"S": "c"}}},
                   "Value provided in ExpressionAttributeValues unused in expressions: "
                   "keys: {:c}"),
        case("missing table", PUT, {"TableName": "{missing}", "Item": {"a": {"S": "a"}}},
             NOT_FOUND, NOT_FOUND_TEXT),
        validation("missing key attribute", PUT, {"TableName": "{range}",
                                                  "Item": {"a": {"S": "a"}}},
                   INVALID + "Missing the key b in the item"),
        validation("key of the wrong type", PUT, {"TableName": "{hash}",
                                                  "Item": {"a": {"N": "1"}}},
                   INVALID + "Type mismatch for key a expected: S actual: N"),
    ]
    + value_cases(PUT, {"TableName": "abc"}, "Item")[::2]
)

DELETE = "DeleteItem"
DELETE_CASES = (
    type_cases(DELETE, "TableName", "String", limit=3)
    + type_cases(DELETE, "Key", "Map<AttributeValue>", limit=5)[-2:]
    + type_cases(DELETE, "Key.Attr.S", "String", limit=2)
    + type_cases(DELETE, "ReturnValues", "String", limit=2)
    + type_cases(DELETE, "Expected.Attr.Exists", "Boolean", limit=2)
    + [
        validation("no TableName and no Key", DELETE, {},
                   Unordered([violation(None, "tableName", NOT_NULL),
                              violation(None, "key", NOT_NULL)])),
        validation("incorrect attributes", DELETE,
                   {"TableName": "abc;", "ReturnConsumedCapacity": "hi",
                    "ReturnItemCollectionMetrics": "hi", "ReturnValues": "hi"},
                   Unordered([violation("hi", "returnConsumedCapacity", RCC_ENUM),
                              violation("abc;", "tableName", TABLE_PATTERN),
                              violation(None, "key", NOT_NULL),
                              violation("hi", "returnValues", RV_ENUM),
                              violation("hi", "returnItemCollectionMetrics", RICM_ENUM)])),
        validation("expression and non-expression", DELETE,
                   {"TableName": "abc", "Key": {"a": {}}, "Expected": {"a": {}},
                    "ConditionExpression": ""},
                   "Can not use both expression and non-expression parameters in the same "
                   "request: Non-expression parameters: {Expected} Expression parameters: "
                   "{ConditionExpression}"),
        validation("ExpressionAttributeValues without ConditionExpression", DELETE,
                   {"TableName": "abc", "Key": {"a": {}}, "ExpressionAttributeValues": {}},
                   "ExpressionAttributeValues can only be specified when using expressions: "
                   "ConditionExpression is null"),
        validation("Key values before Expected", DELETE,
                   {"TableName": "abc", "Key": {"a": {}}, "Expected": {"a": {}}},
                   EMPTY_VALUE),
        validation("Expected without Value", DELETE,
                   {"TableName": "abc", "Key": {}, "Expected": {"a": {}}},
                   INVALID + "Value must be provided when Exists is null for Attribute: a"),
        validation("ReturnValues ALL_NEW", DELETE,
                   {"TableName": "abc", "Key": {}, "ReturnValues": "ALL_NEW"},
                   "ReturnValues can only be ALL_OLD or NONE"),
        validation("empty ConditionExpression", DELETE,
                   {"TableName": "abc", "Key": {}, "ConditionExpression": ""},
                   "Invalid ConditionExpression: The expression can not be empty;"),
        case("missing table", DELETE, {"TableName": "{missing}", "Key": {}},
             NOT_FOUND, NOT_FOUND_TEXT),
        case("condition false on an existing table", DELETE,
             {"TableName": "{hash}", "Key": {"a": {"S": "none"}},
              "ConditionExpression": "attribute_exists(a)"},
             "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
             "The conditional request failed"),
    ]
    + value_cases(DELETE, {"TableName": "abc"}, "Key")[1::3]
    + key_schema_cases(DELETE)[:4]
)

UPDATE = "UpdateItem"
UPDATE_CASES = (
    type_cases(UPDATE, "TableName", "String", limit=2)
    + type_cases(UPDATE, "Key.Attr", "ValueStruct<AttributeValue>", limit=5)[-2:]
    + type_cases(UPDATE, "AttributeUpdates", "Map<AttributeValueUpdate>", limit=5)[-2:]
    + type_cases(UPDATE, "AttributeUpdates.Attr", "ValueStruct<AttributeValueUpdate>",
                 limit=5)[-2:]
    + type_cases(UPDATE, "AttributeUpdates.Attr.Action", "String", limit=2)
    + type_cases(UPDATE, "AttributeUpdates.Attr.Value", "FieldStruct<AttributeValue>",
                 limit=5)[-2:]
    + type_cases(UPDATE, "UpdateExpression", "String", limit=2)
    + [
        validation("no TableName and no Key", UPDATE, {},
                   Unordered([violation(None, "tableName", NOT_NULL),
                              violation(None, "key", NOT_NULL)])),
        validation("bad Action", UPDATE,
                   {"TableName": "abc", "Key": {},
                    "AttributeUpdates": {"a": {"Action": "REPLACE"}}},
                   aggregated(violation("REPLACE", "attributeUpdates.a.member.action",
                                        "Member must satisfy enum value set: "
                                        "[ADD, PUT, DELETE]")),
                   source="eddy"),
        validation("expression and non-expression", UPDATE,
                   {"TableName": "abc", "Key": {"a": {}}, "AttributeUpdates": {},
                    "Expected": {}, "UpdateExpression": "", "ConditionExpression": ""},
                   "Can not use both expression and non-expression parameters in the same "
                   "request: Non-expression parameters: {AttributeUpdates, Expected} "
                   "Expression parameters: {UpdateExpression, ConditionExpression}"),
        validation("ExpressionAttributeValues without expressions", UPDATE,
                   {"TableName": "abc", "Key": {}, "ExpressionAttributeValues": {}},
                   "ExpressionAttributeValues can only be specified when using expressions: "
                   "UpdateExpression and ConditionExpression are null"),
        validation("AttributeUpdates value before its action", UPDATE,
                   {"TableName": "abc", "Key": {},
                    "AttributeUpdates": {"a": {"Value": {"SS": []}}}},
                   INVALID + "An string set  may not be empty"),
        validation("AttributeUpdates without value", UPDATE,
                   {"TableName": "abc", "Key": {},
                    "AttributeUpdates": {"a": {"Action": "PUT"}}},
                   INVALID + "Only DELETE action is allowed when no attribute value is "
                             "specified"),
        validation("AttributeUpdates DELETE of a string", UPDATE,
                   {"TableName": "abc", "Key": {},
                    "AttributeUpdates": {"a": {"Action": "DELETE", "Value": {"S": "a"}}}},
                   INVALID + "DELETE action with value is not supported for the type S"),
        validation("AttributeUpdates ADD of a string", UPDATE,
                   {"TableName": "abc", "Key": {},
                    "AttributeUpdates": {"a": {"Action": "ADD", "Value": {"S": "a"}}}},
                   INVALID + "ADD action is not supported for the type S"),
        validation("empty UpdateExpression", UPDATE,
                   {"TableName": "abc", "Key": {}, "UpdateExpression": ""},
                   "Invalid UpdateExpression: The expression can not be empty;"),
        validation("UpdateExpression checked before ConditionExpression", UPDATE,
                   {"TableName": "abc", "Key": {}, "UpdateExpression": "",
                    "ConditionExpression": ""},
                   "Invalid UpdateExpression: The expression can not be empty;"),
        validation("unused names", UPDATE,
                   {"TableName": "abc", "Key": {}, "UpdateExpression": "SET a = b",
                    "ExpressionAttributeNames": {"#x": "x"}},
                   "Value provided in ExpressionAttributeNames unused in expressions: "
                   "keys: {#x}"),
        case("missing table", UPDATE,
             {"TableName": "{missing}", "Key": {}, "UpdateExpression": "SET a = b"},
             NOT_FOUND, NOT_FOUND_TEXT),
        validation("update of a key attribute", UPDATE,
                   {"TableName": "{hash}", "Key": {"a": {"S": "k"}},
                    "UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
                   INVALID + "Cannot update attribute a. This attribute is part of the key"),
    ]
    + value_cases(UPDATE, {"TableName": "abc"}, "Key")[2::4]
    + key_schema_cases(UPDATE, {"UpdateExpression": "SET c = :v",
                                "ExpressionAttributeValues": {":v": {"S": "x"}}})[:3]
)


class GetItemValidationTest(ValidationCase):
    CASES = GET_CASES


class PutItemValidationTest(ValidationCase):
    CASES = PUT_CASES


class DeleteItemValidationTest(ValidationCase):
    CASES = DELETE_CASES


class UpdateItemValidationTest(ValidationCase):
    CASES = UPDATE_CASES


if __name__ == "__main__":
    unittest.main()
