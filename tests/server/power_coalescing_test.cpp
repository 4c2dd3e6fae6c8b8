// Streaming under the runtime's power policy: in low-power mode (read from a fake power
// source, as the runtime tests do) tokens are coalesced into fewer events; full service
// comes back when the mode clears. The text is the same either way.
#include <atomic>
#include <memory>

#include "server_fixture.h"

namespace locara::server::testing {
namespace {

using nlohmann::json;

json stream_request(const char* path) {
  json request = {{"model", kModel},
                  {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                  {"stream", true}};
  if (std::string(path) == "/api/chat") {
    request["options"] = {{"temperature", 0}, {"num_predict", 40}};
  } else {
    request.update({{"temperature", 0}, {"max_tokens", 40}, {"logprobs", true}});
  }
  return request;
}

// Tokens per streamed OpenAI event (from each chunk's logprobs), and the text.
struct Events {
  std::vector<size_t> tokens;
  std::string text;
};

class PowerCoalescingTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions options = test_options(store_.dir());
    options.runtime.power_source = [low_power = low_power_] {
      return PowerConditions{low_power->load(), ThermalState::kNominal};
    };
    start(options);
  }
  // Flips the fake low-power mode and waits for the runtime's tick to apply it.
  void set_low_power(bool on) {
    low_power_->store(on);
    const int32_t expected = on ? kDownshiftCoalesceTokens : 1;
    ASSERT_TRUE(eventually(
        [&] { return server_->runtime().policy().power.stream_coalesce_tokens == expected; }));
  }
  Events stream_chat() {
    Events events;
    auto res = post("/v1/chat/completions", stream_request("/v1/chat/completions"));
    if (!res || res->status != 200) {
      ADD_FAILURE() << (res ? res->body : "no response");
      return events;
    }
    for (const json& payload : sse_payloads(res->body)) {
      if (!payload.is_object() || payload["choices"].empty()) continue;
      const json& choice = payload["choices"][0];
      if (!choice["logprobs"].is_object()) continue;
      events.tokens.push_back(choice["logprobs"]["content"].size());
      events.text += choice["delta"].value("content", "");
    }
    return events;
  }

  std::shared_ptr<std::atomic<bool>> low_power_ = std::make_shared<std::atomic<bool>>(false);
};

size_t total(const std::vector<size_t>& counts) {
  size_t sum = 0;
  for (size_t n : counts) sum += n;
  return sum;
}

TEST_F(PowerCoalescingTest, LowPowerCoalescesTokenEventsAndClearingRestoresThem) {
  const Events full_service = stream_chat();
  ASSERT_EQ(total(full_service.tokens), 40u);
  for (size_t n : full_service.tokens) EXPECT_EQ(n, 1u) << "one event per token";

  set_low_power(true);
  const Events coalesced = stream_chat();
  EXPECT_EQ(total(coalesced.tokens), 40u);
  EXPECT_EQ(coalesced.text, full_service.text);
  for (size_t n : coalesced.tokens) {
    EXPECT_LE(n, static_cast<size_t>(kDownshiftCoalesceTokens));
    EXPECT_GE(n, 1u);
  }
  EXPECT_LT(coalesced.tokens.size(), full_service.tokens.size()) << "no fewer events";
  EXPECT_GT(*std::max_element(coalesced.tokens.begin(), coalesced.tokens.end()), 1u);

  set_low_power(false);
  const Events restored = stream_chat();
  EXPECT_EQ(restored.text, full_service.text);
  for (size_t n : restored.tokens) EXPECT_EQ(n, 1u);
}

TEST_F(PowerCoalescingTest, OllamaStreamsAreCoalescedToo) {
  auto pieces = [&] {
    auto res = post("/api/chat", stream_request("/api/chat"));
    EXPECT_TRUE(res && res->status == 200);
    std::vector<json> lines = res ? ndjson_lines(res->body) : std::vector<json>{};
    std::string text;
    for (const json& line : lines) text += line["message"].value("content", "");
    return std::make_pair(lines.size(), text);
  };
  const auto [full_lines, full_text] = pieces();
  set_low_power(true);
  const auto [coalesced_lines, coalesced_text] = pieces();
  EXPECT_EQ(coalesced_text, full_text);
  EXPECT_LT(coalesced_lines, full_lines) << "no fewer lines";
}

}  // namespace
}  // namespace locara::server::testing
