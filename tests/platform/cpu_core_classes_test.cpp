// Performance vs efficiency cores: hybrid x86 PMUs, Arm capacities, maximum frequencies.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "platform/cpu_topology.h"
#include "platform/scratch_dir.h"

namespace locara {
namespace {

using testing::ScratchDir;

const std::string kCpuDir = "sys/devices/system/cpu/cpu";

// cpu<id>/topology with its core's CPU list, in package 0.
void add_cpu(const ScratchDir& sys, int cpu, const std::string& core_cpus) {
  const std::string topology = kCpuDir + std::to_string(cpu) + "/topology/";
  sys.write_text(topology + "physical_package_id", "0\n");
  sys.write_text(topology + "core_cpus_list", core_cpus + "\n");
}

void set_cpu_file(const ScratchDir& sys, int cpu, const std::string& file,
                  const std::string& value) {
  sys.write_text(kCpuDir + std::to_string(cpu) + "/" + file, value + "\n");
}

// A hybrid x86 part: P-cores 0-7 as 4 cores x 2 threads, E-cores 8-15 without SMT.
void write_hybrid_x86(const ScratchDir& sys) {
  for (int cpu = 0; cpu < 8; ++cpu) {
    const int first = cpu & ~1;
    add_cpu(sys, cpu, std::to_string(first) + "-" + std::to_string(first + 1));
  }
  for (int cpu = 8; cpu < 16; ++cpu) add_cpu(sys, cpu, std::to_string(cpu));
  sys.write_text("sys/devices/cpu_core/cpus", "0-7\n");
  sys.write_text("sys/devices/cpu_atom/cpus", "8-15\n");
}

TEST(CoreClasses, SmtWithoutClassesCountsEveryCore) {
  ScratchDir sys;
  // 4 cores x 2 threads, siblings numbered n and n + 4 as on Intel.
  for (int cpu = 0; cpu < 8; ++cpu) {
    add_cpu(sys, cpu, std::to_string(cpu % 4) + "," + std::to_string(cpu % 4 + 4));
  }
  const auto counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->physical_cores, 4);
  EXPECT_EQ(counts->performance_cores, 4);
  EXPECT_EQ(counts->source, CoreClassSource::kNone);
  EXPECT_EQ(physical_performance_cores(sys.file("sys")), 4);
}

TEST(CoreClasses, HybridX86KeepsThePCores) {
  ScratchDir sys;
  write_hybrid_x86(sys);
  const auto counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->physical_cores, 12);
  EXPECT_EQ(counts->performance_cores, 4);
  EXPECT_EQ(counts->source, CoreClassSource::kHybridPmu);
  EXPECT_EQ(physical_performance_cores(sys.file("sys")), 4);
  EXPECT_EQ(count_physical_cores(sys.file("sys")), 12);  // unchanged meaning
  EXPECT_STREQ(core_class_source_name(counts->source), "hybrid PMU (cpu_core)");
}

TEST(CoreClasses, HybridPmuWinsOverFrequencies) {
  ScratchDir sys;
  write_hybrid_x86(sys);
  for (int cpu = 0; cpu < 16; ++cpu) set_cpu_file(sys, cpu, "cpufreq/cpuinfo_max_freq", "4000000");
  const auto counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->performance_cores, 4);
  EXPECT_EQ(counts->source, CoreClassSource::kHybridPmu);
}

TEST(CoreClasses, HybridPmuListingNoOnlineCpuIsIgnored) {
  ScratchDir sys;
  write_hybrid_x86(sys);
  sys.write_text("sys/devices/cpu_core/cpus", "32-39\n");
  auto counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->performance_cores, 12);
  EXPECT_EQ(counts->source, CoreClassSource::kNone);
  sys.write_text("sys/devices/cpu_core/cpus", "garbage\n");
  counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->performance_cores, 12);
}

TEST(CoreClasses, ArmBigLittleKeepsTheBigCluster) {
  ScratchDir sys;
  for (int cpu = 0; cpu < 8; ++cpu) {
    add_cpu(sys, cpu, std::to_string(cpu));
    set_cpu_file(sys, cpu, "cpu_capacity", cpu < 4 ? "512" : "1024");
  }
  const auto counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->physical_cores, 8);
  EXPECT_EQ(counts->performance_cores, 4);
  EXPECT_EQ(counts->source, CoreClassSource::kCpuCapacity);
  EXPECT_EQ(physical_performance_cores(sys.file("sys")), 4);
}

TEST(CoreClasses, TriClusterKeepsPrimeAndNearbyMidCores) {
  ScratchDir sys;
  const char* capacities[] = {"400", "400", "400", "400", "870", "870", "870", "1024"};
  for (int cpu = 0; cpu < 8; ++cpu) {
    add_cpu(sys, cpu, std::to_string(cpu));
    set_cpu_file(sys, cpu, "cpu_capacity", capacities[cpu]);
  }
  EXPECT_EQ(physical_performance_cores(sys.file("sys")), 4);
}

TEST(CoreClasses, EqualCapacitiesKeepEveryCore) {
  ScratchDir sys;
  for (int cpu = 0; cpu < 4; ++cpu) {
    add_cpu(sys, cpu, std::to_string(cpu));
    set_cpu_file(sys, cpu, "cpu_capacity", "1024");
  }
  const auto counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->performance_cores, 4);
  EXPECT_EQ(counts->source, CoreClassSource::kCpuCapacity);
}

TEST(CoreClasses, MaxFrequencyWhenCapacitiesAreMissing) {
  ScratchDir sys;
  for (int cpu = 0; cpu < 12; ++cpu) {
    add_cpu(sys, cpu, std::to_string(cpu));
    set_cpu_file(sys, cpu, "cpufreq/cpuinfo_max_freq", cpu < 4 ? "4700000" : "3500000");
  }
  // Capacities on some CPUs only are not a signal.
  set_cpu_file(sys, 0, "cpu_capacity", "1024");
  const auto counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->physical_cores, 12);
  EXPECT_EQ(counts->performance_cores, 4);
  EXPECT_EQ(counts->source, CoreClassSource::kMaxFrequency);
}

TEST(CoreClasses, FavouredCoreFrequencyBinsAllCount) {
  ScratchDir sys;
  for (int cpu = 0; cpu < 8; ++cpu) {
    add_cpu(sys, cpu, std::to_string(cpu));
    set_cpu_file(sys, cpu, "cpufreq/cpuinfo_max_freq", cpu < 2 ? "5000000" : "4800000");
  }
  EXPECT_EQ(physical_performance_cores(sys.file("sys")), 8);
}

TEST(CoreClasses, MissingOrGarbledClassFilesFallBackToAllCores) {
  ScratchDir sys;
  for (int cpu = 0; cpu < 4; ++cpu) add_cpu(sys, cpu, std::to_string(cpu));
  set_cpu_file(sys, 0, "cpufreq/cpuinfo_max_freq", "4000000");  // one CPU only
  set_cpu_file(sys, 1, "cpu_capacity", "lots");
  auto counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->performance_cores, 4);
  EXPECT_EQ(counts->source, CoreClassSource::kNone);
  for (int cpu = 0; cpu < 4; ++cpu) set_cpu_file(sys, cpu, "cpufreq/cpuinfo_max_freq", "0");
  counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->performance_cores, 4);
  EXPECT_EQ(counts->source, CoreClassSource::kNone);
}

TEST(CoreClasses, OfflineCpusDoNotVote) {
  ScratchDir sys;
  for (int cpu = 0; cpu < 4; ++cpu) {
    add_cpu(sys, cpu, std::to_string(cpu));
    set_cpu_file(sys, cpu, "cpu_capacity", cpu == 3 ? "2048" : "1024");
  }
  set_cpu_file(sys, 3, "online", "0");  // the only fast one is offline
  const auto counts = count_cores(sys.file("sys"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->physical_cores, 3);
  EXPECT_EQ(counts->performance_cores, 3);
}

TEST(CoreClasses, EmptySysIsNullopt) {
  ScratchDir sys;
  EXPECT_FALSE(count_cores(sys.file("sys")));
}

TEST(CoreClasses, ThisMachine) {
  const auto counts = count_cores();
  if (!counts) GTEST_SKIP() << "no CPU topology in /sys here";
  EXPECT_GE(counts->performance_cores, 1);
  EXPECT_LE(counts->performance_cores, counts->physical_cores);
  std::printf("this machine: %d physical cores, %d performance (%s)\n", counts->physical_cores,
              counts->performance_cores, core_class_source_name(counts->source));
}

}  // namespace
}  // namespace locara
