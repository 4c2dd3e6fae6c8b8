// The `locara run` command as a user meets it: streamed text equal to llama.cpp's greedy
// golden, statistics on stderr, and clear errors with a non-zero exit code.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

const std::string kLocara = std::string(LOCARA_BINARY_DIR) + "/locara";
const std::string kModel = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the command line through the shell, capturing stdout and stderr.
Output run(const std::string& args) {
  const std::string err_path = "/tmp/locara-cli-test-" + std::to_string(getpid()) + ".err";
  const std::string command = "bash -c \"" + kLocara + " " + args + " 2>" + err_path + "\"";
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

TEST(RunCommand, GreedyOutputEqualsLlamaCppGolden) {
  std::ifstream in(std::string(LOCARA_SHARED_DIR) + "/golden/stories260K-greedy.json");
  const auto golden = nlohmann::json::parse(in);
  const auto& first = golden["cases"][0];
  const Output o = run("run " + kModel + " '" + first["prompt"].get<std::string>() +
                       "' -n 128 --temp 0 --repeat-penalty 1 --ignore-eos -c 512");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  // The completion is streamed, then one newline ends the output.
  EXPECT_EQ(o.out, first["completion_text"].get<std::string>() + "\n");
  EXPECT_NE(o.err.find("prompt: 5 tokens"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("generation: 128 tokens"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("load:"), std::string::npos);
}

TEST(RunCommand, SameSeedSameText) {
  const Output a = run("run " + kModel + " 'Once upon a time' -n 40 --seed 11 --temp 1");
  const Output b = run("run " + kModel + " 'Once upon a time' -n 40 --seed 11 --temp 1");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_FALSE(a.out.empty());
}

TEST(RunCommand, PromptFromStandardInput) {
  // The shell's trailing newline is not part of the prompt.
  const Output o = run("run " + kModel + " -n 16 --temp 0 < <(echo 'Once upon a time')");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out.rfind(", there was a little girl named Lily.", 0), 0u) << o.out;
  EXPECT_NE(o.err.find("prompt: 5 tokens"), std::string::npos) << o.err;
}

TEST(RunCommand, VerboseReportsAnonymousAndFileBackedMemory) {
  const Output o = run("run " + kModel + " 'Once upon a time' -n 8 --temp 0 --verbose");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.err.find("memory: anonymous"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("file-backed"), std::string::npos);
  EXPECT_NE(o.err.find("KV cache"), std::string::npos);
}

TEST(RunCommand, PromptLongerThanContextIsAnError) {
  std::string long_prompt;
  for (int i = 0; i < 200; ++i) long_prompt += "word ";
  const Output o = run("run " + kModel + " '" + long_prompt + "'");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("the prompt has"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("context holds 128"), std::string::npos) << o.err;
  EXPECT_TRUE(o.out.empty());
}

TEST(RunCommand, MissingAndCorruptModelsAreErrors) {
  const Output missing = run("run /nonexistent/model.gguf hi");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/model.gguf"), std::string::npos) << missing.err;

  const std::string truncated = "/tmp/locara-cli-test-" + std::to_string(getpid()) + ".gguf";
  {
    std::ifstream src(kModel, std::ios::binary);
    std::string bytes(4096, '\0');
    src.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::ofstream(truncated, std::ios::binary).write(bytes.data(), 4096);
  }
  const Output corrupt = run("run " + truncated + " hi");
  EXPECT_EQ(corrupt.exit_code, 1);
  EXPECT_NE(corrupt.err.find("locara: error:"), std::string::npos) << corrupt.err;
  std::remove(truncated.c_str());
}

TEST(RunCommand, InvalidSamplingIsAnError) {
  const Output o = run("run " + kModel + " hi --temp -1");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("temperature"), std::string::npos) << o.err;
}

TEST(RunCommand, HelpListsEveryOption) {
  const Output o = run("run --help");
  EXPECT_EQ(o.exit_code, 0);
  for (const char* flag :
       {"--max-tokens", "--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty", "--seed",
        "--ctx-size", "--threads", "--ignore-eos", "--verbose"}) {
    EXPECT_NE(o.out.find(flag), std::string::npos) << flag;
  }
  const Output top = run("--help");
  EXPECT_NE(top.out.find("run"), std::string::npos);
}

}  // namespace
