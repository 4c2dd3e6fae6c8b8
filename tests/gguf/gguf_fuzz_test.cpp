// Random single-byte mutations and truncations of a valid file: each must open or give
// an error, never crash or read out of bounds (the sanitizer build checks the latter).
#include <gtest/gtest.h>

#include <random>

#include "gguf/gguf_test_util.h"

namespace locara {
namespace {

// Touches everything a successful open exposes, so ASan sees any bad pointer.
uint64_t touch_everything(const GgufReader& reader) {
  uint64_t checksum = 0;
  const auto visit = [&](const auto& self, const GgufValue& value) -> void {
    if (const GgufArray* array = value.as_array()) {
      for (const GgufValue& element : array->elements) self(self, element);
    } else if (const std::string* text = value.as_string()) {
      for (const char c : *text) checksum += static_cast<uint8_t>(c);
    } else {
      checksum += static_cast<uint64_t>(value.as_float().value_or(0.0));
    }
  };
  for (const auto& [key, value] : reader.metadata()) visit(visit, value);
  for (const GgufTensor& tensor : reader.tensors()) {
    EXPECT_TRUE(reader.file().contains(tensor.data, tensor.n_bytes)) << tensor.name;
    for (size_t i = 0; i < tensor.n_bytes; ++i) checksum += tensor.data[i];
  }
  return checksum;
}

TEST(GgufFuzz, MutationsOpenOrFailCleanly) {
  GgufWriter writer = testing::sample_writer();
  writer.set("nested", [] {
    auto inner = std::make_shared<GgufArray>();
    inner->element_type = GgufValueType::kInt16;
    inner->elements.push_back(GgufValue{GgufValueType::kInt16, int64_t{-2}});
    auto outer = std::make_shared<GgufArray>();
    outer->element_type = GgufValueType::kArray;
    outer->elements.push_back(GgufValue{GgufValueType::kArray, inner});
    return GgufValue{GgufValueType::kArray, outer};
  }());
  const std::vector<uint8_t> base = writer.serialize();
  testing::ScratchDir dir;
  std::mt19937_64 random(20240611);
  int opened = 0;
  int failed = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::vector<uint8_t> image = base;
    const uint64_t choice = random() % 8;
    if (choice == 0) {
      image.resize(random() % base.size());
    } else {
      // Bias towards the header and metadata, where the structure lives.
      const size_t limit = choice < 5 ? std::min<size_t>(base.size(), 1024) : base.size();
      const uint8_t special[] = {0x00, 0xff, 0x80, 0x7f, 0x01, 0x20};
      image[random() % limit] =
          choice % 2 == 0 ? special[random() % sizeof(special)] : static_cast<uint8_t>(random());
    }
    auto reader = testing::open_image(dir, image);
    if (reader) {
      ++opened;
      touch_everything(**reader);
    } else {
      ++failed;
      EXPECT_FALSE(reader.error().message.empty());
      EXPECT_NE(reader.error().code, ErrorCode::kInternal) << reader.error().message;
    }
  }
  // Both outcomes must occur, or the mutations are not reaching the structure.
  EXPECT_GT(opened, 100);
  EXPECT_GT(failed, 100);
  std::printf("  %d opened, %d rejected\n", opened, failed);
}

}  // namespace
}  // namespace locara
