// Exports and imports: ExportTableToPointInTime, DescribeExport,
// ListExports, ImportTable, DescribeImport, ListImports
// (api/data_transfer.h does the work).
#include <cmath>
#include <string>
#include <vector>

#include "api/data_transfer.h"
#include "api/operations.h"

namespace eddy::runtime::api {
namespace {

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

ApiStatus RequireExports(const OperationContext& ctx) {
  if (ctx.transfer != nullptr && ctx.transfer->exports_enabled()) {
    return ApiStatus();
  }
  return ApiError::Validation(
      "Exports are not enabled on this server: start it with --export-dir "
      "DIR (S3 buckets are folders in DIR)");
}

// A table ARN -> the table name (its part after ":table/").
std::string TableNameOfArn(const std::string& arn) {
  const size_t at = arn.find(":table/");
  if (!arn.starts_with("arn:") || at == std::string::npos) return "";
  std::string name = arn.substr(at + 7);
  return name.substr(0, name.find('/'));
}

// An S3 prefix is a path inside the bucket's folder: no empty, "." or ".."
// part may take it elsewhere.
bool SafePrefix(const std::string& prefix) {
  if (prefix.starts_with("/")) return false;
  size_t start = 0;
  while (start <= prefix.size()) {
    size_t end = prefix.find('/', start);
    if (end == std::string::npos) end = prefix.size();
    const std::string_view part =
        std::string_view(prefix).substr(start, end - start);
    if (part == "." || part == ".." || (part.empty() && end != prefix.size())) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

// DynamoDB's bucket name pattern: ^[a-z0-9A-Z]+[\.\-\w]*[a-z0-9A-Z]+$.
bool ValidBucket(const std::string& b) {
  auto alnum = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c));
  };
  if (b.size() < 2 || b.size() > 255 || !alnum(b.front()) || !alnum(b.back())) {
    return false;
  }
  for (char c : b) {
    if (!alnum(c) && c != '.' && c != '-' && c != '_') return false;
  }
  return b.find("..") == std::string::npos;
}

void WriteExportDescription(const ExportInfo& e, JsonWriter* w) {
  w->StartObject();
  w->Key("ExportArn");
  Str(w, e.arn);
  w->Key("ExportStatus");
  Str(w, e.status);
  w->Key("StartTime");
  w->Double(Seconds(e.start_ms));
  if (e.end_ms != 0) {
    w->Key("EndTime");
    w->Double(Seconds(e.end_ms));
  }
  if (!e.manifest.empty()) {
    w->Key("ExportManifest");
    Str(w, e.manifest);
  }
  w->Key("TableArn");
  Str(w, e.table_arn);
  w->Key("TableId");
  Str(w, e.table_id);
  w->Key("ExportTime");
  w->Double(Seconds(e.export_time_ms));
  if (!e.client_token.empty()) {
    w->Key("ClientToken");
    Str(w, e.client_token);
  }
  w->Key("S3Bucket");
  Str(w, e.bucket);
  if (!e.bucket_owner.empty()) {
    w->Key("S3BucketOwner");
    Str(w, e.bucket_owner);
  }
  if (!e.prefix.empty()) {
    w->Key("S3Prefix");
    Str(w, e.prefix);
  }
  w->Key("S3SseAlgorithm");
  Str(w, e.sse_algorithm.empty() ? "AES256" : e.sse_algorithm);
  if (!e.failure_code.empty()) {
    w->Key("FailureCode");
    Str(w, e.failure_code);
    w->Key("FailureMessage");
    Str(w, e.failure_message);
  }
  w->Key("ExportFormat");
  w->String("DYNAMODB_JSON");
  w->Key("BilledSizeBytes");
  w->Int64(e.billed_bytes);
  w->Key("ItemCount");
  w->Int64(e.item_count);
  w->Key("ExportType");
  w->String("FULL_EXPORT");
  w->EndObject();
}

ApiStatus ReadExportArn(const Params& params, std::string* arn,
                        std::string* id) {
  std::optional<std::string> value;
  API_RETURN_IF_ERROR(params.String("ExportArn", &value));
  ConstraintErrors errors;
  if (!value) {
    errors.Add("null", "exportArn", "Member must not be null");
  } else if (value->size() < 37 || value->size() > 1024) {
    errors.Add(*value, "exportArn",
               value->size() < 37
                   ? "Member must have length greater than or equal to 37"
                   : "Member must have length less than or equal to 1024");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  *arn = *value;
  const size_t at = arn->rfind("/export/");
  *id = at == std::string::npos ? "" : arn->substr(at + 8);
  return ApiStatus();
}

}  // namespace

ApiStatus ExportTableToPointInTime(const OperationContext& ctx,
                                   const rapidjson::Value& request,
                                   JsonWriter* out) {
  Params params(request);
  std::optional<std::string> table_arn, bucket, prefix, owner, sse, kms, format,
      token, type;
  API_RETURN_IF_ERROR(params.String("TableArn", &table_arn));
  API_RETURN_IF_ERROR(params.String("S3Bucket", &bucket));
  API_RETURN_IF_ERROR(params.String("S3Prefix", &prefix));
  API_RETURN_IF_ERROR(params.String("S3BucketOwner", &owner));
  API_RETURN_IF_ERROR(params.String("S3SseAlgorithm", &sse));
  API_RETURN_IF_ERROR(params.String("S3SseKmsKeyId", &kms));
  API_RETURN_IF_ERROR(params.String("ExportFormat", &format));
  API_RETURN_IF_ERROR(params.String("ClientToken", &token));
  API_RETURN_IF_ERROR(params.String("ExportType", &type));
  std::optional<int64_t> export_ms;
  if (const rapidjson::Value* v = params.Get("ExportTime");
      v != nullptr && !v->IsNull()) {
    if (!v->IsNumber()) {
      return ApiError::Serialization(
          "class java.lang.String can not be converted to an Timestamp");
    }
    export_ms = static_cast<int64_t>(std::llround(v->GetDouble() * 1000.0));
  }
  ConstraintErrors errors;
  if (!table_arn) errors.Add("null", "tableArn", "Member must not be null");
  if (!bucket) errors.Add("null", "s3Bucket", "Member must not be null");
  if (bucket && !ValidBucket(*bucket)) {
    errors.Add(*bucket, "s3Bucket",
               "Member must satisfy regular expression pattern: "
               "^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$");
  }
  if (prefix && prefix->size() > 1024) {
    errors.Add(*prefix, "s3Prefix",
               "Member must have length less than or equal to 1024");
  }
  if (sse && *sse != "AES256" && *sse != "KMS") {
    errors.Add(*sse, "s3SseAlgorithm",
               "Member must satisfy enum value set: [AES256, KMS]");
  }
  if (format && *format != "DYNAMODB_JSON" && *format != "ION") {
    errors.Add(*format, "exportFormat",
               "Member must satisfy enum value set: [DYNAMODB_JSON, ION]");
  }
  if (type && *type != "FULL_EXPORT" && *type != "INCREMENTAL_EXPORT") {
    errors.Add(*type, "exportType",
               "Member must satisfy enum value set: [FULL_EXPORT, "
               "INCREMENTAL_EXPORT]");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  if (format && *format == "ION") {
    return ApiError::Validation(
        "ExportFormat ION is not supported by Eddy: use DYNAMODB_JSON");
  }
  if (type && *type == "INCREMENTAL_EXPORT") {
    return ApiError::Validation(
        "ExportType INCREMENTAL_EXPORT is not supported by Eddy: use "
        "FULL_EXPORT");
  }
  if (sse && *sse == "KMS") {
    return ApiError::Validation("S3SseAlgorithm KMS is not supported by Eddy");
  }
  if (prefix && !SafePrefix(*prefix)) {
    return ApiError::Validation(
        "S3Prefix must be a relative path without empty, '.' or '..' parts "
        "in Eddy (it names a folder in the bucket's)");
  }
  API_RETURN_IF_ERROR(RequireExports(ctx));
  const std::string table = TableNameOfArn(*table_arn);
  if (table.empty()) {
    return ApiError::Validation("Invalid TableArn provided: " + *table_arn);
  }
  std::optional<store::TableInfo> info = ctx.db->DescribeTable(table);
  if (!info || info->status != store::TableStatus::kActive) {
    return ApiError::Dynamo("TableNotFoundException",
                            "Table not found: " + *table_arn);
  }
  Result<store::ContinuousBackups> window =
      ctx.db->DescribeContinuousBackups(table);
  if (!window.ok() || !window->enabled) {
    return ApiError::Dynamo(
        "PointInTimeRecoveryUnavailableException",
        "Point in time recovery is not enabled for table '" + table + "'");
  }
  const int64_t at = export_ms.value_or(window->latest_ms);
  if (at < window->earliest_ms || at > window->latest_ms) {
    return ApiError::Dynamo(
        "InvalidExportTimeException",
        "Export time must be within the point in time recovery window of "
        "the table: between EarliestRestorableDateTime and "
        "LatestRestorableDateTime");
  }
  ExportInfo e;
  e.table_name = table;
  e.table_arn = TableArn(*ctx.config, table);
  e.table_id = info->table_id;
  e.export_time_ms = at;
  e.export_time_explicit = export_ms.has_value();
  e.bucket = *bucket;
  e.bucket_owner = owner.value_or("");
  e.prefix = prefix.value_or("");
  while (e.prefix.ends_with("/")) e.prefix.pop_back();
  e.sse_algorithm = sse.value_or("");
  e.client_token = token.value_or("");
  Result<ExportInfo> started = ctx.transfer->StartExport(std::move(e));
  if (!started.ok()) {
    const Status& s = started.status();
    if (s.IsAlreadyExists()) {
      return ApiError::Dynamo(
          "ExportConflictException",
          "There was a conflict when writing to the specified S3 bucket: "
          "the ClientToken was used by an export with other parameters");
    }
    return ApiError::Dynamo(
        "ExportConflictException",
        "There was a conflict when writing to the specified S3 bucket: " +
            s.message());
  }
  out->StartObject();
  out->Key("ExportDescription");
  WriteExportDescription(*started, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus DescribeExport(const OperationContext& ctx,
                         const rapidjson::Value& request, JsonWriter* out) {
  std::string arn, id;
  API_RETURN_IF_ERROR(ReadExportArn(Params(request), &arn, &id));
  Result<ExportInfo> e = ctx.transfer != nullptr
                             ? ctx.transfer->DescribeExport(id)
                             : Result<ExportInfo>(Status::NotFound(""));
  if (!e.ok() || e->arn != arn) {
    return ApiError::Dynamo("ExportNotFoundException",
                            "Export not found: " + arn);
  }
  out->StartObject();
  out->Key("ExportDescription");
  WriteExportDescription(*e, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus ListExports(const OperationContext& ctx,
                      const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::optional<std::string> table_arn, token;
  std::optional<int64_t> max;
  API_RETURN_IF_ERROR(params.String("TableArn", &table_arn));
  API_RETURN_IF_ERROR(params.String("NextToken", &token));
  API_RETURN_IF_ERROR(params.Int64("MaxResults", &max));
  ConstraintErrors errors;
  if (max && (*max < 1 || *max > 25)) {
    errors.Add(std::to_string(*max), "maxResults",
               *max < 1 ? "Member must have value greater than or equal to 1"
                        : "Member must have value less than or equal to 25");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  std::vector<ExportInfo> all;
  if (ctx.transfer != nullptr) all = ctx.transfer->ListExports();
  std::vector<const ExportInfo*> matching;
  for (const ExportInfo& e : all) {
    if (table_arn && e.table_arn != *table_arn) continue;
    matching.push_back(&e);
  }
  size_t first = 0;
  if (token) {
    first = matching.size();
    for (size_t i = 0; i < matching.size(); ++i) {
      if (matching[i]->id == *token) first = i;
    }
    if (first == matching.size()) {
      return ApiError::Validation("Invalid NextToken provided");
    }
  }
  const size_t end =
      std::min(matching.size(), first + static_cast<size_t>(max.value_or(25)));
  out->StartObject();
  out->Key("ExportSummaries");
  out->StartArray();
  for (size_t i = first; i < end; ++i) {
    out->StartObject();
    out->Key("ExportArn");
    Str(out, matching[i]->arn);
    out->Key("ExportStatus");
    Str(out, matching[i]->status);
    out->Key("ExportType");
    out->String("FULL_EXPORT");
    out->EndObject();
  }
  out->EndArray();
  if (end < matching.size()) {
    out->Key("NextToken");
    Str(out, matching[end]->id);
  }
  out->EndObject();
  return ApiStatus();
}

namespace {

void WriteImportSummaryMembers(const ImportInfo& i, JsonWriter* w) {
  w->Key("ImportArn");
  Str(w, i.arn);
  w->Key("ImportStatus");
  Str(w, i.status);
  w->Key("TableArn");
  Str(w, i.table_arn);
  w->Key("S3BucketSource");
  w->StartObject();
  w->Key("S3Bucket");
  Str(w, i.bucket);
  if (!i.bucket_owner.empty()) {
    w->Key("S3BucketOwner");
    Str(w, i.bucket_owner);
  }
  w->Key("S3KeyPrefix");
  Str(w, i.key_prefix);
  w->EndObject();
  w->Key("InputFormat");
  Str(w, i.input_format);
  w->Key("StartTime");
  w->Double(Seconds(i.start_ms));
  if (i.end_ms != 0) {
    w->Key("EndTime");
    w->Double(Seconds(i.end_ms));
  }
}

void WriteImportDescription(const ImportInfo& i, JsonWriter* w) {
  w->StartObject();
  WriteImportSummaryMembers(i, w);
  w->Key("TableId");
  Str(w, i.table_id);
  if (!i.client_token.empty()) {
    w->Key("ClientToken");
    Str(w, i.client_token);
  }
  w->Key("ErrorCount");
  w->Int64(i.error_count);
  if (!i.format_options_json.empty()) {
    w->Key("InputFormatOptions");
    w->RawValue(i.format_options_json.data(), i.format_options_json.size(),
                rapidjson::kObjectType);
  }
  w->Key("InputCompressionType");
  Str(w, i.compression);
  w->Key("TableCreationParameters");
  w->RawValue(i.creation_parameters_json.data(),
              i.creation_parameters_json.size(), rapidjson::kObjectType);
  w->Key("ProcessedSizeBytes");
  w->Int64(i.processed_bytes);
  w->Key("ProcessedItemCount");
  w->Int64(i.processed_items);
  w->Key("ImportedItemCount");
  w->Int64(i.imported_items);
  if (!i.failure_code.empty()) {
    w->Key("FailureCode");
    Str(w, i.failure_code);
    w->Key("FailureMessage");
    Str(w, i.failure_message);
  }
  w->EndObject();
}

std::string JsonText(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

}  // namespace

ApiStatus ImportTable(const OperationContext& ctx,
                      const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  const rapidjson::Value* source = nullptr;
  const rapidjson::Value* creation = nullptr;
  const rapidjson::Value* options = nullptr;
  std::optional<std::string> format, compression, token;
  API_RETURN_IF_ERROR(params.Object("S3BucketSource", &source));
  API_RETURN_IF_ERROR(params.Object("TableCreationParameters", &creation));
  API_RETURN_IF_ERROR(params.Object("InputFormatOptions", &options));
  API_RETURN_IF_ERROR(params.String("InputFormat", &format));
  API_RETURN_IF_ERROR(params.String("InputCompressionType", &compression));
  API_RETURN_IF_ERROR(params.String("ClientToken", &token));
  ConstraintErrors errors;
  if (source == nullptr) {
    errors.Add("null", "s3BucketSource", "Member must not be null");
  }
  if (!format) {
    errors.Add("null", "inputFormat", "Member must not be null");
  } else if (*format != "DYNAMODB_JSON" && *format != "ION" &&
             *format != "CSV") {
    errors.Add(*format, "inputFormat",
               "Member must satisfy enum value set: [DYNAMODB_JSON, ION, CSV]");
  }
  if (compression && *compression != "GZIP" && *compression != "ZSTD" &&
      *compression != "NONE") {
    errors.Add(*compression, "inputCompressionType",
               "Member must satisfy enum value set: [GZIP, ZSTD, NONE]");
  }
  if (creation == nullptr) {
    errors.Add("null", "tableCreationParameters", "Member must not be null");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  ImportInfo i;
  {
    Params s(*source);
    std::optional<std::string> bucket, prefix, owner;
    API_RETURN_IF_ERROR(s.String("S3Bucket", &bucket));
    API_RETURN_IF_ERROR(s.String("S3KeyPrefix", &prefix));
    API_RETURN_IF_ERROR(s.String("S3BucketOwner", &owner));
    if (!bucket) {
      errors.Add("null", "s3BucketSource.s3Bucket", "Member must not be null");
    } else if (!ValidBucket(*bucket)) {
      errors.Add(*bucket, "s3BucketSource.s3Bucket",
                 "Member must satisfy regular expression pattern: "
                 "^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$");
    }
    API_RETURN_IF_ERROR(errors.ToStatus());
    i.bucket = *bucket;
    i.key_prefix = prefix.value_or("");
    i.bucket_owner = owner.value_or("");
    if (!i.key_prefix.empty() && !SafePrefix(i.key_prefix)) {
      return ApiError::Validation(
          "S3KeyPrefix must be a relative path without empty, '.' or '..' "
          "parts in Eddy (it names files in the bucket's folder)");
    }
  }
  if (*format == "ION") {
    return ApiError::Validation(
        "InputFormat ION is not supported by Eddy: use DYNAMODB_JSON or CSV");
  }
  if (compression && *compression == "ZSTD") {
    return ApiError::Validation(
        "InputCompressionType ZSTD is not supported by Eddy: use GZIP or NONE");
  }
  i.input_format = *format;
  i.compression = compression.value_or("NONE");
  if (options != nullptr) {
    const rapidjson::Value* csv = nullptr;
    API_RETURN_IF_ERROR(Params(*options).Object("Csv", &csv));
    if (csv != nullptr) {
      std::optional<std::string> delimiter;
      const rapidjson::Value* header = nullptr;
      API_RETURN_IF_ERROR(Params(*csv).String("Delimiter", &delimiter));
      API_RETURN_IF_ERROR(Params(*csv).Array("HeaderList", &header));
      if (delimiter) {
        if (delimiter->size() != 1 ||
            std::string_view(",\t:;| ").find((*delimiter)[0]) ==
                std::string_view::npos) {
          errors.Add(*delimiter, "inputFormatOptions.csv.delimiter",
                     "Member must satisfy regular expression pattern: "
                     "[,;:|\\t ]");
        } else {
          i.csv_delimiter = *delimiter;
        }
      }
      if (header != nullptr) {
        for (const auto& h : header->GetArray()) {
          if (!h.IsString() || h.GetStringLength() == 0) {
            errors.Add("", "inputFormatOptions.csv.headerList",
                       "Member must have length greater than or equal to 1");
            break;
          }
          i.csv_header.emplace_back(h.GetString(), h.GetStringLength());
        }
      }
      API_RETURN_IF_ERROR(errors.ToStatus());
    }
    i.format_options_json = JsonText(*options);
  }
  store::TableSchema schema;
  API_RETURN_IF_ERROR(ReadCreateTableSchema(Params(*creation), &schema));
  if (ctx.transfer == nullptr || !ctx.transfer->exports_enabled()) {
    return ApiError::Validation(
        "Imports are not enabled on this server: start it with --export-dir "
        "DIR (S3 buckets are folders in DIR)");
  }
  i.table_name = schema.name;
  i.table_arn = TableArn(*ctx.config, schema.name);
  i.creation_parameters_json = JsonText(*creation);
  i.client_token = token.value_or("");
  Result<ImportInfo> started = ctx.transfer->StartImport(std::move(i), schema);
  if (!started.ok()) {
    const Status& s = started.status();
    if (s.IsAlreadyExists() && s.message().starts_with("The client token")) {
      return ApiError::Dynamo(
          "ImportConflictException",
          "There was a conflict when importing from the specified S3 source: "
          "the ClientToken was used by an import with other parameters");
    }
    if (s.IsAlreadyExists()) {
      return ApiError::Dynamo("ResourceInUseException",
                              "Table already exists: " + schema.name);
    }
    return s;
  }
  out->StartObject();
  out->Key("ImportTableDescription");
  WriteImportDescription(*started, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus DescribeImport(const OperationContext& ctx,
                         const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::optional<std::string> arn;
  API_RETURN_IF_ERROR(params.String("ImportArn", &arn));
  ConstraintErrors errors;
  if (!arn) {
    errors.Add("null", "importArn", "Member must not be null");
  } else if (arn->size() < 37 || arn->size() > 1024) {
    errors.Add(*arn, "importArn",
               arn->size() < 37
                   ? "Member must have length greater than or equal to 37"
                   : "Member must have length less than or equal to 1024");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  const size_t at = arn->rfind("/import/");
  const std::string id = at == std::string::npos ? "" : arn->substr(at + 8);
  Result<ImportInfo> i = ctx.transfer != nullptr
                             ? ctx.transfer->DescribeImport(id)
                             : Result<ImportInfo>(Status::NotFound(""));
  if (!i.ok() || i->arn != *arn) {
    return ApiError::Dynamo("ImportNotFoundException",
                            "Import not found: " + *arn);
  }
  out->StartObject();
  out->Key("ImportTableDescription");
  WriteImportDescription(*i, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus ListImports(const OperationContext& ctx,
                      const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::optional<std::string> table_arn, token;
  std::optional<int64_t> size;
  API_RETURN_IF_ERROR(params.String("TableArn", &table_arn));
  API_RETURN_IF_ERROR(params.String("NextToken", &token));
  API_RETURN_IF_ERROR(params.Int64("PageSize", &size));
  ConstraintErrors errors;
  if (size && (*size < 1 || *size > 25)) {
    errors.Add(std::to_string(*size), "pageSize",
               *size < 1 ? "Member must have value greater than or equal to 1"
                         : "Member must have value less than or equal to 25");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  std::vector<ImportInfo> all;
  if (ctx.transfer != nullptr) all = ctx.transfer->ListImports();
  std::vector<const ImportInfo*> matching;
  for (const ImportInfo& i : all) {
    if (table_arn && i.table_arn != *table_arn) continue;
    matching.push_back(&i);
  }
  size_t first = 0;
  if (token) {
    first = matching.size();
    for (size_t k = 0; k < matching.size(); ++k) {
      if (matching[k]->id == *token) first = k;
    }
    if (first == matching.size()) {
      return ApiError::Validation("Invalid NextToken provided");
    }
  }
  const size_t end =
      std::min(matching.size(), first + static_cast<size_t>(size.value_or(25)));
  out->StartObject();
  out->Key("ImportSummaryList");
  out->StartArray();
  for (size_t k = first; k < end; ++k) {
    out->StartObject();
    WriteImportSummaryMembers(*matching[k], out);
    out->EndObject();
  }
  out->EndArray();
  if (end < matching.size()) {
    out->Key("NextToken");
    Str(out, matching[end]->id);
  }
  out->EndObject();
  return ApiStatus();
}

// --- The admin API's snapshots (`eddy snapshot`).

namespace {

void WriteSnapshot(const SnapshotInfo& s, JsonWriter* w) {
  w->StartObject();
  w->Key("Snapshot");
  w->StartObject();
  w->Key("SnapshotId");
  Str(w, s.id);
  w->Key("Directory");
  Str(w, s.directory);
  w->Key("Status");
  Str(w, s.status);
  w->Key("StartTime");
  w->Double(Seconds(s.start_ms));
  if (s.end_ms != 0) {
    w->Key("EndTime");
    w->Double(Seconds(s.end_ms));
  }
  w->Key("FilesTotal");
  w->Int64(s.files_total);
  w->Key("FilesCopied");
  w->Int64(s.files_copied);
  w->Key("BytesTotal");
  w->Int64(s.bytes_total);
  w->Key("BytesCopied");
  w->Int64(s.bytes_copied);
  if (!s.failure_message.empty()) {
    w->Key("FailureMessage");
    Str(w, s.failure_message);
  }
  w->EndObject();
  w->EndObject();
}

}  // namespace

ApiStatus CreateSnapshot(const OperationContext& ctx,
                         const rapidjson::Value& request, JsonWriter* out) {
  std::optional<std::string> dir;
  API_RETURN_IF_ERROR(Params(request).String("Directory", &dir));
  if (!dir || dir->empty() || !dir->starts_with("/")) {
    return ApiError::Validation(
        "Directory is required: an absolute path on the server's machine");
  }
  if (ctx.transfer == nullptr) {
    return ApiError::Validation("Snapshots are not enabled on this server");
  }
  Result<SnapshotInfo> s = ctx.transfer->StartSnapshot(*dir);
  if (!s.ok()) {
    if (s.status().code() == Status::Code::kBusy) {
      return ApiError::Dynamo("LimitExceededException", s.status().message());
    }
    return s.status();
  }
  WriteSnapshot(*s, out);
  return ApiStatus();
}

ApiStatus DescribeSnapshot(const OperationContext& ctx,
                           const rapidjson::Value& request, JsonWriter* out) {
  std::optional<std::string> id;
  API_RETURN_IF_ERROR(Params(request).String("SnapshotId", &id));
  if (!id) return ApiError::Validation("SnapshotId is required");
  Result<SnapshotInfo> s = ctx.transfer != nullptr
                               ? ctx.transfer->DescribeSnapshot(*id)
                               : Result<SnapshotInfo>(Status::NotFound(""));
  if (!s.ok()) {
    return ApiError::Dynamo("ResourceNotFoundException",
                            "Snapshot not found: " + *id);
  }
  WriteSnapshot(*s, out);
  return ApiStatus();
}

}  // namespace eddy::runtime::api
