#include "ttl_sweeper.h"

#include <chrono>

namespace eddy::store {

bool TtlExpired(const Item& item, const std::string& attribute,
                int64_t now_seconds) {
  auto it = item.find(attribute);
  if (it == item.end() || it->second.type() != ValueType::kN) return false;
  const Number expiry = it->second.AsNumber();
  const Number now = *Number::Parse(std::to_string(now_seconds));
  const Number oldest =
      *Number::Parse(std::to_string(now_seconds - kTtlMaxAgeSeconds));
  return expiry < now && !(expiry < oldest);
}

Result<SweepStats> SweepTable(Table* table, const std::string& attribute,
                              int64_t now_seconds,
                              const std::atomic<bool>& stop,
                              spdlog::logger* logger) {
  const TableSchema& schema = table->schema();
  SweepStats stats;
  ScanRequest request;
  auto last_log = std::chrono::steady_clock::now();
  bool logged = false;
  for (;;) {
    Result<ReadPage> page = table->Scan(request);
    if (!page.ok()) return page.status();
    stats.scanned += page->scanned_count;
    for (const Item& item : page->items) {
      if (!TtlExpired(item, attribute, now_seconds)) continue;
      Item key;
      key.emplace(schema.hash_key.name, item.at(schema.hash_key.name));
      if (schema.range_key) {
        key.emplace(schema.range_key->name, item.at(schema.range_key->name));
      }
      Result<bool> deleted = table->DeleteExpired(key, attribute, now_seconds);
      if (!deleted.ok()) return deleted.status();
      if (*deleted) ++stats.deleted;
    }
    if (!page->last_evaluated_key || stop.load(std::memory_order_relaxed)) {
      break;
    }
    request.exclusive_start_key = std::move(page->last_evaluated_key);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log >= std::chrono::seconds(1)) {
      logger->info(
          "TTL sweep of table {}: {} items scanned, {} expired items deleted "
          "so far",
          schema.name, stats.scanned, stats.deleted);
      last_log = now;
      logged = true;
    }
  }
  if (logged || stats.deleted > 0) {
    logger->info(
        "TTL sweep of table {}: {} items scanned, {} expired items "
        "deleted",
        schema.name, stats.scanned, stats.deleted);
  }
  return stats;
}

}  // namespace eddy::store
