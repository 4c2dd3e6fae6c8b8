#include "runtime/app_manifest.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "platform/small_file.h"

namespace locara {
namespace {

constexpr int64_t kMaxContext = int64_t{1} << 24;
constexpr double kMaxMemoryGb = 1 << 16;

// Settings the runtime owns (DESIGN.md, "What the runtime owns"): found under any table,
// they get a message saying who decides instead of "unknown key".
struct OwnedSetting {
  std::initializer_list<std::string_view> keys;
  const char* reason;
};
constexpr const char* kKvTypeReason =
    "the runtime owns the KV cache type (q8_0 by default); ask for f16 with "
    "[kv] quality = \"high\"";
const OwnedSetting kOwnedSettings[] = {
    {{"mlock", "use_mlock"},
     "the runtime never locks weights in memory: they stay clean, file-backed mmap pages the "
     "OS can evict under pressure"},
    {{"no_mmap", "use_mmap", "mmap"},
     "the runtime always memory-maps weights (zero copies, evictable); reading them into "
     "allocated memory cannot be requested"},
    {{"threads", "n_threads", "thread_count", "threads_batch", "n_threads_batch"},
     "the runtime chooses the thread count once from the CPU topology (physical performance "
     "cores)"},
    {{"kv_type", "cache_type", "cache_type_k", "cache_type_v", "type_k", "type_v", "kv_cache_type"},
     kKvTypeReason},
};

const char* runtime_owned_reason(std::string_view table, std::string_view key) {
  for (const OwnedSetting& setting : kOwnedSettings) {
    for (std::string_view name : setting.keys) {
      if (key == name) return setting.reason;
    }
  }
  // [kv] type = "q4_0" (or kv.type as a dotted key).
  if (table == "kv" && (key == "type" || key == "k" || key == "v")) return kKvTypeReason;
  return nullptr;
}

const char* node_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

struct Position {
  int64_t line = 0;
  int64_t column = 0;
};

Position position_of(const toml::source_region& region) {
  return {static_cast<int64_t>(region.begin.line), static_cast<int64_t>(region.begin.column)};
}

// Collects issues while walking a parsed document.
class Validator {
 public:
  explicit Validator(std::string source) : source_(std::move(source)) {}

  void add(const std::string& key, Position at, const std::string& what) {
    std::string message =
        at.line > 0 ? fmt::format("{}:{}: ", source_, at.line) : fmt::format("{}: ", source_);
    if (!key.empty()) message += fmt::format("key '{}': ", key);
    message += what;
    issues_.push_back(ManifestIssue{key, at.line, at.column, std::move(message)});
  }

  // Reports every key of `table` not in `allowed`, and every runtime-owned one.
  void check_keys(const toml::table& table, const std::string& path,
                  std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, node] : table) {
      const std::string name =
          path.empty() ? std::string(key.str()) : path + "." + std::string(key.str());
      const Position at = position_of(key.source());
      if (const char* reason = runtime_owned_reason(path, key.str())) {
        add(name, at, fmt::format("the runtime owns this setting: {}", reason));
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      std::string hint;
      if (key.str() == "keep_loaded") hint = " (keep_loaded belongs in [app])";
      add(name, at,
          fmt::format("unknown key{} (allowed here: {})", hint, fmt::join(allowed, ", ")));
    }
  }

  const toml::table* table(const toml::node* node, const std::string& key, Position at) {
    if (node == nullptr) return nullptr;
    if (const toml::table* t = node->as_table()) return t;
    add(key, at, fmt::format("expected a table, got {}", node_type_name(*node)));
    return nullptr;
  }

  std::optional<std::string> string(const toml::table& table, std::string_view key,
                                    const std::string& path, bool required) {
    const toml::node* node = table.get(key);
    const std::string name = path + "." + std::string(key);
    if (node == nullptr) {
      if (required) missing(name, table);
      return std::nullopt;
    }
    if (const auto* value = node->as_string()) return value->get();
    add(name, position_of(node->source()),
        fmt::format("expected a string, got {}", node_type_name(*node)));
    return std::nullopt;
  }

  std::optional<bool> boolean(const toml::table& table, std::string_view key,
                              const std::string& path) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* value = node->as_boolean()) return value->get();
    add(path + "." + std::string(key), position_of(node->source()),
        fmt::format("expected a boolean (true or false), got {}", node_type_name(*node)));
    return std::nullopt;
  }

  void missing(const std::string& key, const toml::table& table) {
    add(key, position_of(table.source()), "required key is missing");
  }

  Position where(const toml::table& table, std::string_view key) const {
    const toml::node* node = table.get(key);
    return node ? position_of(node->source()) : position_of(table.source());
  }

  const std::string& source() const { return source_; }
  std::vector<ManifestIssue> take_issues() { return std::move(issues_); }

 private:
  std::string source_;
  std::vector<ManifestIssue> issues_;
};

void parse_app_table(const toml::table& root, Validator& v, AppManifest& manifest) {
  const toml::node* node = root.get("app");
  const toml::table* app = v.table(node, "app", v.where(root, "app"));
  if (app == nullptr) {
    if (node == nullptr) v.add("app.id", {1, 1}, "required key is missing (no [app] table)");
    return;
  }
  v.check_keys(*app, "app", {"id", "name", "keep_loaded"});
  if (auto id = v.string(*app, "id", "app", /*required=*/true)) {
    const bool valid = !id->empty() && id->size() <= 128 &&
                       id->find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789._-") == std::string::npos;
    if (!valid) {
      v.add("app.id", v.where(*app, "id"),
            fmt::format("'{}' is not a valid app id (1-128 characters of A-Z a-z 0-9 . _ -)", *id));
    }
    manifest.id = *id;
  }
  if (auto name = v.string(*app, "name", "app", false)) manifest.name = *name;
  if (auto keep = v.boolean(*app, "keep_loaded", "app")) manifest.keep_loaded = *keep;
}

void parse_requires_table(const toml::table& root, Validator& v, AppManifest& manifest) {
  const toml::node* node = root.get("requires");
  const toml::table* requires_table = v.table(node, "requires", v.where(root, "requires"));
  if (requires_table == nullptr) {
    if (node == nullptr) {
      v.add("requires.memory_gb", {1, 1}, "required key is missing (no [requires] table)");
    }
    return;
  }
  v.check_keys(*requires_table, "requires", {"memory_gb"});
  const toml::node* memory = requires_table->get("memory_gb");
  if (memory == nullptr) {
    v.missing("requires.memory_gb", *requires_table);
    return;
  }
  const Position at = position_of(memory->source());
  std::optional<double> gb;
  if (const auto* f = memory->as_floating_point()) gb = f->get();
  if (const auto* i = memory->as_integer()) gb = static_cast<double>(i->get());
  if (!gb) {
    v.add("requires.memory_gb", at,
          fmt::format("expected a number of GiB, got {}", node_type_name(*memory)));
    return;
  }
  if (!std::isfinite(*gb) || *gb <= 0 || *gb > kMaxMemoryGb) {
    v.add("requires.memory_gb", at, fmt::format("{} must be a number above 0 (GiB)", *gb));
    return;
  }
  manifest.memory_gb = *gb;
}

void parse_model(const toml::table& entry, const std::string& path, Validator& v,
                 AppManifest& manifest) {
  v.check_keys(entry, path, {"name", "path", "ref", "role", "context"});
  ManifestModel model;
  model.line = position_of(entry.source()).line;
  if (auto name = v.string(entry, "name", path, /*required=*/true)) {
    if (name->empty()) v.add(path + ".name", v.where(entry, "name"), "must not be empty");
    if (manifest.find_model(*name) != nullptr) {
      v.add(path + ".name", v.where(entry, "name"),
            fmt::format("a model named '{}' is already declared", *name));
    }
    model.name = *name;
  }
  auto file = v.string(entry, "path", path, false);
  auto ref = v.string(entry, "ref", path, false);
  if (file && ref) {
    v.add(path + ".ref", v.where(entry, "ref"), "give either path or ref, not both");
  } else if (!file && !ref && !entry.get("path") && !entry.get("ref")) {
    v.add(path + ".path", position_of(entry.source()),
          "required key is missing (give path = \"file.gguf\" or ref = \"name:tag\")");
  }
  if (file) model.path = *file;
  if (ref) model.ref = *ref;
  if (auto role = v.string(entry, "role", path, false)) {
    if (*role == "chat")
      model.role = ModelRole::kChat;
    else if (*role == "draft")
      model.role = ModelRole::kDraft;
    else if (*role == "embed")
      model.role = ModelRole::kEmbed;
    else {
      v.add(path + ".role", v.where(entry, "role"),
            fmt::format("unknown role '{}' (expected chat, draft or embed)", *role));
    }
  }
  if (const toml::node* context = entry.get("context")) {
    const Position at = position_of(context->source());
    if (const auto* value = context->as_integer()) {
      if (value->get() <= 0 || value->get() > kMaxContext) {
        v.add(path + ".context", at,
              fmt::format("{} must be a positive token count up to {}", value->get(), kMaxContext));
      } else {
        model.context = value->get();
      }
    } else {
      v.add(path + ".context", at,
            fmt::format("expected an integer (tokens), got {}", node_type_name(*context)));
    }
  }
  manifest.models.push_back(std::move(model));
}

// Returns each model's table, parallel to manifest.models.
std::vector<const toml::table*> parse_models(const toml::table& root, Validator& v,
                                             AppManifest& manifest) {
  std::vector<const toml::table*> tables;
  const toml::node* node = root.get("models");
  if (node == nullptr) return tables;
  const toml::array* models = node->as_array();
  if (models == nullptr) {
    v.add("models", v.where(root, "models"),
          fmt::format("expected an array of tables ([[models]]), got {}", node_type_name(*node)));
    return tables;
  }
  for (size_t i = 0; i < models->size(); ++i) {
    const std::string path = fmt::format("models[{}]", i);
    const toml::node& item = *models->get(i);
    if (const toml::table* entry = item.as_table()) {
      parse_model(*entry, path, v, manifest);
      tables.push_back(entry);
    } else {
      v.add(path, position_of(item.source()),
            fmt::format("expected a table ([[models]]), got {}", node_type_name(item)));
    }
  }
  return tables;
}

void parse_kv(const toml::table& root, Validator& v, AppManifest& manifest) {
  const toml::table* kv = v.table(root.get("kv"), "kv", v.where(root, "kv"));
  if (kv == nullptr) return;
  v.check_keys(*kv, "kv", {"quality"});
  if (auto quality = v.string(*kv, "quality", "kv", false)) {
    if (*quality == "standard")
      manifest.kv_quality = KvQuality::kStandard;
    else if (*quality == "high")
      manifest.kv_quality = KvQuality::kHigh;
    else {
      v.add("kv.quality", v.where(*kv, "quality"),
            fmt::format("unknown quality '{}' (expected standard or high)", *quality));
    }
  }
}

void parse_speculative(const toml::table& root, Validator& v, AppManifest& manifest) {
  const toml::table* spec =
      v.table(root.get("speculative"), "speculative", v.where(root, "speculative"));
  if (spec == nullptr) return;
  v.check_keys(*spec, "speculative", {"target", "draft"});
  auto target = v.string(*spec, "target", "speculative", /*required=*/true);
  auto draft = v.string(*spec, "draft", "speculative", /*required=*/true);
  if (target) {
    const ManifestModel* model = manifest.find_model(*target);
    if (model == nullptr) {
      v.add("speculative.target", v.where(*spec, "target"),
            fmt::format("names no declared model '{}'", *target));
    } else if (model->role != ModelRole::kChat) {
      v.add("speculative.target", v.where(*spec, "target"),
            fmt::format("model '{}' has role {}; a target must have role chat", *target,
                        model_role_name(model->role)));
    }
  }
  if (draft) {
    const ManifestModel* model = manifest.find_model(*draft);
    if (model == nullptr) {
      v.add("speculative.draft", v.where(*spec, "draft"),
            fmt::format("names no declared model '{}'", *draft));
    } else if (model->role != ModelRole::kDraft) {
      v.add("speculative.draft", v.where(*spec, "draft"),
            fmt::format("model '{}' has role {}; a draft must have role draft", *draft,
                        model_role_name(model->role)));
    }
  }
  if (target && draft) manifest.speculative = SpeculativePair{*target, *draft};
}

// A draft model only makes sense paired with a target in [speculative].
void check_drafts_paired(const toml::table& root, const std::vector<const toml::table*>& tables,
                         Validator& v, const AppManifest& manifest) {
  const toml::table* spec = root.get_as<toml::table>("speculative");
  const toml::node* spec_draft = spec ? spec->get("draft") : nullptr;
  const std::string* paired =
      spec_draft && spec_draft->as_string() ? &spec_draft->as_string()->get() : nullptr;
  const bool has_target = spec != nullptr && spec->get("target") != nullptr;
  for (size_t i = 0; i < manifest.models.size(); ++i) {
    const ManifestModel& model = manifest.models[i];
    if (model.role != ModelRole::kDraft) continue;
    if (!has_target || paired == nullptr || *paired != model.name) {
      const Position at = v.where(*tables[i], "role");
      v.add(fmt::format("models[{}].role", i), at,
            fmt::format("model '{}' has role draft but no [speculative] target pairs it "
                        "(add [speculative] target = \"<chat model>\", draft = \"{}\")",
                        model.name, model.name));
    }
  }
}

}  // namespace

std::string_view model_role_name(ModelRole role) {
  switch (role) {
    case ModelRole::kChat:
      return "chat";
    case ModelRole::kDraft:
      return "draft";
    case ModelRole::kEmbed:
      return "embed";
  }
  return "unknown";
}

KvType kv_type_for_quality(KvQuality quality) {
  return quality == KvQuality::kHigh ? KvType::kF16 : KvType::kQ8_0;
}

uint64_t AppManifest::memory_bytes() const {
  return static_cast<uint64_t>(std::llround(memory_gb * 1024.0 * 1024.0 * 1024.0));
}

const ManifestModel* AppManifest::find_model(std::string_view model_name) const {
  for (const ManifestModel& model : models) {
    if (model.name == model_name) return &model;
  }
  return nullptr;
}

ManifestParseResult parse_app_manifest_text(std::string_view text, const std::string& source) {
  ManifestParseResult result;
  Validator v(source);
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    // toml++ reports the first syntax error; nothing after it can be trusted.
    const Position at = position_of(error.source());
    result.issues.push_back(ManifestIssue{"", at.line, at.column,
                                          fmt::format("{}:{}:{}: malformed TOML: {}", source,
                                                      at.line, at.column, error.description())});
    return result;
  }
  AppManifest manifest;
  manifest.source = source;
  v.check_keys(root, "", {"app", "requires", "models", "kv", "speculative"});
  parse_app_table(root, v, manifest);
  parse_requires_table(root, v, manifest);
  const std::vector<const toml::table*> model_tables = parse_models(root, v, manifest);
  parse_kv(root, v, manifest);
  parse_speculative(root, v, manifest);
  check_drafts_paired(root, model_tables, v, manifest);
  if (manifest.name.empty()) manifest.name = manifest.id;
  result.issues = v.take_issues();
  std::stable_sort(result.issues.begin(), result.issues.end(),
                   [](const ManifestIssue& a, const ManifestIssue& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  if (result.issues.empty()) result.manifest = std::move(manifest);
  return result;
}

ManifestParseResult parse_app_manifest_file(const std::string& path) {
  auto text = read_small_file(path);
  if (!text) {
    ManifestParseResult result;
    result.issues.push_back(ManifestIssue{"", 0, 0, text.error().message});
    return result;
  }
  return parse_app_manifest_text(*text, path);
}

namespace {
Expected<AppManifest> to_expected(ManifestParseResult result) {
  if (result.ok()) return std::move(*result.manifest);
  std::string message;
  for (const ManifestIssue& issue : result.issues) {
    if (!message.empty()) message += '\n';
    message += issue.message;
  }
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}
}  // namespace

Expected<AppManifest> load_app_manifest(const std::string& path) {
  return to_expected(parse_app_manifest_file(path));
}

Expected<AppManifest> parse_app_manifest(std::string_view text, const std::string& source) {
  return to_expected(parse_app_manifest_text(text, source));
}

}  // namespace locara
