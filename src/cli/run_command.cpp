#include "cli/run_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/chat_loop.h"
#include "engine/session.h"
#include "platform/cpu_topology.h"
#include "platform/memory_footprint.h"

namespace locara::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) {
  g_interrupted = 1;
}

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

void report_memory(const Session& session) {
  auto footprint = read_process_footprint();
  if (!footprint) {
    fmt::print(stderr, "memory: unavailable ({})\n", footprint.error().message);
    return;
  }
  const uint64_t weights = session.model().model->gguf().total_tensor_bytes();
  fmt::print(stderr,
             "memory: anonymous {:.2f} MiB (KV cache {:.2f} MiB + scratch {:.2f} MiB + runtime), "
             "file-backed {:.2f} MiB (weights mapped: {:.2f} MiB), rss {:.2f} MiB\n",
             mib(footprint->anonymous_bytes), mib(session.kv_bytes()), mib(session.scratch_bytes()),
             mib(footprint->file_bytes), mib(weights), mib(footprint->rss_bytes));
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  RunOptions& o = *options;
  CLI::App* run = app.add_subcommand(
      "run", "Stream a completion of PROMPT (or of standard input when it is not a terminal)");
  run->add_option("model", o.model_path, "Path of a GGUF model file")->required();
  run->add_option("prompt", o.prompt, "Text to continue");
  run->add_option("-n,--max-tokens", o.max_tokens,
                  "Tokens to generate (-1: until the context is full)")
      ->capture_default_str();
  run->add_option("--temp", o.temperature, "Temperature; 0 picks the most likely token (greedy)")
      ->capture_default_str();
  run->add_option("--top-k", o.top_k, "Keep the K most likely tokens (0: off)")
      ->capture_default_str();
  run->add_option("--top-p", o.top_p, "Keep the smallest set whose probability reaches P (1: off)")
      ->capture_default_str();
  run->add_option("--min-p", o.min_p, "Drop tokens less likely than P times the best (0: off)")
      ->capture_default_str();
  run->add_option("--repeat-penalty", o.repeat_penalty,
                  "Penalty for repeating recent tokens (1: off)")
      ->capture_default_str();
  run->add_option("--repeat-last-n", o.repeat_last_n, "How many recent tokens the penalty sees")
      ->capture_default_str();
  run->add_option("--seed", o.seed, "Random seed: the same seed gives the same text (-1: random)")
      ->capture_default_str();
  run->add_option("-c,--ctx-size", o.ctx_size,
                  "Context size in tokens (0: the model's own, at most 4096)")
      ->capture_default_str();
  run->add_option("-t,--threads", o.threads, "Compute threads (default: physical cores)");
  run->add_option("--kv-type", o.kv_type,
                  "KV cache element type (auto: q8_0, or f16 when the model's heads need it)")
      ->check(CLI::IsMember({"auto", "f32", "f16", "q8_0", "q4_0"}))
      ->capture_default_str();
  run->add_flag("--ignore-eos", o.ignore_eos, "Never stop at end-of-sequence (ban the token)");
  run->add_flag("--echo", o.echo, "Print the prompt before the completion");
  run->add_flag("-v,--verbose", o.verbose, "Report the context, KV cache and memory footprint");
  run->add_flag("--chat", o.chat,
                "Chat: read messages line by line (PROMPT is the first), answer each with the "
                "model's chat template; Ctrl-C stops an answer, Ctrl-D exits");
  run->add_option("--system", o.system_prompt, "With --chat: a system message");
  run->callback([&o, run] {
    o.prompt_given = run->count("prompt") > 0;
    o.max_tokens_given = run->count("--max-tokens") > 0;
  });
  return {run, [options] { return run_command(*options); }};
}

int run_command(const RunOptions& o) {
  auto loaded = LoadedModel::load(o.model_path);
  if (!loaded) {
    fmt::print(stderr, "locara: error: {}\n", loaded.error().message);
    return 1;
  }
  SessionOptions session_options;
  session_options.n_ctx = o.ctx_size;
  if (o.kv_type != "auto") session_options.kv_type = *kv_type_from_name(o.kv_type);
  session_options.n_threads = o.threads > 0 ? o.threads : physical_performance_cores();
  auto session = Session::create(*loaded, session_options);
  if (!session) {
    fmt::print(stderr, "locara: error: {}\n", session.error().message);
    return 1;
  }

  GenerationOptions generation;
  generation.max_tokens = o.max_tokens;
  generation.ignore_eos = o.ignore_eos;
  generation.sampling.temperature = o.temperature;
  generation.sampling.top_k = o.top_k;
  generation.sampling.top_p = o.top_p;
  generation.sampling.min_p = o.min_p;
  generation.sampling.repeat_penalty = o.repeat_penalty;
  generation.sampling.repeat_last_n = o.repeat_last_n;
  generation.sampling.seed =
      o.seed < 0 ? SamplingParams::kRandomSeed : static_cast<uint64_t>(o.seed);
  if (o.chat) {
    ChatLoopOptions chat{o.system_prompt, o.prompt, generation, o.verbose};
    if (!o.max_tokens_given) chat.generation.max_tokens = -1;  // answers end at end of turn
    return run_chat_loop(**session, chat);
  }

  std::string prompt = o.prompt;
  if (!o.prompt_given && !isatty(STDIN_FILENO)) {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    // `echo text | locara run` ends the prompt with the shell's newline, not the user's.
    if (!prompt.empty() && prompt.back() == '\n') prompt.pop_back();
  }
  const std::vector<int32_t> prompt_tokens = (*session)->tokenize(prompt);

  if (o.verbose) {
    const ModelHParams& hp = (*loaded)->model->hparams();
    fmt::print(stderr,
               "model: {} ({}), {} layers, n_embd {}, vocab {}; context {}, KV {} ({:.2f} MiB), "
               "{} threads, prompt {} tokens\n",
               o.model_path, hp.architecture, hp.n_layer, hp.n_embd, hp.n_vocab,
               (*session)->n_ctx(), kv_type_name((*session)->kv_type()),
               mib((*session)->kv_bytes()), session_options.n_threads, prompt_tokens.size());
  }
  if (o.echo) {
    fmt::print("{}", prompt);
    std::fflush(stdout);
  }

  g_interrupted = 0;
  auto previous_handler = std::signal(SIGINT, on_interrupt);
  auto result = (*session)->generate(prompt_tokens, generation, [&](const TokenEvent& event) {
    std::fwrite(event.text.data(), 1, event.text.size(), stdout);
    std::fflush(stdout);
    return g_interrupted == 0;
  });
  std::signal(SIGINT, previous_handler);
  if (!result) {
    fmt::print(stderr, "locara: error: {}\n", result.error().message);
    return 1;
  }

  fmt::print("\n");
  fmt::print(stderr,
             "load: {:.1f} ms | prompt: {} tokens, {:.1f} tokens/s | generation: {} tokens, "
             "{:.1f} tokens/s | finish: {}\n",
             (*loaded)->load_seconds * 1000.0, result->n_prompt_tokens,
             result->prompt_tokens_per_second(), result->tokens.size(),
             result->generation_tokens_per_second(), finish_reason_name(result->finish_reason));
  if (o.verbose) report_memory(**session);
  return 0;
}

}  // namespace locara::cli
