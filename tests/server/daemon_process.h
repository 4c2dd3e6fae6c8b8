// `locara serve` as a child process on a free loopback port, for tests that need the real
// binary: its signal handling, exit status and process footprint. Stopped with SIGTERM.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace locara::server::testing {

class DaemonProcess {
 public:
  // `config_path` (optional): a --config file for settings the flags lack.
  DaemonProcess(const std::string& models_dir, int parallelism,
                const std::string& config_path = "") {
    char log_pattern[] = "/tmp/locara-load-log-XXXXXX";
    const int log_fd = mkstemp(log_pattern);
    log_path_ = log_pattern;
    const std::string binary = std::string(LOCARA_BINARY_DIR) + "/locara";
    const std::string parallel = std::to_string(parallelism);
    std::vector<const char*> argv = {
        binary.c_str(),     "serve",      "--port",        "0", "--models-dir",
        models_dir.c_str(), "--parallel", parallel.c_str()};
    if (!config_path.empty()) {
      argv.push_back("--config");
      argv.push_back(config_path.c_str());
    }
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(log_fd, STDERR_FILENO);
      execv(binary.c_str(), const_cast<char* const*>(argv.data()));
      _exit(127);
    }
    close(log_fd);
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const std::string log = read_log();
      const size_t at = log.find("listening on http://127.0.0.1:");
      if (at != std::string::npos) port_ = std::atoi(log.c_str() + at + 30);
    }
  }
  ~DaemonProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    std::remove(log_path_.c_str());
  }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  int port() const { return port_; }
  std::string pid() const { return std::to_string(pid_); }
  std::string read_log() const {
    std::string text;
    if (FILE* file = std::fopen(log_path_.c_str(), "r")) {
      char buffer[4096];
      size_t n;
      while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, n);
      std::fclose(file);
    }
    return text;
  }
  // Stops with SIGTERM; returns the exit status (0: a clean shutdown; -1: killed by a
  // signal or already stopped).
  int stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

}  // namespace locara::server::testing
