// Acceptance test of the K and IQ4 formats against llama.cpp: every tensor "X.T" of those
// types in shared/golden/quants.gguf dequantizes to "X.T.ref" bit for bit, and quantizing
// its source "X.T.src" with our from_float reproduces llama-quantize's bytes (and so its
// RMSE, which must in any case stay within 5% of locara.golden.rmse.X.T).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iomanip>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "ops/type_traits.h"

namespace locara::ops {
namespace {

const char* const kGoldenPath = LOCARA_SHARED_DIR "/golden/quants.gguf";

const std::set<TensorType> kKTypes = {TensorType::kQ2_K,  TensorType::kQ3_K, TensorType::kQ4_K,
                                      TensorType::kQ5_K,  TensorType::kQ6_K, TensorType::kIQ4_NL,
                                      TensorType::kIQ4_XS};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class KQuantsGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reader = GgufReader::open(kGoldenPath);
    ASSERT_TRUE(reader.has_value()) << reader.error().message;
    reader_ = std::move(reader).value();
    for (const GgufTensor& tensor : reader_->tensors()) {
      if (ends_with(tensor.name, ".ref") || ends_with(tensor.name, ".src")) continue;
      if (kKTypes.count(tensor.type) != 0) quantized_.push_back(&tensor);
    }
  }

  // The F32 companion "name + suffix", with the same shape, as floats.
  std::vector<float> companion(const GgufTensor& tensor, const char* suffix) {
    const GgufTensor* other = reader_->find_tensor(tensor.name + suffix);
    EXPECT_NE(other, nullptr) << tensor.name << suffix << " is missing";
    if (other == nullptr) return {};
    EXPECT_EQ(other->type, TensorType::kF32);
    EXPECT_EQ(other->dims, tensor.dims);
    EXPECT_EQ(other->n_bytes, static_cast<size_t>(tensor.n_elements()) * sizeof(float));
    std::vector<float> values(static_cast<size_t>(tensor.n_elements()));
    std::memcpy(values.data(), other->data, values.size() * sizeof(float));
    return values;
  }

  // Quantizes the tensor's source with the reference from_float.
  std::vector<uint8_t> quantize_source(const GgufTensor& tensor) {
    const TypeTraits* traits = reference_type_traits(tensor.type);
    const std::vector<float> src = companion(tensor, ".src");
    std::vector<uint8_t> bytes(traits->row_bytes(tensor.n_elements()));
    if (src.size() == static_cast<size_t>(tensor.n_elements())) {
      traits->from_float(src.data(), bytes.data(), tensor.n_elements());
    }
    return bytes;
  }

  std::unique_ptr<GgufReader> reader_;
  std::vector<const GgufTensor*> quantized_;
};

TEST_F(KQuantsGoldenTest, CoversEveryKType) {
  std::map<TensorType, int> count;
  for (const GgufTensor* tensor : quantized_) ++count[tensor->type];
  for (TensorType type : kKTypes) EXPECT_GE(count[type], 1) << tensor_type_name(type);
}

TEST_F(KQuantsGoldenTest, DequantizationIsBitExact) {
  for (const GgufTensor* tensor : quantized_) {
    SCOPED_TRACE(tensor->name);
    const TypeTraits* traits = reference_type_traits(tensor->type);
    ASSERT_NE(traits, nullptr);
    const int64_t n = tensor->n_elements();
    ASSERT_EQ(tensor->n_bytes, traits->row_bytes(n));
    const std::vector<float> expected = companion(*tensor, ".ref");
    ASSERT_EQ(expected.size(), static_cast<size_t>(n));
    std::vector<float> ours(static_cast<size_t>(n));
    traits->to_float(tensor->data, ours.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(std::memcmp(&ours[i], &expected[i], sizeof(float)), 0)
          << "first difference at element " << i << ": " << ours[i] << " vs " << expected[i];
    }
  }
}

TEST_F(KQuantsGoldenTest, RoundTripRmseWithinFivePercentOfLlamaCpp) {
  for (const GgufTensor* tensor : quantized_) {
    SCOPED_TRACE(tensor->name);
    const TypeTraits* traits = reference_type_traits(tensor->type);
    ASSERT_NE(traits, nullptr);
    const std::string key = "locara.golden.rmse." + tensor->name;
    const Expected<double> stored = reader_->get_float(key);
    ASSERT_TRUE(stored.has_value()) << key;
    ASSERT_GT(*stored, 0.0);
    const int64_t n = tensor->n_elements();
    const std::vector<float> src = companion(*tensor, ".src");
    ASSERT_EQ(src.size(), static_cast<size_t>(n));
    const std::vector<uint8_t> bytes = quantize_source(*tensor);
    std::vector<float> back(static_cast<size_t>(n));
    traits->to_float(bytes.data(), back.data(), n);
    double sum_squares = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double error = static_cast<double>(back[i]) - src[i];
      sum_squares += error * error;
    }
    const double rmse = std::sqrt(sum_squares / static_cast<double>(n));
    std::ostringstream ratio;
    ratio << std::setprecision(9) << rmse << " vs llama.cpp " << *stored;
    RecordProperty(tensor->name, ratio.str());
    EXPECT_LE(rmse, *stored * 1.05) << "llama.cpp's RMSE " << *stored;
  }
}

// llama-quantize without an importance matrix runs ggml's deterministic quantizers, which
// ours follow operation for operation: the bytes must be the file's.
TEST_F(KQuantsGoldenTest, QuantizingTheSourceReproducesTheFileBytes) {
  for (const GgufTensor* tensor : quantized_) {
    SCOPED_TRACE(tensor->name);
    const std::vector<uint8_t> ours = quantize_source(*tensor);
    ASSERT_EQ(ours.size(), tensor->n_bytes);
    size_t first_difference = ours.size();
    size_t differences = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      if (ours[i] != tensor->data[i]) {
        if (differences++ == 0) first_difference = i;
      }
    }
    EXPECT_EQ(differences, 0u) << "first different byte " << first_difference << " of "
                               << ours.size();
  }
}

}  // namespace
}  // namespace locara::ops
