#include "cli/models_command.h"

#include <fmt/format.h>

#include <memory>
#include <string>

#include "runtime/app_budget.h"
#include "runtime/model_store.h"

namespace locara::cli {
namespace {

struct ModelsFlags {
  std::string models_dir;
  std::string file;
  std::string name;
  bool copy = false;
};

int list_models(const ModelStore& store) {
  std::vector<std::string> problems;
  const std::vector<StoredModel> models = store.list(&problems);
  constexpr const char* kRow = "{:<32} {:>11} {:<12} {:<8} {:>8}\n";
  fmt::print(kRow, "NAME", "SIZE", "ARCH", "QUANT", "CONTEXT");
  for (const StoredModel& m : models) {
    fmt::print(kRow, m.name, format_bytes(m.file_bytes), m.architecture, m.quant_type,
               m.context_length);
  }
  if (models.empty()) fmt::print(stderr, "no models in {}\n", store.dir());
  for (const std::string& problem : problems) fmt::print(stderr, "skipped: {}\n", problem);
  return 0;
}

int add_model(const ModelStore& store, const ModelsFlags& f) {
  auto added = store.add(f.file, f.name, f.copy ? StoreAddMode::kCopy : StoreAddMode::kLink);
  if (!added) {
    fmt::print(stderr, "locara: error: {}\n", added.error().message);
    return 1;
  }
  fmt::print("{} {} as '{}' ({}, {}, {}, context {})\n", f.copy ? "copied" : "linked", f.file,
             added->name, format_bytes(added->file_bytes), added->architecture, added->quant_type,
             added->context_length);
  return 0;
}

}  // namespace

Command add_models_command(CLI::App& app) {
  auto flags = std::make_shared<ModelsFlags>();
  ModelsFlags& f = *flags;
  CLI::App* models = app.add_subcommand("models", "List the local model store, or add to it");
  models->add_option("--models-dir", f.models_dir, "The store (default ~/.locara/models)");
  models->require_subcommand(0, 1);
  CLI::App* add = models->add_subcommand("add", "Link (or copy) a GGUF file into the store");
  add->add_option("file", f.file, "A GGUF model file")->required()->check(CLI::ExistingFile);
  add->add_option("--name", f.name, "The name to address it by (default: the file's stem)");
  add->add_flag("--copy", f.copy, "Copy the file instead of linking it");
  add->add_option("--models-dir", f.models_dir, "The store (default ~/.locara/models)");
  return {models, [flags, add] {
            const ModelStore store(flags->models_dir.empty() ? ModelStore::default_dir()
                                                             : flags->models_dir);
            return add->parsed() ? add_model(store, *flags) : list_models(store);
          }};
}

}  // namespace locara::cli
