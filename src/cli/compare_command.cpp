#include "cli/compare_command.h"

#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/logit_agreement.h"
#include "platform/cpu_topology.h"

namespace locara::cli {
namespace {

std::string read_text(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Prompts as token ids: a JSON file of {"cases": [{"prompt_tokens": [...]} or
// {"prompt": "..."}]} (the golden files' shape), a text file of one prompt per line, and
// --prompt texts; texts are tokenized by the base model (BOS added).
Expected<std::vector<std::vector<int32_t>>> read_prompts(const CompareCommandOptions& o,
                                                         const LoadedModel& base) {
  std::vector<std::vector<int32_t>> prompts;
  auto encode = [&](const std::string& text) {
    return base.tokenizer->encode(text, /*add_special=*/true, /*parse_special=*/true);
  };
  if (!o.prompts_path.empty()) {
    bool ok = false;
    const std::string text = read_text(o.prompts_path, ok);
    if (!ok) {
      return make_error(ErrorCode::kNotFound, "cannot read prompts file '{}'", o.prompts_path);
    }
    if (o.prompts_path.ends_with(".json")) {
      const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (json.is_discarded() || !json.contains("cases") || !json["cases"].is_array()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}: not JSON with a \"cases\" array of prompts", o.prompts_path);
      }
      for (size_t i = 0; i < json["cases"].size(); ++i) {
        const nlohmann::json& item = json["cases"][i];
        if (item.contains("prompt_tokens") && item["prompt_tokens"].is_array()) {
          std::vector<int32_t> tokens;
          for (const nlohmann::json& token : item["prompt_tokens"]) {
            if (!token.is_number_integer()) {
              return make_error(ErrorCode::kInvalidArgument,
                                "{}: cases[{}].prompt_tokens holds a non-integer", o.prompts_path,
                                i);
            }
            tokens.push_back(token.get<int32_t>());
          }
          prompts.push_back(std::move(tokens));
        } else if (item.contains("prompt") && item["prompt"].is_string()) {
          prompts.push_back(encode(item["prompt"].get<std::string>()));
        } else {
          return make_error(ErrorCode::kInvalidArgument,
                            "{}: cases[{}] has neither \"prompt_tokens\" nor \"prompt\"",
                            o.prompts_path, i);
        }
      }
    } else {
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) prompts.push_back(encode(line));
      }
    }
  }
  for (const std::string& prompt : o.prompts) prompts.push_back(encode(prompt));
  if (prompts.empty()) prompts.push_back(encode("Once upon a time"));
  return prompts;
}

nlohmann::json agreement_json(const LogitAgreement& a) {
  return {{"positions", a.positions},
          {"top1_agreement", a.top1_rate()},
          {"mean_kl", a.mean_kl()},
          {"max_kl", a.max_kl},
          {"mean_base_entropy", a.mean_base_entropy()}};
}

std::string agreement_row(const std::string& label, const LogitAgreement& a) {
  return fmt::format("{:<8} {:>9} {:>8.2f} {:>12.3e} {:>12.3e} {:>9.3f}\n", label, a.positions,
                     100.0 * a.top1_rate(), a.mean_kl(), a.max_kl, a.mean_base_entropy());
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto options = std::make_shared<CompareCommandOptions>();
  CompareCommandOptions& o = *options;
  CLI::App* compare = app.add_subcommand(
      "compare-logits",
      "Compare a model's next-token distributions with a base model's on the same text "
      "(the base's greedy continuation, read by both): top-1 agreement and KL(base||other)");
  compare->add_option("base", o.base_path, "GGUF model taken as the reference (e.g. F32)")
      ->required();
  compare->add_option("other", o.other_path, "GGUF model compared with it (e.g. its Q4_K_M)")
      ->required();
  compare->add_option("--prompts", o.prompts_path,
                      "Prompts: JSON with \"cases\": [{\"prompt_tokens\": [...]} or "
                      "{\"prompt\": \"...\"}], or a text file of one prompt per line");
  compare->add_option("-p,--prompt", o.prompts, "A prompt (repeatable)");
  compare->add_option("-n,--tokens", o.tokens, "Greedy tokens the base continues each prompt with")
      ->check(CLI::Range(0, 1 << 20));
  compare->add_option("--kv-type", o.kv_type, "KV cache type of both models (f32, f16, q8_0)");
  compare->add_option("-o,--output", o.format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  compare->add_option("--min-top1", o.min_top1_percent,
                      "Exit with 2 if top-1 agreement (percent) is below this");
  compare->add_option("--max-kl", o.max_mean_kl, "Exit with 2 if the mean KL is above this");
  compare->add_option("-t,--threads", o.threads, "Threads (default: physical cores)");
  return {compare, [options] { return compare_command(*options); }};
}

int compare_command(const CompareCommandOptions& o) {
  auto kv_type = kv_type_from_name(o.kv_type);
  if (!kv_type) {
    fmt::print(stderr, "locara: error: {}\n", kv_type.error().message);
    return 1;
  }
  auto base = LoadedModel::load(o.base_path);
  if (!base) {
    fmt::print(stderr, "locara: error: {}\n", base.error().message);
    return 1;
  }
  auto other = LoadedModel::load(o.other_path);
  if (!other) {
    fmt::print(stderr, "locara: error: {}\n", other.error().message);
    return 1;
  }
  auto prompts = read_prompts(o, **base);
  if (!prompts) {
    fmt::print(stderr, "locara: error: {}\n", prompts.error().message);
    return 1;
  }
  LogitAgreementOptions options;
  options.continuation_tokens = o.tokens;
  options.kv_type = *kv_type;
  options.n_threads = o.threads > 0 ? o.threads : physical_performance_cores();
  auto report = compare_logits(**base, **other, *prompts, options);
  if (!report) {
    fmt::print(stderr, "locara: error: {}\n", report.error().message);
    return 1;
  }

  if (o.format == "json") {
    nlohmann::json sequences = nlohmann::json::array();
    for (const SequenceAgreement& s : report->sequences) {
      nlohmann::json item = agreement_json(s.agreement);
      item["prompt_tokens"] = s.n_prompt;
      sequences.push_back(std::move(item));
    }
    const nlohmann::json out = {{"base", o.base_path},
                                {"other", o.other_path},
                                {"continuation_tokens", o.tokens},
                                {"kv_type", o.kv_type},
                                {"sequences", std::move(sequences)},
                                {"total", agreement_json(report->total)}};
    fmt::print("{}\n", out.dump(1));
  } else {
    fmt::print(
        "compare-logits: {} vs {}: {} prompts, each with {} greedy tokens of the base, "
        "read by both (KV {})\n",
        o.base_path, o.other_path, report->sequences.size(), o.tokens, o.kv_type);
    fmt::print("{:<8} {:>9} {:>8} {:>12} {:>12} {:>9}\n", "prompt", "positions", "top-1 %",
               "mean KL", "max KL", "entropy");
    for (size_t i = 0; i < report->sequences.size(); ++i) {
      fmt::print("{}", agreement_row(fmt::format("{}", i + 1), report->sequences[i].agreement));
    }
    fmt::print("{}", agreement_row("all", report->total));
    fmt::print("(KL(base||other) and the base's entropy in nats per position)\n");
  }

  const LogitAgreement& total = report->total;
  if (o.min_top1_percent >= 0 && 100.0 * total.top1_rate() < o.min_top1_percent) {
    fmt::print(stderr, "compare-logits: top-1 agreement {:.2f}% is below {:.2f}%\n",
               100.0 * total.top1_rate(), o.min_top1_percent);
    return 2;
  }
  if (o.max_mean_kl >= 0 && total.mean_kl() > o.max_mean_kl) {
    fmt::print(stderr, "compare-logits: mean KL {:.3e} is above {:.3e}\n", total.mean_kl(),
               o.max_mean_kl);
    return 2;
  }
  return 0;
}

}  // namespace locara::cli
