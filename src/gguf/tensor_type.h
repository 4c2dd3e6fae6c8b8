// The ggml tensor types as GGUF numbers them, with each type's block geometry.
// The numbering is the file format's: never renumber.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace locara {

enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  // 4 and 5 (Q4_2, Q4_3) were removed from ggml.
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kCount = 31,
};

struct TensorTypeInfo {
  std::string_view name;   // ggml's name: "f32", "q4_0", "q4_K", ...
  int64_t block_size = 0;  // elements per block (1 for plain types); 0 = unknown/removed id
  size_t type_size = 0;    // bytes per block
};

// Geometry of a type id read from a file; nullopt for ids that are not ggml types.
std::optional<TensorTypeInfo> tensor_type_info(uint32_t type_id);
const TensorTypeInfo& tensor_type_info(TensorType type);
std::string_view tensor_type_name(TensorType type);
// Parses ggml's name ("q8_0", "F16", case-insensitive); nullopt if unknown.
std::optional<TensorType> tensor_type_from_name(std::string_view name);

// Bytes of one row of n_elements; nullopt if n_elements is not a multiple of the block size.
std::optional<size_t> tensor_row_bytes(TensorType type, int64_t n_elements);

}  // namespace locara
