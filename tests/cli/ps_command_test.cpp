// `locara ps` as a user meets it: the runtime's listing of the models loaded in-process
// (no daemon yet), with the columns the design names, and clear errors.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
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

Output run_locara(const std::string& args) {
  const std::string err_path = "/tmp/locara-ps-test-" + std::to_string(getpid()) + ".err";
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

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(PsCommand, ListsAModelLoadedInProcessWithEveryColumn) {
  const Output o = run_locara("ps --load " + kModel + " --pin -c 256 -v");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto rows = lines(o.out);
  ASSERT_EQ(rows.size(), 2u) << o.out;
  for (const char* column : {"MODEL", "SIZE", "CONTEXT", "KV", "PINNED", "IDLE", "APPS"}) {
    EXPECT_NE(rows[0].find(column), std::string::npos) << column << " in " << rows[0];
  }
  std::istringstream row(rows[1]);
  std::string model, size, unit, context, kv, pinned, idle, apps;
  row >> model >> size >> unit >> context >> kv >> pinned >> idle >> apps;
  EXPECT_EQ(model, "stories260K");
  EXPECT_EQ(unit, "MiB");
  EXPECT_EQ(context, "256");
  EXPECT_EQ(kv, "f16");
  EXPECT_EQ(pinned, "cli");
  EXPECT_EQ(idle, "0s");
  EXPECT_EQ(apps, "cli");
  // --verbose: the budget, and the decision that loaded it.
  EXPECT_NE(o.err.find("runtime: budget"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("decision: load stories260K"), std::string::npos) << o.err;
}

TEST(PsCommand, WithNothingLoadedPrintsTheHeaderAndSaysWhy) {
  const Output o = run_locara("ps");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(lines(o.out).size(), 1u) << o.out;
  EXPECT_NE(o.err.find("no daemon yet"), std::string::npos) << o.err;
}

TEST(PsCommand, AMissingModelFailsNamingTheFile) {
  const Output o = run_locara("ps --load /nonexistent/missing-model.gguf");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("missing-model.gguf"), std::string::npos) << o.err;
}

}  // namespace
