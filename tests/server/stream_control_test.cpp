// Back-pressure, cancellation, queue bounds and shutdown, seen from real clients: one that
// stops reading, one that vanishes, more than the scheduler takes, and SIGTERM's path.
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

class StreamControlTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions options = test_options(store_.dir());
    options.socket_buffer_bytes = 4096;
    options.stream_capacity = 4;
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

}  // namespace
}  // namespace locara::server::testing
