// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78): the
// checksum of stream log records and segment headers, and of LevelDB's
// table blocks (the store checks those itself: store/src/store_env.h).
// Uses the SSE4.2 crc32 instruction when the CPU has it, a slicing-by-8
// table otherwise; both give the same value.
//
// Thread-safety: pure functions; safe from any thread.
#ifndef EDDY_STREAMS_CRC32C_H_
#define EDDY_STREAMS_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace eddy::streams::crc32c {

// Returns the CRC-32C of data[0, n). Value("123456789") == 0xE3069283; the
// CRC of an empty input is 0.
uint32_t Value(const char* data, size_t n);

// Continues a checksum: Extend(Value(a), b) == Value(a + b).
uint32_t Extend(uint32_t crc, const char* data, size_t n);

}  // namespace eddy::streams::crc32c

#endif  // EDDY_STREAMS_CRC32C_H_
