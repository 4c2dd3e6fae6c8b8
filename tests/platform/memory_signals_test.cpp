// Reading memory signals from fake /proc and /sys trees: meminfo, PSI, cgroup v1 and v2.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "platform/fake_os.h"
#include "platform/memory_pressure.h"

namespace locara {
namespace {

using testing::fake_roots;
using testing::ScratchDir;

constexpr uint64_t kGiB = uint64_t{1} << 30;

constexpr const char* kMeminfo =
    "MemTotal:       16384000 kB\n"
    "MemFree:         1024000 kB\n"
    "MemAvailable:    8192000 kB\n"
    "Buffers:            1520 kB\n"
    "Cached:            40440 kB\n";

constexpr const char* kPsi =
    "some avg10=12.50 avg60=3.00 avg300=0.80 total=123456\n"
    "full avg10=1.25 avg60=0.50 avg300=0.10 total=2345\n";

bool has_note_containing(const MemorySignals& s, const std::string& needle) {
  for (const std::string& note : s.notes) {
    if (note.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string all_notes(const MemorySignals& s) {
  std::string joined;
  for (const std::string& note : s.notes) joined += note + "\n";
  return joined;
}

TEST(MemorySignals, MeminfoAloneDegradesGracefully) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->total_bytes, 16384000ull * 1024);
  EXPECT_EQ(s->available_bytes, 8192000ull * 1024);
  EXPECT_FALSE(s->psi);
  EXPECT_FALSE(s->cgroup);
  EXPECT_TRUE(has_note_containing(*s, "pressure/memory")) << all_notes(*s);
  EXPECT_TRUE(has_note_containing(*s, "cgroup")) << all_notes(*s);
  EXPECT_EQ(s->effective_limit_bytes(), s->total_bytes);
  EXPECT_EQ(s->effective_available_bytes(), s->available_bytes);
  EXPECT_EQ(PressureClassifier().update(*s), PressureLevel::kNormal);  // 50% available
}

TEST(MemorySignals, MissingMeminfoIsNotFound) {
  ScratchDir dir;
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_NE(s.error().message.find("meminfo"), std::string::npos);
}

TEST(MemorySignals, GarbledMeminfoIsCorruptAndNamesTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"MemTotal: 100 kB\n", "MemAvailable"},
      {"MemAvailable: 100 kB\n", "MemTotal"},
      {"MemTotal: lots kB\nMemAvailable: 1 kB\n", "MemTotal"},
      {"MemTotal: 100 kB\nMemAvailable: 1 MB\n", "MemAvailable"},
      {"MemTotal: 100\nMemAvailable: 1 kB\n", "MemTotal"},
      {"MemTotal: -5 kB\nMemAvailable: 1 kB\n", "MemTotal"},
      {"MemTotal: 99999999999999999999 kB\nMemAvailable: 1 kB\n", "MemTotal"},
      {"", "MemTotal"},
  };
  for (const auto& [text, field] : cases) {
    ScratchDir dir;
    dir.write_text("proc/meminfo", text);
    auto s = read_memory_signals(fake_roots(dir));
    ASSERT_FALSE(s) << "accepted: " << text;
    EXPECT_EQ(s.error().code, ErrorCode::kCorruptFile);
    EXPECT_NE(s.error().message.find(field), std::string::npos) << s.error().message;
  }
}

TEST(MemorySignals, ReadsSystemPsi) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);
  dir.write_text("proc/pressure/memory", kPsi);
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->psi);
  EXPECT_DOUBLE_EQ(s->psi->some_avg10, 12.5);
  EXPECT_DOUBLE_EQ(s->psi->full_avg10, 1.25);
  EXPECT_EQ(PressureClassifier().update(*s), PressureLevel::kWarning);  // some > 10
}

TEST(MemorySignals, GarbledPsiIsIgnoredWithANote) {
  const std::vector<std::string> garbage = {
      "",
      "some avg10=1.00 avg60=0.00 avg300=0.00 total=0\n",  // no full line
      "some avg10=abc avg60=0.00\nfull avg10=0.00\n",
      "some avg10=150.00\nfull avg10=0.00\n",
      "some avg10=-1.00\nfull avg10=0.00\n",
      "some avg10=nan\nfull avg10=0.00\n",
      "some avg60=1.00\nfull avg10=0.00\n",
      std::string("some avg10=1.0\0\nfull avg10=0.00\n", 32),
      "\x01\x02\x03 binary\n",
  };
  for (const std::string& text : garbage) {
    EXPECT_FALSE(parse_psi(text, "psi")) << "accepted: " << text;
    ScratchDir dir;
    dir.write_text("proc/meminfo", kMeminfo);
    dir.write_text("proc/pressure/memory", text);
    auto s = read_memory_signals(fake_roots(dir));
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_FALSE(s->psi) << text;
    EXPECT_TRUE(has_note_containing(*s, "ignored")) << all_notes(*s);
  }
}

// A cgroup v2 host: "0::/<path>" and the unified hierarchy at /sys/fs/cgroup.
void write_v2(const ScratchDir& dir, const std::string& path) {
  dir.write_text("proc/self/cgroup", "0::" + path + "\n");
  dir.write_text("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
}

TEST(MemorySignals, CgroupV2WithLimit) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);  // 8 GB available of 16
  write_v2(dir, "/user.slice/app.scope");
  const std::string cg = "sys/fs/cgroup/user.slice/app.scope/";
  dir.write_text(cg + "memory.max", std::to_string(4 * kGiB) + "\n");
  dir.write_text(cg + "memory.current", std::to_string(3 * kGiB + kGiB / 2) + "\n");
  dir.write_text(cg + "memory.stat", "anon 1000\nfile 5000\ninactive_file 268435456\n");
  dir.write_text(cg + "memory.pressure", kPsi);
  dir.write_text("sys/fs/cgroup/user.slice/memory.max", "max\n");
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->cgroup) << all_notes(*s);
  EXPECT_EQ(s->cgroup->version, CgroupVersion::kV2);
  EXPECT_EQ(s->cgroup->path, "/user.slice/app.scope");
  EXPECT_EQ(s->cgroup->limiting_path, "/user.slice/app.scope");
  EXPECT_EQ(s->cgroup->limit_bytes, 4 * kGiB);
  EXPECT_EQ(s->cgroup->usage_bytes, 3 * kGiB + kGiB / 2);
  EXPECT_EQ(s->cgroup->reclaimable_bytes, kGiB / 4);
  ASSERT_TRUE(s->cgroup->psi);
  EXPECT_DOUBLE_EQ(s->cgroup->psi->some_avg10, 12.5);
  EXPECT_EQ(s->effective_limit_bytes(), 4 * kGiB);
  EXPECT_EQ(s->effective_available_bytes(), kGiB / 2 + kGiB / 4);  // 18.75% of the limit
  EXPECT_TRUE(s->notes.size() == 1 && has_note_containing(*s, "no PSI")) << all_notes(*s);
}

TEST(MemorySignals, CgroupV2MaxEverywhereIsNoLimit) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);
  write_v2(dir, "/user.slice/app.scope");
  dir.write_text("sys/fs/cgroup/user.slice/app.scope/memory.max", "max\n");
  dir.write_text("sys/fs/cgroup/user.slice/app.scope/memory.current", "1048576\n");
  dir.write_text("sys/fs/cgroup/user.slice/memory.max", "max\n");
  dir.write_text("sys/fs/cgroup/user.slice/memory.current", "2097152\n");
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->cgroup);
  EXPECT_FALSE(s->cgroup->limit_bytes);
  EXPECT_EQ(s->cgroup->usage_bytes, 1048576u);
  EXPECT_EQ(s->effective_limit_bytes(), s->total_bytes);
  EXPECT_EQ(s->effective_available_bytes(), s->available_bytes);
}

TEST(MemorySignals, CgroupV2AncestorLimitBinds) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);
  write_v2(dir, "/user.slice/app.scope");
  dir.write_text("sys/fs/cgroup/user.slice/app.scope/memory.max", std::to_string(8 * kGiB));
  dir.write_text("sys/fs/cgroup/user.slice/app.scope/memory.current", std::to_string(kGiB));
  dir.write_text("sys/fs/cgroup/user.slice/memory.max", std::to_string(2 * kGiB));
  dir.write_text("sys/fs/cgroup/user.slice/memory.current", std::to_string(kGiB + kGiB / 2));
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->cgroup);
  EXPECT_EQ(s->cgroup->limiting_path, "/user.slice");
  EXPECT_EQ(s->cgroup->limit_bytes, 2 * kGiB);
  EXPECT_EQ(s->effective_available_bytes(), kGiB / 2);
}

TEST(MemorySignals, ContainerWithoutCgroupNamespaceUsesTheMountRoot) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);
  write_v2(dir, "/kubepods/pod-1/container-2");  // the host's path; not under our mount
  dir.write_text("sys/fs/cgroup/memory.max", std::to_string(kGiB));
  dir.write_text("sys/fs/cgroup/memory.current", std::to_string(kGiB - kGiB / 32));
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->cgroup);
  EXPECT_EQ(s->cgroup->limiting_path, "/");
  EXPECT_EQ(s->cgroup->limit_bytes, kGiB);
  EXPECT_EQ(PressureClassifier().update(*s), PressureLevel::kCritical);  // 3% left
}

TEST(MemorySignals, GarbledCgroupFilesAreIgnoredWithNotes) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);
  write_v2(dir, "/a/b");
  dir.write_text("sys/fs/cgroup/a/b/memory.max", "lots\n");
  dir.write_text("sys/fs/cgroup/a/b/memory.current", "1024\n");
  dir.write_text("sys/fs/cgroup/a/memory.max", std::to_string(kGiB));
  dir.write_text("sys/fs/cgroup/a/memory.current", "-5\n");
  dir.write_text("sys/fs/cgroup/a/b/memory.pressure", "some avg10=x\n");
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->cgroup);
  EXPECT_FALSE(s->cgroup->limit_bytes);
  EXPECT_FALSE(s->cgroup->psi);
  EXPECT_TRUE(has_note_containing(*s, "a/b/memory.max: ignored")) << all_notes(*s);
  EXPECT_TRUE(has_note_containing(*s, "a/memory.current: ignored")) << all_notes(*s);
  EXPECT_TRUE(has_note_containing(*s, "memory.pressure")) << all_notes(*s);
}

TEST(MemorySignals, CgroupV1WithLimit) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);
  dir.write_text("proc/self/cgroup",
                 "12:pids:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n");
  dir.write_text("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  dir.write_text("sys/fs/cgroup/memory/memory.usage_in_bytes", "9000000000\n");
  const std::string cg = "sys/fs/cgroup/memory/docker/abc/";
  dir.write_text(cg + "memory.limit_in_bytes", std::to_string(2 * kGiB) + "\n");
  dir.write_text(cg + "memory.usage_in_bytes", std::to_string(kGiB) + "\n");
  dir.write_text(cg + "memory.stat", "inactive_file 1\ntotal_inactive_file 134217728\n");
  dir.write_text("sys/fs/cgroup/memory/docker/memory.limit_in_bytes", "9223372036854771712\n");
  dir.write_text("sys/fs/cgroup/memory/docker/memory.usage_in_bytes", "3000000000\n");
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->cgroup) << all_notes(*s);
  EXPECT_EQ(s->cgroup->version, CgroupVersion::kV1);
  EXPECT_EQ(s->cgroup->path, "/docker/abc");
  EXPECT_EQ(s->cgroup->limiting_path, "/docker/abc");
  EXPECT_EQ(s->cgroup->limit_bytes, 2 * kGiB);
  EXPECT_EQ(s->cgroup->usage_bytes, kGiB);
  EXPECT_EQ(s->cgroup->reclaimable_bytes, kGiB / 8);  // the hierarchical total_ figure
  EXPECT_FALSE(s->cgroup->psi);
  EXPECT_EQ(s->effective_available_bytes(), kGiB + kGiB / 8);
}

TEST(MemorySignals, CgroupV1UnlimitedWithV2PressureBeside) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);
  dir.write_text("proc/self/cgroup", "4:memory:/job\n0::/job\n");
  dir.write_text("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  dir.write_text("sys/fs/cgroup/memory/job/memory.limit_in_bytes", "9223372036854771712\n");
  dir.write_text("sys/fs/cgroup/memory/job/memory.usage_in_bytes", "77365248\n");
  dir.write_text("sys/fs/cgroup/unified/cgroup.controllers", "");
  dir.write_text("sys/fs/cgroup/unified/job/memory.pressure",
                 "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                 "full avg10=6.00 avg60=0.00 avg300=0.00 total=0\n");
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->cgroup) << all_notes(*s);
  EXPECT_EQ(s->cgroup->version, CgroupVersion::kV1);
  EXPECT_FALSE(s->cgroup->limit_bytes);
  EXPECT_EQ(s->cgroup->usage_bytes, 77365248u);
  ASSERT_TRUE(s->cgroup->psi);
  EXPECT_DOUBLE_EQ(s->cgroup->psi->full_avg10, 6.0);
  EXPECT_EQ(PressureClassifier().update(*s), PressureLevel::kCritical);
}

TEST(MemorySignals, CgroupFileWithoutMemoryHierarchyIsNoted) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);
  dir.write_text("proc/self/cgroup", "garbage without colons\n3:cpu:/x\n");
  auto s = read_memory_signals(fake_roots(dir));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(s->cgroup);
  EXPECT_TRUE(has_note_containing(*s, "no memory cgroup")) << all_notes(*s);
}

TEST(MemorySignals, OsSourceReadsItsRoots) {
  ScratchDir dir;
  dir.write_text("proc/meminfo", kMeminfo);
  dir.write_text("proc/pressure/memory", kPsi);
  auto source = make_os_pressure_source(fake_roots(dir));
  auto s = source->sample();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->available_bytes, 8192000ull * 1024);
  ASSERT_TRUE(s->psi);
  dir.write_text("proc/meminfo", "MemTotal: 100 kB\nMemAvailable: 1 kB\n");  // re-read each time
  auto again = source->sample();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->available_bytes, 1024u);
}

TEST(MemorySignals, ReadsThisMachine) {
  auto s = read_memory_signals();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_GT(s->total_bytes, 0u);
  EXPECT_LE(s->available_bytes, s->total_bytes);
  EXPECT_LE(s->effective_available_bytes(), s->effective_limit_bytes());
  std::printf("this machine: %llu MiB available of %llu MiB; PSI %s; cgroup %s\n",
              static_cast<unsigned long long>(s->effective_available_bytes() >> 20),
              static_cast<unsigned long long>(s->effective_limit_bytes() >> 20),
              s->psi ? "present" : "absent",
              !s->cgroup                                 ? "none"
              : s->cgroup->version == CgroupVersion::kV1 ? "v1"
                                                         : "v2");
  if (s->cgroup) {
    std::printf(
        "  cgroup %s, limiting %s, limit %s, usage %llu MiB\n", s->cgroup->path.c_str(),
        s->cgroup->limiting_path.c_str(),
        s->cgroup->limit_bytes ? std::to_string(*s->cgroup->limit_bytes >> 20).c_str() : "none",
        static_cast<unsigned long long>(s->cgroup->usage_bytes >> 20));
  }
  for (const std::string& note : s->notes) std::printf("  note: %s\n", note.c_str());
}

}  // namespace
}  // namespace locara
