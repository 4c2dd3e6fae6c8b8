// The writer's streaming mode: declared tensors written in pieces give the same file as
// tensors handed over whole; misuse is an error and never leaves a file behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "gguf/gguf_test_util.h"

namespace locara {
namespace {

using testing::pattern_bytes;
using testing::read_whole_file;
using testing::ScratchDir;

// Two tensors of odd sizes (padding between them) around a stored one.
struct Sample {
  std::vector<uint8_t> first = pattern_bytes(4 * 7 * 3, 1);  // F32 {7, 3}: 84 bytes
  std::vector<uint8_t> middle = pattern_bytes(34 * 2, 2);    // Q8_0 {64, 1}
  std::vector<uint8_t> last = pattern_bytes(2 * 5, 3);       // F16 {5}: 10 bytes
};

GgufWriter metadata_only() {
  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_uint32("sample.count", 3);
  return writer;
}

TEST(GgufStream, StreamedTensorsGiveTheSameFileAsWholeOnes) {
  ScratchDir dir;
  const Sample s;
  GgufWriter whole = metadata_only();
  ASSERT_TRUE(whole.add_tensor("first", TensorType::kF32, {7, 3}, s.first));
  ASSERT_TRUE(whole.add_tensor("middle", TensorType::kQ8_0, {64, 1}, s.middle));
  ASSERT_TRUE(whole.add_tensor("last", TensorType::kF16, {5}, s.last));
  ASSERT_TRUE(whole.write(dir.file("whole.gguf")));

  GgufWriter streamed = metadata_only();
  ASSERT_TRUE(streamed.declare_tensor("first", TensorType::kF32, {7, 3}));
  ASSERT_TRUE(streamed.add_tensor("middle", TensorType::kQ8_0, {64, 1}, s.middle));
  ASSERT_TRUE(streamed.declare_tensor("last", TensorType::kF16, {5}));
  auto stream = streamed.begin_streaming(dir.file("streamed.gguf"));
  ASSERT_TRUE(stream) << stream.error().message;
  ASSERT_EQ((*stream)->current()->name, "first");
  // In uneven pieces.
  ASSERT_TRUE((*stream)->write({s.first.data(), 50}));
  EXPECT_EQ((*stream)->current_written(), 50u);
  ASSERT_TRUE((*stream)->write({s.first.data() + 50, s.first.size() - 50}));
  // The stored tensor was written in its turn; the next one wanted is "last".
  ASSERT_NE((*stream)->current(), nullptr);
  EXPECT_EQ((*stream)->current()->name, "last");
  ASSERT_TRUE((*stream)->write(s.last));
  EXPECT_EQ((*stream)->current(), nullptr);
  ASSERT_TRUE((*stream)->finish());

  EXPECT_EQ(read_whole_file(dir.file("whole.gguf")), read_whole_file(dir.file("streamed.gguf")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("streamed.gguf.tmp")));
  auto reader = GgufReader::open(dir.file("streamed.gguf"));
  ASSERT_TRUE(reader) << reader.error().message;
  const GgufTensor* last = (*reader)->find_tensor("last");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(std::vector<uint8_t>(last->data, last->data + last->n_bytes), s.last);
}

TEST(GgufStream, LargeTensorsInOddPiecesMatchTheInMemoryImage) {
  // Over two of the stream's 8 MiB write blocks, in pieces that straddle their boundaries.
  ScratchDir dir;
  const std::vector<uint8_t> big = pattern_bytes(4 * 1000 * 5003, 9);  // F32 {1000, 5003}
  const std::vector<uint8_t> small = pattern_bytes(4 * 333, 4);        // F32 {333}
  GgufWriter streamed = metadata_only();
  ASSERT_TRUE(streamed.declare_tensor("big", TensorType::kF32, {1000, 5003}));
  ASSERT_TRUE(streamed.declare_tensor("small", TensorType::kF32, {333}));
  auto stream = streamed.begin_streaming(dir.file("big.gguf"));
  ASSERT_TRUE(stream);
  for (size_t at = 0; at < big.size();) {
    const size_t piece = std::min<size_t>(big.size() - at, 3 * 1000 * 1000 + 7);
    ASSERT_TRUE((*stream)->write({big.data() + at, piece}));
    at += piece;
  }
  ASSERT_TRUE((*stream)->write(small));
  ASSERT_TRUE((*stream)->finish());

  GgufWriter whole = metadata_only();
  ASSERT_TRUE(whole.add_tensor("big", TensorType::kF32, {1000, 5003}, big));
  ASSERT_TRUE(whole.add_tensor("small", TensorType::kF32, {333}, small));
  EXPECT_EQ(read_whole_file(dir.file("big.gguf")), whole.serialize());
}

TEST(GgufStream, WritePastATensorsEndIsAnError) {
  ScratchDir dir;
  GgufWriter writer = metadata_only();
  ASSERT_TRUE(writer.declare_tensor("t", TensorType::kF32, {4}));
  auto stream = writer.begin_streaming(dir.file("x.gguf"));
  ASSERT_TRUE(stream);
  const auto bytes = pattern_bytes(20, 0);
  const Status status = (*stream)->write(bytes);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("'t'"), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find("16"), std::string::npos) << status.error().message;
  EXPECT_FALSE((*stream)->finish());
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf.tmp")));
}

TEST(GgufStream, UnfinishedTensorsFailFinishAndLeaveNoFile) {
  ScratchDir dir;
  GgufWriter writer = metadata_only();
  ASSERT_TRUE(writer.declare_tensor("a", TensorType::kF32, {4}));
  ASSERT_TRUE(writer.declare_tensor("b", TensorType::kF32, {4}));
  auto stream = writer.begin_streaming(dir.file("x.gguf"));
  ASSERT_TRUE(stream);
  ASSERT_TRUE((*stream)->write(pattern_bytes(16, 0)));
  const Status status = (*stream)->finish();
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("'b'"), std::string::npos) << status.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf.tmp")));
}

TEST(GgufStream, AbandonedStreamRemovesItsTemporaryFile) {
  ScratchDir dir;
  GgufWriter writer = metadata_only();
  ASSERT_TRUE(writer.declare_tensor("a", TensorType::kF32, {4}));
  {
    auto stream = writer.begin_streaming(dir.file("x.gguf"));
    ASSERT_TRUE(stream);
    EXPECT_TRUE(std::filesystem::exists(dir.file("x.gguf.tmp")));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf.tmp")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf")));
}

TEST(GgufStream, WholeFileWriteRefusesDeclaredTensors) {
  ScratchDir dir;
  GgufWriter writer = metadata_only();
  ASSERT_TRUE(writer.declare_tensor("a", TensorType::kF32, {4}));
  const Status status = writer.write(dir.file("x.gguf"));
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("begin_streaming"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf")));
}

TEST(GgufStream, DeclarationsAreValidatedLikeTensors) {
  GgufWriter writer;
  EXPECT_FALSE(writer.declare_tensor("q", TensorType::kQ8_0, {48, 2}));  // 48 % 32 != 0
  EXPECT_FALSE(writer.declare_tensor("e", TensorType::kF32, {}));
  ASSERT_TRUE(writer.declare_tensor("a", TensorType::kF32, {4}));
  EXPECT_FALSE(writer.declare_tensor("a", TensorType::kF32, {4}));  // twice
}

TEST(GgufStream, CannotCreateInMissingDirectory) {
  GgufWriter writer = metadata_only();
  auto stream = writer.begin_streaming("/nonexistent-dir/x.gguf");
  ASSERT_FALSE(stream);
  EXPECT_EQ(stream.error().code, ErrorCode::kIoError);
  EXPECT_NE(stream.error().message.find("/nonexistent-dir/x.gguf.tmp"), std::string::npos);
}

}  // namespace
}  // namespace locara
