#include "gguf/tensor_type.h"

#include <array>

namespace locara {
namespace {

// Indexed by type id. Sizes are ggml's block structs (e.g. q4_K: fp16 d and dmin, 12 bytes
// of 6-bit scales, 128 bytes of nibbles = 144). Ids 4 and 5 (q4_2, q4_3) were removed and
// keep block_size 0 so that files using them are rejected.
constexpr std::array<TensorTypeInfo, static_cast<size_t>(TensorType::kCount)> kTypeInfos = {{
    {"f32", 1, 4},         // 0
    {"f16", 1, 2},         // 1
    {"q4_0", 32, 18},      // 2
    {"q4_1", 32, 20},      // 3
    {"q4_2", 0, 0},        // 4: removed
    {"q4_3", 0, 0},        // 5: removed
    {"q5_0", 32, 22},      // 6
    {"q5_1", 32, 24},      // 7
    {"q8_0", 32, 34},      // 8
    {"q8_1", 32, 36},      // 9
    {"q2_K", 256, 84},     // 10
    {"q3_K", 256, 110},    // 11
    {"q4_K", 256, 144},    // 12
    {"q5_K", 256, 176},    // 13
    {"q6_K", 256, 210},    // 14
    {"q8_K", 256, 292},    // 15
    {"iq2_xxs", 256, 66},  // 16
    {"iq2_xs", 256, 74},   // 17
    {"iq3_xxs", 256, 98},  // 18
    {"iq1_s", 256, 50},    // 19
    {"iq4_nl", 32, 18},    // 20
    {"iq3_s", 256, 110},   // 21
    {"iq2_s", 256, 82},    // 22
    {"iq4_xs", 256, 136},  // 23
    {"i8", 1, 1},          // 24
    {"i16", 1, 2},         // 25
    {"i32", 1, 4},         // 26
    {"i64", 1, 8},         // 27
    {"f64", 1, 8},         // 28
    {"iq1_m", 256, 56},    // 29
    {"bf16", 1, 2},        // 30
}};

char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::optional<TensorTypeInfo> tensor_type_info(uint32_t type_id) {
  if (type_id >= kTypeInfos.size() || kTypeInfos[type_id].block_size == 0) return std::nullopt;
  return kTypeInfos[type_id];
}

const TensorTypeInfo& tensor_type_info(TensorType type) {
  // A value cast from an unchecked integer must not index past the table.
  static constexpr TensorTypeInfo kUnknown{"unknown", 0, 0};
  const auto id = static_cast<size_t>(type);
  return id < kTypeInfos.size() ? kTypeInfos[id] : kUnknown;
}

std::string_view tensor_type_name(TensorType type) {
  return tensor_type_info(type).name;
}

std::optional<TensorType> tensor_type_from_name(std::string_view name) {
  for (size_t id = 0; id < kTypeInfos.size(); ++id) {
    if (kTypeInfos[id].block_size != 0 && equals_ignoring_case(kTypeInfos[id].name, name)) {
      return static_cast<TensorType>(id);
    }
  }
  return std::nullopt;
}

std::optional<size_t> tensor_row_bytes(TensorType type, int64_t n_elements) {
  const auto info = tensor_type_info(static_cast<uint32_t>(type));
  if (!info || n_elements < 0 || n_elements % info->block_size != 0) return std::nullopt;
  size_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(n_elements / info->block_size), info->type_size,
                             &bytes)) {
    return std::nullopt;
  }
  return bytes;
}

}  // namespace locara
