// `locara compare-logits` as a script meets it: the table and JSON, prompts from the golden
// file, exit code 2 when a --min-top1/--max-kl bound is missed, errors naming the file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

const std::string kLocara = std::string(LOCARA_BINARY_DIR) + "/locara";
const std::string kStories = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";
const std::string kGolden = std::string(LOCARA_SHARED_DIR) + "/golden/stories260K-greedy.json";

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Output run(const std::string& args) {
  const std::string err_path = "/tmp/locara-compare-test-" + std::to_string(getpid()) + ".err";
  const std::string command = kLocara + " " + args + " 2>" + err_path;
  Output result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.out.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  std::stringstream text;
  text << err.rdbuf();
  result.err = text.str();
  std::remove(err_path.c_str());
  return result;
}

TEST(CompareCommand, AModelAgainstItselfAgreesEverywhere) {
  const Output r = run("compare-logits " + kStories + " " + kStories + " --prompts " + kGolden +
                       " -n 8 -t 1 -o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  ASSERT_EQ(json["sequences"].size(), 5u);
  // Each prompt's positions plus its 8 continuation tokens: 5+13+13+28+95 + 5*8.
  EXPECT_EQ(json["total"]["positions"], 194);
  EXPECT_EQ(json["total"]["top1_agreement"], 1.0);
  EXPECT_EQ(json["total"]["mean_kl"], 0.0);
  EXPECT_EQ(json["sequences"][4]["prompt_tokens"], 95);
}

TEST(CompareCommand, TextPromptsAndATable) {
  const Output r = run("compare-logits " + kStories + " " + kStories +
                       " -p 'Once upon a time' -p 'The dog' -n 4 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 prompts"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("top-1 %"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100.00"), std::string::npos) << r.out;
}

TEST(CompareCommand, AMissedBoundExitsWithTwo) {
  const std::string impostor = "/tmp/locara-compare-test-" + std::to_string(getpid()) + ".gguf";
  ASSERT_EQ(run("synth --shape 64,5,8,4,172 --vocab 512 --seed 7 -t 1 -o " + impostor).exit_code,
            0);
  const Output r = run("compare-logits " + kStories + " " + impostor + " -n 8 -t 1 --min-top1 95");
  std::filesystem::remove(impostor);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("below 95.00%"), std::string::npos) << r.err;
}

TEST(CompareCommand, ErrorsNameTheFile) {
  Output r = run("compare-logits " + kStories + " /nonexistent/other.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/other.gguf"), std::string::npos) << r.err;

  const std::string bad = "/tmp/locara-compare-test-" + std::to_string(getpid()) + ".json";
  std::ofstream(bad) << "{\"cases\": [{\"text\": 1}]}";
  r = run("compare-logits " + kStories + " " + kStories + " --prompts " + bad);
  std::filesystem::remove(bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cases[0]"), std::string::npos) << r.err;
}

}  // namespace
