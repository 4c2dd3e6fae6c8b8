// Each way a GGUF file can be broken gives its own error, naming the field and the byte.
#include <gtest/gtest.h>

#include "gguf/gguf_test_util.h"

namespace locara {
namespace {

using testing::key_type_offset;
using testing::key_value_offset;
using testing::peek;
using testing::poke;
using testing::sample_image;
using testing::ScratchDir;
using testing::tensor_info_layout;

class GgufCorrupt : public ::testing::Test {
 protected:
  // Opens `image` and expects an error of `code` whose message contains `field` and
  // names the file and (for format violations) the byte offset.
  void expect_error(const std::vector<uint8_t>& image, ErrorCode code, std::string_view field) {
    auto reader = testing::open_image(dir_, image);
    ASSERT_FALSE(reader) << "opened a corrupt file; expected: " << field;
    const Error& error = reader.error();
    EXPECT_EQ(error.code, code) << error_code_name(error.code) << ": " << error.message;
    EXPECT_NE(error.message.find(field), std::string::npos)
        << "expected '" << field << "' in: " << error.message;
    EXPECT_NE(error.message.find(dir_.file("test.gguf")), std::string::npos) << error.message;
    EXPECT_NE(error.message.find(" at byte 0x"), std::string::npos) << error.message;
  }
  void expect_corrupt(const std::vector<uint8_t>& image, std::string_view field) {
    expect_error(image, ErrorCode::kCorruptFile, field);
  }
  static std::vector<uint8_t> truncated(std::vector<uint8_t> image, size_t size) {
    image.resize(size);
    return image;
  }

  ScratchDir dir_;
  const std::vector<uint8_t> image_ = sample_image();
};

TEST_F(GgufCorrupt, SampleIsValid) {
  auto reader = testing::open_image(dir_, image_);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->tensors().size(), 3u);
}

TEST_F(GgufCorrupt, TruncatedInsideHeader) {
  expect_corrupt(truncated(image_, 0), "magic: needs 4 bytes but only 0 remain");
  expect_corrupt(truncated(image_, 3), "magic: needs 4 bytes");
  expect_corrupt(truncated(image_, 6), "version: needs 4 bytes");
  expect_corrupt(truncated(image_, 12), "tensor count: needs 8 bytes");
  expect_corrupt(truncated(image_, 20), "key/value count: needs 8 bytes");
  expect_corrupt(truncated(image_, 24), "tensor count 3 is absurd");
}

TEST_F(GgufCorrupt, TruncatedInsideKeyValue) {
  const size_t description = key_value_offset(image_, "sample.description");
  expect_corrupt(truncated(image_, description + 100),
                 "key 'sample.description': string length 600 runs past the end");
  auto reader = testing::open_image(dir_, truncated(image_, description + 100));
  ASSERT_FALSE(reader);
  EXPECT_NE(reader.error().message.find(fmt::format("at byte 0x{:x}", description)),
            std::string::npos)
      << reader.error().message;

  const size_t count = key_value_offset(image_, "sample.count");
  expect_corrupt(truncated(image_, count + 2), "key 'sample.count' uint32 value: needs 4 bytes");
  expect_corrupt(truncated(image_, key_type_offset(image_, "sample.count") + 1),
                 "key 'sample.count' value type: needs 4 bytes");
  const size_t tokens = key_value_offset(image_, "sample.tokens");
  expect_corrupt(truncated(image_, tokens + 4 + 8 + 1),
                 "key 'sample.tokens': array count 3 of string runs past the end");
  // Element type, count, "<s>" and "hello" whole, two bytes of "world".
  expect_corrupt(truncated(image_, tokens + 4 + 8 + (8 + 3) + (8 + 5) + 8 + 2),
                 "key 'sample.tokens'[2]: string length 5 runs past the end");
}

TEST_F(GgufCorrupt, TruncatedInsideTensorInfos) {
  const auto layout = tensor_info_layout(image_, "weight.q8_0");
  expect_corrupt(truncated(image_, layout.name_length + 10),
                 "tensor 1 name: string length 11 runs past the end");
  expect_corrupt(truncated(image_, layout.dims + 12), "tensor 'weight.q8_0' dim 1: needs 8 bytes");
  expect_corrupt(truncated(image_, layout.type + 2), "tensor 'weight.q8_0' type: needs 4 bytes");
  expect_corrupt(truncated(image_, layout.offset + 7),
                 "tensor 'weight.q8_0' data offset: needs 8 bytes");
  const auto bias = tensor_info_layout(image_, "bias");
  expect_corrupt(truncated(image_, bias.offset + 8 + 1), "data section");
}

TEST_F(GgufCorrupt, TruncatedInsideData) {
  expect_corrupt(truncated(image_, image_.size() - 10),
                 "tensor 'bias': data offset 288 + size 32 exceeds file size");
  const auto bias = tensor_info_layout(image_, "bias");
  const size_t data_offset = (bias.offset + 8 + 31) / 32 * 32;
  expect_corrupt(truncated(image_, data_offset + 5),
                 "tensor 'weight.f32': data offset 0 + size 128 exceeds file size");
}

TEST_F(GgufCorrupt, BadMagic) {
  auto image = image_;
  image[0] = 'X';
  expect_corrupt(image, "bad magic 58 47 55 46");
}

TEST_F(GgufCorrupt, UnsupportedVersions) {
  for (const uint32_t version : {0u, 1u, 4u, 0x03000000u}) {
    auto image = image_;
    poke<uint32_t>(image, 4, version);
    expect_error(image, ErrorCode::kUnsupported,
                 fmt::format("GGUF version {} is not supported", version));
  }
  auto image = image_;
  poke<uint32_t>(image, 4, 0x03000000u);
  expect_error(image, ErrorCode::kUnsupported, "big-endian");
  poke<uint32_t>(image, 4, 2);  // v2 has the same layout as v3
  auto reader = testing::open_image(dir_, image);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->version(), 2u);
}

TEST_F(GgufCorrupt, AbsurdCounts) {
  auto image = image_;
  poke<uint64_t>(image, 8, uint64_t{1} << 40);
  expect_corrupt(image, "tensor count 1099511627776 is absurd");
  image = image_;
  poke<uint64_t>(image, 16, ~uint64_t{0});
  expect_corrupt(image, "key/value count 18446744073709551615 is absurd");
  image = image_;
  poke<uint64_t>(image, 8, image.size() / 32 - 1);  // each alone fits, together they cannot
  poke<uint64_t>(image, 16, image.size() / 26);
  expect_corrupt(image, "need more than the");
}

TEST_F(GgufCorrupt, StringLengthPastEnd) {
  auto image = image_;
  poke<uint64_t>(image, key_value_offset(image_, "sample.description"), uint64_t{1} << 50);
  expect_corrupt(image, "key 'sample.description': string length 1125899906842624 runs past");
  image = image_;
  poke<uint64_t>(image, 24, ~uint64_t{0});  // the first key's name
  expect_corrupt(image, "key 0 name: string length 18446744073709551615 runs past");
}

TEST_F(GgufCorrupt, ArrayCountPastEnd) {
  auto image = image_;
  poke<uint64_t>(image, key_value_offset(image_, "sample.tokens") + 4, uint64_t{1} << 40);
  expect_corrupt(image, "key 'sample.tokens': array count 1099511627776 of string runs past");
}

TEST_F(GgufCorrupt, BadValueTypes) {
  auto image = image_;
  poke<uint32_t>(image, key_type_offset(image_, "sample.count"), 13);
  expect_corrupt(image, "key 'sample.count': value type 13 is not a GGUF value type");
  image = image_;
  poke<uint32_t>(image, key_value_offset(image_, "sample.tokens"), 99);
  expect_corrupt(image, "key 'sample.tokens': array element type 99");
  image = image_;
  poke<uint8_t>(image, key_value_offset(image_, "sample.flag"), 2);
  expect_corrupt(image, "key 'sample.flag': bool value 2 is not 0 or 1");
}

TEST_F(GgufCorrupt, DuplicateKey) {
  GgufWriter writer;
  writer.set_uint32("dup.one", 1);
  writer.set_uint32("dup.two", 2);
  auto image = writer.serialize();
  std::memcpy(image.data() + testing::find_bytes(image, "dup.two"), "dup.one", 7);
  expect_corrupt(image, "duplicate key 'dup.one'");
}

TEST_F(GgufCorrupt, DuplicateTensorName) {
  GgufWriter writer;
  ASSERT_TRUE(writer.add_tensor("t.a", TensorType::kF32, {1}, testing::pattern_bytes(4, 0)));
  ASSERT_TRUE(writer.add_tensor("t.b", TensorType::kF32, {1}, testing::pattern_bytes(4, 0)));
  auto image = writer.serialize();
  image[tensor_info_layout(image, "t.b").name_length + 8 + 2] = 'a';
  expect_corrupt(image, "duplicate tensor name 't.a'");
}

TEST_F(GgufCorrupt, TensorOffsetOutOfRange) {
  auto image = image_;
  poke<uint64_t>(image, tensor_info_layout(image_, "weight.q8_0").offset, uint64_t{1} << 40);
  expect_corrupt(image, "tensor 'weight.q8_0': data offset 1099511627776 lies past the end");
}

TEST_F(GgufCorrupt, TensorSizePastEnd) {
  auto image = image_;
  poke<uint64_t>(image, tensor_info_layout(image_, "bias").dims, 8 * 100);
  expect_corrupt(image, "tensor 'bias': data offset 288 + size 3200 exceeds file size");
}

TEST_F(GgufCorrupt, MisalignedOffset) {
  auto image = image_;
  const size_t offset_field = tensor_info_layout(image_, "bias").offset;
  poke<uint64_t>(image, offset_field, peek<uint64_t>(image, offset_field) + 4);
  expect_corrupt(image, "tensor 'bias': data offset 292 is not a multiple of the alignment 32");
}

TEST_F(GgufCorrupt, OverlappingTensors) {
  auto image = image_;
  poke<uint64_t>(image, tensor_info_layout(image_, "bias").offset, 96);
  expect_corrupt(image, "tensor 'bias': data [96, 128) overlaps tensor 'weight.f32' [0, 128)");
}

TEST_F(GgufCorrupt, BadAlignment) {
  GgufWriter writer = testing::sample_writer();
  writer.set_uint32("general.alignment", 64);
  const auto image64 = writer.serialize();
  auto reader = testing::open_image(dir_, image64);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->alignment(), 64u);

  const size_t value = key_value_offset(image64, "general.alignment");
  for (const uint32_t bad : {0u, 3u, 48u}) {
    auto image = image64;
    poke<uint32_t>(image, value, bad);
    expect_corrupt(image, fmt::format("general.alignment = {} is not a nonzero power of two", bad));
  }
  auto image = image64;
  poke<uint32_t>(image, key_type_offset(image64, "general.alignment"),
                 static_cast<uint32_t>(GgufValueType::kInt32));
  expect_corrupt(image, "general.alignment has type int32, expected uint32");
}

TEST_F(GgufCorrupt, BadDims) {
  const auto layout = tensor_info_layout(image_, "weight.f32");
  auto image = image_;
  poke<uint64_t>(image, layout.dims, uint64_t{1} << 40);
  poke<uint64_t>(image, layout.dims + 8, uint64_t{1} << 40);
  expect_corrupt(image, "tensor 'weight.f32': dims 1099511627776 x 1099511627776 overflow int64");

  image = image_;
  poke<uint64_t>(image, layout.dims + 8, ~uint64_t{0});
  expect_corrupt(image, "tensor 'weight.f32': dim 1 is negative (-1)");

  for (const uint32_t n_dims : {0u, 5u}) {
    image = image_;
    poke<uint32_t>(image, layout.n_dims, n_dims);
    expect_corrupt(image, fmt::format("tensor 'weight.f32': n_dims {} is not in 1..4", n_dims));
  }
}

TEST_F(GgufCorrupt, BadTensorType) {
  const auto layout = tensor_info_layout(image_, "weight.f32");
  auto image = image_;
  poke<uint32_t>(image, layout.type, 99);
  expect_corrupt(image, "tensor 'weight.f32': type id 99 is not a ggml tensor type");
  poke<uint32_t>(image, layout.type, 4);
  expect_corrupt(image, "type id 4 is not a ggml tensor type (removed from ggml)");
}

TEST_F(GgufCorrupt, RowNotMultipleOfBlockSize) {
  auto image = image_;
  poke<uint32_t>(image, tensor_info_layout(image_, "weight.f32").type,
                 static_cast<uint32_t>(TensorType::kQ4_0));
  expect_corrupt(image,
                 "tensor 'weight.f32': row length 8 is not a multiple of q4_0's block size 32");
}

TEST_F(GgufCorrupt, DeeplyNestedArraysAreUnsupported) {
  GgufValue value;
  value.type = GgufValueType::kInt32;
  value.data = int64_t{1};
  for (int depth = 0; depth < 40; ++depth) {
    auto array = std::make_shared<GgufArray>();
    array->element_type = value.type;
    array->elements.push_back(value);
    value = GgufValue{GgufValueType::kArray, array};
  }
  GgufWriter writer;
  writer.set("deep", value);
  expect_error(writer.serialize(), ErrorCode::kUnsupported, "key 'deep'[0][0]");
}

TEST_F(GgufCorrupt, NotAFile) {
  auto reader = GgufReader::open(dir_.file("missing.gguf"));
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::kNotFound);
  EXPECT_NE(reader.error().message.find("missing.gguf"), std::string::npos);
}

}  // namespace
}  // namespace locara
