// Large files are mapped at huge-page-aligned addresses (so the kernel can use PMD
// entries), read back exactly, and stay clean file-backed pages: no anonymous copies.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "platform/mapped_file.h"
#include "platform/scratch_dir.h"

namespace locara {
namespace {

using testing::ScratchDir;

// "Anonymous:" kB of the mapping that starts at `address`, from /proc/self/smaps.
uint64_t anonymous_kb(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  char prefix[32];
  std::snprintf(prefix, sizeof(prefix), "%lx-",
                static_cast<unsigned long>(reinterpret_cast<uintptr_t>(address)));
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    if (line.find('-') < line.find(' ') && line.find(':') > line.find(' ')) {
      inside = line.rfind(prefix, 0) == 0;
    } else if (inside && line.rfind("Anonymous:", 0) == 0) {
      return std::stoull(line.substr(10));
    }
  }
  return UINT64_MAX;  // mapping not found
}

TEST(MappedFileHuge, LargeFilesAreHugePageAlignedCleanAndExact) {
  ScratchDir dir;
  std::vector<uint8_t> contents((8 << 20) + 1234);
  for (size_t i = 0; i < contents.size(); ++i) contents[i] = static_cast<uint8_t>(i * 31 + 7);
  auto file = MappedFile::open(dir.write("big.bin", contents));
  ASSERT_TRUE(file) << file.error().message;
  ASSERT_EQ(file->size(), contents.size());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(file->data()) % (2 << 20), 0u);
  uint64_t sum = 0, expected = 0;
  for (size_t i = 0; i < contents.size(); ++i) {
    sum += file->data()[i];
    expected += contents[i];
  }
  EXPECT_EQ(sum, expected);
  EXPECT_EQ(std::memcmp(file->data(), contents.data(), contents.size()), 0);
  EXPECT_EQ(anonymous_kb(file->data()), 0u);
  EXPECT_LE(file->huge_mapped_bytes(), file->size() + (2 << 20));
}

TEST(MappedFileHuge, MovesAndUnmapsCleanly) {
  ScratchDir dir;
  std::vector<uint8_t> contents(3 << 20, 9);
  auto file = MappedFile::open(dir.write("big.bin", contents));
  ASSERT_TRUE(file);
  MappedFile moved = std::move(*file);
  EXPECT_EQ(moved.size(), contents.size());
  EXPECT_EQ(moved.data()[contents.size() - 1], 9);
  EXPECT_EQ(file->data(), nullptr);
  moved = MappedFile();  // unmaps
  EXPECT_EQ(moved.huge_mapped_bytes(), 0u);
}

TEST(MappedFileHuge, SmallFilesKeepAnOrdinaryMapping) {
  ScratchDir dir;
  auto file = MappedFile::open(dir.write_text("small.bin", "tiny"));
  ASSERT_TRUE(file);
  EXPECT_EQ(file->huge_mapped_bytes(), 0u);
  EXPECT_EQ(std::memcmp(file->data(), "tiny", 4), 0);
}

}  // namespace
}  // namespace locara
