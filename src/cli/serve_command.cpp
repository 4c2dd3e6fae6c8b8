#include "cli/serve_command.h"

#include <fmt/format.h>
#include <pthread.h>

#include <csignal>
#include <memory>
#include <string>

#include "locara/version.h"
#include "server/server.h"

namespace locara::cli {
namespace {

struct ServeFlags {
  std::string host = "127.0.0.1";
  int port = server::kDefaultPort;
  std::string models_dir;
  std::string config;
  int parallel = 4;
  int queue = 16;
  double max_body_mb = 8.0;
  double budget_gb = 0.0;
  double default_app_memory_gb = 0.0;
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

// Flags given on the command line override the config file.
void apply_flags(const ServeFlags& f, const CLI::App& serve, server::ServerOptions& o) {
  auto given = [&](const char* name) { return serve.count(name) > 0; };
  if (given("--host")) o.host = f.host;
  if (given("--port")) o.port = f.port;
  if (given("--models-dir")) o.models_dir = f.models_dir;
  if (given("--parallel")) o.parallelism = f.parallel;
  if (given("--queue")) o.max_queue = f.queue;
  if (given("--max-body-mb")) o.max_body_bytes = static_cast<size_t>(f.max_body_mb * (1 << 20));
  if (given("--budget-gb")) o.runtime.budget_bytes = static_cast<uint64_t>(f.budget_gb * (1 << 30));
  if (given("--default-app-memory-gb")) {
    o.default_app_budget_bytes = static_cast<uint64_t>(f.default_app_memory_gb * (1 << 30));
  }
}

int serve(const ServeFlags& flags, const CLI::App& parser) {
  server::ServerOptions options;
  if (!flags.config.empty()) {
    if (Status loaded = server::load_server_config(flags.config, options); !loaded) {
      fmt::print(stderr, "locara: error: {}\n", loaded.error().message);
      return 1;
    }
  }
  apply_flags(flags, parser, options);
  if (!is_loopback(options.host)) {
    fmt::print(stderr,
               "locara: warning: serving on {} rather than loopback: anyone who can reach this "
               "machine on port {} can use its models and memory\n",
               options.host, options.port);
  }
  // Every thread the server starts inherits this mask; only sigwait below sees the signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto server = server::Server::create(std::move(options));
  if (!server) {
    fmt::print(stderr, "locara: error: {}\n", server.error().message);
    return 1;
  }
  auto port = (*server)->start();
  if (!port) {
    fmt::print(stderr, "locara: error: {}\n", port.error().message);
    return 1;
  }
  const server::ServerOptions& o = (*server)->options();
  fmt::print(stderr, "locara {}: {}\n", LOCARA_VERSION_STRING,
             (*server)->runtime().describe_configuration());
  fmt::print(stderr, "models: {} ({} found); {} sequences at once, {} queued at most\n",
             (*server)->store().dir(), (*server)->store().list().size(), o.parallelism,
             o.max_queue);
  fmt::print(stderr, "listening on http://{}:{}\n", o.host, *port);

  int received = 0;
  sigwait(&signals, &received);
  fmt::print(stderr, "locara: {} received, stopping (in-flight requests end now)\n",
             received == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->stop();
  fmt::print(stderr, "locara: stopped\n");
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  ServeFlags& f = *flags;
  CLI::App* serve = app.add_subcommand(
      "serve", "Run the daemon: OpenAI- and Ollama-compatible APIs and the runtime's own");
  serve->add_option("--host", f.host, "Address to listen on (loopback unless you ask)")
      ->capture_default_str();
  serve->add_option("--port", f.port, "Port to listen on (0: any free one)")->capture_default_str();
  serve->add_option("--models-dir", f.models_dir,
                    "The model store: a folder of GGUF files (default ~/.locara/models)");
  serve->add_option("--config", f.config, "A TOML config file (flags override it)");
  serve->add_option("--parallel", f.parallel, "Requests generating at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve->add_option("--queue", f.queue, "Requests waiting beyond those; more get 503")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  serve->add_option("--max-body-mb", f.max_body_mb, "Largest request body accepted")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--budget-gb", f.budget_gb,
                    "Memory all models may use together (default: computed from the machine)");
  serve->add_option("--default-app-memory-gb", f.default_app_memory_gb,
                    "Budget of requests without an app token (default: the whole budget)");
  return {serve, [flags, serve] { return locara::cli::serve(*flags, *serve); }};
}

}  // namespace locara::cli
