#include "runtime/runtime.h"

#include <fmt/format.h>

#include <filesystem>

#include "gguf/gguf_reader.h"
#include "platform/memory_footprint.h"
#include "platform/power.h"
#include "platform/thermal.h"
#include "runtime/periodic_thread.h"

namespace locara {
namespace {

std::string app_model_key(std::string_view app, std::string_view name) {
  return fmt::format("{}\n{}", app, name);
}

// Reads both OS signals; each reader never fails (missing signals read as "normal").
PowerConditions read_os_power_conditions(const PowerSettings& settings) {
  return PowerConditions{read_power_state(settings).low_power, read_thermal_state().state};
}

// How far available memory is below the warning line: what the ladder should free.
uint64_t bytes_below_warning_line(const MemorySignals& signals,
                                  const PressureThresholds& thresholds) {
  const double line =
      thresholds.warning_available_fraction * static_cast<double>(signals.effective_limit_bytes());
  const double available = static_cast<double>(signals.effective_available_bytes());
  return line > available ? static_cast<uint64_t>(line - available) : 0;
}

}  // namespace

RuntimeParts::RuntimeParts(const Clock* external_clock, const RuntimeOptions& options,
                           PressureClassifier pressure_classifier, MemoryBudget machine_budget,
                           uint64_t budget_bytes)
    : clock(external_clock != nullptr ? *external_clock : steady_clock),
      events(clock),
      models(clock, options.loader ? options.loader : mmap_model_loader(),
             ModelManagerOptions{budget_bytes, options.idle_timeout, options.decision_log_capacity},
             &events, &app_budget),
      ladder(models, sessions, policy, &events),
      power(policy, &events),
      plan(options.plan),
      idle_timeout(options.idle_timeout),
      machine_budget(machine_budget),
      pressure_source(options.pressure_source),
      power_source(options.power_source),
      classifier(std::move(pressure_classifier)) {
  if (options.watch_os && !pressure_source) pressure_source = make_os_pressure_source();
  if (options.watch_os && !power_source) {
    power_source = [settings = options.power_settings] {
      return read_os_power_conditions(settings);
    };
  }
  // Runs on the thread whose call pushed the app over, maybe under the manager's lock:
  // it only notes the app (see over_budget_pending).
  app_budget.set_over_budget_callback([this](const AppFootprint& footprint) {
    std::lock_guard lock(over_budget_mutex);
    over_budget_pending.insert(footprint.app_id);
  });
}

void RuntimeParts::publish_over_budget() {
  std::set<std::string> pending;
  {
    std::lock_guard lock(over_budget_mutex);
    pending.swap(over_budget_pending);
  }
  if (pending.empty()) return;
  for (const AppFootprint& footprint : app_budget.over_budget_apps()) {
    if (pending.count(footprint.app_id) == 0) continue;
    events.publish(
        AppOverBudgetEvent{footprint.app_id, footprint.total_bytes(), footprint.declared_bytes});
  }
}

Expected<std::unique_ptr<Runtime>> Runtime::create(RuntimeOptions options) {
  LOCARA_ASSIGN_OR_RETURN(PressureClassifier classifier,
                          PressureClassifier::create(options.pressure_thresholds));
  MemoryBudget machine_budget;
  uint64_t budget = options.budget_bytes;
  if (budget == 0) {
    // Our own anonymous memory is not "others'": read it so a restart does not shrink.
    auto own = read_process_footprint();
    std::shared_ptr<PressureSource> source = options.pressure_source;
    if (!source) source = make_os_pressure_source();
    LOCARA_ASSIGN_OR_RETURN(machine_budget,
                            read_budget(*source, own ? own->anonymous_bytes : uint64_t{0}));
    budget = machine_budget.budget_bytes;
  }
  auto parts = std::make_unique<RuntimeParts>(options.clock, options, std::move(classifier),
                                              machine_budget, budget);
  std::unique_ptr<Runtime> runtime(new Runtime(std::move(parts)));
  if (options.tick_interval > Duration::zero()) {
    Runtime* ticked = runtime.get();
    runtime->ticker_ =
        std::make_unique<PeriodicThread>(options.tick_interval, [ticked] { ticked->tick(); });
  }
  return runtime;
}

Runtime::Runtime(std::unique_ptr<RuntimeParts> parts) : parts_(std::move(parts)) {}
Runtime::~Runtime() {
  ticker_.reset();  // no tick may run while the parts go
}

Expected<Plan> Runtime::add_model(std::string name, std::string path, ModelRole role,
                                  std::optional<PlanConfig> config) {
  LOCARA_ASSIGN_OR_RETURN(auto gguf, GgufReader::open(path));
  LOCARA_ASSIGN_OR_RETURN(ModelShape shape, read_model_shape(*gguf));
  PlanConfig chosen = config.value_or(parts_->plan);
  // Heads too narrow for a quantized KV block (tiny models) fall back to f16.
  chosen.kv_type = runtime_kv_type(shape, chosen.kv_type);
  LOCARA_ASSIGN_OR_RETURN(Plan plan, plan_memory(shape, chosen));
  const AppLoad charges = app_load_from_plan(plan, name);
  ModelSpec spec;
  spec.name = std::move(name);
  spec.path = std::move(path);
  spec.role = role;
  spec.n_ctx = plan.config.n_ctx;
  spec.kv_type = std::string(kv_type_name(plan.config.kv_type));
  spec.planned_bytes = plan.total_bytes();
  spec.shared_bytes = charges.model_bytes;
  spec.session_kv_bytes = charges.kv_bytes;
  spec.session_scratch_bytes = charges.scratch_bytes;
  LOCARA_RETURN_IF_ERROR(parts_->models.add_model(std::move(spec)));
  return plan;
}

Status Runtime::add_planned_model(ModelSpec spec) {
  return parts_->models.add_model(std::move(spec));
}

Status Runtime::register_app(std::string app_id, uint64_t declared_bytes) {
  return parts_->app_budget.register_app(std::move(app_id), declared_bytes);
}

Status Runtime::register_app(const AppManifest& manifest) {
  for (const ManifestModel& model : manifest.models) {
    if (model.path.empty()) {
      return make_error(ErrorCode::kUnsupported,
                        "{}:{}: app '{}' model '{}': ref '{}' needs the model store, which this "
                        "runtime does not have yet; give a path",
                        manifest.source, model.line, manifest.id, model.name, model.ref);
    }
  }
  LOCARA_RETURN_IF_ERROR(parts_->app_budget.register_app(manifest));
  // Relative paths are relative to the manifest's folder.
  const std::filesystem::path base = std::filesystem::path(manifest.source).parent_path();
  std::vector<std::string> names;
  for (const ManifestModel& model : manifest.models) {
    std::filesystem::path path(model.path);
    if (path.is_relative() && !base.empty()) path = base / path;
    std::error_code ignored;
    const std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ignored);
    PlanConfig config = parts_->plan;
    config.kv_type = manifest.kv_type();
    if (model.context > 0) config.n_ctx = model.context;
    const std::string plan_key =
        fmt::format("{}|{}|{}", canonical.string(), config.n_ctx, kv_type_name(config.kv_type));
    std::string name;
    {
      std::lock_guard lock(parts_->names_mutex);
      auto it = parts_->model_by_plan_key.find(plan_key);
      if (it != parts_->model_by_plan_key.end()) name = it->second;
    }
    if (name.empty()) {  // the first app with this file and plan: it gets added
      name = fmt::format("{}/{}", manifest.id, model.name);
      auto added = add_model(name, canonical.string(), model.role, config);
      if (!added) {
        parts_->app_budget.unregister_app(manifest.id);
        return make_error(added.error().code, "app '{}' model '{}': {}", manifest.id, model.name,
                          added.error().message);
      }
      std::lock_guard lock(parts_->names_mutex);
      parts_->model_by_plan_key[plan_key] = name;
    }
    std::lock_guard lock(parts_->names_mutex);
    parts_->app_model_names[app_model_key(manifest.id, model.name)] = name;
    names.push_back(name);
  }
  if (manifest.keep_loaded) {
    for (const std::string& name : names) {
      LOCARA_RETURN_IF_ERROR(parts_->models.pin(name, manifest.id));
    }
  }
  return ok_status();
}

namespace {
// The runtime's name for `model` as `app` calls it.
std::string resolve_model_name(RuntimeParts& parts, std::string_view app, std::string_view model) {
  std::lock_guard lock(parts.names_mutex);
  auto it = parts.app_model_names.find(app_model_key(app, model));
  return it != parts.app_model_names.end() ? it->second : std::string(model);
}
}  // namespace

Expected<ModelLease> Runtime::acquire(std::string_view app, std::string_view model) {
  auto lease = parts_->models.acquire(resolve_model_name(*parts_, app, model), app);
  parts_->publish_over_budget();
  return lease;
}

Status Runtime::preload(std::string_view app, std::string_view model) {
  Status status = parts_->models.preload(resolve_model_name(*parts_, app, model), app);
  parts_->publish_over_budget();
  return status;
}

Status Runtime::pin(std::string_view app, std::string_view model) {
  return parts_->models.pin(resolve_model_name(*parts_, app, model), app);
}

Status Runtime::unpin(std::string_view app, std::string_view model) {
  return parts_->models.unpin(resolve_model_name(*parts_, app, model), app);
}

Status Runtime::unload(std::string_view model) {
  return parts_->models.unload(model, "requested");
}

std::vector<ModelStatus> Runtime::ps() const {
  return parts_->models.list();
}

std::vector<Decision> Runtime::decisions() const {
  return parts_->models.decisions();
}

std::vector<AppFootprint> Runtime::app_footprints() const {
  return parts_->app_budget.footprints();
}

RuntimePolicy Runtime::policy() const {
  return parts_->policy.current();
}

PressureLevel Runtime::pressure_level() const {
  return parts_->ladder.level();
}

PowerConditions Runtime::power_conditions() const {
  return parts_->power.conditions();
}

uint64_t Runtime::budget_bytes() const {
  return parts_->models.budget_bytes();
}

uint64_t Runtime::committed_bytes() const {
  return parts_->models.committed_bytes();
}

std::string Runtime::describe_configuration() const {
  const MemoryBudget& machine = parts_->machine_budget;
  std::string budget = machine.limit_bytes == 0
                           ? fmt::format("budget {} (given)", format_bytes(budget_bytes()))
                           : fmt::format("budget {} ({:.0f}% of {}{} minus {} used by others)",
                                         format_bytes(budget_bytes()), machine.fraction * 100.0,
                                         format_bytes(machine.limit_bytes),
                                         machine.limited_by_cgroup ? " (cgroup limit)" : "",
                                         format_bytes(machine.others_bytes));
  const PressureThresholds& t = parts_->classifier.thresholds();
  return fmt::format(
      "{}; idle unload after {:.0f} s; pressure warning below {:.0f}% available (or PSI some "
      "> {:.0f}%, full > {:.0f}%), critical below {:.0f}% (or some > {:.0f}%, full > {:.0f}%)",
      budget, std::chrono::duration<double>(parts_->idle_timeout).count(),
      t.warning_available_fraction * 100.0, t.warning_some_avg10, t.warning_full_avg10,
      t.critical_available_fraction * 100.0, t.critical_some_avg10, t.critical_full_avg10);
}

Subscription Runtime::subscribe(SubscriptionOptions options) {
  return parts_->events.subscribe(std::move(options));
}

SessionRegistration Runtime::register_session(SessionHooks hooks) {
  return parts_->sessions.add(std::move(hooks));
}

Expected<AppSessionCharge> Runtime::charge_session(std::string_view app, uint64_t kv_bytes,
                                                   uint64_t scratch_bytes) {
  if (!parts_->app_budget.footprint(app)) {  // not a registered app (the CLI): not limited
    return AppSessionCharge();
  }
  const uint64_t id = (uint64_t{1} << 63) | parts_->next_session_charge.fetch_add(1);
  LOCARA_RETURN_IF_ERROR(parts_->app_budget.open_session(app, id, kv_bytes, scratch_bytes));
  return AppSessionCharge(parts_.get(), std::string(app), id, kv_bytes, scratch_bytes);
}

Expected<AppSession> Runtime::open_app_session(std::string_view app, ModelLease lease,
                                               const SessionOptions& options) {
  if (!lease.valid() || lease.model() == nullptr || lease.model()->model == nullptr) {
    return make_error(ErrorCode::kInvalidArgument,
                      "app '{}': a session needs a lease on a loaded model ('{}' has none)", app,
                      lease.name());
  }
  const Model& model = *lease.model()->model;
  // The plan of this one session, resolved as Session::create resolves its options.
  LOCARA_ASSIGN_OR_RETURN(ModelShape shape, read_model_shape(model.gguf()));
  PlanConfig config;
  config.n_ctx = options.n_ctx;
  config.kv_type = options.kv_type.value_or(default_kv_type(model.hparams()));
  config.batch_size = options.max_batch;
  config.n_threads = options.n_threads;
  auto plan = plan_memory(shape, config);
  if (!plan) {
    return make_error(plan.error().code, "app '{}' model '{}': {}", app, lease.name(),
                      plan.error().message);
  }
  const AppLoad load = app_load_from_plan(*plan, lease.name());
  // Charged before the session allocates: a refusal costs no memory.
  LOCARA_ASSIGN_OR_RETURN(AppSessionCharge charge,
                          charge_session(app, load.kv_bytes, load.scratch_bytes));
  SessionOptions resolved = options;
  resolved.n_ctx = plan->config.n_ctx;
  resolved.kv_type = config.kv_type;
  LOCARA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                          Session::create(lease.model(), resolved));
  return AppSession(std::move(lease), std::move(charge), std::move(session));
}

void Runtime::tick() {
  parts_->models.tick(parts_->clock.now());
  // A failed OS read leaves the level as it was: better than guessing either way.
  if (parts_->pressure_source) (void)sample_pressure();
  if (parts_->power_source) apply_power(parts_->power_source());
  parts_->publish_over_budget();
}

Status Runtime::sample_pressure() {
  if (!parts_->pressure_source) {
    return make_error(ErrorCode::kInvalidArgument, "runtime: no pressure source configured");
  }
  std::lock_guard lock(parts_->sampling_mutex);
  LOCARA_ASSIGN_OR_RETURN(MemorySignals signals, parts_->pressure_source->sample());
  const PressureLevel level = parts_->classifier.update(signals);
  parts_->ladder.apply(level, bytes_below_warning_line(signals, parts_->classifier.thresholds()),
                       parts_->classifier.reason());
  return ok_status();
}

MemoryBudgetTighteningEvent Runtime::apply_pressure(PressureLevel level, uint64_t bytes_to_free,
                                                    const std::string& cause) {
  MemoryBudgetTighteningEvent event = parts_->ladder.apply(level, bytes_to_free, cause);
  parts_->publish_over_budget();
  return event;
}

void Runtime::apply_power(const PowerConditions& conditions) {
  parts_->power.apply(conditions);
}

}  // namespace locara
