// The reader on real files from llama.cpp's converters: the model, the quant goldens and
// every tokenizer vocab in ../shared.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "gguf/gguf_test_util.h"

namespace locara {
namespace {

using testing::shared_path;

TEST(GgufRealFiles, Stories260K) {
  const std::string path = shared_path("models/stories260K.gguf");
  auto opened = GgufReader::open(path);
  ASSERT_TRUE(opened) << opened.error().message;
  const GgufReader& reader = **opened;

  EXPECT_EQ(reader.get_string("general.architecture").value(), "llama");
  EXPECT_EQ(reader.get_int("llama.embedding_length").value(), 64);
  EXPECT_EQ(reader.get_int("llama.block_count").value(), 5);
  const GgufArray* tokens = reader.get_array("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->element_type, GgufValueType::kString);
  EXPECT_EQ(tokens->elements.size(), 512u);
  EXPECT_EQ(reader.get_string("tokenizer.ggml.model").value(), "llama");

  // Every tensor is a view into the mapping, and its bytes are the file's bytes.
  std::ifstream file(path, std::ios::binary);
  ASSERT_TRUE(file.good());
  ASSERT_FALSE(reader.tensors().empty());
  uint64_t total = 0;
  for (const GgufTensor& tensor : reader.tensors()) {
    SCOPED_TRACE(tensor.name);
    EXPECT_EQ(tensor.type, TensorType::kF32);
    EXPECT_TRUE(reader.file().contains(tensor.data, tensor.n_bytes));
    EXPECT_EQ(tensor.n_bytes, static_cast<size_t>(tensor.n_elements()) * 4);
    std::vector<char> expected(tensor.n_bytes);
    file.seekg(static_cast<std::streamoff>(reader.data_offset() + tensor.offset));
    file.read(expected.data(), static_cast<std::streamsize>(expected.size()));
    ASSERT_TRUE(file.good());
    EXPECT_EQ(std::memcmp(expected.data(), tensor.data, tensor.n_bytes), 0);
    total += tensor.n_bytes;
  }
  EXPECT_EQ(reader.total_tensor_bytes(), total);
  const GgufTensor* embeddings = reader.find_tensor("token_embd.weight");
  ASSERT_NE(embeddings, nullptr);
  EXPECT_EQ(embeddings->dims, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(embeddings->row_length(), 64);
  EXPECT_EQ(embeddings->n_rows(), 512);
}

TEST(GgufRealFiles, QuantGoldens) {
  auto opened = GgufReader::open(shared_path("golden/quants.gguf"));
  ASSERT_TRUE(opened) << opened.error().message;
  const GgufReader& reader = **opened;
  std::set<TensorType> types;
  for (const GgufTensor& tensor : reader.tensors()) {
    EXPECT_TRUE(reader.file().contains(tensor.data, tensor.n_bytes)) << tensor.name;
    types.insert(tensor.type);
  }
  for (const TensorType type : {TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K,
                                TensorType::kQ6_K, TensorType::kIQ4_XS, TensorType::kBF16}) {
    EXPECT_EQ(types.count(type), 1u) << tensor_type_name(type);
  }
}

TEST(GgufRealFiles, EveryVocab) {
  int opened_count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(shared_path("vocab"))) {
    if (entry.path().extension() != ".gguf") continue;
    SCOPED_TRACE(entry.path().string());
    const auto start = std::chrono::steady_clock::now();
    auto opened = GgufReader::open(entry.path().string());
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(opened) << opened.error().message;
    const GgufArray* tokens = (*opened)->get_array("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr);
    EXPECT_GT(tokens->elements.size(), 1000u);
    EXPECT_TRUE((*opened)->get_string("tokenizer.ggml.model"));
    std::printf("  %-40s %7zu tokens  %6.1f ms\n", entry.path().filename().c_str(),
                tokens->elements.size(),
                std::chrono::duration<double, std::milli>(elapsed).count());
    ++opened_count;
  }
  EXPECT_EQ(opened_count, 12);
}

}  // namespace
}  // namespace locara
