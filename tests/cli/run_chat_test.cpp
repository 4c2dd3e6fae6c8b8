// `locara run --chat` driven through a pipe: each line is a user turn answered with the
// model's chat template (ChatML for stories260K, which has none), the conversation carried
// from turn to turn, and a clean exit at end of input.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

namespace {

const std::string kLocara = std::string(LOCARA_BINARY_DIR) + "/locara";
const std::string kModel = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `locara ARGS` with `input` on its standard input (a pipe, not a terminal).
Output run_with_input(const std::string& args, const std::string& input) {
  const std::string base = "/tmp/locara-run-chat-test-" + std::to_string(getpid());
  std::ofstream(base + ".in", std::ios::binary) << input;
  const std::string command = kLocara + " " + args + " < " + base + ".in 2>" + base + ".err";
  Output result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(base + ".err");
  std::stringstream text;
  text << err.rdbuf();
  result.err = text.str();
  std::remove((base + ".in").c_str());
  std::remove((base + ".err").c_str());
  return result;
}

// The prompt sizes of the answers, from --verbose's "prompt: N tokens | answer: M tokens".
std::vector<std::pair<int, int>> turns(const std::string& err) {
  std::vector<std::pair<int, int>> sizes;
  const std::regex line(R"(prompt: (\d+) tokens \| answer: (\d+) tokens)");
  for (auto it = std::sregex_iterator(err.begin(), err.end(), line); it != std::sregex_iterator();
       ++it)
    sizes.emplace_back(std::stoi((*it)[1]), std::stoi((*it)[2]));
  return sizes;
}

TEST(RunChat, TwoTurnsFromAPipeCarryTheConversation) {
  const std::string args = "run " + kModel + " --chat -n 8 --temp 0 -v";
  const Output o = run_with_input(args, "Hello\nTell me a story.\n");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto sizes = turns(o.err);
  ASSERT_EQ(sizes.size(), 2u) << o.err;
  EXPECT_EQ(sizes[0].second, 8);
  // The second prompt holds the first turn, its answer and the new message.
  EXPECT_GT(sizes[1].first, sizes[0].first + sizes[0].second) << o.err;
  // Each answer ends with a newline; greedy answers are reproducible.
  ASSERT_FALSE(o.out.empty());
  EXPECT_EQ(o.out.back(), '\n');
  EXPECT_GE(std::count(o.out.begin(), o.out.end(), '\n'), 2);
  EXPECT_EQ(run_with_input(args, "Hello\nTell me a story.\n").out, o.out);
  // Nothing of the template's own markup leaks into the answers.
  EXPECT_EQ(o.out.find("<|im_end|>"), std::string::npos);
  EXPECT_EQ(o.out.find("> "), std::string::npos);  // no prompt when not on a terminal
}

TEST(RunChat, PromptArgumentAndSystemMessageAreTurns) {
  const std::string args = "run " + kModel + " --chat -n 4 --temp 0 -v";
  const Output plain = run_with_input(args + " Hello", "");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const auto plain_sizes = turns(plain.err);
  ASSERT_EQ(plain_sizes.size(), 1u) << plain.err;

  const Output with_system = run_with_input(args + " --system 'You tell stories.' Hello", "\n");
  ASSERT_EQ(with_system.exit_code, 0) << with_system.err;
  const auto system_sizes = turns(with_system.err);
  ASSERT_EQ(system_sizes.size(), 1u) << with_system.err;  // the empty line is skipped
  EXPECT_GT(system_sizes[0].first, plain_sizes[0].first);
}

TEST(RunChat, EndOfInputAtOnceExitsCleanly) {
  const Output o = run_with_input("run " + kModel + " --chat -n 4", "");
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "");
}

}  // namespace
