// Daemons for the CLI tests, without an HTTP library: the real `locara serve` as a child
// process on a free loopback port, a one-route stub server, and plain HTTP/1.0 requests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "server/daemon_process.h"

namespace locara::cli::testing {

inline const std::string kLocaraBinary = std::string(LOCARA_BINARY_DIR) + "/locara";
inline const std::string kStoriesPath = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";

// A loopback socket bound to a free port, listening, or -1.
inline int listen_on_loopback(int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || listen(fd, 8) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(address.sin_port);
  return fd;
}

// A loopback port nothing listens on (bound, then released).
inline int closed_port() {
  int port = 0;
  close(listen_on_loopback(&port));
  return port;
}

// One request on a fresh connection; returns the whole answer (status line, headers and
// body), or "" when nothing answered.
inline std::string http_request(int port, const std::string& method, const std::string& path,
                                const std::string& body = "") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = method + " " + path +
                                " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: "
                                "application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
        answer.append(buffer, static_cast<size_t>(n));
      }
    }
  }
  close(fd);
  return answer;
}

// A store folder with stories260K linked in, removed at the end.
class TempStore {
 public:
  TempStore() {
    char pattern[] = "/tmp/locara-cli-store-XXXXXX";
    dir_ = mkdtemp(pattern);
    std::filesystem::create_symlink(kStoriesPath, dir_ + "/stories260K.gguf");
  }
  ~TempStore() { std::filesystem::remove_all(dir_); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// The real daemon as a child process (shared with the server tests).
using DaemonProcess = server::testing::DaemonProcess;

// Answers every request on a free loopback port with `status` and the JSON `body`, from
// its own thread, until destroyed.
class StubServer {
 public:
  StubServer(int status, std::string body) : status_(status), body_(std::move(body)) {
    fd_ = listen_on_loopback(&port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~StubServer() {
    stopping_ = true;
    thread_.join();
    close(fd_);
  }
  StubServer(const StubServer&) = delete;
  StubServer& operator=(const StubServer&) = delete;

  int port() const { return port_; }

 private:
  void serve() {
    while (!stopping_) {
      pollfd waiting{fd_, POLLIN, 0};
      if (poll(&waiting, 1, 50) <= 0) continue;
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = recv(client, buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      const std::string answer = "HTTP/1.1 " + std::to_string(status_) +
                                 " Stub\r\nContent-Type: application/json\r\nContent-Length: " +
                                 std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n" +
                                 body_;
      send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
      close(client);
    }
  }

  int status_;
  std::string body_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace locara::cli::testing
