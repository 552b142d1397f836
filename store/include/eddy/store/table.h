// Table: the items of one table and the operations on them.
//
// Writes to one item are serialised (a striped lock keyed by the item's
// primary key), so conditional writes and read-modify-write updates such as
// ADD never lose an update. A write is one LevelDB batch; with
// Database::Options::sync it is fsync'ed (group-committed by LevelDB) before
// it returns. Reads see a consistent snapshot.
//
// Thread-safety: all methods may be called concurrently. A Table obtained from
// Database::GetTable stays usable after the table is deleted; its operations
// then fail with NotFound.
#ifndef EDDY_STORE_TABLE_H_
#define EDDY_STORE_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/attribute_value.h"
#include "eddy/store/expression.h"
#include "eddy/store/item_codec.h"
#include "eddy/store/table_schema.h"

namespace eddy::store {

// The item before and after a write. Both are filled whenever they exist;
// the API layer picks what ReturnValues asks for.
struct WriteOutcome {
  // Set by the caller: which images it reads. One not wanted is left
  // empty (copying whole items that nobody reads was a tenth of a PutItem).
  bool want_old_item = true;
  bool want_new_item = true;
  std::optional<Item> old_item;  // The item before the write, if any.
  std::optional<Item> new_item;  // The item after it, if any.
  // ItemSize of the item before and after (0: none), wanted or not.
  size_t old_size = 0;
  size_t new_size = 0;
  // The secondary index entries the write puts or deletes, by DynamoDB's
  // rules for index write costs: one write to add or remove an entry, two
  // when the index key changes, one when only projected attributes change,
  // none when the item is in the index neither before nor after.
  struct IndexWrite {
    std::string index;
    bool global = true;
    std::vector<size_t> entry_sizes;  // One per entry write.
  };
  std::vector<IndexWrite> index_writes;
};

// Scan parameters. The filter is evaluated after reading; Limit counts items
// read (before the filter), as in DynamoDB.
struct ScanRequest {
  // Empty: the table; otherwise a secondary index, whose entries are read
  // in its order and hold its projected attributes.
  std::string index_name;
  // As QueryRequest::fetch_table_items.
  bool fetch_table_items = false;
  const Condition* filter = nullptr;
  std::optional<int64_t> limit;
  std::optional<Item> exclusive_start_key;
  int32_t segment = 0;
  int32_t total_segments = 1;
  // Return the items as stored, in ReadPage::encoded_items, rather than
  // decoded in ReadPage::items: for callers that only pass them on (see
  // VisitItem). Items are then decoded only where the read itself needs
  // them (the filter, a fetch, LastEvaluatedKey).
  bool encoded = false;
};

struct QueryRequest {
  // As ScanRequest::index_name; the key condition is on the index's keys.
  std::string index_name;
  // An LSI query with Select ALL_ATTRIBUTES: each entry is replaced by its
  // whole item from the table (DynamoDB's fetch for LSIs).
  bool fetch_table_items = false;
  KeyCondition key_condition;
  bool scan_forward = true;
  const Condition* filter = nullptr;
  std::optional<int64_t> limit;
  std::optional<Item> exclusive_start_key;
  // As ScanRequest::encoded.
  bool encoded = false;
};

// One page of a Query or Scan.
struct ReadPage {
  // Items that passed the filter: decoded, or as stored (EncodeItem) when
  // the request asked for `encoded` items; the other one is empty.
  std::vector<Item> items;
  EncodedItems encoded_items;
  int64_t scanned_count = 0;  // Items read, before the filter.
  size_t scanned_bytes = 0;   // Their size by DynamoDB's item size formula.
  std::optional<Item> last_evaluated_key;

  // Items that passed the filter, in either form.
  size_t count() const { return items.size() + encoded_items.size(); }
};

class Table {
 public:
  // Pages stop once the items read reach this many bytes (DynamoDB's 1 MB).
  static constexpr size_t kMaxPageBytes = 1024 * 1024;

  virtual ~Table() = default;

  virtual const TableSchema& schema() const = 0;
  virtual TableInfo Describe() const = 0;

  // PutItem. `condition` may be null. On a false condition returns
  // ConditionFailed with out->old_item set to the current item (if any).
  virtual Status Put(Item item, const Condition* condition,
                     WriteOutcome* out) = 0;
  // UpdateItem. Creates the item if it does not exist. `update` may be null
  // (the item is then created with just its key, or left unchanged).
  virtual Status UpdateItem(const Item& key, const Update* update,
                            const Condition* condition, WriteOutcome* out) = 0;
  // DeleteItem. Deleting a missing item succeeds.
  virtual Status Delete(const Item& key, const Condition* condition,
                        WriteOutcome* out) = 0;
  // TTL: deletes the item at `key` as the service if its `attribute` is a
  // Number of epoch seconds before `now_seconds` (and not more than five
  // years before, as DynamoDB). Its stream record carries the service
  // identity. Returns whether the item was deleted.
  virtual Result<bool> DeleteExpired(const Item& key,
                                     const std::string& attribute,
                                     int64_t now_seconds) = 0;
  // GetItem; nullopt when the item does not exist.
  virtual Result<std::optional<Item>> Get(const Item& key) = 0;
  // Get, but the item as stored (EncodeItem), not decoded: for callers that
  // only pass it on. The bytes are not checked here; VisitItem and
  // DecodeItem check them.
  virtual Result<std::optional<std::string>> GetEncoded(const Item& key) = 0;

  virtual Result<ReadPage> Query(const QueryRequest& request) = 0;
  virtual Result<ReadPage> Scan(const ScanRequest& request) = 0;

  // The size of the item collection of a partition key value: its items
  // plus their entries in the local secondary indexes, by DynamoDB's item
  // size formula (ReturnItemCollectionMetrics).
  virtual Result<int64_t> ItemCollectionSize(
      const AttributeValue& partition_value) = 0;
  // One index as Describe() reports it (without its statistics), or
  // nullopt; cheaper than Describe().
  virtual std::optional<IndexInfo> DescribeIndex(
      const std::string& name) const = 0;
  // Whether the table has a local secondary index (only such tables report
  // item collection metrics).
  virtual bool HasLocalIndexes() const = 0;

  // Query and Scan of an index fail with InvalidArgument when it does not
  // exist ("The table does not have the specified index: <name>") or is
  // still being created ("Cannot read from backfilling global secondary
  // index: <name>"). ExclusiveStartKey / LastEvaluatedKey of an index hold
  // the table's and the index's key attributes.

  // Checks that `key` holds exactly the key attributes with the right types
  // ("The provided key element does not match the schema").
  virtual Status ValidateKey(const Item& key) const = 0;
  // The checks Put applies to a whole item (key attributes, item size), for
  // requests that validate every item before writing any (BatchWriteItem).
  virtual Status ValidateItem(const Item& item) const = 0;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_TABLE_H_
