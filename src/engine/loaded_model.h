// A model file opened for generation: its weights (mapped) and its tokenizer,
// with how long loading took. Immutable and shareable between sessions.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace locara {

// Thread-safe: immutable after load.
struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  double load_seconds = 0.0;

  static Expected<std::shared_ptr<const LoadedModel>> load(const std::string& path);
};

}  // namespace locara
