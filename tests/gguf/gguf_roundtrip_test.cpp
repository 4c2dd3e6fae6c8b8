// Writer -> reader: every metadata type (nested arrays too) and tensor bytes survive.
#include <gtest/gtest.h>

#include <cmath>

#include "gguf/gguf_test_util.h"

namespace locara {
namespace {

using testing::pattern_bytes;
using testing::ScratchDir;

GgufValue scalar(GgufValueType type, decltype(GgufValue::data) data) {
  return GgufValue{type, std::move(data)};
}

GgufValue array(GgufValueType element_type, std::vector<GgufValue> elements) {
  auto value = std::make_shared<GgufArray>();
  value->element_type = element_type;
  value->elements = std::move(elements);
  return GgufValue{GgufValueType::kArray, value};
}

void expect_same_value(const GgufValue& expected, const GgufValue& actual,
                       const std::string& where) {
  ASSERT_EQ(expected.type, actual.type) << where;
  if (expected.type != GgufValueType::kArray) {
    EXPECT_EQ(expected.data, actual.data) << where;
    return;
  }
  const GgufArray* want = expected.as_array();
  const GgufArray* got = actual.as_array();
  ASSERT_NE(got, nullptr) << where;
  EXPECT_EQ(want->element_type, got->element_type) << where;
  ASSERT_EQ(want->elements.size(), got->elements.size()) << where;
  for (size_t i = 0; i < want->elements.size(); ++i) {
    expect_same_value(want->elements[i], got->elements[i], where + "[" + std::to_string(i) + "]");
  }
}

std::vector<std::pair<std::string, GgufValue>> every_value_type() {
  using T = GgufValueType;
  return {
      {"t.uint8", scalar(T::kUint8, uint64_t{200})},
      {"t.int8", scalar(T::kInt8, int64_t{-5})},
      {"t.uint16", scalar(T::kUint16, uint64_t{60000})},
      {"t.int16", scalar(T::kInt16, int64_t{-30000})},
      {"t.uint32", scalar(T::kUint32, uint64_t{4000000000u})},
      {"t.int32", scalar(T::kInt32, int64_t{-2000000000})},
      {"t.float32", scalar(T::kFloat32, 1.5)},
      {"t.bool", scalar(T::kBool, true)},
      {"t.string", scalar(T::kString, std::string("h\xc3\xa9llo, \0world", 14))},
      {"t.empty_string", scalar(T::kString, std::string())},
      {"t.uint64", scalar(T::kUint64, (uint64_t{1} << 63) + 5)},
      {"t.int64", scalar(T::kInt64, int64_t{-(int64_t{1} << 62)})},
      {"t.float64", scalar(T::kFloat64, 3.25e100)},
      {"t.array.int32",
       array(T::kInt32, {scalar(T::kInt32, int64_t{-1}), scalar(T::kInt32, int64_t{7})})},
      {"t.array.empty_uint16", array(T::kUint16, {})},
      {"t.array.bool", array(T::kBool, {scalar(T::kBool, false), scalar(T::kBool, true)})},
      {"t.array.float64", array(T::kFloat64, {scalar(T::kFloat64, -0.5)})},
      {"t.array.nested_ints",
       array(T::kArray,
             {array(T::kInt32, {scalar(T::kInt32, int64_t{1})}), array(T::kInt32, {}),
              array(T::kInt32, {scalar(T::kInt32, int64_t{2}), scalar(T::kInt32, int64_t{3})})})},
      {"t.array.nested_strings",
       array(T::kArray,
             {array(T::kString,
                    {scalar(T::kString, std::string("a")), scalar(T::kString, std::string("bc"))}),
              array(T::kArray, {array(T::kString, {scalar(T::kString, std::string("deep"))})})})},
  };
}

struct TensorCase {
  std::string name;
  TensorType type;
  std::vector<int64_t> dims;
  size_t n_bytes;
};

const std::vector<TensorCase> kTensors = {
    {"f32", TensorType::kF32, {8, 4}, 128},        {"f16", TensorType::kF16, {16}, 32},
    {"q4_0", TensorType::kQ4_0, {64, 3}, 108},     {"q8_0", TensorType::kQ8_0, {32}, 34},
    {"q4_k", TensorType::kQ4_K, {256, 2}, 288},    {"i8", TensorType::kI8, {5}, 5},
    {"bf16", TensorType::kBF16, {3, 3, 1, 2}, 36}, {"empty", TensorType::kF32, {0, 4}, 0},
};

class GgufRoundTrip : public ::testing::TestWithParam<uint64_t> {};

TEST_P(GgufRoundTrip, EverythingSurvives) {
  const uint64_t alignment = GetParam();
  GgufWriter writer(alignment);
  const auto values = every_value_type();
  for (const auto& [key, value] : values) writer.set(key, value);
  for (size_t i = 0; i < kTensors.size(); ++i) {
    const TensorCase& tensor = kTensors[i];
    ASSERT_TRUE(writer.add_tensor(tensor.name, tensor.type, tensor.dims,
                                  pattern_bytes(tensor.n_bytes, static_cast<uint8_t>(i))));
  }
  ScratchDir dir;
  const std::string path = dir.file("round.gguf");
  const Status written = writer.write(path);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(testing::read_whole_file(path), writer.serialize());

  auto opened = GgufReader::open(path);
  ASSERT_TRUE(opened) << opened.error().message;
  const GgufReader& reader = **opened;
  EXPECT_EQ(reader.version(), 3u);
  EXPECT_EQ(reader.alignment(), alignment);
  EXPECT_EQ(reader.data_offset() % alignment, 0u);

  // A non-default alignment is recorded first, then the keys in the order they were set.
  const size_t first = alignment == 32 ? 0 : 1;
  ASSERT_EQ(reader.metadata().size(), values.size() + first);
  if (first == 1) {
    EXPECT_EQ(reader.get_int("general.alignment").value(), int64_t(alignment));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(reader.metadata()[i + first].first, values[i].first);
    expect_same_value(values[i].second, reader.metadata()[i + first].second, values[i].first);
  }

  ASSERT_EQ(reader.tensors().size(), kTensors.size());
  uint64_t total = 0;
  for (size_t i = 0; i < kTensors.size(); ++i) {
    const TensorCase& expected = kTensors[i];
    const GgufTensor* tensor = reader.find_tensor(expected.name);
    ASSERT_NE(tensor, nullptr) << expected.name;
    EXPECT_EQ(tensor, &reader.tensors()[i]);
    EXPECT_EQ(tensor->type, expected.type);
    EXPECT_EQ(tensor->dims, expected.dims);
    EXPECT_EQ(tensor->n_bytes, expected.n_bytes);
    EXPECT_EQ(tensor->offset % alignment, 0u);
    EXPECT_EQ(tensor->data, reader.file().data() + reader.data_offset() + tensor->offset);
    EXPECT_TRUE(reader.file().contains(tensor->data, tensor->n_bytes));
    const auto bytes = pattern_bytes(expected.n_bytes, static_cast<uint8_t>(i));
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), tensor->data)) << expected.name;
    total += tensor->n_bytes;
  }
  EXPECT_EQ(reader.total_tensor_bytes(), total);
  EXPECT_EQ(reader.find_tensor("absent"), nullptr);
  EXPECT_EQ(reader.find_tensor("q4_0")->n_elements(), 192);
  EXPECT_EQ(reader.find_tensor("q4_0")->n_rows(), 3);
  EXPECT_EQ(reader.find_tensor("empty")->n_elements(), 0);
  EXPECT_EQ(reader.find_tensor("empty")->n_rows(), 0);
}

INSTANTIATE_TEST_SUITE_P(Alignments, GgufRoundTrip, ::testing::Values(32, 64, 8, 4096));

TEST(GgufGetters, ConvertAndReportMistypes) {
  GgufWriter writer;
  for (const auto& [key, value] : every_value_type()) writer.set(key, value);
  writer.set_string_array("tokens", {"a", "b"});
  writer.set_float32_array("scores", {0.5f, -1.0f});
  writer.set_int32_array("types", {1, 2, 3});
  writer.set_uint64("big", 42);
  writer.set_int32("negative", -3);
  writer.set_float32("ratio", 0.25f);
  writer.set_bool("flag", false);
  writer.set_string("name", "first");
  writer.set_string("name", "second");  // replaces, keeps one entry
  ScratchDir dir;
  auto opened = testing::open_image(dir, writer.serialize());
  ASSERT_TRUE(opened) << opened.error().message;
  const GgufReader& reader = **opened;

  EXPECT_EQ(reader.get_string("name").value(), "second");
  EXPECT_EQ(reader.get_int("t.uint8").value(), 200);
  EXPECT_EQ(reader.get_int("t.int16").value(), -30000);
  EXPECT_EQ(reader.get_int("big").value(), 42);
  EXPECT_EQ(reader.get_int("negative").value(), -3);
  EXPECT_EQ(reader.get_float("ratio").value(), 0.25);
  EXPECT_EQ(reader.get_float("t.float64").value(), 3.25e100);
  EXPECT_EQ(reader.get_float("negative").value(), -3.0);
  EXPECT_EQ(reader.get_bool("flag").value(), false);
  EXPECT_EQ(reader.find("t.uint64")->as_uint(), (uint64_t{1} << 63) + 5);
  EXPECT_FALSE(reader.find("t.int8")->as_uint());
  EXPECT_FALSE(reader.find("t.string")->as_float());

  const auto too_big = reader.get_int("t.uint64");
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, ErrorCode::kOutOfRange);
  EXPECT_NE(too_big.error().message.find("'t.uint64'"), std::string::npos);

  const auto mistyped = reader.get_int("t.string");
  ASSERT_FALSE(mistyped);
  EXPECT_EQ(mistyped.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(mistyped.error().message.find("'t.string' has type string"), std::string::npos)
      << mistyped.error().message;
  EXPECT_EQ(reader.get_int("t.bool").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(reader.get_float("t.bool").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(reader.get_bool("t.uint8").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(reader.get_string("t.int32").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(reader.get_string("absent").error().code, ErrorCode::kNotFound);
  EXPECT_NE(reader.get_float("absent").error().message.find("'absent' not found"),
            std::string::npos);

  const GgufArray* tokens = reader.get_array("tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->element_type, GgufValueType::kString);
  ASSERT_EQ(tokens->elements.size(), 2u);
  EXPECT_EQ(*tokens->elements[1].as_string(), "b");
  const GgufArray* scores = reader.get_array("scores");
  ASSERT_NE(scores, nullptr);
  EXPECT_EQ(scores->elements[1].as_float(), -1.0);
  EXPECT_EQ(reader.get_array("types")->elements[2].as_int(), 3);
  EXPECT_EQ(reader.get_array("name"), nullptr);
  EXPECT_EQ(reader.get_array("absent"), nullptr);
  EXPECT_EQ(gguf_value_type_name(GgufValueType::kFloat64), "float64");
}

TEST(GgufWriter, RejectsBadTensors) {
  GgufWriter writer;
  const auto bytes = pattern_bytes(128, 0);
  EXPECT_TRUE(writer.add_tensor("a", TensorType::kF32, {32}, bytes));
  const auto expect_invalid = [](const Status& status, std::string_view text) {
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(status.error().message.find(text), std::string::npos) << status.error().message;
  };
  expect_invalid(writer.add_tensor("a", TensorType::kF32, {32}, bytes), "added twice");
  expect_invalid(writer.add_tensor("b", TensorType::kF32, {31}, bytes), "128 bytes given");
  expect_invalid(writer.add_tensor("b", TensorType::kQ4_0, {16}, bytes), "row length 16");
  expect_invalid(writer.add_tensor("b", TensorType::kF32, {}, bytes), "0 dims");
  expect_invalid(writer.add_tensor("b", TensorType::kF32, {1, 1, 1, 1, 32}, bytes), "5 dims");
  expect_invalid(writer.add_tensor("b", TensorType::kF32, {-32}, bytes), "bad dim -32");
  expect_invalid(writer.add_tensor("b", static_cast<TensorType>(5), {32}, bytes), "type id 5");
}

TEST(GgufWriter, WriteFailsCleanly) {
  ScratchDir dir;
  GgufWriter writer;
  const std::string path = dir.file("no/such/dir/out.gguf");
  const Status status = writer.write(path);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kIoError);
  EXPECT_NE(status.error().message.find(path + ".tmp"), std::string::npos);

  GgufWriter bad_alignment(24);
  EXPECT_TRUE(bad_alignment.serialize().empty());
  EXPECT_EQ(bad_alignment.write(dir.file("x.gguf")).error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf.tmp")));
}

TEST(GgufWriter, EmptyFileIsValid) {
  ScratchDir dir;
  auto opened = testing::open_image(dir, GgufWriter().serialize());
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_TRUE((*opened)->metadata().empty());
  EXPECT_TRUE((*opened)->tensors().empty());
  EXPECT_EQ((*opened)->total_tensor_bytes(), 0u);
}

}  // namespace
}  // namespace locara
