#include "api/item_writer.h"

#include <algorithm>

#include "eddy/store/item_codec.h"

namespace eddy::runtime::api {
namespace {

// The projection's attribute names when every path is one whole top-level
// attribute (Projection::Apply then keeps just those attributes, whole),
// sorted and unique; nullopt otherwise.
std::optional<std::vector<std::string>> TopLevelNames(
    const store::Projection& projection) {
  std::vector<std::string> names;
  names.reserve(projection.paths().size());
  for (const store::Path& path : projection.paths()) {
    if (path.size() != 1 || path[0].is_index) return std::nullopt;
    names.push_back(path[0].name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace

ItemWriter::ItemWriter(const store::Projection* projection)
    : projection_(projection) {
  if (projection_ != nullptr) top_level_names_ = TopLevelNames(*projection_);
}

Result<size_t> ItemWriter::WriteEncoded(std::string_view encoded,
                                        JsonWriter* w) const {
  if (!needs_decoded()) {
    return WriteEncodedItem(encoded,
                            top_level_names_ ? &*top_level_names_ : nullptr, w);
  }
  EDDY_ASSIGN_OR_RETURN(store::Item item, store::DecodeItem(encoded));
  WriteDecoded(item, w);
  return store::ItemSize(item);
}

void ItemWriter::WriteDecoded(const store::Item& item, JsonWriter* w) const {
  if (projection_ == nullptr) {
    WriteItem(item, w);
  } else {
    WriteItem(projection_->Apply(item), w);
  }
}

}  // namespace eddy::runtime::api
