#include "platform/memory_footprint.h"

#include <gtest/gtest.h>

#include <vector>

#include "platform/scratch_dir.h"

namespace locara {
namespace {

using testing::ScratchDir;

// A real smaps_rollup from Linux 6.x, abbreviated.
constexpr const char* kRollup =
    "55d0c0a4a000-7ffd8d9f6000 ---p 00000000 00:00 0                          [rollup]\n"
    "Rss:              204800 kB\n"
    "Pss:              150000 kB\n"
    "Pss_Anon:          40000 kB\n"
    "Pss_File:         110000 kB\n"
    "Pss_Shmem:             0 kB\n"
    "Shared_Clean:      90000 kB\n"
    "Private_Dirty:     40960 kB\n"
    "Anonymous:         40960 kB\n"
    "AnonHugePages:         0 kB\n"
    "Swap:                  0 kB\n";

TEST(MemoryFootprint, ParsesAFakeProcTree) {
  ScratchDir dir;
  dir.write_text("proc/1234/smaps_rollup", kRollup);
  auto footprint = read_process_footprint(dir.file("proc"), "1234");
  ASSERT_TRUE(footprint) << footprint.error().message;
  EXPECT_EQ(footprint->rss_bytes, 204800ull * 1024);
  EXPECT_EQ(footprint->anonymous_bytes, 40960ull * 1024);
  EXPECT_EQ(footprint->file_bytes, (204800ull - 40960) * 1024);
}

TEST(MemoryFootprint, MissingFileIsAnErrorNamingThePath) {
  ScratchDir dir;
  auto footprint = read_process_footprint(dir.file("proc"), "99");
  ASSERT_FALSE(footprint);
  EXPECT_EQ(footprint.error().code, ErrorCode::kNotFound);
  EXPECT_NE(footprint.error().message.find("99/smaps_rollup"), std::string::npos);
}

TEST(MemoryFootprint, MissingFieldIsCorrupt) {
  auto footprint = parse_smaps_rollup("Rss: 10 kB\nPss: 5 kB\n", "test");
  ASSERT_FALSE(footprint);
  EXPECT_EQ(footprint.error().code, ErrorCode::kCorruptFile);
  EXPECT_NE(footprint.error().message.find("Anonymous"), std::string::npos);
}

TEST(MemoryFootprint, GarbageIsAnErrorNotACrash) {
  const std::vector<std::string> garbage = {
      "",
      "\n\n\n",
      "Rss: lots kB\nAnonymous: 1 kB\n",
      "Rss: 12\nAnonymous: 1 kB\n",
      "Rss: -12 kB\nAnonymous: 1 kB\n",
      "Rss: 99999999999999999999999 kB\nAnonymous: 1 kB\n",
      "Rss: 18014398509481984 kB\nAnonymous: 1 kB\n",  // 2^54 kB overflows bytes
      "Rss: 12 kB\nAnonymous: 1 MB\n",
      std::string("Rss: 1\0 kB\nAnonymous: 1 kB\n", 27),
  };
  for (const std::string& text : garbage) {
    auto footprint = parse_smaps_rollup(text, "garbage");
    EXPECT_FALSE(footprint) << "accepted: " << text;
    if (!footprint) {
      EXPECT_EQ(footprint.error().code, ErrorCode::kCorruptFile);
    }
  }
}

TEST(MemoryFootprint, AnonymousAboveRssSaturatesFileBytes) {
  auto footprint = parse_smaps_rollup("Rss: 10 kB\nAnonymous: 12 kB\n", "test");
  ASSERT_TRUE(footprint) << footprint.error().message;
  EXPECT_EQ(footprint->file_bytes, 0u);
}

TEST(MemoryFootprint, ReadsThisProcess) {
  auto footprint = read_process_footprint();
  if (!footprint && footprint.error().code == ErrorCode::kNotFound) {
    GTEST_SKIP() << "no smaps_rollup here (kernel before 4.14?): " << footprint.error().message;
  }
  ASSERT_TRUE(footprint) << footprint.error().message;
  EXPECT_GT(footprint->rss_bytes, 0u);
  EXPECT_LE(footprint->anonymous_bytes, footprint->rss_bytes);
  EXPECT_EQ(footprint->file_bytes, footprint->rss_bytes - footprint->anonymous_bytes);
}

}  // namespace
}  // namespace locara
