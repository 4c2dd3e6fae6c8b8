// Helpers for GGUF tests: a small valid sample file built with the writer, byte-level
// locations of its fields (to corrupt them), and opening an image from a temp file.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "platform/scratch_dir.h"

namespace locara::testing {

inline std::string shared_path(const std::string& relative) {
  return std::string(LOCARA_SHARED_DIR) + "/" + relative;
}

inline std::vector<uint8_t> pattern_bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return bytes;
}

// Sample layout: metadata general.architecture, sample.description (a 600-byte string, so
// that truncations inside later fields still pass the header's count bounds),
// sample.count (uint32), sample.tokens (string array), sample.flag (bool); tensors
// weight.f32 (F32 {8, 4}), weight.q8_0 (Q8_0 {64, 2}), bias (F32 {8}).
inline GgufWriter sample_writer() {
  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_string("sample.description", std::string(600, 'd'));
  writer.set_uint32("sample.count", 7);
  writer.set_string_array("sample.tokens", {"<s>", "hello", "world"});
  writer.set_bool("sample.flag", true);
  EXPECT_TRUE(writer.add_tensor("weight.f32", TensorType::kF32, {8, 4}, pattern_bytes(128, 1)));
  EXPECT_TRUE(writer.add_tensor("weight.q8_0", TensorType::kQ8_0, {64, 2}, pattern_bytes(136, 2)));
  EXPECT_TRUE(writer.add_tensor("bias", TensorType::kF32, {8}, pattern_bytes(32, 3)));
  return writer;
}

inline std::vector<uint8_t> sample_image() {
  return sample_writer().serialize();
}

// Offset of the first occurrence of `needle`; fails the test if absent.
inline size_t find_bytes(const std::vector<uint8_t>& image, std::string_view needle) {
  const auto it = std::search(image.begin(), image.end(), needle.begin(), needle.end());
  EXPECT_NE(it, image.end()) << "'" << needle << "' not in image";
  return static_cast<size_t>(it - image.begin());
}

template <typename T>
void poke(std::vector<uint8_t>& image, size_t offset, T value) {
  ASSERT_LE(offset + sizeof(T), image.size());
  std::memcpy(image.data() + offset, &value, sizeof(T));
}

template <typename T>
T peek(const std::vector<uint8_t>& image, size_t offset) {
  T value{};
  std::memcpy(&value, image.data() + offset, sizeof(T));
  return value;
}

// Offset of a key's value type field (its value follows 4 bytes later).
inline size_t key_type_offset(const std::vector<uint8_t>& image, std::string_view key) {
  return find_bytes(image, key) + key.size();
}
inline size_t key_value_offset(const std::vector<uint8_t>& image, std::string_view key) {
  return key_type_offset(image, key) + 4;
}

// Offsets of one tensor info's fields.
struct TensorInfoLayout {
  size_t name_length = 0;
  size_t n_dims = 0;
  size_t dims = 0;  // dims[i] at dims + 8 * i
  size_t type = 0;
  size_t offset = 0;
};

inline TensorInfoLayout tensor_info_layout(const std::vector<uint8_t>& image,
                                           std::string_view name) {
  // The name preceded by its length, so that a key containing it does not match.
  std::string needle(8, '\0');
  const uint64_t length = name.size();
  std::memcpy(needle.data(), &length, 8);
  needle += name;
  TensorInfoLayout layout;
  layout.name_length = find_bytes(image, needle);
  layout.n_dims = layout.name_length + 8 + name.size();
  layout.dims = layout.n_dims + 4;
  layout.type = layout.dims + 8 * peek<uint32_t>(image, layout.n_dims);
  layout.offset = layout.type + 4;
  return layout;
}

// Writes the image to a temp file and opens it with the reader.
inline Expected<std::unique_ptr<GgufReader>> open_image(const ScratchDir& dir,
                                                        const std::vector<uint8_t>& image,
                                                        const std::string& name = "test.gguf") {
  return GgufReader::open(dir.write(name, image));
}

}  // namespace locara::testing
