// @file crc32.h
// @brief CRC-32/IEEE (the zlib/gzip/event-stream checksum: reflected polynomial 0xEDB88320,
// initial value and final XOR 0xFFFFFFFF), slicing-by-8.
//
// One-shot: Crc32(data). Incremental, zlib-style: start from 0 and feed each piece,
// crc = Crc32Extend(crc, piece); the result equals Crc32 of the concatenation.
// Thread-safety: pure functions over constant tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mg::aws {

// Continues a CRC-32 over `size` more bytes. `crc` is a previous result (0 to start).
uint32_t Crc32Extend(uint32_t crc, const void* data, size_t size);

inline uint32_t Crc32Extend(uint32_t crc, std::string_view data) {
  return Crc32Extend(crc, data.data(), data.size());
}

inline uint32_t Crc32(std::string_view data) { return Crc32Extend(0, data); }

}  // namespace mg::aws
