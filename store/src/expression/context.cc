// ExpressionContext, path helpers, DynamoDB's reserved words and the
// pieces every expression kind shares (errors, binding, overlap checks).

#include <algorithm>
#include <cassert>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/store/expression.h"
#include "expression/ast.h"
#include "expression/binder.h"
#include "expression/common.h"

namespace eddy::store {

std::string PathToString(const Path& path) {
  std::string out;
  for (const PathElement& element : path) {
    if (element.is_index) {
      out += '[';
      out += std::to_string(element.index);
      out += ']';
    } else {
      if (!out.empty()) out += '.';
      out += element.name;
    }
  }
  return out;
}

const AttributeValue* ResolvePath(const Item& item, const Path& path) {
  if (path.empty() || path[0].is_index) return nullptr;
  auto top = item.find(path[0].name);
  if (top == item.end()) return nullptr;
  const AttributeValue* current = &top->second;
  for (size_t i = 1; i < path.size(); ++i) {
    const PathElement& step = path[i];
    if (step.is_index) {
      if (current->type() != ValueType::kL) return nullptr;
      const AttributeList& list = current->list();
      if (step.index >= list.size()) return nullptr;
      current = &list[step.index];
    } else {
      if (current->type() != ValueType::kM) return nullptr;
      const AttributeMap& map = current->map();
      auto it = map.find(step.name);
      if (it == map.end()) return nullptr;
      current = &it->second;
    }
  }
  return current;
}

ExpressionContext::ExpressionContext(
    const std::map<std::string, std::string>* names, const AttributeMap* values)
    : names_(names), values_(values) {}

Result<std::string> ExpressionContext::ResolveName(
    std::string_view token, std::string_view expression_kind) {
  if (names_ != nullptr) {
    auto it = names_->find(std::string(token));
    if (it != names_->end()) {
      used_names_.emplace(token);
      return it->second;
    }
  }
  return expr::InvalidExpression(
      expression_kind,
      "An expression attribute name used in the document path is not "
      "defined; attribute name: " +
          std::string(token));
}

Result<const AttributeValue*> ExpressionContext::ResolveValue(
    std::string_view token, std::string_view expression_kind) {
  if (values_ != nullptr) {
    auto it = values_->find(token);
    if (it != values_->end()) {
      used_values_.emplace(token);
      return &it->second;
    }
  }
  return expr::InvalidExpression(
      expression_kind,
      "An expression attribute value used in expression is not defined; "
      "attribute value: " +
          std::string(token));
}

namespace {

// "{#a, #b}" of the keys of `map` missing from `used`.
template <typename Map>
std::string UnusedKeys(const Map& map,
                       const std::set<std::string, std::less<>>& used) {
  std::string keys;
  for (const auto& [key, unused_value] : map) {
    if (used.count(key) != 0) continue;
    if (!keys.empty()) keys += ", ";
    keys += key;
  }
  return keys;
}

}  // namespace

Status ExpressionContext::CheckAllUsed() const {
  if (names_ != nullptr) {
    std::string keys = UnusedKeys(*names_, used_names_);
    if (!keys.empty()) {
      return Status::InvalidArgument(
          "Value provided in ExpressionAttributeNames unused in expressions: "
          "keys: {" +
          keys + "}");
    }
  }
  if (values_ != nullptr) {
    std::string keys = UnusedKeys(*values_, used_values_);
    if (!keys.empty()) {
      return Status::InvalidArgument(
          "Value provided in ExpressionAttributeValues unused in expressions: "
          "keys: {" +
          keys + "}");
    }
  }
  return Status::OK();
}

namespace expr {

namespace {

// DynamoDB's reserved words, sorted and separated by single spaces; from the
// DynamoDB Developer Guide, "Reserved words in DynamoDB" (typos such as
// FLATTERN and INNTER are DynamoDB's own).
constexpr std::string_view kReservedWordList =
    "ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER "
    "ANALYZE AND ANY ARCHIVE ARE ARRAY AS ASC ASCII ASENSITIVE ASSERTION "
    "ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH AUTHORIZATION AUTHORIZE "
    "AUTO AVG BACK BACKUP BASE BATCH BEFORE BEGIN BETWEEN BIGINT BINARY BIT "
    "BLOB BLOCK BOOLEAN BOTH BREADTH BUCKET BULK BY BYTE CALL CALLED "
    "CALLING CAPACITY CASCADE CASCADED CASE CAST CATALOG CHAR CHARACTER "
    "CHECK CLASS CLOB CLOSE CLUSTER CLUSTERED CLUSTERING CLUSTERS COALESCE "
    "COLLATE COLLATION COLLECTION COLUMN COLUMNS COMBINE COMMENT COMMIT "
    "COMPACT COMPILE COMPRESS CONDITION CONFLICT CONNECT CONNECTION "
    "CONSISTENCY CONSISTENT CONSTRAINT CONSTRAINTS CONSTRUCTOR CONSUMED "
    "CONTINUE CONVERT COPY CORRESPONDING COUNT COUNTER CREATE CROSS CUBE "
    "CURRENT CURSOR CYCLE DATA DATABASE DATE DATETIME DAY DEALLOCATE DEC "
    "DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DEFINE DEFINED DEFINITION "
    "DELETE DELIMITED DEPTH DEREF DESC DESCRIBE DESCRIPTOR DETACH "
    "DETERMINISTIC DIAGNOSTICS DIRECTORIES DISABLE DISCONNECT DISTINCT "
    "DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION DYNAMIC EACH ELEMENT "
    "ELSE ELSEIF EMPTY ENABLE END EQUAL EQUALS ERROR ESCAPE ESCAPED EVAL "
    "EVALUATE EXCEEDED EXCEPT EXCEPTION EXCEPTIONS EXCLUSIVE EXEC EXECUTE "
    "EXISTS EXIT EXPLAIN EXPLODE EXPORT EXPRESSION EXTENDED EXTERNAL "
    "EXTRACT FAIL FALSE FAMILY FETCH FIELDS FILE FILTER FILTERING FINAL "
    "FINISH FIRST FIXED FLATTERN FLOAT FOR FORCE FOREIGN FORMAT FORWARD "
    "FOUND FREE FROM FULL FUNCTION FUNCTIONS GENERAL GENERATE GET GLOB "
    "GLOBAL GO GOTO GRANT GREATER GROUP GROUPING HANDLER HASH HAVE HAVING "
    "HEAP HIDDEN HOLD HOUR IDENTIFIED IDENTITY IF IGNORE IMMEDIATE IMPORT "
    "IN INCLUDING INCLUSIVE INCREMENT INCREMENTAL INDEX INDEXED INDEXES "
    "INDICATOR INFINITE INITIALLY INLINE INNER INNTER INOUT INPUT "
    "INSENSITIVE INSERT INSTEAD INT INTEGER INTERSECT INTERVAL INTO "
    "INVALIDATE IS ISOLATION ITEM ITEMS ITERATE JOIN KEY KEYS LAG LANGUAGE "
    "LARGE LAST LATERAL LEAD LEADING LEAVE LEFT LENGTH LESS LEVEL LIKE "
    "LIMIT LIMITED LINES LIST LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATION "
    "LOCATOR LOCK LOCKS LOG LOGED LONG LOOP LOWER MAP MATCH MATERIALIZED "
    "MAX MAXLEN MEMBER MERGE METHOD METRICS MIN MINUS MINUTE MISSING MOD "
    "MODE MODIFIES MODIFY MODULE MONTH MULTI MULTISET NAME NAMES NATIONAL "
    "NATURAL NCHAR NCLOB NEW NEXT NO NONE NOT NULL NULLIF NUMBER NUMERIC "
    "OBJECT OF OFFLINE OFFSET OLD ON ONLINE ONLY OPAQUE OPEN OPERATOR "
    "OPTION OR ORDER ORDINALITY OTHER OTHERS OUT OUTER OUTPUT OVER OVERLAPS "
    "OVERRIDE OWNER PAD PARALLEL PARAMETER PARAMETERS PARTIAL PARTITION "
    "PARTITIONED PARTITIONS PATH PERCENT PERCENTILE PERMISSION PERMISSIONS "
    "PIPE PIPELINED PLAN POOL POSITION PRECISION PREPARE PRESERVE PRIMARY "
    "PRIOR PRIVATE PRIVILEGES PROCEDURE PROCESSED PROJECT PROJECTION "
    "PROPERTY PROVISIONING PUBLIC PUT QUERY QUIT QUORUM RAISE RANDOM RANGE "
    "RANK RAW READ READS REAL REBUILD RECORD RECURSIVE REDUCE REF REFERENCE "
    "REFERENCES REFERENCING REGEXP REGION REINDEX RELATIVE RELEASE "
    "REMAINDER RENAME REPEAT REPLACE REQUEST RESET RESIGNAL RESOURCE "
    "RESPONSE RESTORE RESTRICT RESULT RETURN RETURNING RETURNS REVERSE "
    "REVOKE RIGHT ROLE ROLES ROLLBACK ROLLUP ROUTINE ROW ROWS RULE RULES "
    "SAMPLE SATISFIES SAVE SAVEPOINT SCAN SCHEMA SCOPE SCROLL SEARCH SECOND "
    "SECTION SEGMENT SEGMENTS SELECT SELF SEMI SENSITIVE SEPARATE SEQUENCE "
    "SERIALIZABLE SESSION SET SETS SHARD SHARE SHARED SHORT SHOW SIGNAL "
    "SIMILAR SIZE SKEWED SMALLINT SNAPSHOT SOME SOURCE SPACE SPACES SPARSE "
    "SPECIFIC SPECIFICTYPE SPLIT SQL SQLCODE SQLERROR SQLEXCEPTION SQLSTATE "
    "SQLWARNING START STATE STATIC STATUS STORAGE STORE STORED STREAM "
    "STRING STRUCT STYLE SUB SUBMULTISET SUBPARTITION SUBSTRING SUBTYPE SUM "
    "SUPER SYMMETRIC SYNONYM SYSTEM TABLE TABLESAMPLE TEMP TEMPORARY "
    "TERMINATED TEXT THAN THEN THROUGHPUT TIME TIMESTAMP TIMEZONE TINYINT "
    "TO TOKEN TOTAL TOUCH TRAILING TRANSACTION TRANSFORM TRANSLATE "
    "TRANSLATION TREAT TRIGGER TRIM TRUE TRUNCATE TTL TUPLE TYPE UNDER UNDO "
    "UNION UNIQUE UNIT UNKNOWN UNLOGGED UNNEST UNPROCESSED UNSIGNED UNTIL "
    "UPDATE UPPER URL USAGE USE USER USERS USING UUID VACUUM VALUE VALUED "
    "VALUES VARCHAR VARIABLE VARIANCE VARINT VARYING VIEW VIEWS VIRTUAL "
    "VOID WAIT WHEN WHENEVER WHERE WHILE WINDOW WITH WITHIN WITHOUT WORK "
    "WRAPPED WRITE YEAR ZONE";
constexpr size_t kReservedWordCount = 573;

// The words of kReservedWordList, sorted, for binary search.
const std::vector<std::string_view>& ReservedWords() {
  static const std::vector<std::string_view>* words = [] {
    auto* list = new std::vector<std::string_view>();
    list->reserve(kReservedWordCount);
    std::string_view rest = kReservedWordList;
    while (!rest.empty()) {
      size_t space = rest.find(' ');
      list->push_back(rest.substr(0, space));
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
    assert(list->size() == kReservedWordCount);
    assert(std::is_sorted(list->begin(), list->end()));
    return list;
  }();
  return *words;
}

}  // namespace

std::string InvalidExpressionText(std::string_view kind,
                                  std::string_view message) {
  std::string out = "Invalid ";
  out += kind;
  out += ": ";
  out += message;
  return out;
}

Status InvalidExpression(std::string_view kind, std::string_view message) {
  return Status::InvalidArgument(InvalidExpressionText(kind, message));
}

Status CheckExpressionText(std::string_view text, std::string_view kind) {
  if (text.empty()) {
    return InvalidExpression(kind, "The expression can not be empty;");
  }
  if (text.size() > kMaxExpressionSize) {
    return InvalidExpression(
        kind,
        "Expression size has exceeded the maximum allowed size; expression "
        "size: " +
            std::to_string(text.size()));
  }
  return Status::OK();
}

bool IsReservedWord(std::string_view word) {
  // The longest reserved word has 14 letters; longer names cannot match.
  if (word.empty() || word.size() > 16) return false;
  std::string upper(word);
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const std::vector<std::string_view>& words = ReservedWords();
  return std::binary_search(words.begin(), words.end(),
                            std::string_view(upper));
}

std::string PathToBracketString(const Path& path) {
  std::string out = "[";
  for (size_t i = 0; i < path.size(); ++i) {
    if (i != 0) out += ", ";
    if (path[i].is_index) {
      out += '[';
      out += std::to_string(path[i].index);
      out += ']';
    } else {
      out += path[i].name;
    }
  }
  out += ']';
  return out;
}

OverlapResult FindOverlaps(const std::vector<Path>& paths) {
  OverlapResult result;
  for (size_t j = 1; j < paths.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      const Path& one = paths[i];
      const Path& two = paths[j];
      size_t common = std::min(one.size(), two.size());
      bool related = true;
      for (size_t k = 0; k < common; ++k) {
        if (one[k].is_index != two[k].is_index) {
          if (!result.conflict) {
            result.conflict =
                "Two document paths conflict with each other; must remove or "
                "rewrite one of these paths; path one: " +
                PathToBracketString(one) +
                ", path two: " + PathToBracketString(two);
          }
          related = false;
          break;
        }
        if (!(one[k] == two[k])) {
          related = false;
          break;
        }
      }
      if (related && !result.overlap) {
        result.overlap =
            "Two document paths overlap with each other; must remove or "
            "rewrite one of these paths; path one: " +
            PathToBracketString(one) +
            ", path two: " + PathToBracketString(two);
      }
      if (result.overlap && result.conflict) return result;
    }
  }
  return result;
}

void ErrorCollector::Add(ErrorClass error_class, std::string message) {
  auto& slot = errors_[static_cast<size_t>(error_class)];
  if (!slot) slot = std::move(message);
}

void ErrorCollector::Add(ErrorClass error_class, const Status& status) {
  Add(error_class, status.message());
}

Status ErrorCollector::First(std::initializer_list<ErrorClass> order) const {
  for (ErrorClass error_class : order) {
    const auto& slot = errors_[static_cast<size_t>(error_class)];
    if (slot) return Status::InvalidArgument(*slot);
  }
  return Status::OK();
}

size_t Utf16Length(std::string_view utf8) {
  size_t units = 0;
  for (char c : utf8) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0) == 0x80) continue;  // Continuation byte.
    units += byte >= 0xF0 ? 2 : 1;        // 4-byte sequences are surrogates.
  }
  return units;
}

const char* CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "<>";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "=";
}

void BindPath(Operand* op, std::string_view kind, ExpressionContext* context,
              ErrorCollector* errors, ErrorClass name_class) {
  op->path.clear();
  op->path.reserve(op->steps.size());
  if (op->steps.size() > kMaxPathDepth) {
    errors->Add(ErrorClass::kReserved,
                InvalidExpressionText(
                    kind,
                    "The document path has too many nesting levels; nesting "
                    "levels: " +
                        std::to_string(op->steps.size())));
  }
  for (const PathStep& step : op->steps) {
    PathElement element;
    switch (step.kind) {
      case PathStep::Kind::kIdentifier:
        if (IsReservedWord(step.text)) {
          errors->Add(ErrorClass::kReserved,
                      InvalidExpressionText(
                          kind,
                          "Attribute name is a reserved keyword; reserved "
                          "keyword: " +
                              step.text));
        }
        element.name = step.text;
        break;
      case PathStep::Kind::kNameRef: {
        Result<std::string> name = context->ResolveName(step.text, kind);
        if (name.ok()) {
          element.name = std::move(*name);
        } else {
          errors->Add(name_class, name.status());
        }
        break;
      }
      case PathStep::Kind::kIndex:
        if (step.index > kMaxListIndex) {
          errors->Add(ErrorClass::kReserved,
                      InvalidExpressionText(
                          kind,
                          "List index is not within the allowable range; "
                          "index: [" +
                              step.text + "]"));
        }
        element.is_index = true;
        element.index = static_cast<uint32_t>(
            std::min<uint64_t>(step.index, kMaxListIndex));
        break;
    }
    op->path.push_back(std::move(element));
  }
}

void BindValue(Operand* op, std::string_view kind, ExpressionContext* context,
               ErrorCollector* errors, ErrorClass value_class) {
  Result<const AttributeValue*> value = context->ResolveValue(op->token, kind);
  if (value.ok()) {
    op->value = **value;
  } else {
    errors->Add(value_class, value.status());
  }
}

std::optional<ValueType> StaticType(const Operand& op) {
  switch (op.kind) {
    case Operand::Kind::kValue:
      return op.value.type();
    case Operand::Kind::kFunction:
      if (op.token == "size") return ValueType::kN;
      return std::nullopt;
    case Operand::Kind::kPath:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string AttributeValueForMessage(const AttributeValue& value) {
  std::string out = "AttributeValue: {";
  out += ValueTypeName(value.type());
  out += ':';
  switch (value.type()) {
    case ValueType::kS:
    case ValueType::kN:
      out += value.scalar();
      break;
    case ValueType::kB: {
      // DynamoDB prints the Java ByteBuffer holding the bytes.
      std::string size = std::to_string(value.scalar().size());
      out += "java.nio.HeapByteBuffer[pos=0 lim=" + size + " cap=" + size + "]";
      break;
    }
    default:
      break;
  }
  out += '}';
  return out;
}

}  // namespace expr
}  // namespace eddy::store
