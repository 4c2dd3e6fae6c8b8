// Acceptance test against llama.cpp: every tensor "X.T" in shared/golden/quants.gguf of a
// type we have kernels for dequantizes to "X.T.ref" bit for bit, and quantizing its
// original values "X.T.src" with our from_float reproduces llama-quantize's bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "ops/type_traits.h"

namespace locara::ops {
namespace {

const char* const kGoldenPath = LOCARA_SHARED_DIR "/golden/quants.gguf";

// The tensor types this layer has reference kernels for, as quants.gguf names them.
const std::set<TensorType> kCheckedTypes = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16,
                                            TensorType::kQ8_0, TensorType::kQ4_0, TensorType::kQ4_1,
                                            TensorType::kQ5_0, TensorType::kQ5_1};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class GoldenQuantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reader = GgufReader::open(kGoldenPath);
    ASSERT_TRUE(reader.has_value()) << reader.error().message;
    reader_ = std::move(reader).value();
    for (const GgufTensor& tensor : reader_->tensors()) {
      if (ends_with(tensor.name, ".ref") || ends_with(tensor.name, ".src")) continue;
      if (kCheckedTypes.count(tensor.type) != 0) quantized_.push_back(&tensor);
    }
  }

  // The F32 companion "name + suffix" with the same shape.
  const GgufTensor* companion(const GgufTensor& tensor, const char* suffix) {
    const GgufTensor* other = reader_->find_tensor(tensor.name + suffix);
    EXPECT_NE(other, nullptr) << tensor.name << suffix << " is missing";
    if (other == nullptr) return nullptr;
    EXPECT_EQ(other->type, TensorType::kF32);
    EXPECT_EQ(other->dims, tensor.dims);
    EXPECT_EQ(other->n_bytes, static_cast<size_t>(tensor.n_elements()) * sizeof(float));
    return other;
  }

  std::vector<float> floats_of(const GgufTensor& tensor) {
    std::vector<float> values(static_cast<size_t>(tensor.n_elements()));
    std::memcpy(values.data(), tensor.data, values.size() * sizeof(float));
    return values;
  }

  std::unique_ptr<GgufReader> reader_;
  std::vector<const GgufTensor*> quantized_;
};

TEST_F(GoldenQuantsTest, CoversEveryTypeLlamaQuantizeProduces) {
  std::map<TensorType, int> count;
  for (const GgufTensor* tensor : quantized_) ++count[tensor->type];
  for (TensorType type : {TensorType::kF16, TensorType::kBF16, TensorType::kQ8_0, TensorType::kQ4_0,
                          TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1}) {
    EXPECT_GE(count[type], 1) << tensor_type_name(type);
  }
}

TEST_F(GoldenQuantsTest, DequantizationIsBitExact) {
  for (const GgufTensor* tensor : quantized_) {
    SCOPED_TRACE(tensor->name);
    const TypeTraits* traits = type_traits(tensor->type);
    ASSERT_NE(traits, nullptr);
    const GgufTensor* ref = companion(*tensor, ".ref");
    ASSERT_NE(ref, nullptr);
    const int64_t n = tensor->n_elements();
    ASSERT_EQ(tensor->n_bytes, traits->row_bytes(n));
    std::vector<float> ours(static_cast<size_t>(n));
    traits->to_float(tensor->data, ours.data(), n);
    if (std::memcmp(ours.data(), ref->data, ref->n_bytes) != 0) {
      const std::vector<float> expected = floats_of(*ref);
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(std::memcmp(&ours[i], &expected[i], sizeof(float)), 0)
            << "first difference at element " << i << ": " << ours[i] << " vs " << expected[i];
      }
    }
  }
}

TEST_F(GoldenQuantsTest, EachTensorHasItsRmse) {
  for (const GgufTensor* tensor : quantized_) {
    const std::string key = "locara.golden.rmse." + tensor->name;
    const Expected<double> rmse = reader_->get_float(key);
    ASSERT_TRUE(rmse.has_value()) << key << ": " << rmse.error().message;
    EXPECT_GT(*rmse, 0.0) << key;
  }
}

// llama-quantize without an importance matrix runs ggml's *_ref quantizers (and plain
// RNE conversions for F16/BF16), which are deterministic: we must produce its bytes.
TEST_F(GoldenQuantsTest, QuantizingTheSourceReproducesTheFileBytes) {
  for (const GgufTensor* tensor : quantized_) {
    SCOPED_TRACE(tensor->name);
    const TypeTraits* traits = type_traits(tensor->type);
    ASSERT_NE(traits, nullptr);
    const GgufTensor* src = companion(*tensor, ".src");
    ASSERT_NE(src, nullptr);
    const int64_t n = tensor->n_elements();
    const std::vector<float> values = floats_of(*src);
    std::vector<uint8_t> ours(traits->row_bytes(n));
    traits->from_float(values.data(), ours.data(), n);
    ASSERT_EQ(ours.size(), tensor->n_bytes);
    size_t first_difference = ours.size();
    size_t differences = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      if (ours[i] != tensor->data[i]) {
        first_difference = std::min(first_difference, i);
        ++differences;
      }
    }
    EXPECT_EQ(differences, 0u) << "first different byte " << first_difference << " of "
                               << ours.size();
  }
}

// Independent of byte-exactness: our quantization error on the source is llama.cpp's.
TEST_F(GoldenQuantsTest, RoundTripRmseMatchesLlamaCpp) {
  for (const GgufTensor* tensor : quantized_) {
    SCOPED_TRACE(tensor->name);
    const TypeTraits* traits = type_traits(tensor->type);
    ASSERT_NE(traits, nullptr);
    const GgufTensor* src = companion(*tensor, ".src");
    ASSERT_NE(src, nullptr);
    const Expected<double> stored = reader_->get_float("locara.golden.rmse." + tensor->name);
    ASSERT_TRUE(stored.has_value());
    const int64_t n = tensor->n_elements();
    const std::vector<float> values = floats_of(*src);
    std::vector<uint8_t> bytes(traits->row_bytes(n));
    std::vector<float> back(static_cast<size_t>(n));
    traits->from_float(values.data(), bytes.data(), n);
    traits->to_float(bytes.data(), back.data(), n);
    double sum_squares = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double error = static_cast<double>(back[i]) - values[i];
      sum_squares += error * error;
    }
    const double rmse = std::sqrt(sum_squares / static_cast<double>(n));
    EXPECT_NEAR(rmse, *stored, *stored * 0.01);
  }
}

}  // namespace
}  // namespace locara::ops
