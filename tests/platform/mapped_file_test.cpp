#include "platform/mapped_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <utility>

#include "platform/scratch_dir.h"

namespace locara {
namespace {

using testing::ScratchDir;

TEST(MappedFile, MapsTheWholeFile) {
  ScratchDir dir;
  const std::string path = dir.write_text("data.bin", "hello, mapping");
  auto file = MappedFile::open(path);
  ASSERT_TRUE(file) << file.error().message;
  ASSERT_EQ(file->size(), 14u);
  EXPECT_EQ(std::memcmp(file->data(), "hello, mapping", 14), 0);
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(file->bytes().size(), 14u);
}

TEST(MappedFile, MissingFileIsNotFoundAndNamesPathAndReason) {
  ScratchDir dir;
  const std::string path = dir.file("absent.gguf");
  auto file = MappedFile::open(path);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, ErrorCode::kNotFound);
  EXPECT_NE(file.error().message.find(path), std::string::npos) << file.error().message;
  EXPECT_NE(file.error().message.find("No such file"), std::string::npos) << file.error().message;
}

TEST(MappedFile, DirectoryIsRejected) {
  ScratchDir dir;
  auto file = MappedFile::open(dir.path().string());
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find("not a regular file"), std::string::npos);
}

TEST(MappedFile, EmptyFileMapsToNothing) {
  ScratchDir dir;
  const std::string path = dir.write_text("empty.bin", "");
  auto file = MappedFile::open(path);
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file->data(), nullptr);
  EXPECT_EQ(file->size(), 0u);
  EXPECT_TRUE(file->bytes().empty());
  EXPECT_FALSE(file->contains(file->data(), 0));
}

TEST(MappedFile, ContainsChecksBothEnds) {
  ScratchDir dir;
  auto file = MappedFile::open(dir.write_text("data.bin", "0123456789"));
  ASSERT_TRUE(file) << file.error().message;
  const uint8_t* begin = file->data();
  EXPECT_TRUE(file->contains(begin, 10));
  EXPECT_TRUE(file->contains(begin + 3, 7));
  EXPECT_TRUE(file->contains(begin + 10, 0));  // an empty range at the end
  EXPECT_FALSE(file->contains(begin + 3, 8));
  EXPECT_FALSE(file->contains(begin + 11, 0));
  EXPECT_FALSE(file->contains(begin - 1, 1));
  EXPECT_FALSE(file->contains(begin, SIZE_MAX));
  EXPECT_FALSE(file->contains(nullptr, 0));
  const int elsewhere = 0;
  EXPECT_FALSE(file->contains(&elsewhere, sizeof(elsewhere)));
}

TEST(MappedFile, MoveTransfersTheMapping) {
  ScratchDir dir;
  auto opened = MappedFile::open(dir.write_text("a.bin", "first"));
  ASSERT_TRUE(opened);
  MappedFile a = std::move(opened).value();
  const uint8_t* data = a.data();

  MappedFile b(std::move(a));
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(b.size(), 5u);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(a.size(), 0u);

  auto other = MappedFile::open(dir.write_text("b.bin", "second!"));
  ASSERT_TRUE(other);
  b = std::move(other).value();  // unmaps "first"
  EXPECT_EQ(b.size(), 7u);
  EXPECT_EQ(std::memcmp(b.data(), "second!", 7), 0);

  MappedFile& self = b;
  b = std::move(self);
  EXPECT_EQ(b.size(), 7u);
}

TEST(MappedFile, MappingOutlivesTheFileName) {
  ScratchDir dir;
  const std::string path = dir.write_text("gone.bin", "still here");
  auto file = MappedFile::open(path);
  ASSERT_TRUE(file);
  std::filesystem::remove(path);
  EXPECT_EQ(std::memcmp(file->data(), "still here", 10), 0);
}

}  // namespace
}  // namespace locara
