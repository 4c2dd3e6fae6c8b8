// `locara ps` as a user meets it: it asks a running daemon (GET /api/ps) and prints its
// loaded models with the columns the design names; with no daemon it says where it looked.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon_support.h"

namespace locara::cli::testing {
namespace {

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Output run_locara(const std::string& args) {
  const std::string err_path = "/tmp/locara-ps-test-" + std::to_string(getpid()) + ".err";
  const std::string command = kLocaraBinary + " " + args + " 2>" + err_path;
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

std::string ps_at(int port) {
  return "ps --host 127.0.0.1 --port " + std::to_string(port);
}

void expect_header(const std::string& header) {
  for (const char* column : {"MODEL", "SIZE", "CONTEXT", "KV", "PINNED", "IDLE", "UNTIL", "APPS"}) {
    EXPECT_NE(header.find(column), std::string::npos) << column << " in " << header;
  }
}

// One printed table row, split at its whitespace (SIZE prints as a number and a unit).
struct PrintedRow {
  std::string model, size, unit, context, kv, pinned, idle, until, apps;
};

PrintedRow printed_row(const std::string& line) {
  PrintedRow r;
  std::istringstream in(line);
  in >> r.model >> r.size >> r.unit >> r.context >> r.kv >> r.pinned >> r.idle >> r.until >> r.apps;
  return r;
}

// The JSON body of a raw HTTP answer.
nlohmann::json body_of(const std::string& answer) {
  const size_t at = answer.find("\r\n\r\n");
  if (at == std::string::npos) return nullptr;
  return nlohmann::json::parse(answer.substr(at + 4), nullptr, false);
}

TEST(PsCommand, ListsTheModelsTheRunningDaemonHolds) {
  TempStore store;
  DaemonProcess daemon(store.dir(), /*parallelism=*/1);
  ASSERT_NE(daemon.port(), 0) << daemon.read_log();

  Output o = run_locara(ps_at(daemon.port()));
  ASSERT_EQ(o.exit_code, 0) << o.err;
  ASSERT_EQ(lines(o.out).size(), 1u) << "nothing is loaded yet:\n" << o.out;
  expect_header(lines(o.out)[0]);

  // An Ollama load request (no prompt) loads the model and keeps it for 5 minutes.
  const std::string loaded = http_request(daemon.port(), "POST", "/api/generate",
                                          R"({"model": "stories260K", "keep_alive": "5m"})");
  ASSERT_NE(loaded.find(" 200 "), std::string::npos) << loaded;
  const nlohmann::json listed = body_of(http_request(daemon.port(), "GET", "/api/ps"));
  ASSERT_EQ(listed["models"].size(), 1u) << listed;

  o = run_locara(ps_at(daemon.port()));
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto rows = lines(o.out);
  ASSERT_EQ(rows.size(), 2u) << o.out;
  expect_header(rows[0]);
  const auto [model, size, unit, context, kv, pinned, idle, until, apps] = printed_row(rows[1]);
  EXPECT_EQ(model, "stories260K");
  // The daemon reports every column: the runtime's KV type (f16: stories260K's 8-wide heads
  // hold no q8_0 block), the keep_alive window's pin and the owner apps.
  EXPECT_EQ(kv, "f16") << rows[1];
  EXPECT_EQ(pinned, "default") << rows[1];
  EXPECT_EQ(apps, "default") << rows[1];
  EXPECT_EQ(o.err, "") << "no column should be missing";
  EXPECT_GT(std::stod(size), 0.0) << rows[1];
  EXPECT_EQ(unit, "MiB");
  EXPECT_EQ(context, std::to_string(listed["models"][0]["context_length"].get<int64_t>()));
  // keep_alive 5m: it stays loaded for 4m5xs more.
  EXPECT_TRUE(until.starts_with("4m5") || until == "5m00s") << rows[1];
}

TEST(PsCommand, PrintsEveryColumnTheDaemonReports) {
  const nlohmann::json answer = {{"models",
                                  {{{"name", "chat"},
                                    {"model", "chat"},
                                    {"size", 3 * 1024 * 1024},
                                    {"context_length", 2048},
                                    {"kv_type", "q8_0"},
                                    {"pinned_by", {"notes"}},
                                    {"idle_seconds", 75.5},
                                    {"owner_apps", {"notes", "mail"}},
                                    {"expires_at", "2999-01-01T00:00:00.000000Z"}},
                                   {{"name", "draft"},
                                    {"size", 1024 * 1024},
                                    {"context_length", 512},
                                    {"kv_type", "f16"},
                                    {"pinned_by", nlohmann::json::array()},
                                    {"in_use", true},
                                    {"owner_apps", {"notes"}}}}}};
  StubServer stub(200, answer.dump());
  const Output o = run_locara(ps_at(stub.port()));
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto rows = lines(o.out);
  ASSERT_EQ(rows.size(), 3u) << o.out;
  expect_header(rows[0]);
  const auto [model, size, unit, context, kv, pinned, idle, until, apps] = printed_row(rows[1]);
  EXPECT_EQ(model, "chat");
  EXPECT_EQ(size + " " + unit, "3.00 MiB");
  EXPECT_EQ(context, "2048");
  EXPECT_EQ(kv, "q8_0");
  EXPECT_EQ(pinned, "notes");
  EXPECT_EQ(idle, "1m15s");
  EXPECT_TRUE(until.ends_with("m")) << "hours away: " << until;
  EXPECT_EQ(apps, "notes,mail");
  // The second: not pinned, generating now, no expiry given.
  EXPECT_NE(rows[2].find(" no "), std::string::npos) << rows[2];
  EXPECT_NE(rows[2].find(" in use "), std::string::npos) << rows[2];
  EXPECT_EQ(o.err, "") << "every column was reported";
}

TEST(PsCommand, SaysWhichColumnsAnOllamaShapedAnswerLacks) {
  StubServer stub(200, R"({"models": [{"name": "m", "size": 1048576, "context_length": 512,
                           "expires_at": "2000-01-01T00:00:00Z"}]})");
  const Output o = run_locara(ps_at(stub.port()));
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto rows = lines(o.out);
  ASSERT_EQ(rows.size(), 2u) << o.out;
  const auto [model, size, unit, context, kv, pinned, idle, until, apps] = printed_row(rows[1]);
  EXPECT_EQ(context, "512");
  EXPECT_EQ(kv + pinned + idle + apps, "----");
  EXPECT_EQ(until, "0s") << "expired";
  EXPECT_NE(o.err.find("does not report KV type, pins, idle time, owner apps"), std::string::npos)
      << o.err;
}

TEST(PsCommand, NoDaemonIsAClearErrorNamingTheAddress) {
  const int port = closed_port();
  const Output o = run_locara(ps_at(port));
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find("no Locara daemon answers at http://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("locara serve"), std::string::npos) << o.err;
}

TEST(PsCommand, AWrongAnswerIsAnErrorNotATable) {
  {
    StubServer stub(500, R"({"error": "boom"})");
    const Output o = run_locara(ps_at(stub.port()));
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_NE(o.err.find("HTTP 500"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("boom"), std::string::npos) << o.err;
  }
  StubServer stub(200, "<html>not a daemon</html>");
  const Output o = run_locara(ps_at(stub.port()));
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find("{\"models\": [...]}"), std::string::npos) << o.err;
}

}  // namespace
}  // namespace locara::cli::testing
