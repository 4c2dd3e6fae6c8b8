#include "runtime/model_store.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "gguf/gguf_reader.h"

namespace locara {
namespace fs = std::filesystem;
namespace {

int64_t unix_seconds(fs::file_time_type time) {
  const auto system = std::chrono::file_clock::to_sys(time);
  return std::chrono::duration_cast<std::chrono::seconds>(system.time_since_epoch()).count();
}

std::string_view strip_latest_tag(std::string_view name) {
  constexpr std::string_view kLatest = ":latest";
  if (name.size() > kLatest.size() && name.ends_with(kLatest)) {
    name.remove_suffix(kLatest.size());
  }
  return name;
}

// The tensor type holding most bytes: what users call the model's quantization.
std::string dominant_tensor_type(const GgufReader& gguf) {
  std::map<TensorType, uint64_t> bytes;
  for (const GgufTensor& tensor : gguf.tensors()) bytes[tensor.type] += tensor.n_bytes;
  auto best = std::max_element(bytes.begin(), bytes.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  return best == bytes.end() ? "" : std::string(tensor_type_name(best->first));
}

// The text of the token whose id `id_key` holds ("" when either is missing).
std::string token_text(const GgufReader& gguf, const std::string& id_key) {
  auto id = gguf.get_int(id_key);
  const GgufArray* tokens = gguf.get_array("tokenizer.ggml.tokens");
  if (!id || tokens == nullptr || *id < 0 || static_cast<size_t>(*id) >= tokens->elements.size()) {
    return "";
  }
  const std::string* text = tokens->elements[static_cast<size_t>(*id)].as_string();
  return text != nullptr ? *text : "";
}

}  // namespace

std::string ModelStore::default_dir() {
  if (const char* dir = std::getenv("LOCARA_MODELS"); dir != nullptr && *dir != '\0') return dir;
  const char* home = std::getenv("HOME");
  return (fs::path(home != nullptr ? home : ".") / ".locara" / "models").string();
}

Status ModelStore::validate_name(std::string_view name) {
  if (name.empty() || name.size() > 200 || name.front() == '.') {
    return make_error(ErrorCode::kInvalidArgument,
                      "model name '{}' must be 1-200 characters and not start with '.'", name);
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return make_error(ErrorCode::kInvalidArgument,
                        "model name '{}' has '{}': use letters, digits, '.', '_' and '-'", name, c);
    }
  }
  return ok_status();
}

Expected<StoredModel> ModelStore::inspect(const std::string& path, std::string name) const {
  std::error_code error;
  const uint64_t size = fs::file_size(path, error);
  if (error) {
    return make_error(ErrorCode::kIoError, "{}: {}", path, error.message());
  }
  const int64_t modified = unix_seconds(fs::last_write_time(path, error));
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(path);
    if (it != cache_.end() && it->second.size == size && it->second.modified == modified) {
      StoredModel model = it->second.model;
      model.name = std::move(name);
      return model;
    }
  }
  LOCARA_ASSIGN_OR_RETURN(auto gguf, GgufReader::open(path));
  StoredModel model;
  model.name = std::move(name);
  model.path = path;
  model.file_bytes = size;
  model.modified_unix = modified;
  model.architecture = gguf->get_string("general.architecture").has_value()
                           ? *gguf->get_string("general.architecture")
                           : std::string("unknown");
  if (auto ctx = gguf->get_int(model.architecture + ".context_length")) model.context_length = *ctx;
  model.quant_type = dominant_tensor_type(*gguf);
  for (const GgufTensor& tensor : gguf->tensors()) model.parameter_count += tensor.n_elements();
  if (auto chat_template = gguf->get_string("tokenizer.chat_template")) {
    model.chat_template = *chat_template;
  }
  model.bos_token = token_text(*gguf, "tokenizer.ggml.bos_token_id");
  model.eos_token = token_text(*gguf, "tokenizer.ggml.eos_token_id");
  if (auto adds_bos = gguf->get_bool("tokenizer.ggml.add_bos_token")) model.adds_bos = *adds_bos;
  std::lock_guard lock(mutex_);
  cache_[path] = CacheEntry{size, modified, model};
  return model;
}

std::vector<StoredModel> ModelStore::list(std::vector<std::string>* problems) const {
  std::vector<StoredModel> models;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, error)) {
    const fs::path& path = entry.path();
    if (path.extension() != ".gguf" || path.filename().string().front() == '.') continue;
    auto model = inspect(path.string(), path.stem().string());
    if (model) {
      models.push_back(std::move(*model));
    } else if (problems != nullptr) {
      problems->push_back(model.error().message);
    }
  }
  std::sort(models.begin(), models.end(),
            [](const StoredModel& a, const StoredModel& b) { return a.name < b.name; });
  return models;
}

Expected<StoredModel> ModelStore::find(std::string_view name) const {
  const std::string_view stem = strip_latest_tag(name);
  if (!validate_name(stem)) {
    return make_error(ErrorCode::kNotFound, "model '{}' not found (not a valid model name)", name);
  }
  const fs::path path = fs::path(dir_) / (std::string(stem) + ".gguf");
  std::error_code error;
  if (!fs::exists(path, error)) {
    return make_error(ErrorCode::kNotFound, "model '{}' not found in the model store {}", name,
                      dir_);
  }
  return inspect(path.string(), std::string(stem));
}

Expected<StoredModel> ModelStore::add(const std::string& file, std::string name,
                                      StoreAddMode mode) const {
  if (name.empty()) name = fs::path(file).stem().string();
  LOCARA_RETURN_IF_ERROR(validate_name(name));
  LOCARA_ASSIGN_OR_RETURN(auto gguf, GgufReader::open(file));  // refuse what cannot load
  gguf.reset();
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) return make_error(ErrorCode::kIoError, "cannot create {}: {}", dir_, error.message());
  const fs::path target = fs::path(dir_) / (name + ".gguf");
  if (fs::exists(fs::symlink_status(target, error))) {
    return make_error(ErrorCode::kInvalidArgument, "model '{}' already exists in {}", name, dir_);
  }
  const fs::path source = fs::absolute(file, error);
  const fs::path partial = fs::path(dir_) / ("." + name + ".gguf.partial");
  if (mode == StoreAddMode::kLink) {
    fs::create_symlink(source, partial, error);
  } else {
    fs::copy_file(source, partial, fs::copy_options::overwrite_existing, error);
  }
  if (!error) fs::rename(partial, target, error);
  if (error) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    return make_error(ErrorCode::kIoError, "cannot {} {} into {}: {}",
                      mode == StoreAddMode::kLink ? "link" : "copy", file, dir_, error.message());
  }
  return inspect(target.string(), name);
}

}  // namespace locara
