// The real signal end to end: a child process takes 1 GiB, the OS reader and classifier
// must see warning within 2 s, and normal again once the child has exited.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "platform/memory_pressure.h"

namespace locara {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kChildBytes = kGiB;
constexpr auto kPollInterval = std::chrono::milliseconds(100);

// Kills and reaps the child if the test ends early.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // Waits for the child to exit by itself; returns its wait status.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

// The child: takes and touches 1 GiB, holds it ~3 s, exits. Only system calls and plain
// stores after fork(); dies with the parent should the test process crash.
[[noreturn]] void run_child(int ready_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // MAP_POPULATE has the kernel fault every page in at once, faster than one trap per
  // page; the stores below then write each page so that it is surely ours.
  void* memory = ::mmap(nullptr, kChildBytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (memory == MAP_FAILED) ::_exit(2);
  volatile char* bytes = static_cast<volatile char*>(memory);
  for (uint64_t offset = 0; offset < kChildBytes; offset += 4096) bytes[offset] = 1;
  const char done = 'x';
  if (::write(ready_fd, &done, 1) != 1) ::_exit(3);
  ::sleep(3);
  ::_exit(0);
}

TEST(MemoryPressureReal, OneGibChildFlipsToWarningAndBack) {
  auto source = make_os_pressure_source();
  auto baseline = source->sample();
  ASSERT_TRUE(baseline) << baseline.error().message;
  const uint64_t available = baseline->effective_available_bytes();
  const uint64_t limit = baseline->effective_limit_bytes();
  if (available < 4 * kGiB) {
    GTEST_SKIP() << "only " << available / kMiB << " MiB available: not taking 1 GiB more";
  }

  // Warning just below what is available now; only available memory counts (stall times
  // on a shared machine would make the test flaky, and are covered by the fake trees).
  PressureThresholds thresholds;
  const double limit_bytes = static_cast<double>(limit);
  thresholds.warning_available_fraction = static_cast<double>(available - 512 * kMiB) / limit_bytes;
  thresholds.critical_available_fraction = 0;
  thresholds.available_recovery_margin = static_cast<double>(128 * kMiB) / limit_bytes;
  thresholds.warning_some_avg10 = thresholds.critical_some_avg10 = 101;
  thresholds.warning_full_avg10 = thresholds.critical_full_avg10 = 101;
  thresholds.recovery_samples = 3;
  auto created = PressureClassifier::create(thresholds);
  ASSERT_TRUE(created) << created.error().message;
  PressureClassifier classifier = std::move(created).value();
  ASSERT_EQ(classifier.update(*baseline), PressureLevel::kNormal) << classifier.reason();

  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const Clock::time_point start = Clock::now();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0) << "fork failed";
  if (pid == 0) run_child(pipe_fds[1]);
  ChildGuard child(pid);
  ::close(pipe_fds[1]);

  // Warning within 2 s of the fork, sampling every 100 ms.
  std::optional<double> warned_after_s;
  uint64_t lowest_available = available;
  while (Clock::now() - start < std::chrono::seconds(2)) {
    auto sample = source->sample();
    ASSERT_TRUE(sample) << sample.error().message;
    lowest_available = std::min(lowest_available, sample->effective_available_bytes());
    if (classifier.update(*sample) == PressureLevel::kWarning) {
      warned_after_s = std::chrono::duration<double>(Clock::now() - start).count();
      break;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  char ready = 0;
  EXPECT_EQ(::read(pipe_fds[0], &ready, 1), 1) << "the child could not take its 1 GiB";
  ::close(pipe_fds[0]);
  ASSERT_TRUE(warned_after_s) << "no warning within 2 s; available went from " << available / kMiB
                              << " to " << lowest_available / kMiB << " MiB, threshold "
                              << static_cast<uint64_t>(thresholds.warning_available_fraction *
                                                       limit_bytes) /
                                     kMiB
                              << " MiB";
  EXPECT_FALSE(classifier.reason().empty());

  // The child exits by itself after ~3 s; its memory is back once waitpid returns.
  const int status = child.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  const Clock::time_point exited = Clock::now();

  std::optional<double> normal_after_s;
  uint64_t last_available = 0;
  while (Clock::now() - exited < std::chrono::seconds(5)) {
    auto sample = source->sample();
    ASSERT_TRUE(sample) << sample.error().message;
    last_available = sample->effective_available_bytes();
    if (classifier.update(*sample) == PressureLevel::kNormal) {
      normal_after_s = std::chrono::duration<double>(Clock::now() - exited).count();
      break;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  ASSERT_TRUE(normal_after_s) << "still " << pressure_level_name(classifier.level())
                              << " 5 s after the child exited: available " << last_available / kMiB
                              << " MiB, baseline " << available / kMiB << " MiB";
  std::printf(
      "baseline %llu MiB available of %llu MiB; warning after %.2f s (lowest %llu MiB); "
      "normal %.2f s after the child exited\n",
      static_cast<unsigned long long>(available / kMiB),
      static_cast<unsigned long long>(limit / kMiB), *warned_after_s,
      static_cast<unsigned long long>(lowest_available / kMiB), *normal_after_s);
}

}  // namespace
}  // namespace locara
