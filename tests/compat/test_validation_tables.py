"""DynamoDB's answers to invalid CreateTable, UpdateTable, DescribeTable,
DeleteTable, tag and Time to Live requests, layer by layer (see
validation_cases.py for the case format and the sources)."""

import unittest

from eddy_server import ACCOUNT_ID, REGION
from validation_cases import (
    INVALID, MAX255, MIN3, NOT_FOUND, NOT_NULL, TABLE_PATTERN, Regex, Unordered,
    ValidationCase, aggregated, case, type_cases, validation, violation)

CREATE = "CreateTable"
PRECHECK_NAME = "TableName must be at least 3 characters long and at most 255 characters long"
REQUIRED_NAME = "The parameter 'TableName' is required but was not present in the request"
BILLING_ENUM = "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
MIN1 = "Member must have length greater than or equal to 1"
MIN_VALUE1 = "Member must have value greater than or equal to 1"


def table(**overrides):
    """A valid on-demand CreateTable body (key a:S), with overrides."""
    body = {"TableName": "abc",
            "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"}
    body.update(overrides)
    return body


def provisioned(**overrides):
    body = {"TableName": "abc", "ProvisionedThroughput": {"ReadCapacityUnits": 1,
                                                          "WriteCapacityUnits": 1}}
    body.update(overrides)
    return body


TWO_KEYS = [{"AttributeName": "a", "AttributeType": "S"},
            {"AttributeName": "b", "AttributeType": "S"}]
HASH_RANGE = [{"KeyType": "HASH", "AttributeName": "a"},
              {"KeyType": "RANGE", "AttributeName": "b"}]

CREATE_CASES = (
    type_cases(CREATE, "TableName", "String", limit=3)
    + type_cases(CREATE, "AttributeDefinitions", "List", limit=5)[::2]
    + type_cases(CREATE, "KeySchema", "List", limit=2)
    + type_cases(CREATE, "LocalSecondaryIndexes", "List", limit=1)
    + type_cases(CREATE, "GlobalSecondaryIndexes", "List", limit=5)[-1:]
    + type_cases(CREATE, "ProvisionedThroughput", "FieldStruct<ProvisionedThroughput>")
    + type_cases(CREATE, "ProvisionedThroughput.WriteCapacityUnits", "Long")
    + type_cases(CREATE, "ProvisionedThroughput.ReadCapacityUnits", "Long", limit=2)
    + type_cases(CREATE, "KeySchema.0", "ValueStruct<KeySchemaElement>", limit=5)[::2]
    + type_cases(CREATE, "KeySchema.0.KeyType", "String", limit=2)
    + type_cases(CREATE, "KeySchema.0.AttributeName", "String", limit=5)[-2:]
    + type_cases(CREATE, "AttributeDefinitions.0", "ValueStruct<AttributeDefinition>",
                 limit=5)[-2:]
    + type_cases(CREATE, "AttributeDefinitions.0.AttributeType", "String", limit=2)
    + type_cases(CREATE, "LocalSecondaryIndexes.0", "ValueStruct<LocalSecondaryIndex>",
                 limit=5)[-2:]
    + type_cases(CREATE, "LocalSecondaryIndexes.0.Projection", "FieldStruct<Projection>",
                 limit=5)[-2:]
    + type_cases(CREATE, "LocalSecondaryIndexes.0.Projection.NonKeyAttributes.0", "String",
                 limit=2)
    + type_cases(CREATE, "GlobalSecondaryIndexes.0.ProvisionedThroughput",
                 "FieldStruct<ProvisionedThroughput>", limit=5)[-2:]
    + type_cases(CREATE, "GlobalSecondaryIndexes.0.IndexName", "String", limit=2)
    + type_cases(CREATE, "BillingMode", "String", limit=2)
    + [
        # DynamoDB's two table-name pre-checks come before the constraints.
        validation("no TableName", CREATE, {}, REQUIRED_NAME),
        validation("empty TableName", CREATE, {"TableName": ""}, PRECHECK_NAME),
        validation("short TableName", CREATE, {"TableName": "a;"}, PRECHECK_NAME),
        validation("long TableName", CREATE, {"TableName": "a" * 256}, PRECHECK_NAME),
        validation("null attributes", CREATE, {"TableName": "abc;"},
                   Unordered([violation(None, "attributeDefinitions", NOT_NULL),
                              violation("abc;", "tableName", TABLE_PATTERN),
                              violation(None, "keySchema", NOT_NULL)])),
        validation("empty AttributeDefinitions", CREATE,
                   {"TableName": "abc", "AttributeDefinitions": []},
                   aggregated(violation(None, "keySchema", NOT_NULL))),
        validation("empty ProvisionedThroughput", CREATE,
                   {"TableName": "abc", "AttributeDefinitions": [], "ProvisionedThroughput": {},
                    "BillingMode": "PAY_PER_REQUEST"},
                   Unordered([violation(None, "provisionedThroughput.writeCapacityUnits",
                                        NOT_NULL),
                              violation(None, "provisionedThroughput.readCapacityUnits",
                                        NOT_NULL),
                              violation(None, "keySchema", NOT_NULL)])),
        validation("low throughput and a bad BillingMode", CREATE,
                   {"TableName": "abc", "AttributeDefinitions": [], "KeySchema": [],
                    "ProvisionedThroughput": {"ReadCapacityUnits": -1,
                                              "WriteCapacityUnits": -1},
                    "BillingMode": "A"},
                   Unordered([violation("A", "billingMode", BILLING_ENUM),
                              violation("-1", "provisionedThroughput.writeCapacityUnits",
                                        MIN_VALUE1),
                              violation("-1", "provisionedThroughput.readCapacityUnits",
                                        MIN_VALUE1),
                              violation("[]", "keySchema", MIN1)])),
        validation("empty BillingMode", CREATE, table(BillingMode=""),
                   aggregated(violation("", "billingMode", BILLING_ENUM)), source="catalogue"),
        validation("empty KeySchema", CREATE, table(KeySchema=[]),
                   aggregated(violation("[]", "keySchema", MIN1)), source="catalogue"),
        validation("empty KeySchema entry", CREATE, table(KeySchema=[{}]),
                   aggregated(violation(None, "keySchema.1.member.attributeName", NOT_NULL),
                              violation(None, "keySchema.1.member.keyType", NOT_NULL)),
                   source="catalogue"),
        validation("empty AttributeDefinitions entry", CREATE,
                   table(AttributeDefinitions=[{}]),
                   aggregated(
                       violation(None, "attributeDefinitions.1.member.attributeType",
                                 NOT_NULL),
                       violation(None, "attributeDefinitions.1.member.attributeName",
                                 NOT_NULL)),
                   source="catalogue"),
        validation("SS as an attribute type", CREATE,
                   provisioned(AttributeDefinitions=[{"AttributeName": "b",
                                                      "AttributeType": "SS"}],
                               KeySchema=[{"KeyType": "HASH", "AttributeName": "a"}]),
                   aggregated(violation("SS", "attributeDefinitions.1.member.attributeType",
                                        "Member must satisfy enum value set: [B, N, S]"))),
        validation("three key elements", CREATE,
                   table(KeySchema=[{"KeyType": "HASH"}, {"AttributeName": "a"},
                                    {"KeyType": "Woop", "AttributeName": "a"}]),
                   Regex(r"^4 validation errors detected: ")),
        validation("empty StreamViewType", CREATE,
                   table(StreamSpecification={"StreamEnabled": True, "StreamViewType": ""}),
                   aggregated(violation("", "streamSpecification.streamViewType",
                                        "Member must satisfy enum value set: [OLD_IMAGE, "
                                        "KEYS_ONLY, NEW_AND_OLD_IMAGES, NEW_IMAGE]")),
                   source="catalogue"),
        validation("empty KMS key id", CREATE,
                   table(SSESpecification={"Enabled": True, "KMSMasterKeyId": ""}),
                   aggregated(violation("", "sSESpecification.kMSMasterKeyId", MIN1)),
                   source="catalogue"),
        validation("empty GSI name", CREATE,
                   table(AttributeDefinitions=TWO_KEYS,
                         GlobalSecondaryIndexes=[{
                             "IndexName": "", "Projection": {"ProjectionType": "ALL"},
                             "KeySchema": [{"AttributeName": "b", "KeyType": "HASH"}]}]),
                   aggregated(
                       violation("", "globalSecondaryIndexes.1.member.indexName", MIN3),
                       violation("", "globalSecondaryIndexes.1.member.indexName",
                                 TABLE_PATTERN)),
                   source="catalogue"),
        validation("empty GSI projection", CREATE,
                   table(AttributeDefinitions=TWO_KEYS,
                         GlobalSecondaryIndexes=[{
                             "IndexName": "gsi", "Projection": {},
                             "KeySchema": [{"AttributeName": "b", "KeyType": "HASH"}]}]),
                   INVALID + "Unknown ProjectionType: null", source="catalogue"),
        validation("ten LSIs without members: the first ten violations", CREATE,
                   provisioned(AttributeDefinitions=TWO_KEYS, KeySchema=HASH_RANGE,
                               LocalSecondaryIndexes=[{}] * 9),
                   Regex(r"^10 validation errors detected: (Value null at "
                         r"'localSecondaryIndexes\.[1-4]\.member\.(indexName|keySchema|"
                         r"projection)' failed to satisfy constraint: Member must not be "
                         r"null(; |$)){10}")),
        # CreateTable's own checks, in DynamoDB's order.
        validation("provisioned without throughput", CREATE,
                   {"TableName": "abc", "AttributeDefinitions": [],
                    "KeySchema": [{"KeyType": "HASH", "AttributeName": "a"}]},
                   INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified "
                             "when BillingMode is PROVISIONED"),
        validation("on-demand with throughput", CREATE,
                   {"TableName": "abc", "AttributeDefinitions": [],
                    "KeySchema": [{"KeyType": "HASH", "AttributeName": "a"},
                                  {"KeyType": "HASH", "AttributeName": "a"}],
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                    "BillingMode": "PAY_PER_REQUEST"},
                   INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                             "when BillingMode is PAY_PER_REQUEST"),
        validation("undefined key attributes, two keys", CREATE,
                   provisioned(AttributeDefinitions=[],
                               KeySchema=[{"KeyType": "HASH", "AttributeName": "a"},
                                          {"KeyType": "HASH", "AttributeName": "a"}]),
                   "Invalid KeySchema: Some index key attribute have no definition"),
        validation("undefined key attribute, on demand", CREATE,
                   {"TableName": "abc", "AttributeDefinitions": [],
                    "KeySchema": [{"KeyType": "HASH", "AttributeName": "a"}],
                    "BillingMode": "PAY_PER_REQUEST"},
                   "Invalid KeySchema: Some index key attribute have no definition"),
        validation("undefined key attribute", CREATE,
                   provisioned(AttributeDefinitions=[{"AttributeName": "b",
                                                      "AttributeType": "S"}],
                               KeySchema=[{"KeyType": "HASH", "AttributeName": "a"}]),
                   INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
                             "Keys: [a], AttributeDefinitions: [b]"),
        validation("hash and range of one name", CREATE,
                   provisioned(AttributeDefinitions=TWO_KEYS,
                               KeySchema=[{"KeyType": "HASH", "AttributeName": "a"},
                                          {"KeyType": "HASH", "AttributeName": "a"}]),
                   "Both the Hash Key and the Range Key element in the KeySchema have the "
                   "same name"),
        validation("second key not RANGE", CREATE,
                   provisioned(AttributeDefinitions=TWO_KEYS,
                               KeySchema=[{"KeyType": "HASH", "AttributeName": "a"},
                                          {"KeyType": "HASH", "AttributeName": "b"}]),
                   "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"),
        validation("first key not HASH", CREATE,
                   provisioned(AttributeDefinitions=TWO_KEYS,
                               KeySchema=[{"KeyType": "RANGE", "AttributeName": "a"},
                                          {"KeyType": "HASH", "AttributeName": "b"}]),
                   "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
        validation("an unused attribute definition", CREATE,
                   provisioned(AttributeDefinitions=TWO_KEYS,
                               KeySchema=[{"KeyType": "HASH", "AttributeName": "a"}]),
                   INVALID + "Number of attributes in KeySchema does not exactly match number "
                             "of attributes defined in AttributeDefinitions"),
        validation("LSI without a table range key", CREATE,
                   provisioned(AttributeDefinitions=TWO_KEYS,
                               KeySchema=[{"KeyType": "HASH", "AttributeName": "a"}],
                               LocalSecondaryIndexes=[{
                                   "IndexName": "abc", "Projection": {},
                                   "KeySchema": [{"AttributeName": "c", "KeyType": "RANGE"}]}]),
                   INVALID + "Table KeySchema does not have a range key, which is required "
                             "when specifying a LocalSecondaryIndex"),
        validation("LSI first key not HASH", CREATE,
                   provisioned(AttributeDefinitions=TWO_KEYS, KeySchema=HASH_RANGE,
                               LocalSecondaryIndexes=[{
                                   "IndexName": "abc", "Projection": {},
                                   "KeySchema": [{"AttributeName": "a", "KeyType": "RANGE"}]}]),
                   "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
        case("an existing table", CREATE,
             table(TableName="{hash}"), "com.amazonaws.dynamodb.v20120810#ResourceInUseException",
             "Table already exists: {hash}", source="moto"),
    ]
)

UPDATE = "UpdateTable"
UPDATE_CASES = (
    type_cases(UPDATE, "TableName", "String", limit=2)
    + type_cases(UPDATE, "ProvisionedThroughput", "FieldStruct<ProvisionedThroughput>",
                 limit=5)[-2:]
    + type_cases(UPDATE, "ProvisionedThroughput.ReadCapacityUnits", "Long", limit=2)
    + type_cases(UPDATE, "GlobalSecondaryIndexUpdates", "List", limit=2)
    + type_cases(UPDATE, "GlobalSecondaryIndexUpdates.0",
                 "ValueStruct<GlobalSecondaryIndexUpdate>", limit=5)[-2:]
    + type_cases(UPDATE, "BillingMode", "String", limit=1)
    + [
        validation("empty TableName", UPDATE, {"TableName": ""},
                   aggregated(violation("", "tableName", MIN3),
                              violation("", "tableName", TABLE_PATTERN)),
                   source="catalogue"),
        validation("no TableName", UPDATE, {},
                   aggregated(violation(None, "tableName", NOT_NULL))),
        validation("empty throughput", UPDATE,
                   {"TableName": "abc", "ProvisionedThroughput": {}},
                   aggregated(
                       violation(None, "provisionedThroughput.writeCapacityUnits", NOT_NULL),
                       violation(None, "provisionedThroughput.readCapacityUnits", NOT_NULL)),
                   source="catalogue"),
        validation("empty AttributeDefinitions entry", UPDATE,
                   {"TableName": "abc", "AttributeDefinitions": [{}],
                    "DeletionProtectionEnabled": True},
                   aggregated(
                       violation(None, "attributeDefinitions.1.member.attributeType",
                                 NOT_NULL),
                       violation(None, "attributeDefinitions.1.member.attributeName",
                                 NOT_NULL)),
                   source="catalogue"),
        validation("empty attribute type", UPDATE,
                   {"TableName": "abc", "DeletionProtectionEnabled": True,
                    "AttributeDefinitions": [{"AttributeName": "x", "AttributeType": ""}]},
                   aggregated(violation("", "attributeDefinitions.1.member.attributeType",
                                        "Member must satisfy enum value set: [B, N, S]")),
                   source="catalogue"),
        validation("empty GSI create name", UPDATE,
                   {"TableName": "abc", "GlobalSecondaryIndexUpdates": [{"Create": {
                       "IndexName": "", "Projection": {"ProjectionType": "ALL"},
                       "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}]}}]},
                   aggregated(
                       violation("", "globalSecondaryIndexUpdates.1.member.create.indexName",
                                 MIN3),
                       violation("", "globalSecondaryIndexUpdates.1.member.create.indexName",
                                 TABLE_PATTERN)),
                   source="catalogue"),
        validation("empty GSI update throughput", UPDATE,
                   {"TableName": "abc", "GlobalSecondaryIndexUpdates": [{"Update": {
                       "IndexName": "gsi", "ProvisionedThroughput": {}}}]},
                   Regex(r"^2 validation errors detected: Value null at "
                         r"'globalSecondaryIndexUpdates\.1\.member\.update\."
                         r"provisionedThroughput\.writeCapacityUnits' failed to satisfy "
                         r"constraint: Member must not be null; Value null at "
                         r"'globalSecondaryIndexUpdates\.1\.member\.update\."
                         r"provisionedThroughput\.readCapacityUnits'")),
        validation("empty StreamViewType", UPDATE,
                   {"TableName": "abc",
                    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": ""}},
                   aggregated(violation("", "streamSpecification.streamViewType",
                                        "Member must satisfy enum value set: [OLD_IMAGE, "
                                        "KEYS_ONLY, NEW_AND_OLD_IMAGES, NEW_IMAGE]")),
                   source="catalogue"),
        validation("empty KMS key id", UPDATE,
                   {"TableName": "abc", "SSESpecification": {"KMSMasterKeyId": ""}},
                   aggregated(violation("", "sSESpecification.kMSMasterKeyId", MIN1)),
                   source="catalogue"),
        case("missing table", UPDATE,
             {"TableName": "{missing}", "BillingMode": "PAY_PER_REQUEST"},
             NOT_FOUND, Regex(r"^Requested resource not found")),
    ]
)

DESCRIBE = "DescribeTable"
DELETE = "DeleteTable"
NAME_CASES = (
    type_cases(DESCRIBE, "TableName", "String", limit=3)
    + type_cases(DELETE, "TableName", "String", limit=3)
    + [
        validation("empty TableName", DESCRIBE, {"TableName": ""},
                   aggregated(violation("", "tableName", MIN3),
                              violation("", "tableName", TABLE_PATTERN)),
                   source="catalogue"),
        validation("no TableName", DESCRIBE, {},
                   aggregated(violation(None, "tableName", NOT_NULL))),
        validation("long TableName", DELETE, {"TableName": "a" * 256},
                   aggregated(violation("a" * 256, "tableName", MAX255))),
        case("missing table", DESCRIBE, {"TableName": "{missing}"}, NOT_FOUND,
             "Requested resource not found: Table: {missing} not found", source="moto"),
        case("missing table", DELETE, {"TableName": "{missing}"}, NOT_FOUND,
             "Requested resource not found: Table: {missing} not found", source="moto"),
    ]
)

TAG = "TagResource"
UNTAG = "UntagResource"
LIST_TAGS = "ListTagsOfResource"
ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/"
TAG_CASES = (
    type_cases(TAG, "ResourceArn", "String", limit=3)
    + type_cases(TAG, "Tags", "List", limit=5)[::2]
    + type_cases(TAG, "Tags.0", "ValueStruct<Tag>")
    + type_cases(TAG, "Tags.0.Key", "String", limit=2)
    + type_cases(TAG, "Tags.0.Value", "String", limit=2)
    + type_cases(UNTAG, "ResourceArn", "String", limit=2)
    + type_cases(UNTAG, "TagKeys", "List", limit=2)
    + type_cases(UNTAG, "TagKeys.0", "String", limit=3)
    + type_cases(LIST_TAGS, "ResourceArn", "String", limit=3)
    + [
        validation("no ResourceArn", TAG, {}, "Invalid TableArn"),
        validation("no ResourceArn", UNTAG, {}, "Invalid TableArn"),
        validation("no ResourceArn", LIST_TAGS, {}, "Invalid TableArn"),
        validation("no Tags", TAG, {"ResourceArn": ARN + "{hash}"},
                   aggregated(violation(None, "tags", NOT_NULL))),
        validation("no TagKeys", UNTAG, {"ResourceArn": ARN + "{hash}"},
                   aggregated(violation(None, "tagKeys", NOT_NULL))),
        validation("an empty tag", TAG, {"ResourceArn": ARN + "{hash}", "Tags": [{}]},
                   "The Tag Key provided is invalid, Key: null", source="catalogue"),
        validation("a tag with a key only", TAG,
                   {"ResourceArn": ARN + "{hash}", "Tags": [{"Key": "k"}]},
                   "The Tag Value provided is invalid, Value: null", source="catalogue"),
        validation("a tag with a value only", TAG,
                   {"ResourceArn": ARN + "{hash}", "Tags": [{"Value": "v"}]},
                   "The Tag Key provided is invalid, Key: null", source="catalogue"),
        validation("an empty tag key", UNTAG,
                   {"ResourceArn": ARN + "{hash}", "TagKeys": [""]},
                   "The Tag Key provided is invalid, Key: ", source="catalogue"),
        validation("no tags", TAG, {"ResourceArn": ARN + "{hash}", "Tags": []},
                   "Atleast one Tag needs to be provided as Input."),
        validation("no tag keys", UNTAG, {"ResourceArn": ARN + "{hash}", "TagKeys": []},
                   "Atleast one Tag Key needs to be provided as Input.", source="catalogue"),
        validation("a short table name in the ARN", LIST_TAGS,
                   {"ResourceArn": ARN + "ab"},
                   "Invalid TableArn: Invalid ResourceArn provided as input " + ARN + "ab"),
        case("an ARN naming no table", LIST_TAGS, {"ResourceArn": ARN + "{missing}"},
             NOT_FOUND, "Requested resource not found: ResourceArn: " + ARN + "{missing} "
                        "not found", source="eddy"),
    ]
)

TTL = "UpdateTimeToLive"
DESCRIBE_TTL = "DescribeTimeToLive"
TTL_CASES = (
    type_cases(TTL, "TableName", "String", limit=3)
    + type_cases(TTL, "TimeToLiveSpecification", "FieldStruct<TimeToLiveSpecification>")
    + type_cases(TTL, "TimeToLiveSpecification.AttributeName", "String", limit=3)
    + type_cases(TTL, "TimeToLiveSpecification.Enabled", "Boolean")
    + type_cases(DESCRIBE_TTL, "TableName", "String", limit=3)
    + [
        validation("no TableName", TTL, {}, REQUIRED_NAME),
        validation("empty TableName", TTL, {"TableName": ""}, PRECHECK_NAME),
        validation("short TableName", TTL, {"TableName": "a;"}, PRECHECK_NAME),
        validation("long TableName", TTL, {"TableName": "a" * 256}, PRECHECK_NAME),
        validation("invalid characters", TTL, {"TableName": "abc;"},
                   Unordered([violation("abc;", "tableName", TABLE_PATTERN),
                              violation(None, "timeToLiveSpecification", NOT_NULL)])),
        validation("empty specification", TTL,
                   {"TableName": "abc", "TimeToLiveSpecification": {}},
                   aggregated(
                       violation(None, "timeToLiveSpecification.attributeName", NOT_NULL),
                       violation(None, "timeToLiveSpecification.enabled", NOT_NULL)),
                   source="catalogue"),
        validation("attribute name only", TTL,
                   {"TableName": "abc", "TimeToLiveSpecification": {"AttributeName": "a"}},
                   aggregated(violation(None, "timeToLiveSpecification.enabled", NOT_NULL)),
                   source="catalogue"),
        validation("Enabled only", TTL,
                   {"TableName": "abc", "TimeToLiveSpecification": {"Enabled": True}},
                   aggregated(violation(None, "timeToLiveSpecification.attributeName",
                                        NOT_NULL)),
                   source="catalogue"),
        validation("empty attribute name", TTL,
                   {"TableName": "abc",
                    "TimeToLiveSpecification": {"AttributeName": "", "Enabled": True}},
                   aggregated(violation("", "timeToLiveSpecification.attributeName", MIN1)),
                   source="catalogue"),
        case("missing table", TTL,
             {"TableName": "{missing}",
              "TimeToLiveSpecification": {"AttributeName": "id", "Enabled": True}},
             NOT_FOUND, "Requested resource not found: Table: {missing} not found"),
        validation("disabling TTL that is not enabled", TTL,
                   {"TableName": "{hash}",
                    "TimeToLiveSpecification": {"AttributeName": "a", "Enabled": False}},
                   "TimeToLive is already disabled"),
        validation("no TableName", DESCRIBE_TTL, {}, REQUIRED_NAME),
        validation("empty TableName", DESCRIBE_TTL, {"TableName": ""}, PRECHECK_NAME),
        validation("long TableName", DESCRIBE_TTL, {"TableName": "a" * 256}, PRECHECK_NAME),
        validation("invalid characters", DESCRIBE_TTL, {"TableName": "abc;"},
                   aggregated(violation("abc;", "tableName", TABLE_PATTERN))),
        case("missing table", DESCRIBE_TTL, {"TableName": "{missing}"}, NOT_FOUND,
             "Requested resource not found: Table: {missing} not found"),
    ]
)


class CreateTableValidationTest(ValidationCase):
    CASES = CREATE_CASES


class UpdateTableValidationTest(ValidationCase):
    CASES = UPDATE_CASES


class TableNameValidationTest(ValidationCase):
    CASES = NAME_CASES


class TagValidationTest(ValidationCase):
    CASES = TAG_CASES


class TimeToLiveValidationTest(ValidationCase):
    CASES = TTL_CASES


if __name__ == "__main__":
    unittest.main()
