#include "platform/cpu_topology.h"

#include <gtest/gtest.h>

#include <thread>

#include "platform/scratch_dir.h"

namespace locara {
namespace {

using testing::ScratchDir;

// Writes cpu<id>/topology for a CPU in a fake /sys.
void add_cpu(const ScratchDir& sys, int cpu, int package, const std::string& siblings,
             const char* siblings_file = "core_cpus_list") {
  const std::string topology = "sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
  sys.write_text(topology + "physical_package_id", std::to_string(package) + "\n");
  sys.write_text(topology + siblings_file, siblings + "\n");
}

TEST(CpuList, ParsesRangesAndSingles) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list("5"), (std::vector<int>{5}));
  EXPECT_EQ(parse_cpu_list(""), (std::vector<int>{}));
  EXPECT_FALSE(parse_cpu_list("3-1"));
  EXPECT_FALSE(parse_cpu_list("a"));
  EXPECT_FALSE(parse_cpu_list("1,,2"));
  EXPECT_FALSE(parse_cpu_list("-1"));
  EXPECT_FALSE(parse_cpu_list("0-2000000000"));
}

TEST(CpuTopology, CountsSmtSiblingsOnce) {
  ScratchDir sys;
  // 2 packages x 2 cores x 2 threads; siblings numbered as Intel does (n and n + 4).
  add_cpu(sys, 0, 0, "0,4");
  add_cpu(sys, 1, 0, "1,5");
  add_cpu(sys, 2, 1, "2,6");
  add_cpu(sys, 3, 1, "3,7");
  add_cpu(sys, 4, 0, "0,4");
  add_cpu(sys, 5, 0, "1,5");
  add_cpu(sys, 6, 1, "2,6");
  add_cpu(sys, 7, 1, "3,7");
  sys.write_text("sys/devices/system/cpu/cpufreq/boost", "1\n");  // not a CPU
  EXPECT_EQ(count_physical_cores(sys.file("sys")), 4);
  EXPECT_EQ(physical_performance_cores(sys.file("sys")), 4);
}

TEST(CpuTopology, FallsBackToThreadSiblingsList) {
  ScratchDir sys;
  add_cpu(sys, 0, 0, "0-1", "thread_siblings_list");
  add_cpu(sys, 1, 0, "0-1", "thread_siblings_list");
  add_cpu(sys, 2, 0, "2-3", "thread_siblings_list");
  add_cpu(sys, 3, 0, "2-3", "thread_siblings_list");
  EXPECT_EQ(count_physical_cores(sys.file("sys")), 2);
}

TEST(CpuTopology, NoSmtCountsEveryCpu) {
  ScratchDir sys;
  for (int cpu = 0; cpu < 6; ++cpu) add_cpu(sys, cpu, 0, std::to_string(cpu));
  EXPECT_EQ(count_physical_cores(sys.file("sys")), 6);
}

TEST(CpuTopology, SkipsOfflineCpus) {
  ScratchDir sys;
  for (int cpu = 0; cpu < 4; ++cpu) add_cpu(sys, cpu, 0, std::to_string(cpu));
  sys.write_text("sys/devices/system/cpu/cpu3/online", "0\n");
  sys.write_text("sys/devices/system/cpu/cpu2/online", "1\n");
  EXPECT_EQ(count_physical_cores(sys.file("sys")), 3);
}

TEST(CpuTopology, GarbageTopologyIsSkipped) {
  ScratchDir sys;
  add_cpu(sys, 0, 0, "0");
  add_cpu(sys, 1, 0, "not a list");
  sys.write_text("sys/devices/system/cpu/cpu2/online", "1\n");  // no topology at all
  EXPECT_EQ(count_physical_cores(sys.file("sys")), 1);
}

TEST(CpuTopology, EmptyOrMissingSysFallsBackToHardwareConcurrency) {
  ScratchDir sys;
  const int expected = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_FALSE(count_physical_cores(sys.file("nowhere")));
  EXPECT_EQ(physical_performance_cores(sys.file("nowhere")), expected);
  sys.write_text("sys/devices/system/cpu/possible", "0-3\n");
  EXPECT_FALSE(count_physical_cores(sys.file("sys")));
  EXPECT_EQ(physical_performance_cores(sys.file("sys")), expected);
}

TEST(CpuTopology, RealSysGivesAtLeastOneCore) {
  const int cores = physical_performance_cores();
  EXPECT_GE(cores, 1);
  EXPECT_LE(cores, std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace locara
