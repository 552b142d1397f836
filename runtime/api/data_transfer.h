// DataTransfer: ExportTableToPointInTime's exports to a local directory
// that stands in for S3 (--export-dir), in DynamoDB's export format, and
// ImportTable's imports from it (that format, or CSV), run in the
// background with progress, surviving restarts.
//
// S3Bucket B and S3Prefix P name <export dir>/B/P; an export with id I
// writes, as DynamoDB does under s3://B/P/:
//   AWSDynamoDB/I/_started                 written when the export is
//                                           accepted (the directory is
//                                           writable)
//   AWSDynamoDB/I/data/<name>.json.gz      gzipped DynamoDB JSON lines,
//                                           {"Item":{...}} per item
//   AWSDynamoDB/I/manifest-files.json      a JSON line per data file
//                                           (itemCount, md5Checksum, etag,
//                                           dataFileS3Key)
//   AWSDynamoDB/I/manifest-summary.json    the export's summary
//   AWSDynamoDB/I/manifest-*.checksum      the MD5 (hex) of each manifest
// The items are the table's at ExportTime (point-in-time recovery must be
// on, as on DynamoDB: store::Database::ReadTableAt).
//
// Each export's record (its description and progress) is a JSON file in
// <data>/exports/, replaced atomically. An export still IN_PROGRESS when
// the server stopped is started again at the next start (its partial files
// removed) if ExportTime is still within the recovery window, and FAILED
// with the reason otherwise. A FAILED export leaves no data files or
// manifests behind.
//
// An import creates its table CREATING (listed, described, never served:
// store::Database::CreateImportTable) and reads every file under
// <export dir>/<S3Bucket> whose path starts with S3KeyPrefix (S3's prefix
// match), in path order: DYNAMODB_JSON lines ({"Item":{...}}, as exports
// write them) or CSV (a header line, or InputFormatOptions.Csv.HeaderList;
// key attributes typed by the table's definitions, the others strings,
// empty values left out), gzipped or not (InputCompressionType). A line
// that is not an item of the table (bad JSON, a missing or mistyped key, an
// item over 400 KB, a CSV row of the wrong width) is skipped and counted
// (ErrorCount), with its file, line and reason in the log, as DynamoDB
// writes them to CloudWatch; the import still COMPLETES. An import that
// cannot read its source (no bucket folder, no file, a file that is not
// gzip when GZIP is asked) FAILS, and its table is removed: nothing is left
// half created. An import interrupted by a restart empties its table and
// starts again.
//
// Work runs on one background thread at a low CPU priority and paced (as
// the store's jobs: store/src/job_runner.h, eddy/store/pacer.h), so that
// it takes little from the requests.
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_RUNTIME_API_DATA_TRANSFER_H_
#define EDDY_RUNTIME_API_DATA_TRANSFER_H_

#include <spdlog/logger.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/database.h"
#include "eddy/store/pacer.h"

namespace eddy::runtime::api {

struct ExportInfo {
  std::string id;  // "<ms, 14 digits>-<8 hex digits>", the ARN's last part.
  std::string arn;
  std::string table_name;
  std::string table_arn;
  std::string table_id;
  std::string status = "IN_PROGRESS";  // COMPLETED, FAILED
  int64_t start_ms = 0;
  int64_t end_ms = 0;  // 0 while IN_PROGRESS.
  int64_t export_time_ms = 0;
  bool export_time_explicit = false;  // ExportTime was given (idempotency).
  std::string bucket;
  std::string bucket_owner;
  std::string prefix;  // "" when absent.
  std::string sse_algorithm;
  std::string client_token;
  int64_t item_count = 0;
  int64_t billed_bytes = 0;
  std::string failure_code;
  std::string failure_message;
  // The S3 key of manifest-summary.json (set once COMPLETED).
  std::string manifest;
};

struct ImportInfo {
  std::string id;
  std::string arn;  // <table ARN>/import/<id>
  std::string table_name;
  std::string table_arn;
  std::string table_id;
  std::string status = "IN_PROGRESS";  // COMPLETED, FAILED
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string bucket;
  std::string bucket_owner;
  std::string key_prefix;
  std::string input_format;  // DYNAMODB_JSON, CSV
  std::string compression;   // GZIP, NONE
  std::string csv_delimiter = ",";
  std::vector<std::string> csv_header;  // Empty: the files' first lines.
  // The request's InputFormatOptions and TableCreationParameters, as JSON
  // (DescribeImport echoes them).
  std::string format_options_json;
  std::string creation_parameters_json;
  std::string client_token;
  int64_t processed_items = 0;
  int64_t processed_bytes = 0;
  int64_t imported_items = 0;
  int64_t error_count = 0;
  std::string failure_code;
  std::string failure_message;
};

// A whole-server snapshot (`eddy snapshot`), while it runs and after.
struct SnapshotInfo {
  std::string id;
  std::string directory;
  std::string status = "IN_PROGRESS";  // COMPLETED, FAILED
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t files_total = 0;
  int64_t files_copied = 0;
  int64_t bytes_total = 0;
  int64_t bytes_copied = 0;
  std::string failure_message;
};

class DataTransfer {
 public:
  struct Options {
    std::string data_dir;    // Records go to <data_dir>/exports.
    std::string export_dir;  // "": exports are refused.
    int nice = 19;           // The worker thread's niceness.
  };

  DataTransfer(store::Database* db, Options options,
               std::shared_ptr<spdlog::logger> logger);
  ~DataTransfer() { Stop(); }
  DataTransfer(const DataTransfer&) = delete;
  DataTransfer& operator=(const DataTransfer&) = delete;

  // Reads the records and restarts or fails the interrupted exports, then
  // starts the worker.
  Status Start();
  // Stops the worker; work in progress is resumed by the next Start.
  void Stop();

  bool exports_enabled() const { return !options_.export_dir.empty(); }
  // Starts an export described by `request` (table, ARNs, bucket, prefix,
  // time, token, ... set by the caller; id, status and times set here).
  // Errors: AlreadyExists when the ClientToken names an export with other
  // parameters (ExportConflictException); IOError when the destination is
  // not writable (nothing is left behind). A ClientToken that names an
  // export with the same parameters returns that export.
  Result<ExportInfo> StartExport(ExportInfo request);
  // NotFound when there is no such export.
  Result<ExportInfo> DescribeExport(const std::string& id);
  // Oldest first.
  std::vector<ExportInfo> ListExports();

  // Creates the import's table (CREATING, from `schema`) and starts
  // filling it. Errors: AlreadyExists when the ClientToken names an import
  // with other parameters (ImportConflictException); the store's
  // CreateImportTable errors (AlreadyExists: ResourceInUseException). A
  // ClientToken naming an import with the same parameters returns it.
  Result<ImportInfo> StartImport(ImportInfo request,
                                 const store::TableSchema& schema);
  Result<ImportInfo> DescribeImport(const std::string& id);
  std::vector<ImportInfo> ListImports();

  // Starts a snapshot of the data directory into `directory` on its own
  // thread (store::Database::Snapshot; one at a time: Busy while one runs).
  // Snapshots are remembered until the server stops; one interrupted by a
  // stop is removed by the store at the next start.
  Result<SnapshotInfo> StartSnapshot(const std::string& directory);
  // NotFound for an unknown id.
  Result<SnapshotInfo> DescribeSnapshot(const std::string& id);

  // Tests and tools: waits until no work is queued or running.
  void WaitIdle();

 private:
  std::string RecordsDir() const { return options_.data_dir + "/exports"; }
  // <export dir>/<bucket>/<prefix>/AWSDynamoDB/<id>.
  std::string ExportPath(const ExportInfo& e) const;
  // The S3 key of a file of the export ("<prefix>/AWSDynamoDB/<id>/name").
  static std::string ExportKey(const ExportInfo& e, const std::string& name);
  Status SaveExport(const ExportInfo& e);
  std::string ImportRecordsDir() const {
    return options_.data_dir + "/imports";
  }
  Status SaveImport(const ImportInfo& i);
  void RunImport(const std::string& id, bool resumed);
  // Makes an ended import's table ACTIVE (COMPLETED) or removes it.
  Status EndImportTable(const ImportInfo& i);
  Status ReadImport(ImportInfo* i);
  void PublishImport(const ImportInfo& i);
  void Submit(std::function<void()> work);
  void Loop();
  // One export, start to finish; its record says how it ended.
  void RunExport(const std::string& id);
  Status WriteExport(ExportInfo* e);
  void Publish(const ExportInfo& e);

  store::Database* const db_;
  const Options options_;
  std::shared_ptr<spdlog::logger> logger_;

  std::mutex mu_;  // Guards the maps and the queue.
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::map<std::string, ExportInfo> exports_;
  std::map<std::string, ImportInfo> imports_;
  // Snapshots (guarded by mu_), with the progress of the running one.
  std::map<std::string, SnapshotInfo> snapshots_;
  std::string running_snapshot_;
  std::unique_ptr<store::Database::SnapshotProgress> snapshot_progress_;
  std::thread snapshot_thread_;
  std::deque<std::function<void()>> queue_;
  bool running_ = false;
  bool stopped_ = false;
  std::atomic<bool> stop_{false};
  std::thread worker_;
  // The worker thread's (store/pacer.h); used on that thread only.
  store::Pacer* pacer_ = nullptr;
};

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_DATA_TRANSFER_H_
