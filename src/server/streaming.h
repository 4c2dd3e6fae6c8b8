// Streaming a completion to a client through a chunked response (SSE for OpenAI, NDJSON
// for Ollama): one write per event, so a slow client blocks the writer, the bounded
// stream behind it fills, and the generation pauses; a failed write cancels it. Under the
// runtime's power policy (low power, thermal serious or worse) tokens are coalesced into
// fewer events, which cuts the client's and the daemon's wake-ups.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

#include "locara/runtime.h"
#include "server/completion.h"

namespace locara::server {

struct StreamFormat {
  std::string content_type;
  // The bytes of one event: a piece of one or more tokens ("" sends nothing).
  std::function<std::string(const CompletionDelta&)> piece;
  // The closing bytes: the final chunk(s), or an error event if summary.error is set.
  std::function<std::string(const CompletionSummary&)> end;
  // Runs once when the response is over, whether it completed or the client left.
  std::function<void()> after;
};

// Each event holds up to policy.power.stream_coalesce_tokens tokens, sent once that many
// arrived or stream_coalesce_interval after the first of them, whichever comes first
// (the policy is read again for every event, so a change applies mid-stream).
void stream_completion(httplib::Response& res, std::shared_ptr<Completion> completion,
                       StreamFormat format, const Runtime& runtime);

// The next event's piece under `limits`: one next() of the completion, then, when
// coalescing, more tokens appended until the limits say send. False once the completion
// ended with nothing left to send.
bool next_stream_event(Completion& completion, const PowerLimits& limits, CompletionDelta& event);

// "data: <json>\n\n"
std::string sse_data(const std::string& json);
// An SSE event with a name: "event: <name>\ndata: <json>\n\n"
std::string sse_event(const std::string& name, const std::string& json);

}  // namespace locara::server
