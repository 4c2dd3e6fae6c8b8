// Stop sequences over streamed text: text that might begin a stop sequence is held back
// until the next piece shows whether it does, so a client never sees part of a stop.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace locara::server {

// Not thread-safe; one per generation.
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  // Appends generated text; returns what can be sent now. After a stop matched, stopped()
  // is true and the returned text ends just before the stop sequence.
  std::string push(std::string_view text);
  // The held-back text, at the end of a generation that did not stop on a sequence.
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace locara::server
