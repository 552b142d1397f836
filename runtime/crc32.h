// CRC-32 (IEEE 802.3, the zlib/gzip polynomial), as DynamoDB sends it in the
// x-amz-crc32 response header: the checksum of the response body, written as
// an unsigned decimal. boto3 and the AWS CLI verify it and retry on mismatch.
//
// Thread-safety: pure functions; safe from any thread.
#ifndef EDDY_RUNTIME_CRC32_H_
#define EDDY_RUNTIME_CRC32_H_

#include <cstdint>
#include <string_view>

namespace eddy::runtime {

// Returns the CRC-32 of `data`. Crc32("123456789") == 0xCBF43926; the CRC of
// an empty input is 0.
uint32_t Crc32(std::string_view data);

// Continues a checksum over data that arrives in pieces:
// Crc32Extend(Crc32(a), b) == Crc32(a + b). Start from 0.
uint32_t Crc32Extend(uint32_t crc, std::string_view data);

}  // namespace eddy::runtime

#endif  // EDDY_RUNTIME_CRC32_H_
