// Provisioned capacity, enforced on request (eddy serve --enforce-capacity).
//
// DynamoDB Local never throttles, and neither does Eddy by default. With
// enforcement on, every table in PROVISIONED billing mode, and each of its
// global secondary indexes, gets two token buckets (reads and writes) that
// fill at its ReadCapacityUnits / WriteCapacityUnits per second and keep up
// to `burst_seconds` (DynamoDB's 300) of unused capacity: DynamoDB's burst
// capacity. PAY_PER_REQUEST tables are never throttled.
//
// A request is admitted while its buckets hold something: a bucket with
// nothing left (zero or in debt) refuses it with
// ProvisionedThroughputExceededException, DynamoDB's message and
// ThrottlingReasons. An admitted request may take more than the balance
// (the bucket goes into debt and refuses until refilled), because what it
// costs is only known afterwards: it is charged exactly the units its
// ConsumedCapacity reports (Capacity: the table's units and each LSI's go
// to the table's bucket, each GSI's to the GSI's). A write is admitted only
// if the table and every GSI of it have write capacity left (DynamoDB's GSI
// back pressure); a read of a GSI takes the GSI's read capacity.
//
// Where each check happens (api_handler.cc): the request path admits a
// request before its operation runs (AdmitRequest: the tables, indexes and
// read/write use the request names), and every operation reports what it
// consumed through ReportConsumed (operations.h), which charges the
// buckets. Batch operations admit each item themselves (AdmitCapacity), so
// that throttled items come back as UnprocessedItems / UnprocessedKeys (or
// a statement's ProvisionedThroughputExceeded error) while the others are
// served; a transaction with a throttled item is cancelled
// (TransactionCanceledException, reason ProvisionedThroughputExceeded).
//
// UpdateTable resizes the buckets at once (Configure): a bucket keeps its
// balance, capped at the new burst; a new bucket starts full. Buckets live
// in memory: a restart starts them full.
//
// Thread-safety: CapacityLimiter's methods may be called concurrently;
// TokenBucket is a value type (CapacityLimiter guards its buckets).
#ifndef EDDY_RUNTIME_API_CAPACITY_H_
#define EDDY_RUNTIME_API_CAPACITY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/operations.h"

namespace eddy::runtime::api {

// A token bucket of capacity units, in DynamoDB's manner: it fills at
// `rate` units a second up to `rate * burst_seconds`, may go negative
// (debt) when a request costs more than is left, and admits a request only
// while its balance is positive. Times are microseconds of a monotonic
// clock; a clock that goes back is taken as standing still.
class TokenBucket {
 public:
  // Starts full at `now_us`. REQUIRES: rate > 0, burst_seconds > 0.
  TokenBucket(double rate, double burst_seconds, int64_t now_us);

  // Whether a request may start now: the balance is positive.
  bool Admits(int64_t now_us);
  // Takes `units` (>= 0); the balance may become negative.
  void Take(double units, int64_t now_us);
  // A new rate (UpdateTable): the balance so far is kept, capped at the new
  // maximum. REQUIRES: rate > 0.
  void Resize(double rate, int64_t now_us);
  // The balance refilled to `now_us`.
  double Balance(int64_t now_us);

  double rate() const { return rate_; }
  // The most it holds: rate * burst_seconds.
  double max_balance() const { return rate_ * burst_seconds_; }

 private:
  void Refill(int64_t now_us);

  double rate_;
  double burst_seconds_;
  double balance_;
  int64_t last_us_;
};

// Reads or writes, for admission.
enum class CapacityUse : uint8_t { kRead, kWrite };

// How the request path admits an operation's requests (AdmissionOf).
enum class CapacityAdmission : uint8_t {
  kNone,           // Consumes no capacity (table, stream, admin APIs).
  kReadItem,       // GetItem: TableName.
  kWriteItem,      // PutItem, UpdateItem, DeleteItem: TableName.
  kQueryScan,      // Query, Scan: TableName, IndexName.
  kTransactGet,    // TransactGetItems: each Get's TableName.
  kTransactWrite,  // TransactWriteItems: each action's TableName.
  kStatement,      // ExecuteStatement: the statement's table (and index).
  kTransaction,    // ExecuteTransaction: each statement's.
  kPerItem,        // BatchGetItem, BatchWriteItem, BatchExecuteStatement:
                   // the operation admits each item itself.
};

// The admission of the operation named `operation` ("GetItem").
CapacityAdmission AdmissionOf(std::string_view operation);

class CapacityLimiter {
 public:
  struct Options {
    // Unused capacity a bucket keeps, in seconds of its rate (DynamoDB:
    // 300). Must be > 0.
    double burst_seconds = 300;
    // Microseconds of a monotonic clock; defaults to steady_clock. Tests
    // inject one. Must be thread-safe.
    std::function<int64_t()> clock_us;
  };

  // `db` must outlive the limiter; `config` names resources in
  // ThrottlingReasons.
  CapacityLimiter(store::Database* db, EndpointConfig config, Options options);

  // Admits a request of `operation`'s kind before the operation runs
  // (nothing to do for kNone and kPerItem). A throttled item of a
  // transaction cancels it (TransactionCanceledException); any other
  // request gets ProvisionedThroughputExceededException. Tables that do not
  // exist, and requests too malformed to name a table, are admitted: the
  // operation answers them with DynamoDB's error.
  ApiStatus AdmitRequest(CapacityAdmission admission,
                         const rapidjson::Value& request);

  // Whether one request (or one item of a batch) of `use` on `table` may
  // start: OK, or ProvisionedThroughputExceededException naming the table
  // or, for a write held back by a GSI or a read of a GSI, the index.
  // `index` (may be null) is the index a read reads.
  ApiStatus Admit(const std::string& table, CapacityUse use,
                  const std::string* index = nullptr);

  // Charges what one request consumed on `table` (ReportConsumed).
  void Charge(const std::string& table, const Capacity& used, bool write);

  // The table's throughput as it is now (after CreateTable, UpdateTable):
  // its buckets are created, resized or dropped to match at once.
  void Configure(const store::TableInfo& info);
  // Drops a deleted table's buckets.
  void Forget(const std::string& table);

  // Refusals so far (reads, writes), for /metrics.
  uint64_t throttled_reads() const { return throttled_reads_.load(); }
  uint64_t throttled_writes() const { return throttled_writes_.load(); }

 private:
  struct Buckets {
    TokenBucket read;
    TokenBucket write;
  };
  // A table's buckets: none for a table on demand (PAY_PER_REQUEST).
  struct TableBuckets {
    std::optional<Buckets> table;
    std::map<std::string, Buckets, std::less<>> global_indexes;
  };

  // The buckets of `table` (built from the store on first use), or null
  // when the table does not exist. REQUIRES: mu_ held by `lock`, which this
  // may release and retake.
  TableBuckets* Find(const std::string& table,
                     std::unique_lock<std::mutex>* lock);
  TableBuckets Build(const store::TableInfo& info, int64_t now_us) const;
  ApiError Throttled(const std::string& table, const std::string* index,
                     CapacityUse use);
  int64_t Now() const { return options_.clock_us(); }

  store::Database* db_;
  EndpointConfig config_;
  Options options_;
  std::mutex mu_;
  std::unordered_map<std::string, TableBuckets> tables_;  // Guarded by mu_.
  std::atomic<uint64_t> throttled_reads_{0};
  std::atomic<uint64_t> throttled_writes_{0};
};

// DynamoDB's messages.
inline constexpr std::string_view kTableThroughputExceeded =
    "The level of configured provisioned throughput for the table was "
    "exceeded. Consider increasing your provisioning level with the "
    "UpdateTable API.";
inline constexpr std::string_view kIndexThroughputExceeded =
    "The level of configured provisioned throughput for one or more global "
    "secondary indexes of the table was exceeded. Consider increasing your "
    "provisioning level for the under-provisioned global secondary indexes "
    "with the UpdateTable API";

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_CAPACITY_H_
