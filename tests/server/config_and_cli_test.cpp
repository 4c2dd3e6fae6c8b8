// The daemon's config file, and the `locara models` commands run as a user would.
#include <cstdio>
#include <fstream>

#include "server_fixture.h"

namespace locara::server::testing {
namespace {

std::string write_temp(const std::string& text) {
  char pattern[] = "/tmp/locara-config-XXXXXX";
  const int fd = mkstemp(pattern);
  close(fd);
  std::ofstream(pattern) << text;
  return pattern;
}

std::string run(const std::string& arguments) {
  // Bounded: a daemon that unexpectedly starts must not hang the suite.
  const std::string command =
      "timeout 20 " + std::string(LOCARA_BINARY_DIR) + "/locara " + arguments + " 2>&1";
  return command_output(command);
}

TEST(ServerConfigTest, ReadsEveryKeyItKnows) {
  const std::string path = write_temp(
      "[server]\nhost = \"0.0.0.0\"\nport = 9000\nmodels_dir = \"/srv/models\"\n"
      "parallelism = 8\nmax_queue = 3\nmax_body_mb = 1\nsocket_buffer_kb = "
      "8\n[apps]\ndefault_memory_gb = 2\n"
      "[runtime]\nbudget_gb = 4\nidle_timeout_s = 30\ncontext = 256\n"
      "[pressure]\nwarning_available_fraction = 0.3\ncritical_available_fraction = 0.1\n"
      "warning_some_avg10 = 12\nrecovery_samples = 3\n[power]\nlow_battery_percent = 35\n");
  ServerOptions options;
  ASSERT_TRUE(load_server_config(path, options));
  std::remove(path.c_str());
  EXPECT_EQ(options.host, "0.0.0.0");
  EXPECT_EQ(options.port, 9000);
  EXPECT_EQ(options.models_dir, "/srv/models");
  EXPECT_EQ(options.parallelism, 8);
  EXPECT_EQ(options.max_queue, 3);
  EXPECT_EQ(options.max_body_bytes, 1u << 20);
  EXPECT_EQ(options.socket_buffer_bytes, 8192);
  EXPECT_EQ(options.default_app_budget_bytes, uint64_t{2} << 30);
  EXPECT_EQ(options.runtime.budget_bytes, uint64_t{4} << 30);
  EXPECT_EQ(options.runtime.idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(options.runtime.plan.n_ctx, 256);
  EXPECT_DOUBLE_EQ(options.runtime.pressure_thresholds.warning_available_fraction, 0.3);
  EXPECT_DOUBLE_EQ(options.runtime.pressure_thresholds.critical_available_fraction, 0.1);
  EXPECT_DOUBLE_EQ(options.runtime.pressure_thresholds.warning_some_avg10, 12.0);
  EXPECT_DOUBLE_EQ(options.runtime.pressure_thresholds.critical_full_avg10,
                   PressureThresholds{}.critical_full_avg10);  // unset: the default
  EXPECT_EQ(options.runtime.pressure_thresholds.recovery_samples, 3);
  EXPECT_EQ(options.runtime.power_settings.low_battery_percent, 35);
}

TEST(ServerConfigTest, PressureAndPowerValuesAreChecked) {
  ServerOptions options;
  // The warning line must not lie below the critical one.
  std::string path = write_temp(
      "[pressure]\nwarning_available_fraction = 0.05\ncritical_available_fraction = 0.2\n");
  auto status = load_server_config(path, options);
  std::remove(path.c_str());
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("[pressure]"), std::string::npos) << status.error().message;
  path = write_temp("[power]\nlow_battery_percent = 150\n");
  status = load_server_config(path, options);
  std::remove(path.c_str());
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find(":2: key 'power.low_battery_percent'"), std::string::npos)
      << status.error().message;
  path = write_temp("[pressure]\nwarning_some_avg10 = -1\n");
  status = load_server_config(path, options);
  std::remove(path.c_str());
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("pressure.warning_some_avg10"), std::string::npos)
      << status.error().message;
}

TEST(ServerConfigTest, UnknownKeysAndWrongTypesNameTheKeyAndLine) {
  ServerOptions options;
  std::string path = write_temp("[server]\nport = 1\nthreads = 4\n");
  auto status = load_server_config(path, options);
  std::remove(path.c_str());
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find(":3: unknown key 'server.threads'"), std::string::npos)
      << status.error().message;
  path = write_temp("[server]\nparallelism = \"many\"\n");
  status = load_server_config(path, options);
  std::remove(path.c_str());
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("server.parallelism"), std::string::npos);
  EXPECT_FALSE(load_server_config("/nonexistent/locara.toml", options));
}

TEST(ModelsCommandTest, AddsAndLists) {
  TempStore store;
  const std::string dir = store.dir() + "/more";
  const std::string added = run("models add " + kModelPath + " --name tiny --models-dir " + dir);
  EXPECT_NE(added.find("linked"), std::string::npos) << added;
  EXPECT_NE(run("models add " + kModelPath + " --name tiny --copy --models-dir " + dir)
                .find("already exists"),
            std::string::npos);
  const std::string listed = run("models --models-dir " + dir);
  EXPECT_NE(listed.find("tiny"), std::string::npos) << listed;
  EXPECT_NE(listed.find("llama"), std::string::npos);
  EXPECT_NE(listed.find("f32"), std::string::npos);
  EXPECT_NE(listed.find("128"), std::string::npos);
}

TEST(ServeCommandTest, RefusesAPortInUse) {
  TempStore store;
  ServerOptions options = test_options(store.dir());
  auto server = Server::create(options);
  ASSERT_TRUE(server);
  auto port = (*server)->start();
  ASSERT_TRUE(port);
  const std::string out =
      run("serve --port " + std::to_string(*port) + " --models-dir " + store.dir());
  EXPECT_NE(out.find("cannot bind 127.0.0.1:" + std::to_string(*port)), std::string::npos) << out;
  (*server)->stop();
}

}  // namespace
}  // namespace locara::server::testing
