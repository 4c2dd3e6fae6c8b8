// A real daemon for the server tests: in-process, on a free loopback port, with a model
// store holding stories260K; plus small HTTP helpers (httplib and raw sockets).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/server.h"

namespace locara::server::testing {

// The standard output of a shell command (the locara binary, run as a user would).
inline std::string command_output(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) out.append(buffer, n);
  pclose(pipe);
  return out;
}

inline const std::string kModelPath = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";
inline constexpr const char* kModel = "stories260K";

// A store folder with the test model linked in, removed at the end.
class TempStore {
 public:
  TempStore() {
    char pattern[] = "/tmp/locara-store-XXXXXX";
    dir_ = mkdtemp(pattern);
    std::filesystem::create_symlink(kModelPath, dir_ + "/" + kModel + ".gguf");
  }
  ~TempStore() { std::filesystem::remove_all(dir_); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

inline ServerOptions test_options(const std::string& models_dir) {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.models_dir = models_dir;
  options.parallelism = 2;
  options.max_queue = 4;
  options.threads_per_sequence = 1;
  options.runtime.watch_os = false;  // the machine's own pressure must not steer tests
  options.runtime.budget_bytes = uint64_t{1} << 30;
  options.tick_interval = std::chrono::milliseconds(100);
  options.log = [](const std::string&) {};
  return options;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(test_options(store_.dir())); }
  void TearDown() override {
    if (server_) server_->stop();
  }
  void start(ServerOptions options) {
    if (server_) server_->stop();
    auto created = Server::create(std::move(options));
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    auto port = server_->start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
  }

  std::unique_ptr<httplib::Client> client() const {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client->set_read_timeout(60, 0);
    return client;
  }
  httplib::Result post(const std::string& path, const nlohmann::json& body,
                       const httplib::Headers& headers = {}) const {
    return client()->Post(path.c_str(), headers, body.dump(), "application/json");
  }
  httplib::Result get(const std::string& path) const { return client()->Get(path.c_str()); }

  TempStore store_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

inline nlohmann::json parse(const httplib::Result& result) {
  return nlohmann::json::parse(result->body, nullptr, false);
}

// The JSON payloads of an SSE body's "data:" lines ([DONE] kept as the string "[DONE]").
inline std::vector<nlohmann::json> sse_payloads(const std::string& body) {
  std::vector<nlohmann::json> payloads;
  size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    const size_t end = body.find("\n\n", at);
    const std::string data = body.substr(at + 6, end - at - 6);
    payloads.push_back(data == "[DONE]" ? nlohmann::json("[DONE]") : nlohmann::json::parse(data));
    at = end;
  }
  return payloads;
}

inline std::vector<nlohmann::json> ndjson_lines(const std::string& body) {
  std::vector<nlohmann::json> lines;
  size_t start = 0;
  for (size_t end; (end = body.find('\n', start)) != std::string::npos; start = end + 1) {
    if (end > start) lines.push_back(nlohmann::json::parse(body.substr(start, end - start)));
  }
  return lines;
}

// A raw HTTP/1.1 connection, for clients that stop reading or vanish mid-stream.
class RawConnection {
 public:
  // receive_buffer > 0 shrinks SO_RCVBUF before connecting (a client that reads slowly).
  explicit RawConnection(int port, int receive_buffer = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawConnection() { close(); }
  bool connected() const { return connected_; }

  bool send_post(const std::string& path, const std::string& body) {
    const std::string request =
        "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    return ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(request.size());
  }
  bool send_raw(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads until `needle` has been seen (after `after`, when given) or the peer closes;
  // returns everything read so far.
  std::string read_until(const std::string& needle, const std::string& after = "") {
    char buffer[4096];
    auto seen = [&] {
      const size_t from = after.empty() ? 0 : received_.find(after);
      return from != std::string::npos && received_.find(needle, from) != std::string::npos;
    };
    while (!seen()) {
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      received_.append(buffer, static_cast<size_t>(n));
    }
    return received_;
  }
  // One read of at most `max_bytes` (a client that reads slowly); returns what came, ""
  // once the peer closed.
  std::string read_some(size_t max_bytes) {
    std::string chunk(max_bytes, '\0');
    const ssize_t n = ::recv(fd_, chunk.data(), max_bytes, 0);
    chunk.resize(n > 0 ? static_cast<size_t>(n) : 0);
    received_ += chunk;
    return chunk;
  }
  const std::string& received() const { return received_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Vanishes as a crashed client does: the close resets the connection (RST), so the
  // server's next write fails at once.
  void abort() {
    if (fd_ < 0) return;
    linger reset{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    close();
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string received_;
};

// Polls `condition` every 10 ms for up to `seconds`; returns whether it became true.
template <typename Condition>
bool eventually(Condition condition, double seconds = 10.0) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace locara::server::testing
