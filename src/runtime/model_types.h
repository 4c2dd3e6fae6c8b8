// The model manager's vocabulary: what a model is to the runtime (spec, role), what it
// reports (status, decisions) and the lease an in-flight request holds on a model.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "engine/loaded_model.h"
#include "runtime/app_manifest.h"
#include "runtime/clock.h"

namespace locara {

// ModelRole (chat | draft | embed) comes from app_manifest.h. Draft and embedding
// models are "secondary": the first to go under critical memory pressure.

// A model the runtime may load, with the memory it will cost once loaded. planned_bytes
// comes from the planner (weights + KV for n_ctx + scratch), computed before loading:
// eviction decisions use it, never a counter sampled while a load is under way.
struct ModelSpec {
  std::string name;  // how apps and `locara ps` call it; unique in a manager
  std::string path;  // the GGUF file (empty for test models)
  ModelRole role = ModelRole::kChat;
  int64_t n_ctx = 0;            // context the plan was made for
  std::string kv_type = "f16";  // KV cache element type the plan was made for
  uint64_t planned_bytes = 0;   // total predicted footprint; must be > 0
  // How an app is charged (app_budget.h): the model's shared cost (weights, metadata),
  // divided among the apps using it, plus one session's own KV and scratch. 0 shared:
  // the whole planned size is shared.
  uint64_t shared_bytes = 0;
  uint64_t session_kv_bytes = 0;
  uint64_t session_scratch_bytes = 0;
};

// Maps a model into memory (the model manager's is mmap_model_loader()); tests inject
// one that returns empty models of declared sizes without touching files.
using ModelLoader =
    std::function<Expected<std::shared_ptr<const LoadedModel>>(const ModelSpec& spec)>;

enum class ModelState { kUnloaded, kLoading, kLoaded };
const char* model_state_name(ModelState state);

// Why a model left memory.
enum class UnloadReason {
  kIdle,              // no lease for the idle timeout
  kEvicted,           // least recently used, to make room for another load
  kPressure,          // critical memory pressure, while idle
  kPressureAfterUse,  // critical memory pressure, when its in-flight request ended
  kRequested,         // an explicit unload (an app or the user)
  kShutdown,          // the runtime stopped
};
const char* unload_reason_name(UnloadReason reason);

// One model as `locara ps` shows it: a snapshot, copied out of the manager.
struct ModelStatus {
  std::string name;
  std::string path;
  ModelRole role = ModelRole::kChat;
  ModelState state = ModelState::kUnloaded;
  uint64_t planned_bytes = 0;
  int64_t n_ctx = 0;
  std::string kv_type;
  std::vector<std::string> pinned_by;   // apps that asked "keep loaded"
  std::vector<std::string> owner_apps;  // apps that used it since it was loaded
  int32_t leases = 0;                   // in-flight requests holding it
  double idle_seconds = 0.0;            // since the last lease ended (0 while leased)
  bool unload_when_released = false;    // critical pressure: goes when its lease ends
};

// What the manager decided, and why. Kept in a bounded log that tests and `locara ps`
// read; every load, unload, refusal and pin goes through it.
enum class DecisionAction {
  kLoad,          // loaded (reason: which app asked, what was evicted first)
  kLoadFailed,    // the loader returned an error
  kUnload,        // left memory (reason: UnloadReason and detail)
  kDeferUnload,   // will unload when its last lease ends
  kCancelUnload,  // a deferred unload called off (pressure cleared)
  kRefuse,        // a load or lease refused (budget, pressure)
  kPin,           // an app asked to keep it loaded
  kUnpin,         // an app released its pin, or pressure cleared all pins
};
const char* decision_action_name(DecisionAction action);

struct Decision {
  TimePoint time;
  DecisionAction action = DecisionAction::kLoad;
  std::string model;
  std::string app;  // the app the decision was made for, if any
  uint64_t bytes = 0;
  std::string reason;
};

// Whoever hands out leases and takes them back (the model manager).
class LeaseOwner {
 public:
  virtual void release_lease(uint64_t model_id) = 0;

 protected:
  ~LeaseOwner() = default;
};

// An in-flight request's hold on a loaded model: while any lease lives, the model stays
// in memory whatever the pressure; the last lease to end lets a deferred unload happen.
// Sessions built from model() must end before the lease does. Move-only; not
// thread-safe itself (one request owns it), but leases of one model may end on any
// thread. The issuing manager must outlive it.
class ModelLease {
 public:
  ModelLease() = default;
  ModelLease(LeaseOwner* owner, uint64_t model_id, std::string model_name,
             std::shared_ptr<const LoadedModel> model)
      : owner_(owner),
        model_id_(model_id),
        name_(std::move(model_name)),
        model_(std::move(model)) {}
  ModelLease(ModelLease&& other) noexcept { *this = std::move(other); }
  ModelLease& operator=(ModelLease&& other) noexcept;
  ModelLease(const ModelLease&) = delete;
  ModelLease& operator=(const ModelLease&) = delete;
  ~ModelLease() { reset(); }

  bool valid() const { return owner_ != nullptr; }
  const std::string& name() const { return name_; }
  const std::shared_ptr<const LoadedModel>& model() const { return model_; }
  // Ends the lease now (the destructor does the same).
  void reset();

 private:
  LeaseOwner* owner_ = nullptr;
  uint64_t model_id_ = 0;
  std::string name_;
  std::shared_ptr<const LoadedModel> model_;
};

}  // namespace locara
