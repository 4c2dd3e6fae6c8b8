// App manifests (`locara.toml`): what an app declares (id, memory, models, KV quality,
// speculative pair) and the validation that rejects what the runtime owns.
//
//   [app]
//   id = "com.example.notes"      # required
//   name = "Notes"
//   keep_loaded = false           # ask the runtime to keep models loaded (pressure overrides)
//   [requires]
//   memory_gb = 2.5               # required, > 0
//   [[models]]
//   name = "chat"                 # required, unique
//   path = "models/chat.gguf"     # or ref = "llama3.2:1b" (exactly one of them)
//   role = "chat"                 # chat (default) | draft | embed
//   context = 4096                # optional, > 0
//   [kv]
//   quality = "standard"          # standard (q8_0, default) | high (f16)
//   [speculative]
//   target = "chat"               # a model with role chat
//   draft = "small"               # a model with role draft
//
// keep_loaded lives in [app]: it is a preference of the app as a whole. Threads, mlock,
// mmap and KV types are the runtime's (DESIGN.md) and are rejected with a message saying so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "kv/kv_cache.h"

namespace locara {

enum class ModelRole { kChat, kDraft, kEmbed };
std::string_view model_role_name(ModelRole role);

enum class KvQuality { kStandard, kHigh };
// standard -> q8_0, high -> f16 (DESIGN.md, "KV cache type").
KvType kv_type_for_quality(KvQuality quality);

struct ManifestModel {
  std::string name;
  std::string path;  // a GGUF file (relative paths are relative to the manifest's folder)
  std::string ref;   // a model-store reference; exactly one of path and ref is set
  ModelRole role = ModelRole::kChat;
  int64_t context = 0;  // 0: the runtime chooses
  int64_t line = 0;     // where the [[models]] entry starts in the manifest
};

struct SpeculativePair {
  std::string target;  // names a ManifestModel with role chat
  std::string draft;   // names a ManifestModel with role draft
};

// A validated manifest. Thread-compatible value type.
struct AppManifest {
  std::string source;  // file name (or "<string>") the manifest came from
  std::string id;
  std::string name;  // defaults to id
  bool keep_loaded = false;
  double memory_gb = 0.0;
  std::vector<ManifestModel> models;
  KvQuality kv_quality = KvQuality::kStandard;
  std::optional<SpeculativePair> speculative;

  uint64_t memory_bytes() const;  // memory_gb x 2^30
  KvType kv_type() const { return kv_type_for_quality(kv_quality); }
  const ManifestModel* find_model(std::string_view model_name) const;
};

// One problem in a manifest: the dotted key ("models[1].role", "app.threads") and where.
struct ManifestIssue {
  std::string key;   // empty for syntax errors
  int64_t line = 0;  // 1-based; 0 if unknown
  int64_t column = 0;
  std::string message;  // full sentence: "<source>:<line>: key 'app.threads': ..."
};

// Every issue found (not just the first), and the manifest when there are none.
struct ManifestParseResult {
  std::optional<AppManifest> manifest;
  std::vector<ManifestIssue> issues;
  bool ok() const { return issues.empty() && manifest.has_value(); }
};

ManifestParseResult parse_app_manifest_text(std::string_view text, const std::string& source);
ManifestParseResult parse_app_manifest_file(const std::string& path);

// The same as Expected: the error message lists every issue, one per line.
Expected<AppManifest> load_app_manifest(const std::string& path);
Expected<AppManifest> parse_app_manifest(std::string_view text, const std::string& source);

}  // namespace locara
