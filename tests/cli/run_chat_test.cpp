// `locara run --chat` driven through a pipe: each line is a user turn answered with the
// model's chat template (ChatML for stories260K, which has none), the conversation carried
// from turn to turn, and a clean exit at end of input.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
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

// A chat child with pipes on its standard input and output (stderr to a file), so a test
// can answer at its own pace and interrupt it as a user's Ctrl-C does (SIGINT).
class ChatChild {
 public:
  explicit ChatChild(const std::vector<std::string>& args) {
    err_path_ = "/tmp/locara-chat-child-" + std::to_string(getpid()) + ".err";
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      FILE* err = std::fopen(err_path_.c_str(), "w");
      if (err != nullptr) dup2(fileno(err), STDERR_FILENO);
      close(in[1]);
      close(out[0]);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(kLocara.c_str()));
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(kLocara.c_str(), argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_child_ = in[1];
    from_child_ = out[0];
  }
  ~ChatChild() {
    if (to_child_ >= 0) close(to_child_);
    if (from_child_ >= 0) close(from_child_);
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::remove(err_path_.c_str());
  }

  void type(const std::string& line) {
    ASSERT_EQ(write(to_child_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  }
  void end_input() {
    close(to_child_);
    to_child_ = -1;
  }
  void interrupt() { kill(pid_, SIGINT); }
  // Reads until `bytes` more bytes arrived or the child closed its output (bounded).
  void read_at_least(size_t bytes) {
    const size_t target = out_.size() + bytes;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (out_.size() < target && std::chrono::steady_clock::now() < deadline) {
      pollfd p{from_child_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buffer[4096];
      const ssize_t n = read(from_child_, buffer, sizeof(buffer));
      if (n <= 0) return;
      out_.append(buffer, static_cast<size_t>(n));
    }
  }
  // Waits (bounded) until stderr reports `count` answered turns, then takes in all the
  // output written so far, so that what is read next belongs to the next answer.
  void wait_for_turns(size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (turns(err()).size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (pollfd p{from_child_, POLLIN, 0}; poll(&p, 1, 50) > 0; p.revents = 0) {
      char buffer[4096];
      const ssize_t n = read(from_child_, buffer, sizeof(buffer));
      if (n <= 0) return;
      out_.append(buffer, static_cast<size_t>(n));
    }
  }
  int wait_exit() {
    read_at_least(size_t{1} << 30);  // to the end of its output
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string err() const {
    std::ifstream file(err_path_);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string out_;
  std::string err_path_;
};

TEST(RunChat, CtrlCStopsTheAnswerAndTheChatGoesOn) {
  // Unstopped, each answer would run to 3000 tokens.
  ChatChild chat(
      {"run", kModel, "--chat", "-n", "3000", "--ignore-eos", "-c", "8192", "--temp", "0", "-v"});
  chat.type("Hello\n");
  chat.read_at_least(16);
  chat.interrupt();
  // Ctrl-C outside an answer ends the program, as a terminal's would: the next line is
  // typed once the first answer has ended.
  chat.wait_for_turns(1);
  chat.type("Tell me a story.\n");
  chat.read_at_least(16);
  chat.interrupt();
  chat.wait_for_turns(2);
  chat.end_input();
  const int exit_code = chat.wait_exit();
  const std::string err = chat.err();
  EXPECT_EQ(exit_code, 0) << err;
  const auto sizes = turns(err);
  ASSERT_EQ(sizes.size(), 2u) << "both turns answered, the chat went on:\n" << err;
  for (const auto& [prompt, answer] : sizes) {
    EXPECT_GT(answer, 0) << err;
    EXPECT_LT(answer, 3000) << "Ctrl-C stopped the answer:\n" << err;
  }
  EXPECT_GT(sizes[1].first, sizes[0].first + sizes[0].second) << "the cut answer stays in the "
                                                                 "conversation:\n"
                                                              << err;
}

}  // namespace
