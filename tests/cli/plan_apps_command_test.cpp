// `locara plan` and `locara apps validate` as a user meets them: the breakdown against the
// budget, and OK or every manifest problem with its line, with the right exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

const std::string kLocara = std::string(LOCARA_BINARY_DIR) + "/locara";
const std::string kModel = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Output run(const std::string& args) {
  const std::string err_path = "/tmp/locara-plan-cli-test-" + std::to_string(getpid()) + ".err";
  const std::string command = kLocara + " " + args + " 2>" + err_path;
  Output result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  std::stringstream text;
  text << err.rdbuf();
  result.err = text.str();
  std::remove(err_path.c_str());
  return result;
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("locara-" + name + "-" + std::to_string(getpid()) + ".toml"))
                               .string();
  std::ofstream(path) << text;
  return path;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(PlanCommand, PrintsTheBreakdownAndTheBudget) {
  const Output o = run("plan " + kModel + " -c 1024 --kv f32 --parallel 2 -t 1");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "plan: context 1024, KV f32, 2 sequences")) << o.out;
  // 2 x 5 layers x 1024 positions x 4 heads x 8 values x 4 bytes x 2 sequences = 2.5 MiB.
  EXPECT_TRUE(contains(o.out, "KV cache                 2.50 MiB")) << o.out;
  for (const char* line : {"weights", "scratch", "metadata+tokenizer", "overhead", "total",
                           "budget:", "fits: yes", "largest context that fits: 128"}) {
    EXPECT_TRUE(contains(o.out, line)) << line << "\n" << o.out;
  }
}

TEST(PlanCommand, DefaultKvFallsBackWhenHeadsDoNotFitQ8Blocks) {
  const Output o = run("plan " + kModel);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "KV f16")) << o.out;  // stories260K's heads have 8 values
  const Output q8 = run("plan " + kModel + " --kv q8_0");
  EXPECT_EQ(q8.exit_code, 1);
  EXPECT_TRUE(contains(q8.err, "use f16")) << q8.err;
}

TEST(PlanCommand, ChargesADraftModel) {
  const Output o = run("plan " + kModel + " --draft " + kModel + " -c 128");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "speculative")) << o.out;
  EXPECT_TRUE(contains(o.out, "draft " + kModel)) << o.out;
}

TEST(PlanCommand, MissingModelIsAnError) {
  const Output o = run("plan /nonexistent/model.gguf");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_TRUE(contains(o.err, "/nonexistent/model.gguf")) << o.err;
}

TEST(AppsValidate, PrintsOkForAValidManifest) {
  const std::string path =
      write_temp("valid",
                 "[app]\nid = \"notes\"\n[requires]\nmemory_gb = 2\n[[models]]\nname = \"chat\"\n"
                 "path = \"chat.gguf\"\n");
  const Output o = run("apps validate " + path);
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "OK: app 'notes'")) << o.out;
  std::filesystem::remove(path);
}

TEST(AppsValidate, PrintsEveryProblemWithItsLine) {
  const std::string path = write_temp(
      "invalid", "[app]\nid = \"notes\"\nthreads = 4\n[requires]\nmemory_gb = \"lots\"\n");
  const Output o = run("apps validate " + path);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_TRUE(contains(o.err, path + ":3: key 'app.threads'")) << o.err;
  EXPECT_TRUE(contains(o.err, path + ":5: key 'requires.memory_gb'")) << o.err;
  EXPECT_TRUE(contains(o.err, "2 problems")) << o.err;
  std::filesystem::remove(path);
}

}  // namespace
