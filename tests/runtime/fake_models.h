// Test doubles for the runtime's scenario tests: a loader of empty models with declared
// sizes (no files), and a pressure source whose available memory the test sets.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/loaded_model.h"
#include "platform/memory_pressure.h"
#include "runtime/model_types.h"

namespace locara::testing {

inline constexpr uint64_t kMiB = 1024 * 1024;
inline constexpr uint64_t kGiB = 1024 * kMiB;

inline ModelSpec fake_spec(std::string name, uint64_t planned_bytes,
                           ModelRole role = ModelRole::kChat) {
  ModelSpec spec;
  spec.name = std::move(name);
  spec.role = role;
  spec.n_ctx = 2048;
  spec.kv_type = "q8_0";
  spec.planned_bytes = planned_bytes;
  return spec;
}

// Hands out empty LoadedModels and remembers them weakly, so tests can see both how often
// a model was loaded and whether an unloaded one was really freed. Thread-safe.
class FakeLoader {
 public:
  ModelLoader loader() {
    return [this](const ModelSpec& spec) -> Expected<std::shared_ptr<const LoadedModel>> {
      std::lock_guard lock(mutex_);
      if (spec.name == fail_name_) {
        return make_error(ErrorCode::kIoError, "fake loader: cannot map '{}'", spec.name);
      }
      auto model = std::make_shared<const LoadedModel>();
      ++loads_[spec.name];
      live_[spec.name] = model;
      return std::shared_ptr<const LoadedModel>(model);
    };
  }
  int loads(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = loads_.find(name);
    return it == loads_.end() ? 0 : it->second;
  }
  // Whether the last model loaded under `name` is still in memory (someone holds it).
  bool alive(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = live_.find(name);
    return it != live_.end() && !it->second.expired();
  }
  void fail_loading(std::string name) {
    std::lock_guard lock(mutex_);
    fail_name_ = std::move(name);
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int> loads_;
  std::map<std::string, std::weak_ptr<const LoadedModel>> live_;
  std::string fail_name_;
};

// Memory signals of a 16 GiB machine with `available` bytes free; no stall figures.
class FakePressureSource final : public PressureSource {
 public:
  explicit FakePressureSource(uint64_t available = 8 * kGiB) : available_(available) {}
  void set_available(uint64_t bytes) { available_ = bytes; }
  Expected<MemorySignals> sample() override {
    MemorySignals signals;
    signals.total_bytes = 16 * kGiB;
    signals.available_bytes = available_.load();
    return signals;
  }

 private:
  std::atomic<uint64_t> available_;
};

}  // namespace locara::testing
