#include "crc32.h"

#include <zlib.h>

namespace eddy::runtime {

uint32_t Crc32Extend(uint32_t crc, std::string_view data) {
  // crc32_z takes a size_t length, so inputs past 4 GiB need no chunking.
  return static_cast<uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

uint32_t Crc32(std::string_view data) { return Crc32Extend(0, data); }

}  // namespace eddy::runtime
