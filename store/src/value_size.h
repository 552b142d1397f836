// The parts of DynamoDB's item size formula that AttributeValue::Size and
// the item codec's walk (VisitItem) share, so both count alike.
#ifndef EDDY_STORE_SRC_VALUE_SIZE_H_
#define EDDY_STORE_SRC_VALUE_SIZE_H_

#include <cstddef>
#include <string_view>

namespace eddy::store {

// Bytes an N value (or NS member) counts for: one per two significant
// digits, plus one. REQUIRES: `canonical` is canonical number text.
size_t NumberValueSize(std::string_view canonical);

// What an M or L value counts for besides its elements and their names: 3
// bytes for the value, 1 per element.
inline constexpr size_t kContainerOverhead = 3;
inline constexpr size_t kElementOverhead = 1;

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_VALUE_SIZE_H_
