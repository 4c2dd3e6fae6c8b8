#include "server/streaming.h"

namespace locara::server {
namespace {

// Shared by the provider and the releaser: runs `after` exactly once.
struct StreamState {
  std::shared_ptr<Completion> completion;
  StreamFormat format;
  bool ended = false;
  bool after_ran = false;

  void run_after() {
    if (after_ran) return;
    after_ran = true;
    if (format.after) format.after();
  }
};

}  // namespace

std::string sse_data(const std::string& json) {
  return "data: " + json + "\n\n";
}

std::string sse_event(const std::string& name, const std::string& json) {
  return "event: " + name + "\ndata: " + json + "\n\n";
}

void stream_completion(httplib::Response& res, std::shared_ptr<Completion> completion,
                       StreamFormat format) {
  auto state = std::make_shared<StreamState>();
  state->completion = std::move(completion);
  const std::string content_type = format.content_type;
  state->format = std::move(format);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      content_type,
      [state](size_t, httplib::DataSink& sink) {
        if (state->ended) {
          sink.done();
          return true;
        }
        CompletionDelta delta;
        std::string bytes;
        if (state->completion->next(delta)) {
          bytes = state->format.piece(delta);
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
