// The request schemas of the DynamoDB operations: members in the model's
// order (which decides ties in DynamoDB's HashMap order), JSON shapes, and
// constraints with DynamoDB's texts. Sources: the DynamoDB API reference
// (constraints), dynalite's test suite and an AWS-verified catalogue of
// DynamoDB's answers (texts, member paths, constraint order within a
// member: TableName and IndexName report length before pattern,
// ExclusiveStartTableName pattern before length).
#include <map>

#include "api/request_schema.h"

namespace eddy::runtime::api {
namespace {

using Kind = Shape::Kind;
using Member = Shape::Member;
using Constraint = Shape::Constraint;
using CType = Constraint::Type;

Constraint MinLen(int64_t n) { return {CType::kMinLength, n, {}, {}}; }
Constraint MaxLen(int64_t n) { return {CType::kMaxLength, n, {}, {}}; }
Constraint MinVal(int64_t n) { return {CType::kMinValue, n, {}, {}}; }
Constraint MaxVal(int64_t n) { return {CType::kMaxValue, n, {}, {}}; }
Constraint NamePattern() { return {CType::kTableNamePattern, 0, {}, {}}; }
Constraint Enum(std::vector<std::string> values) {
  return {CType::kEnum, 0, std::move(values), {}};
}

Member M(std::string name, const Shape* shape,
         std::vector<Constraint> constraints = {}, bool required = false) {
  Member m;
  m.name = std::move(name);
  m.shape = shape;
  m.constraints = std::move(constraints);
  m.required = required;
  return m;
}
Member Required(std::string name, const Shape* shape,
                std::vector<Constraint> constraints = {}) {
  return M(std::move(name), shape, std::move(constraints), true);
}

// Table and index names: 3..255 characters of [a-zA-Z0-9_.-].
std::vector<Constraint> NameRules() {
  return {MinLen(3), MaxLen(255), NamePattern()};
}

const std::vector<std::string> kComparisonOperators = {
    "IN", "NULL", "BETWEEN",     "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL",
    "NE", "LE",   "BEGINS_WITH", "GE", "CONTAINS"};
const std::vector<std::string> kReturnConsumedCapacity = {"INDEXES", "TOTAL",
                                                          "NONE"};
const std::vector<std::string> kReturnValues = {
    "ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"};
const std::vector<std::string> kReturnItemCollectionMetrics = {"SIZE", "NONE"};
const std::vector<std::string> kConditionalOperator = {"OR", "AND"};
const std::vector<std::string> kReturnValuesOnConditionCheckFailure = {
    "ALL_OLD", "NONE"};
const std::vector<std::string> kSelect = {"SPECIFIC_ATTRIBUTES", "COUNT",
                                          "ALL_ATTRIBUTES",
                                          "ALL_PROJECTED_ATTRIBUTES"};

// Builds the schemas; shapes shared by several operations are built once
// per schema so that each RequestSchema owns its whole tree.
class Builder {
 public:
  const Shape* Keep(std::unique_ptr<Shape> shape) {
    shapes_.push_back(std::move(shape));
    return shapes_.back().get();
  }
  const Shape* String() { return Keep(Shape::Scalar(Kind::kString)); }
  const Shape* Boolean() { return Keep(Shape::Scalar(Kind::kBoolean)); }
  const Shape* Integer() { return Keep(Shape::Scalar(Kind::kInteger)); }
  const Shape* Long() { return Keep(Shape::Scalar(Kind::kLong)); }
  const Shape* Value() { return Keep(Shape::AttributeValue()); }
  const Shape* List(const Shape* element) { return Keep(Shape::List(element)); }
  const Shape* Map(const Shape* value, std::string value_type) {
    return Keep(Shape::Map(value, std::move(value_type)));
  }
  const Shape* Structure(std::string type, std::vector<Member> members) {
    return Keep(Shape::Structure(std::move(type), std::move(members)));
  }

  // Map<String, AttributeValue>: Item, Key, ExclusiveStartKey,
  // ExpressionAttributeValues.
  const Shape* ValueMap() {
    return Map(Value(), "com.amazonaws.dynamodb.v20120810.AttributeValue");
  }
  // ExpressionAttributeNames.
  const Shape* NameMap() { return Map(String(), "java.lang.String"); }
  const Shape* StringList() { return List(String()); }
  // QueryFilter, ScanFilter, KeyConditions.
  const Shape* ConditionMap() {
    const Shape* condition =
        Structure("Condition", {M("AttributeValueList", List(Value())),
                                Required("ComparisonOperator", String(),
                                         {Enum(kComparisonOperators)})});
    return Map(condition, "com.amazonaws.dynamodb.v20120810.Condition");
  }
  // Expected.
  const Shape* ExpectedMap() {
    const Shape* expected = Structure(
        "ExpectedAttributeValue",
        {M("Value", Value()), M("Exists", Boolean()),
         M("ComparisonOperator", String(), {Enum(kComparisonOperators)}),
         M("AttributeValueList", List(Value()))});
    return Map(expected,
               "com.amazonaws.dynamodb.v20120810.ExpectedAttributeValue");
  }
  const Shape* Throughput() {
    return Structure("ProvisionedThroughput",
                     {Required("ReadCapacityUnits", Long(), {MinVal(1)}),
                      Required("WriteCapacityUnits", Long(), {MinVal(1)})});
  }
  const Shape* KeySchema() {
    return List(Structure(
        "KeySchemaElement",
        {Required("AttributeName", String(), {MinLen(1), MaxLen(255)}),
         Required("KeyType", String(), {Enum({"HASH", "RANGE"})})}));
  }
  const Shape* Projection() {
    return Structure(
        "Projection",
        {M("ProjectionType", String(), {Enum({"ALL", "INCLUDE", "KEYS_ONLY"})}),
         M("NonKeyAttributes", StringList(), {MinLen(1), MaxLen(20)})});
  }
  const Shape* AttributeDefinitions() {
    return List(Structure(
        "AttributeDefinition",
        {Required("AttributeName", String(), {MinLen(1), MaxLen(255)}),
         Required("AttributeType", String(), {Enum({"B", "N", "S"})})}));
  }
  const Shape* StreamSpecification() {
    return Structure("StreamSpecification",
                     {Required("StreamEnabled", Boolean()),
                      M("StreamViewType", String(),
                        {Enum({"OLD_IMAGE", "KEYS_ONLY", "NEW_AND_OLD_IMAGES",
                               "NEW_IMAGE"})})});
  }
  const Shape* SseSpecification() {
    return Structure("SSESpecification",
                     {M("Enabled", Boolean()),
                      M("SSEType", String(), {Enum({"AES256", "KMS"})}),
                      M("KMSMasterKeyId", String(), {MinLen(1)})});
  }
  const Shape* OnDemandThroughput() {
    return Structure("OnDemandThroughput", {M("MaxReadRequestUnits", Long()),
                                            M("MaxWriteRequestUnits", Long())});
  }
  const Shape* WarmThroughput() {
    return Structure("WarmThroughput", {M("ReadUnitsPerSecond", Long()),
                                        M("WriteUnitsPerSecond", Long())});
  }
  // Tags: the keys and values are checked by the tag rules (TagResource's
  // texts, "The Tag Key provided is invalid, Key: null"), not here.
  const Shape* Tags() {
    return List(Structure("Tag", {M("Key", String()), M("Value", String())}));
  }

  std::unique_ptr<RequestSchema> Finish(const Shape* root,
                                        bool table_name_prechecks = false) {
    return std::make_unique<RequestSchema>(std::move(shapes_), root,
                                           table_name_prechecks);
  }

 private:
  std::vector<std::unique_ptr<Shape>> shapes_;
};

std::unique_ptr<RequestSchema> GetItemSchema() {
  Builder b;
  const Shape* root = b.Structure(
      "GetItemInput",
      {Required("TableName", b.String(), NameRules()),
       Required("Key", b.ValueMap()),
       M("AttributesToGet", b.StringList(), {MinLen(1)}),
       M("ConsistentRead", b.Boolean()),
       M("ReturnConsumedCapacity", b.String(), {Enum(kReturnConsumedCapacity)}),
       M("ProjectionExpression", b.String()),
       M("ExpressionAttributeNames", b.NameMap())});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> PutItemSchema() {
  Builder b;
  const Shape* root = b.Structure(
      "PutItemInput",
      {Required("TableName", b.String(), NameRules()),
       Required("Item", b.ValueMap()), M("Expected", b.ExpectedMap()),
       M("ReturnValues", b.String(), {Enum(kReturnValues)}),
       M("ReturnConsumedCapacity", b.String(), {Enum(kReturnConsumedCapacity)}),
       M("ReturnItemCollectionMetrics", b.String(),
         {Enum(kReturnItemCollectionMetrics)}),
       M("ConditionalOperator", b.String(), {Enum(kConditionalOperator)}),
       M("ConditionExpression", b.String()),
       M("ExpressionAttributeNames", b.NameMap()),
       M("ExpressionAttributeValues", b.ValueMap()),
       M("ReturnValuesOnConditionCheckFailure", b.String(),
         {Enum(kReturnValuesOnConditionCheckFailure)})});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> DeleteItemSchema() {
  Builder b;
  const Shape* root = b.Structure(
      "DeleteItemInput",
      {Required("TableName", b.String(), NameRules()),
       Required("Key", b.ValueMap()), M("Expected", b.ExpectedMap()),
       M("ConditionalOperator", b.String(), {Enum(kConditionalOperator)}),
       M("ReturnValues", b.String(), {Enum(kReturnValues)}),
       M("ReturnConsumedCapacity", b.String(), {Enum(kReturnConsumedCapacity)}),
       M("ReturnItemCollectionMetrics", b.String(),
         {Enum(kReturnItemCollectionMetrics)}),
       M("ConditionExpression", b.String()),
       M("ExpressionAttributeNames", b.NameMap()),
       M("ExpressionAttributeValues", b.ValueMap()),
       M("ReturnValuesOnConditionCheckFailure", b.String(),
         {Enum(kReturnValuesOnConditionCheckFailure)})});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> UpdateItemSchema() {
  Builder b;
  const Shape* update =
      b.Structure("AttributeValueUpdate",
                  {M("Value", b.Value()),
                   M("Action", b.String(), {Enum({"ADD", "PUT", "DELETE"})})});
  const Shape* root = b.Structure(
      "UpdateItemInput",
      {Required("TableName", b.String(), NameRules()),
       Required("Key", b.ValueMap()),
       M("AttributeUpdates",
         b.Map(update,
               "com.amazonaws.dynamodb.v20120810.AttributeValueUpdate")),
       M("Expected", b.ExpectedMap()),
       M("ConditionalOperator", b.String(), {Enum(kConditionalOperator)}),
       M("ReturnValues", b.String(), {Enum(kReturnValues)}),
       M("ReturnConsumedCapacity", b.String(), {Enum(kReturnConsumedCapacity)}),
       M("ReturnItemCollectionMetrics", b.String(),
         {Enum(kReturnItemCollectionMetrics)}),
       M("UpdateExpression", b.String()), M("ConditionExpression", b.String()),
       M("ExpressionAttributeNames", b.NameMap()),
       M("ExpressionAttributeValues", b.ValueMap()),
       M("ReturnValuesOnConditionCheckFailure", b.String(),
         {Enum(kReturnValuesOnConditionCheckFailure)})});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> QuerySchema() {
  Builder b;
  // ReturnConsumedCapacity shares QueryFilter's HashMap slot; DynamoDB
  // reports it first (recorded), so it is inserted first.
  const Shape* root = b.Structure(
      "QueryInput",
      {Required("TableName", b.String(), NameRules()),
       M("IndexName", b.String(), NameRules()),
       M("Select", b.String(), {Enum(kSelect)}),
       M("AttributesToGet", b.StringList(), {MinLen(1)}),
       M("Limit", b.Integer(), {MinVal(1)}), M("ConsistentRead", b.Boolean()),
       M("KeyConditions", b.ConditionMap()),
       M("ReturnConsumedCapacity", b.String(), {Enum(kReturnConsumedCapacity)}),
       M("QueryFilter", b.ConditionMap()),
       M("ConditionalOperator", b.String(), {Enum(kConditionalOperator)}),
       M("ScanIndexForward", b.Boolean()), M("ExclusiveStartKey", b.ValueMap()),
       M("ProjectionExpression", b.String()), M("FilterExpression", b.String()),
       M("KeyConditionExpression", b.String()),
       M("ExpressionAttributeNames", b.NameMap()),
       M("ExpressionAttributeValues", b.ValueMap())});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> ScanSchema() {
  Builder b;
  const Shape* root = b.Structure(
      "ScanInput",
      {Required("TableName", b.String(), NameRules()),
       M("IndexName", b.String(), NameRules()),
       M("AttributesToGet", b.StringList(), {MinLen(1)}),
       M("Limit", b.Integer(), {MinVal(1)}),
       M("Select", b.String(), {Enum(kSelect)}),
       M("ScanFilter", b.ConditionMap()),
       M("ConditionalOperator", b.String(), {Enum(kConditionalOperator)}),
       M("ExclusiveStartKey", b.ValueMap()),
       M("ReturnConsumedCapacity", b.String(), {Enum(kReturnConsumedCapacity)}),
       M("TotalSegments", b.Integer(), {MinVal(1), MaxVal(1000000)}),
       M("Segment", b.Integer(), {MinVal(0), MaxVal(999999)}),
       M("ProjectionExpression", b.String()), M("FilterExpression", b.String()),
       M("ExpressionAttributeNames", b.NameMap()),
       M("ExpressionAttributeValues", b.ValueMap()),
       M("ConsistentRead", b.Boolean())});
  return b.Finish(root);
}

std::vector<Constraint> RequestItemsKeys() {
  Constraint keys{
      CType::kMapKeys, 0, {}, {MaxLen(255), MinLen(3), NamePattern()}};
  return {MinLen(1), keys};
}

std::unique_ptr<RequestSchema> BatchGetItemSchema() {
  Builder b;
  const Shape* keys_and_attributes = b.Structure(
      "KeysAndAttributes",
      {Required("Keys", b.List(b.ValueMap()), {MinLen(1), MaxLen(100)}),
       M("AttributesToGet", b.StringList(), {MinLen(1)}),
       M("ConsistentRead", b.Boolean()), M("ProjectionExpression", b.String()),
       M("ExpressionAttributeNames", b.NameMap())});
  const Shape* root = b.Structure(
      "BatchGetItemInput",
      {Required("RequestItems",
                b.Map(keys_and_attributes,
                      "com.amazonaws.dynamodb.v20120810.KeysAndAttributes"),
                RequestItemsKeys()),
       M("ReturnConsumedCapacity", b.String(),
         {Enum(kReturnConsumedCapacity)})});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> BatchWriteItemSchema() {
  Builder b;
  const Shape* write_request = b.Structure(
      "WriteRequest",
      {M("PutRequest",
         b.Structure("PutRequest", {Required("Item", b.ValueMap())})),
       M("DeleteRequest",
         b.Structure("DeleteRequest", {Required("Key", b.ValueMap())}))});
  std::vector<Constraint> rules = RequestItemsKeys();
  rules.push_back({CType::kMapValues, 0, {}, {MaxLen(25), MinLen(1)}});
  const Shape* root = b.Structure(
      "BatchWriteItemInput",
      {Required("RequestItems",
                b.Map(b.List(write_request),
                      "java.util.List<com.amazonaws.dynamodb.v20120810."
                      "WriteRequest>"),
                std::move(rules)),
       M("ReturnConsumedCapacity", b.String(), {Enum(kReturnConsumedCapacity)}),
       M("ReturnItemCollectionMetrics", b.String(),
         {Enum(kReturnItemCollectionMetrics)})});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> CreateTableSchema() {
  Builder b;
  const Shape* local_index =
      b.Structure("LocalSecondaryIndex",
                  {Required("IndexName", b.String(), NameRules()),
                   Required("KeySchema", b.KeySchema(), {MinLen(1), MaxLen(2)}),
                   Required("Projection", b.Projection())});
  const Shape* global_index =
      b.Structure("GlobalSecondaryIndex",
                  {Required("IndexName", b.String(), NameRules()),
                   Required("KeySchema", b.KeySchema(), {MinLen(1), MaxLen(2)}),
                   Required("Projection", b.Projection()),
                   M("ProvisionedThroughput", b.Throughput()),
                   M("OnDemandThroughput", b.OnDemandThroughput()),
                   M("WarmThroughput", b.WarmThroughput())});
  // Every member of today's model is listed (unsupported ones too): their
  // number sizes DynamoDB's HashMap and so decides its order. The
  // table-name pre-checks come first (dynalite's record).
  const Shape* root = b.Structure(
      "CreateTableInput",
      {Required("AttributeDefinitions", b.AttributeDefinitions()),
       M("TableName", b.String(), {NamePattern()}),
       Required("KeySchema", b.KeySchema(), {MinLen(1), MaxLen(2)}),
       M("LocalSecondaryIndexes", b.List(local_index)),
       M("GlobalSecondaryIndexes", b.List(global_index)),
       M("BillingMode", b.String(), {Enum({"PROVISIONED", "PAY_PER_REQUEST"})}),
       M("ProvisionedThroughput", b.Throughput()),
       M("StreamSpecification", b.StreamSpecification()),
       M("SSESpecification", b.SseSpecification()), M("Tags", b.Tags()),
       M("TableClass", b.String(),
         {Enum({"STANDARD", "STANDARD_INFREQUENT_ACCESS"})}),
       M("DeletionProtectionEnabled", b.Boolean()),
       M("WarmThroughput", b.WarmThroughput()), M("ResourcePolicy", b.String()),
       M("OnDemandThroughput", b.OnDemandThroughput())});
  return b.Finish(root, /*table_name_prechecks=*/true);
}

std::unique_ptr<RequestSchema> UpdateTableSchema() {
  Builder b;
  const Shape* index_update = b.Structure(
      "GlobalSecondaryIndexUpdate",
      {M("Update", b.Structure("UpdateGlobalSecondaryIndexAction",
                               {Required("IndexName", b.String(), NameRules()),
                                M("ProvisionedThroughput", b.Throughput())})),
       M("Create", b.Structure("CreateGlobalSecondaryIndexAction",
                               {Required("IndexName", b.String(), NameRules()),
                                Required("KeySchema", b.KeySchema(),
                                         {MinLen(1), MaxLen(2)}),
                                Required("Projection", b.Projection()),
                                M("ProvisionedThroughput", b.Throughput())})),
       M("Delete",
         b.Structure("DeleteGlobalSecondaryIndexAction",
                     {Required("IndexName", b.String(), NameRules())}))});
  const Shape* root = b.Structure(
      "UpdateTableInput",
      {Required("TableName", b.String(), NameRules()),
       M("AttributeDefinitions", b.AttributeDefinitions()),
       M("BillingMode", b.String(), {Enum({"PROVISIONED", "PAY_PER_REQUEST"})}),
       M("ProvisionedThroughput", b.Throughput()),
       M("GlobalSecondaryIndexUpdates", b.List(index_update)),
       M("StreamSpecification", b.StreamSpecification()),
       M("SSESpecification", b.SseSpecification()),
       M("ReplicaUpdates", b.List(b.Structure("ReplicationGroupUpdate", {}))),
       M("TableClass", b.String(),
         {Enum({"STANDARD", "STANDARD_INFREQUENT_ACCESS"})}),
       M("DeletionProtectionEnabled", b.Boolean()),
       M("MultiRegionConsistency", b.String(), {Enum({"EVENTUAL", "STRONG"})}),
       M("GlobalTableWitnessUpdates",
         b.List(b.Structure("GlobalTableWitnessGroupUpdate", {}))),
       M("OnDemandThroughput", b.OnDemandThroughput()),
       M("WarmThroughput", b.WarmThroughput())});
  return b.Finish(root);
}

// DescribeTable and DeleteTable: {TableName}.
std::unique_ptr<RequestSchema> TableNameSchema(const char* type) {
  Builder b;
  const Shape* root =
      b.Structure(type, {Required("TableName", b.String(), NameRules())});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> ListTablesSchema() {
  Builder b;
  const Shape* root = b.Structure(
      "ListTablesInput", {M("ExclusiveStartTableName", b.String(),
                            {NamePattern(), MinLen(3), MaxLen(255)}),
                          M("Limit", b.Integer(), {MinVal(1), MaxVal(100)})});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> UpdateTimeToLiveSchema() {
  Builder b;
  const Shape* spec = b.Structure(
      "TimeToLiveSpecification",
      {Required("AttributeName", b.String(), {MinLen(1), MaxLen(255)}),
       Required("Enabled", b.Boolean())});
  const Shape* root = b.Structure("UpdateTimeToLiveInput",
                                  {M("TableName", b.String(), {NamePattern()}),
                                   Required("TimeToLiveSpecification", spec)});
  return b.Finish(root, /*table_name_prechecks=*/true);
}

std::unique_ptr<RequestSchema> DescribeTimeToLiveSchema() {
  Builder b;
  const Shape* root = b.Structure(
      "DescribeTimeToLiveInput", {M("TableName", b.String(), {NamePattern()})});
  return b.Finish(root, /*table_name_prechecks=*/true);
}

// TagResource, UntagResource and ListTagsOfResource check ResourceArn and
// their lists themselves, with the tag APIs' own texts ("Invalid
// TableArn", "Atleast one Tag needs to be provided as Input.").
std::unique_ptr<RequestSchema> TagResourceSchema() {
  Builder b;
  const Shape* root = b.Structure(
      "TagResourceInput", {M("ResourceArn", b.String()), M("Tags", b.Tags())});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> UntagResourceSchema() {
  Builder b;
  const Shape* root =
      b.Structure("UntagResourceInput",
                  {M("ResourceArn", b.String()), M("TagKeys", b.StringList())});
  return b.Finish(root);
}

std::unique_ptr<RequestSchema> ListTagsOfResourceSchema() {
  Builder b;
  const Shape* root =
      b.Structure("ListTagsOfResourceInput",
                  {M("ResourceArn", b.String()), M("NextToken", b.String())});
  return b.Finish(root);
}

}  // namespace

const RequestSchema* RequestSchema::Find(std::string_view name) {
  static const auto* schemas = [] {
    auto* m = new std::map<std::string, std::unique_ptr<RequestSchema>,
                           std::less<>>();
    (*m)["GetItem"] = GetItemSchema();
    (*m)["PutItem"] = PutItemSchema();
    (*m)["DeleteItem"] = DeleteItemSchema();
    (*m)["UpdateItem"] = UpdateItemSchema();
    (*m)["Query"] = QuerySchema();
    (*m)["Scan"] = ScanSchema();
    (*m)["BatchGetItem"] = BatchGetItemSchema();
    (*m)["BatchWriteItem"] = BatchWriteItemSchema();
    (*m)["CreateTable"] = CreateTableSchema();
    (*m)["UpdateTable"] = UpdateTableSchema();
    (*m)["DescribeTable"] = TableNameSchema("DescribeTableInput");
    (*m)["DeleteTable"] = TableNameSchema("DeleteTableInput");
    (*m)["ListTables"] = ListTablesSchema();
    (*m)["UpdateTimeToLive"] = UpdateTimeToLiveSchema();
    (*m)["DescribeTimeToLive"] = DescribeTimeToLiveSchema();
    (*m)["TagResource"] = TagResourceSchema();
    (*m)["UntagResource"] = UntagResourceSchema();
    (*m)["ListTagsOfResource"] = ListTagsOfResourceSchema();
    return m;
  }();
  auto it = schemas->find(name);
  return it == schemas->end() ? nullptr : it->second.get();
}

}  // namespace eddy::runtime::api
