// The model store: listing GGUF files with their facts, finding by name, adding by link
// or copy, and refusing what it cannot hold.
#include "runtime/model_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace locara {
namespace {

namespace fs = std::filesystem;
const std::string kModelPath = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";

class ModelStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/locara-store-test-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ModelStoreTest, AddsByLinkAndByCopyAndListsFacts) {
  ModelStore store(dir_ + "/models");  // created on first add
  EXPECT_TRUE(store.list().empty());
  auto linked = store.add(kModelPath, "", StoreAddMode::kLink);
  ASSERT_TRUE(linked) << linked.error().message;
  EXPECT_EQ(linked->name, "stories260K");
  EXPECT_TRUE(fs::is_symlink(linked->path));
  auto copied = store.add(kModelPath, "copy-1", StoreAddMode::kCopy);
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_FALSE(fs::is_symlink(copied->path));
  const auto models = store.list();
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[0].name, "copy-1");
  EXPECT_EQ(models[1].architecture, "llama");
  EXPECT_EQ(models[1].quant_type, "f32");
  EXPECT_EQ(models[1].context_length, 128);
  EXPECT_EQ(models[1].file_bytes, fs::file_size(kModelPath));
  EXPECT_GT(models[1].parameter_count, 200000);
  // Nothing half-written is left beside them.
  for (const auto& entry : fs::directory_iterator(dir_ + "/models")) {
    EXPECT_EQ(entry.path().extension(), ".gguf") << entry.path();
  }
}

TEST_F(ModelStoreTest, FindsByNameWithOrWithoutLatestTag) {
  ModelStore store(dir_);
  ASSERT_TRUE(store.add(kModelPath, "m", StoreAddMode::kLink));
  EXPECT_TRUE(store.find("m"));
  EXPECT_TRUE(store.find("m:latest"));
  auto missing = store.find("other");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find(dir_), std::string::npos);
  EXPECT_FALSE(store.find("../etc/passwd"));
}

TEST_F(ModelStoreTest, RefusesBadNamesDuplicatesAndNonGguf) {
  ModelStore store(dir_);
  EXPECT_FALSE(store.add(kModelPath, "a/b", StoreAddMode::kLink));
  EXPECT_FALSE(store.add(kModelPath, ".hidden", StoreAddMode::kLink));
  ASSERT_TRUE(store.add(kModelPath, "one", StoreAddMode::kLink));
  auto duplicate = store.add(kModelPath, "one", StoreAddMode::kCopy);
  ASSERT_FALSE(duplicate);
  EXPECT_NE(duplicate.error().message.find("already exists"), std::string::npos);
  const std::string junk = dir_ + "/junk.bin";
  std::ofstream(junk) << "not a gguf";
  EXPECT_FALSE(store.add(junk, "junk", StoreAddMode::kCopy));
  // A broken file in the folder is skipped and reported, not fatal.
  std::ofstream(dir_ + "/broken.gguf") << "nope";
  std::vector<std::string> problems;
  EXPECT_EQ(store.list(&problems).size(), 1u);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("broken.gguf"), std::string::npos);
}

}  // namespace
}  // namespace locara
