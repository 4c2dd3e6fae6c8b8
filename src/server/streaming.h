// Streaming a completion to a client through a chunked response (SSE for OpenAI, NDJSON
// for Ollama): one write per piece, so a slow client blocks the writer, the bounded
// stream behind it fills, and the generation pauses; a failed write cancels it.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

#include "server/completion.h"

namespace locara::server {

struct StreamFormat {
  std::string content_type;
  // The bytes of one piece ("" sends nothing).
  std::function<std::string(const CompletionDelta&)> piece;
  // The closing bytes: the final chunk(s), or an error event if summary.error is set.
  std::function<std::string(const CompletionSummary&)> end;
  // Runs once when the response is over, whether it completed or the client left.
  std::function<void()> after;
};

void stream_completion(httplib::Response& res, std::shared_ptr<Completion> completion,
                       StreamFormat format);

// "data: <json>\n\n"
std::string sse_data(const std::string& json);
// An SSE event with a name: "event: <name>\ndata: <json>\n\n"
std::string sse_event(const std::string& name, const std::string& json);

}  // namespace locara::server
