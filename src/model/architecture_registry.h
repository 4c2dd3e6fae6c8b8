// The table of supported architectures: general.architecture name -> model factory.
// Each architecture's file defines its factory; this table is the one place naming them all.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "model/model.h"

namespace locara {

using ModelFactory = Expected<std::unique_ptr<Model>> (*)(std::unique_ptr<GgufReader> gguf);

struct Architecture {
  std::string_view name;  // as general.architecture spells it
  ModelFactory create;
};

const std::vector<Architecture>& supported_architectures();

}  // namespace locara
