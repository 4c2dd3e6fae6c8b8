// App manifests: valid examples parse into what they say; every rejection names the key and
// its line, and settings the runtime owns get a message saying so.
#include "runtime/app_manifest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace locara {
namespace {

constexpr const char* kFull = R"(# A notes app with a draft model
[app]
id = "com.example.notes"
name = "Notes"
keep_loaded = true

[requires]
memory_gb = 2.5

[[models]]
name = "chat"
path = "models/chat.gguf"
role = "chat"
context = 4096

[[models]]
name = "small"
ref = "stories:260k"
role = "draft"

[[models]]
name = "embedder"
ref = "minilm"
role = "embed"

[kv]
quality = "high"

[speculative]
target = "chat"
draft = "small"
)";

ManifestParseResult parse(const std::string& text) {
  return parse_app_manifest_text(text, "locara.toml");
}

// The manifest must be rejected with exactly one issue, about `key` at `line`, whose
// message names both and contains `fragment`.
void expect_single_issue(const std::string& text, const std::string& key, int64_t line,
                         const std::string& fragment) {
  const ManifestParseResult result = parse(text);
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.issues.size(), 1u)
      << (result.issues.empty() ? "" : result.issues[0].message)
      << (result.issues.size() > 1 ? "\n" + result.issues[1].message : "");
  const ManifestIssue& issue = result.issues[0];
  EXPECT_EQ(issue.key, key) << issue.message;
  EXPECT_EQ(issue.line, line) << issue.message;
  EXPECT_NE(issue.message.find("'" + key + "'"), std::string::npos) << issue.message;
  EXPECT_NE(issue.message.find("locara.toml:" + std::to_string(line) + ":"), std::string::npos)
      << issue.message;
  EXPECT_NE(issue.message.find(fragment), std::string::npos) << issue.message;
}

const std::string kHead = "[app]\nid = \"a\"\n[requires]\nmemory_gb = 1\n";  // lines 1-4

TEST(AppManifest, ParsesAFullManifest) {
  const ManifestParseResult result = parse(kFull);
  ASSERT_TRUE(result.ok()) << result.issues.front().message;
  const AppManifest& m = *result.manifest;
  EXPECT_EQ(m.id, "com.example.notes");
  EXPECT_EQ(m.name, "Notes");
  EXPECT_TRUE(m.keep_loaded);
  EXPECT_DOUBLE_EQ(m.memory_gb, 2.5);
  EXPECT_EQ(m.memory_bytes(), 5ull << 29);
  ASSERT_EQ(m.models.size(), 3u);
  EXPECT_EQ(m.models[0].name, "chat");
  EXPECT_EQ(m.models[0].path, "models/chat.gguf");
  EXPECT_EQ(m.models[0].role, ModelRole::kChat);
  EXPECT_EQ(m.models[0].context, 4096);
  EXPECT_EQ(m.models[0].line, 10);
  EXPECT_EQ(m.models[1].ref, "stories:260k");
  EXPECT_EQ(m.models[1].role, ModelRole::kDraft);
  EXPECT_EQ(m.models[2].role, ModelRole::kEmbed);
  EXPECT_EQ(m.kv_quality, KvQuality::kHigh);
  EXPECT_EQ(m.kv_type(), KvType::kF16);
  ASSERT_TRUE(m.speculative.has_value());
  EXPECT_EQ(m.speculative->target, "chat");
  EXPECT_EQ(m.speculative->draft, "small");
  EXPECT_EQ(m.find_model("small"), &m.models[1]);
}

TEST(AppManifest, MinimalManifestTakesTheDefaults) {
  const ManifestParseResult result = parse(kHead);
  ASSERT_TRUE(result.ok()) << result.issues.front().message;
  const AppManifest& m = *result.manifest;
  EXPECT_EQ(m.name, "a");  // defaults to the id
  EXPECT_FALSE(m.keep_loaded);
  EXPECT_TRUE(m.models.empty());
  EXPECT_EQ(m.kv_quality, KvQuality::kStandard);
  EXPECT_EQ(m.kv_type(), KvType::kQ8_0);
  EXPECT_FALSE(m.speculative.has_value());
  // A model's role defaults to chat.
  auto with_model = parse(kHead + "[[models]]\nname = \"m\"\npath = \"m.gguf\"\n");
  ASSERT_TRUE(with_model.ok());
  EXPECT_EQ(with_model.manifest->models[0].role, ModelRole::kChat);
}

TEST(AppManifest, RejectsUnknownKeysAnywhere) {
  expect_single_issue("colour = \"blue\"\n" + kHead, "colour", 1, "unknown key");
  expect_single_issue("[app]\nid = \"a\"\nicon = \"x.png\"\n[requires]\nmemory_gb = 1\n",
                      "app.icon", 3, "unknown key");
  expect_single_issue(kHead + "[[models]]\nname = \"m\"\npath = \"m.gguf\"\nquant = \"q4\"\n",
                      "models[0].quant", 8, "unknown key");
  expect_single_issue(kHead + "[kv]\ncompress = true\n", "kv.compress", 6, "unknown key");
  expect_single_issue("keep_loaded = true\n" + kHead, "keep_loaded", 1, "belongs in [app]");
}

TEST(AppManifest, RejectsWrongTypes) {
  expect_single_issue("[app]\nid = 7\n[requires]\nmemory_gb = 1\n", "app.id", 2,
                      "expected a string, got an integer");
  expect_single_issue("[app]\nid = \"a\"\n[requires]\nmemory_gb = \"two\"\n", "requires.memory_gb",
                      4, "expected a number");
  expect_single_issue("[app]\nid = \"a\"\nkeep_loaded = \"yes\"\n[requires]\nmemory_gb = 1\n",
                      "app.keep_loaded", 3, "expected a boolean");
  expect_single_issue(kHead + "[[models]]\nname = \"m\"\npath = \"m.gguf\"\ncontext = 4.5\n",
                      "models[0].context", 8, "expected an integer");
  expect_single_issue(kHead + "[models]\nname = \"m\"\n", "models", 5, "array of tables");
  expect_single_issue(kHead + "[[models]]\nname = \"m\"\npath = \"m.gguf\"\nrole = \"judge\"\n",
                      "models[0].role", 8, "unknown role 'judge'");
  expect_single_issue("[app]\nid = \"a\"\n[requires]\nmemory_gb = -1\n", "requires.memory_gb", 4,
                      "above 0");
}

TEST(AppManifest, RejectsMissingRequiredKeys) {
  expect_single_issue("[app]\nname = \"x\"\n[requires]\nmemory_gb = 1\n", "app.id", 1,
                      "required key is missing");
  expect_single_issue("[app]\nid = \"a\"\n\n[requires]\n", "requires.memory_gb", 4,
                      "required key is missing");
  expect_single_issue("[app]\nid = \"a\"\n", "requires.memory_gb", 1, "no [requires] table");
  expect_single_issue(kHead + "[[models]]\nname = \"m\"\n", "models[0].path", 5,
                      "path = \"file.gguf\" or ref");
}

TEST(AppManifest, RejectsUnpairedDrafts) {
  // A draft model with no [speculative] target.
  expect_single_issue(kHead + "[[models]]\nname = \"d\"\npath = \"d.gguf\"\nrole = \"draft\"\n",
                      "models[0].role", 8, "no [speculative] target");
  // speculative.draft naming a model that is not declared.
  expect_single_issue(kHead +
                          "[[models]]\nname = \"c\"\npath = \"c.gguf\"\n"
                          "[speculative]\ntarget = \"c\"\ndraft = \"ghost\"\n",
                      "speculative.draft", 10, "names no declared model 'ghost'");
  // A target that is not a chat model.
  const auto wrong_target = parse(kHead +
                                  "[[models]]\nname = \"d\"\npath = \"d.gguf\"\nrole = \"draft\"\n"
                                  "[speculative]\ntarget = \"d\"\ndraft = \"d\"\n");
  ASSERT_FALSE(wrong_target.ok());
  EXPECT_EQ(wrong_target.issues[0].key, "speculative.target");
  EXPECT_EQ(wrong_target.issues[0].line, 10);
}

TEST(AppManifest, RuntimeOwnedSettingsGetASpecificMessage) {
  expect_single_issue("mlock = true\n" + kHead, "mlock", 1, "never locks weights");
  expect_single_issue(kHead + "[[models]]\nname = \"m\"\npath = \"m.gguf\"\nno_mmap = true\n",
                      "models[0].no_mmap", 8, "always memory-maps");
  expect_single_issue("[app]\nid = \"a\"\nthreads = 8\n[requires]\nmemory_gb = 1\n", "app.threads",
                      3, "CPU topology");
  expect_single_issue("n_threads = 4\n" + kHead, "n_threads", 1, "thread count");
  expect_single_issue(kHead + "[[models]]\nname = \"m\"\npath = \"m.gguf\"\nthread_count = 2\n",
                      "models[0].thread_count", 8, "thread count");
  expect_single_issue(kHead + "[kv]\ntype = \"q4_0\"\n", "kv.type", 6, "quality = \"high\"");
  expect_single_issue("kv.type = \"f16\"\n" + kHead, "kv.type", 1, "owns the KV cache type");
  expect_single_issue(
      kHead + "[[models]]\nname = \"m\"\npath = \"m.gguf\"\ncache_type_k = \"q8_0\"\n",
      "models[0].cache_type_k", 8, "owns the KV cache type");
}

TEST(AppManifest, ReportsEveryProblemInLineOrder) {
  const auto result = parse("[app]\nthreads = 2\nmlock = true\n[requires]\nmemory_gb = 0\n");
  ASSERT_EQ(result.issues.size(), 4u);
  EXPECT_EQ(result.issues[0].key, "app.id");  // missing: reported at the [app] header
  EXPECT_EQ(result.issues[1].key, "app.threads");
  EXPECT_EQ(result.issues[2].key, "app.mlock");
  EXPECT_EQ(result.issues[3].key, "requires.memory_gb");
  EXPECT_EQ(result.issues[3].line, 5);
}

TEST(AppManifest, MalformedTomlGivesLineAndColumn) {
  const auto result = parse("[app]\nid = \"a\"\nname = \"unterminated\n[requires]\n");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(result.issues[0].line, 3);
  EXPECT_GT(result.issues[0].column, 0);
  EXPECT_NE(result.issues[0].message.find("locara.toml:3:"), std::string::npos)
      << result.issues[0].message;
  EXPECT_NE(result.issues[0].message.find("malformed TOML"), std::string::npos);
  const auto duplicate = parse("[app]\nid = \"a\"\nid = \"b\"\n");
  ASSERT_EQ(duplicate.issues.size(), 1u);
  EXPECT_EQ(duplicate.issues[0].line, 3);
}

TEST(AppManifest, ExpectedFormListsTheIssues) {
  auto bad = parse_app_manifest("[app]\nthreads = 2\n", "x.toml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("x.toml:2: key 'app.threads'"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find('\n'), std::string::npos);  // several issues, one a line
}

TEST(AppManifest, LoadsFromAFile) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("locara-manifest-test-" + std::to_string(getpid()) + ".toml"))
                               .string();
  {
    std::ofstream out(path);
    out << kFull;
  }
  auto manifest = load_app_manifest(path);
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->source, path);
  std::filesystem::remove(path);
  auto missing = load_app_manifest(path);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find(path), std::string::npos);
}

}  // namespace
}  // namespace locara
