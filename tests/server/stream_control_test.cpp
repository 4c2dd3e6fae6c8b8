// Back-pressure, cancellation, queue bounds and shutdown, seen from real clients: one that
// stops reading, one that vanishes, more than the scheduler takes, and SIGTERM's path.
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "daemon_process.h"
#include "platform/memory_footprint.h"
#include "server_fixture.h"

namespace locara::server::testing {
namespace {

using nlohmann::json;

// Each chunk carries 20 alternatives (a few KB), so small socket buffers fill in a few
// tokens; the generation would otherwise run to the context's end (~110 tokens).
std::string heavy_stream_request() {
  return json{
      {"model", kModel},  {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
      {"temperature", 0}, {"stream", true},
      {"logprobs", true}, {"top_logprobs", 20}}
      .dump();
}

constexpr size_t kStreamCapacity = 4;

uint64_t anonymous_bytes() {
  auto footprint = read_process_footprint("/proc", std::to_string(getpid()));
  return footprint ? footprint->anonymous_bytes : 0;
}

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

class StreamControlTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions options = test_options(store_.dir());
    options.socket_buffer_bytes = 4096;
    options.stream_capacity = kStreamCapacity;
    options.parallelism = 1;
    options.max_queue = 1;
    start(options);
  }
  // Waits until generation has stopped advancing with one request running; returns the
  // tokens generated then.
  uint64_t wait_for_stall() {
    uint64_t last = UINT64_MAX;
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const SchedulerStats stats = server_->scheduler().stats();
      if (stats.running == 1 && stats.tokens_generated == last) return last;
      last = stats.tokens_generated;
    }
    return UINT64_MAX;
  }
  uint64_t default_app_kv_bytes() {
    for (const AppFootprint& app : server_->runtime().app_footprints()) {
      if (app.app_id == kDefaultApp) return app.kv_bytes;
    }
    return UINT64_MAX;
  }
};

TEST_F(StreamControlTest, ASlowReaderPausesTheGeneration) {
  RawConnection connection(port_, 4096);
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.send_post("/v1/chat/completions", heavy_stream_request()));
  connection.read_until("\r\n\r\n");  // headers only, then stop reading
  const uint64_t stalled = wait_for_stall();
  ASSERT_NE(stalled, UINT64_MAX) << "the generation never paused";
  EXPECT_LT(stalled, 80u) << "more was generated than the stream and sockets can hold";
  EXPECT_GT(default_app_kv_bytes(), 0u);  // its sequence is alive, just waiting
  // Reading again resumes it to the end.
  const std::string all = connection.read_until("data: [DONE]");
  EXPECT_NE(all.find("data: [DONE]"), std::string::npos);
  EXPECT_GT(server_->scheduler().stats().tokens_generated, stalled);
  EXPECT_TRUE(eventually([&] { return server_->scheduler().stats().completed == 1; }));
}

// The daemon runs in this process, so its anonymous memory is this process's. While the
// reader is stalled, what the request holds is bounded by the stream (4 tokens), the two
// 4 KiB socket buffers and the sequence's KV; nothing grows while it waits.
TEST_F(StreamControlTest, AStalledReaderKeepsTheDaemonsAnonymousMemoryBounded) {
  // Warm up: the model loaded and a sequence's buffers allocated once.
  auto warm = post("/v1/chat/completions", json::parse(heavy_stream_request()));
  ASSERT_TRUE(warm);
  ASSERT_EQ(warm->status, 200);
  const uint64_t before = anonymous_bytes();
  ASSERT_GT(before, 0u);

  RawConnection connection(port_, 4096);
  ASSERT_TRUE(connection.send_post("/v1/chat/completions", heavy_stream_request()));
  connection.read_until("\r\n\r\n");  // headers only, then stop reading
  const uint64_t stalled = wait_for_stall();
  ASSERT_NE(stalled, UINT64_MAX) << "the generation never paused";
  const uint64_t at_stall = anonymous_bytes();
  uint64_t peak = at_stall;
  for (int i = 0; i < 15; ++i) {  // 1.5 s paused
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    peak = std::max(peak, anonymous_bytes());
  }
  EXPECT_EQ(server_->scheduler().stats().tokens_generated, stalled) << "it did not stay paused";
  EXPECT_EQ(server_->scheduler().stats().running, 1);
  EXPECT_LT(mib(peak) - mib(before), 8.0)
      << "a stalled reader grew the daemon's anonymous memory from " << mib(before) << " to "
      << mib(peak) << " MiB";
  EXPECT_LT(mib(peak) - mib(at_stall), 0.5) << "anonymous memory grew while paused";
  // Reading again finishes it.
  EXPECT_NE(connection.read_until("data: [DONE]").find("data: [DONE]"), std::string::npos);
}

TEST_F(StreamControlTest, ADisconnectStopsTheGenerationAndFreesItsKv) {
  {
    RawConnection connection(port_, 4096);
    ASSERT_TRUE(connection.send_post("/v1/chat/completions", heavy_stream_request()));
    connection.read_until("data: ");  // it is generating
    ASSERT_NE(wait_for_stall(), UINT64_MAX);
  }  // the client vanishes
  EXPECT_TRUE(eventually([&] {
    const SchedulerStats stats = server_->scheduler().stats();
    return stats.running == 0 && stats.cancelled == 1;
  }));
  EXPECT_EQ(default_app_kv_bytes(), 0u);
  EXPECT_EQ(server_->scheduler().stats().completed, 0u);
}

// A client that vanishes while tokens are flowing (reading slowly, the generation keeping
// pace), not only after a stall: the generation stops at once, its KV is freed.
TEST_F(StreamControlTest, ADisconnectWhileTokensFlowStopsTheGenerationPromptly) {
  // How long the answer runs when nobody leaves.
  auto full = post("/v1/chat/completions", json::parse(heavy_stream_request()));
  ASSERT_TRUE(full);
  ASSERT_EQ(full->status, 200);
  uint64_t full_tokens = 0;
  for (const json& payload : sse_payloads(full->body)) {
    if (payload.is_object() && !payload["choices"].empty() &&
        payload["choices"][0]["logprobs"].is_object()) {
      full_tokens += payload["choices"][0]["logprobs"]["content"].size();
    }
  }
  ASSERT_GT(full_tokens, 40u);
  const uint64_t generated_before = server_->scheduler().stats().tokens_generated;

  RawConnection connection(port_, 4096);
  ASSERT_TRUE(connection.send_post("/v1/chat/completions", heavy_stream_request()));
  connection.read_until("data: ");
  // Read about 1 KiB every 10 ms until tokens have been flowing for a while.
  auto generated = [&] { return server_->scheduler().stats().tokens_generated - generated_before; };
  uint64_t previous = generated();
  int advancing_reads = 0;
  while (advancing_reads < 5 && generated() < full_tokens / 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_FALSE(connection.read_some(1024).empty()) << "the stream ended early";
    const uint64_t now = generated();
    if (now > previous) ++advancing_reads;
    previous = now;
  }
  ASSERT_EQ(advancing_reads, 5) << "the generation did not advance while read";
  ASSERT_EQ(server_->scheduler().stats().running, 1);

  connection.abort();
  const uint64_t at_disconnect = generated();
  ASSERT_LT(at_disconnect, full_tokens) << "it had already finished";
  EXPECT_TRUE(eventually(
      [&] {
        const SchedulerStats stats = server_->scheduler().stats();
        return stats.running == 0 && stats.cancelled == 1;
      },
      2.0))
      << "the generation did not stop within 2 s of the disconnect";
  // At most what the stream holds plus the token in progress: it stops at its next token
  // once the server's write fails, never running on to the end.
  EXPECT_LE(generated(), at_disconnect + kStreamCapacity + 1);
  EXPECT_LT(generated(), full_tokens);
  EXPECT_EQ(default_app_kv_bytes(), 0u);
  EXPECT_EQ(server_->scheduler().stats().completed, 1u) << "only the first, full request";
}

TEST_F(StreamControlTest, BeyondTheQueueBoundRequestsGet503WithRetryAfter) {
  RawConnection busy(port_, 4096);  // holds the only sequence
  ASSERT_TRUE(busy.send_post("/v1/chat/completions", heavy_stream_request()));
  busy.read_until("\r\n\r\n");
  ASSERT_NE(wait_for_stall(), UINT64_MAX);
  RawConnection queued(port_);  // waits in the queue (bound 1)
  ASSERT_TRUE(queued.send_post(
      "/v1/completions", json{{"model", kModel}, {"prompt", "Hi"}, {"max_tokens", 2}}.dump()));
  ASSERT_TRUE(eventually([&] { return server_->scheduler().stats().queued == 1; }));
  auto refused = post("/v1/completions", {{"model", kModel}, {"prompt", "Hi"}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->get_header_value("Retry-After"), "1");
  EXPECT_NE(parse(refused)["error"]["message"].get<std::string>().find("busy"), std::string::npos);
  // Once the first client reads on, everything queued completes.
  busy.read_until("data: [DONE]");
  EXPECT_NE(queued.read_until("\"finish_reason\"").find("200 OK"), std::string::npos);
}

TEST_F(StreamControlTest, ShutdownEndsInFlightStreamsWithAnErrorEvent) {
  RawConnection connection(port_, 4096);
  ASSERT_TRUE(connection.send_post("/v1/chat/completions", heavy_stream_request()));
  connection.read_until("\r\n\r\n");
  ASSERT_NE(wait_for_stall(), UINT64_MAX);
  std::thread stopper([&] { server_->stop(); });
  const std::string all = connection.read_until("shutting down");
  stopper.join();
  EXPECT_NE(all.find("\"error\""), std::string::npos);
  EXPECT_NE(all.find("shutting down"), std::string::npos);
  EXPECT_EQ(all.find("[DONE]"), std::string::npos);
}

// The real daemon: SIGTERM with a stream in flight ends the stream with an error event (no
// [DONE]) and the process exits 0.
TEST(DaemonShutdownTest, SigtermEndsAStreamInFlightWithAnErrorEventAndExitsZero) {
  TempStore store;
  const std::string config = store.dir() + "/locara.toml";
  // Small buffers, so that the stream cannot finish into the kernel's socket buffers.
  std::ofstream(config) << "[server]\nstream_capacity = 1\nsocket_buffer_kb = 4\n";
  DaemonProcess daemon(store.dir(), 1, config);
  ASSERT_GT(daemon.port(), 0) << daemon.read_log();

  RawConnection connection(daemon.port(), 4096);
  ASSERT_TRUE(connection.send_post("/v1/chat/completions", heavy_stream_request()));
  connection.read_until("data: ");  // it is streaming; now stop reading
  // The sequence is still generating (its KV is held): the stream is in flight.
  httplib::Client probe("127.0.0.1", daemon.port());
  ASSERT_TRUE(eventually([&] {
    auto metrics = probe.Get("/metrics");
    return metrics && metrics->body.find("\nlocara_kv_bytes 0\n") == std::string::npos;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto metrics = probe.Get("/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->body.find("\nlocara_kv_bytes 0\n"), std::string::npos)
      << "the stream finished before SIGTERM; it must still be in flight";

  int exit_code = -2;
  std::thread terminator([&] { exit_code = daemon.stop(); });
  const std::string all = connection.read_until("shutting down");  // reads to the end
  terminator.join();
  EXPECT_NE(all.find("\"error\""), std::string::npos) << all.substr(all.size() - 500);
  EXPECT_NE(all.find("shutting down"), std::string::npos);
  EXPECT_EQ(all.find("[DONE]"), std::string::npos);
  EXPECT_EQ(exit_code, 0) << daemon.read_log();
}

}  // namespace
}  // namespace locara::server::testing
