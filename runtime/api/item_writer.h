// ItemWriter: writes the items a read returns (GetItem, BatchGetItem, Query,
// Scan) in DynamoDB JSON, applying the read's projection.
//
// Items are written straight from their stored encoding (WriteEncodedItem)
// unless the projection needs the item's structure: with no projection, or
// one of whole top-level attributes only ("a, b", AttributesToGet), the
// encoding is walked and the other attributes skipped; a projection into
// nested values ("a.b", "l[1]") decodes the item and applies
// store::Projection. Either way the output is what WriteItem writes for
// Projection::Apply of the decoded item.
//
// Thread-safety: const methods may be called concurrently.
#ifndef EDDY_RUNTIME_API_ITEM_WRITER_H_
#define EDDY_RUNTIME_API_ITEM_WRITER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/json_codec.h"
#include "eddy/result.h"
#include "eddy/store/expression.h"

namespace eddy::runtime::api {

class ItemWriter {
 public:
  // `projection` may be null (the whole item); it must outlive the writer.
  explicit ItemWriter(const store::Projection* projection);

  // Whether the items must be decoded to be projected: a read should then
  // ask the store for decoded items, and write them with WriteDecoded.
  bool needs_decoded() const {
    return projection_ != nullptr && !top_level_names_;
  }

  // Writes the stored item `encoded`, projected. Returns the whole item's
  // size (store::ItemSize) for the capacity consumed. Corruption on
  // malformed bytes, after writing part of the item.
  Result<size_t> WriteEncoded(std::string_view encoded, JsonWriter* w) const;
  // Writes a decoded item, projected.
  void WriteDecoded(const store::Item& item, JsonWriter* w) const;

 private:
  const store::Projection* projection_;
  // When every path of the projection is a whole top-level attribute: their
  // names, sorted and unique.
  std::optional<std::vector<std::string>> top_level_names_;
};

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_ITEM_WRITER_H_
