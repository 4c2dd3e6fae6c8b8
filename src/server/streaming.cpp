#include "server/streaming.h"

#include <chrono>

namespace locara::server {
namespace {

// Shared by the provider and the releaser: runs `after` exactly once.
struct StreamState {
  std::shared_ptr<Completion> completion;
  StreamFormat format;
  const Runtime* runtime = nullptr;
  bool ended = false;
  bool after_ran = false;

  void run_after() {
    if (after_ran) return;
    after_ran = true;
    if (format.after) format.after();
  }
};

void append(CompletionDelta& event, CompletionDelta& more) {
  event.text += more.text;
  for (StreamToken& token : more.tokens) event.tokens.push_back(std::move(token));
}

}  // namespace

std::string sse_data(const std::string& json) {
  return "data: " + json + "\n\n";
}

std::string sse_event(const std::string& name, const std::string& json) {
  return "event: " + name + "\ndata: " + json + "\n\n";
}

bool next_stream_event(Completion& completion, const PowerLimits& limits, CompletionDelta& event) {
  if (!completion.next(event)) return false;
  const size_t max_tokens =
      limits.stream_coalesce_tokens > 1 ? static_cast<size_t>(limits.stream_coalesce_tokens) : 1;
  if (max_tokens <= 1) return true;
  // Timed from the event's first token: no token waits longer than the interval.
  const bool timed = limits.stream_coalesce_interval.count() > 0;
  const auto deadline = std::chrono::steady_clock::now() + limits.stream_coalesce_interval;
  CompletionDelta more;
  while (event.tokens.size() < max_tokens) {
    const auto left = timed ? deadline - std::chrono::steady_clock::now()
                            : std::chrono::steady_clock::duration(std::chrono::seconds(1));
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    const Completion::Wait wait = completion.next_within(more, left);
    if (wait == Completion::Wait::kEnded) break;  // the next call reports the end
    if (wait == Completion::Wait::kTimedOut) {
      if (timed) break;
      continue;
    }
    append(event, more);
  }
  return true;
}

void stream_completion(httplib::Response& res, std::shared_ptr<Completion> completion,
                       StreamFormat format, const Runtime& runtime) {
  auto state = std::make_shared<StreamState>();
  state->completion = std::move(completion);
  const std::string content_type = format.content_type;
  state->format = std::move(format);
  state->runtime = &runtime;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      content_type,
      [state](size_t, httplib::DataSink& sink) {
        if (state->ended) {
          sink.done();
          return true;
        }
        CompletionDelta event;
        std::string bytes;
        if (next_stream_event(*state->completion, state->runtime->policy().power, event)) {
          bytes = state->format.piece(event);
        } else {
          bytes = state->format.end(state->completion->summary());
          state->ended = true;
        }
        if (!bytes.empty() && !sink.write(bytes.data(), bytes.size())) {
          state->completion->cancel();  // the client left: stop generating now
          return false;
        }
        if (state->ended) sink.done();
        return true;
      },
      [state](bool) {
        state->completion->cancel();
        state->run_after();
      });
}

}  // namespace locara::server
