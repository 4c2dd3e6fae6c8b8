// GGUF file-format constants and the byte-level cursor the reader parses with;
// internal to gguf/ (the reader and the writer agree on these).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "gguf/gguf_reader.h"

namespace locara::gguf_format {

// GGUF is little-endian and so are all our targets: values are memcpy'd, not swapped.
static_assert(std::endian::native == std::endian::little, "GGUF reader assumes little-endian");

inline constexpr uint8_t kMagic[4] = {'G', 'G', 'U', 'F'};
inline constexpr uint32_t kVersion = 3;  // what the writer produces
inline constexpr uint64_t kDefaultAlignment = 32;
inline constexpr std::string_view kAlignmentKey = "general.alignment";
inline constexpr uint32_t kMaxDims = 4;
// Nested arrays are legal GGUF, but a file nesting thousands deep would exhaust the
// stack of a recursive parser; no real model nests at all.
inline constexpr int kMaxArrayDepth = 16;
// Fewest bytes one entry can take, for rejecting absurd counts before allocating:
// key/value = key length (8) + value type (4) + a 1-byte value; tensor info = name length
// (8) + n_dims (4) + one dim (8) + type (4) + offset (8).
inline constexpr uint64_t kMinKeyValueBytes = 13;
inline constexpr uint64_t kMinTensorInfoBytes = 32;

inline constexpr uint32_t kValueTypeCount = 13;
inline bool is_value_type(uint32_t id) {
  return id < kValueTypeCount;
}

// Bytes of a value of this type in the file, or for strings and arrays the fewest bytes
// one can take (an empty string: its length; an empty array: element type and count).
size_t min_value_bytes(GgufValueType type);

inline bool is_power_of_two(uint64_t value) {
  return value != 0 && (value & (value - 1)) == 0;
}

// value rounded up to a multiple of alignment (a power of two); nullopt on overflow.
inline std::optional<uint64_t> align_up(uint64_t value, uint64_t alignment) {
  uint64_t sum = 0;
  if (__builtin_add_overflow(value, alignment - 1, &sum)) return std::nullopt;
  return sum & ~(alignment - 1);
}

// A format violation at a byte offset: every parse error ends "at byte 0x1a2".
template <typename... Args>
Error corrupt_at(uint64_t offset, fmt::format_string<Args...> format, Args&&... args) {
  Error error = make_error(ErrorCode::kCorruptFile, format, std::forward<Args>(args)...);
  error.message += fmt::format(" at byte 0x{:x}", offset);
  return error;
}

// Bounds-checked forward reads over a file image. Thread-compatible.
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t position() const { return position_; }
  size_t size() const { return bytes_.size(); }
  size_t remaining() const { return bytes_.size() - position_; }

  // Reads a T and advances; false (position unchanged) if the file ends first.
  template <typename T>
  bool read(T* out) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(out, bytes_.data() + position_, sizeof(T));
    position_ += sizeof(T);
    return true;
  }
  // Borrows the next n bytes (zero copy) and advances; false if fewer remain.
  bool read_bytes(uint64_t n, std::string_view* out) {
    if (remaining() < n) return false;
    *out = std::string_view(reinterpret_cast<const char*>(bytes_.data() + position_), n);
    position_ += n;
    return true;
  }

  // The error for a field of `needed` bytes that the file is too short to hold.
  Error truncated(std::string_view field, uint64_t needed) const {
    return corrupt_at(position_, "{}: needs {} bytes but only {} remain (file size {})", field,
                      needed, remaining(), size());
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t position_ = 0;
};

// Parses one metadata value of `type` at the cursor, arrays recursively. `key` names the
// value in error messages. Errors are kCorruptFile, or kUnsupported for deep nesting.
Status parse_value(Cursor& cursor, GgufValueType type, std::string_view key, GgufValue* out);

}  // namespace locara::gguf_format
