// A load generator for the daemon: N concurrent streaming chat clients for a fixed time,
// each request ending in a completed stream, a clean 503, or a counted failure; with the
// daemon's anonymous memory sampled throughout. Used by load_test.cpp.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace locara::server::testing {

struct LoadOptions {
  int port = 0;
  int clients = 32;
  double seconds = 60.0;
  std::string body;  // the streaming request every client sends
  std::chrono::milliseconds backoff_after_503{100};
  int request_timeout_s = 30;  // longer without a byte counts as a hang
};

struct LoadReport {
  uint64_t completed = 0;  // streams that ended with [DONE]
  uint64_t refused = 0;    // clean 503s with Retry-After
  uint64_t failed = 0;     // anything else: wrong status, truncated stream, error event
  uint64_t hung = 0;       // no byte for request_timeout_s
  uint64_t tokens = 0;
  double seconds = 0.0;
  std::vector<double> ttft_seconds;  // completed requests

  double percentile(double p) const {
    if (ttft_seconds.empty()) return 0.0;
    std::vector<double> sorted = ttft_seconds;
    std::sort(sorted.begin(), sorted.end());
    const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
    return sorted[index];
  }
};

namespace detail {

enum class Outcome { kCompleted, kRefused, kFailed, kHung };

// One request on its own connection ("Connection: close"): reads until [DONE] or close.
inline Outcome one_request(const LoadOptions& options, double& ttft, uint64_t& tokens) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{options.request_timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(options.port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto start = std::chrono::steady_clock::now();
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return Outcome::kFailed;
  }
  const std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(options.body.size()) + "\r\n\r\n" + options.body;
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string received;
  char buffer[8192];
  bool first = true;
  Outcome outcome = Outcome::kFailed;
  for (;;) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      outcome = Outcome::kHung;
      break;
    }
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
    if (received.starts_with("HTTP/1.1 503")) {
      if (received.find("Retry-After:") != std::string::npos &&
          received.find("\"error\"") != std::string::npos) {
        outcome = Outcome::kRefused;
        break;
      }
      continue;
    }
    if (first && received.find("data: {") != std::string::npos) {
      first = false;
      ttft = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    if (received.find("data: [DONE]") != std::string::npos) {
      outcome = received.starts_with("HTTP/1.1 200") ? Outcome::kCompleted : Outcome::kFailed;
      break;
    }
  }
  close(fd);
  for (size_t at = 0; (at = received.find("\"finish_reason\":null", at)) != std::string::npos;
       ++at) {
    ++tokens;
  }
  return outcome;
}

}  // namespace detail

inline LoadReport run_load(const LoadOptions& options) {
  LoadReport report;
  std::mutex mutex;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration<double>(options.seconds);
  std::vector<std::thread> clients;
  for (int i = 0; i < options.clients; ++i) {
    clients.emplace_back([&] {
      while (std::chrono::steady_clock::now() < deadline) {
        double ttft = 0.0;
        uint64_t tokens = 0;
        const detail::Outcome outcome = detail::one_request(options, ttft, tokens);
        {
          std::lock_guard lock(mutex);
          report.tokens += tokens;
          switch (outcome) {
            case detail::Outcome::kCompleted:
              ++report.completed;
              report.ttft_seconds.push_back(ttft);
              break;
            case detail::Outcome::kRefused:
              ++report.refused;
              break;
            case detail::Outcome::kFailed:
              ++report.failed;
              break;
            case detail::Outcome::kHung:
              ++report.hung;
              break;
          }
        }
        if (outcome == detail::Outcome::kRefused) {
          std::this_thread::sleep_for(options.backoff_after_503);
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace locara::server::testing
