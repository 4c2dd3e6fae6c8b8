// The local model store: a folder of GGUF files (default ~/.locara/models) where a model
// is addressed by its file stem; what each holds (architecture, quant type, context).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace locara {

// One model file as the store describes it, read from its GGUF header.
struct StoredModel {
  std::string name;  // the file stem: how every API addresses it
  std::string path;  // inside the store (a link or a copy)
  uint64_t file_bytes = 0;
  int64_t modified_unix = 0;   // the file's modification time, seconds since 1970
  std::string architecture;    // general.architecture
  std::string quant_type;      // the tensor type holding most of the weights ("q8_0", "f32")
  int64_t context_length = 0;  // <architecture>.context_length (0 if absent)
  int64_t parameter_count = 0;
  std::string chat_template;  // tokenizer.chat_template ("" if absent)
  std::string bos_token;      // the texts of the BOS and EOS tokens ("" if absent)
  std::string eos_token;
  bool adds_bos = true;  // tokenizer.ggml.add_bos_token: tokenizing a prompt adds BOS
};

enum class StoreAddMode { kLink, kCopy };

// Thread-safe. Reads headers again only when a file's size or time changed.
class ModelStore {
 public:
  explicit ModelStore(std::string dir) : dir_(std::move(dir)) {}

  // $LOCARA_MODELS, else ~/.locara/models.
  static std::string default_dir();
  const std::string& dir() const { return dir_; }

  // Every *.gguf in the folder, by name; a file that does not parse is skipped and
  // reported in `problems` (when given) naming the file and the error.
  std::vector<StoredModel> list(std::vector<std::string>* problems = nullptr) const;
  // kNotFound naming the model and the folder. "name:latest" finds "name".
  Expected<StoredModel> find(std::string_view name) const;
  // Validates `file` as GGUF and links (symlink) or copies it in as `name` (default: its
  // stem). A copy is written beside its final name and renamed into place, so an
  // interrupted copy never leaves a half-written model. Refuses an existing name.
  Expected<StoredModel> add(const std::string& file, std::string name, StoreAddMode mode) const;

  // Names are letters, digits, '.', '_' and '-' (no path separators).
  static Status validate_name(std::string_view name);

 private:
  Expected<StoredModel> inspect(const std::string& path, std::string name) const;

  std::string dir_;
  struct CacheEntry {
    uint64_t size = 0;
    int64_t modified = 0;
    StoredModel model;
  };
  mutable std::mutex mutex_;
  mutable std::map<std::string, CacheEntry> cache_;  // by path
};

}  // namespace locara
