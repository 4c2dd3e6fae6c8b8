#include "engine/speed_bench.h"

#include <chrono>
#include <cmath>
#include <map>
#include <numeric>

#include "model/execution_context.h"

namespace locara {
namespace {

// mean and sample standard deviation (0 for fewer than two values).
std::pair<double, double> mean_and_stddev(const std::vector<double>& values) {
  if (values.empty()) return {0.0, 0.0};
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  if (values.size() < 2) return {mean, 0.0};
  double squares = 0.0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / static_cast<double>(values.size() - 1))};
}

// A deterministic stream of token ids (xorshift64*), like llama-bench's rand() % n_vocab.
class TokenStream {
 public:
  TokenStream(uint64_t seed, int64_t n_vocab) : state_(seed * 2 + 1), n_vocab_(n_vocab) {}
  int32_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return static_cast<int32_t>((state_ * 0x2545f4914f6cdd1dULL >> 33) %
                                static_cast<uint64_t>(n_vocab_));
  }

 private:
  uint64_t state_;
  int64_t n_vocab_;
};

}  // namespace

Expected<SpeedTestResult> run_speed_test(const Model& model, const SpeedTestOptions& o) {
  if ((o.n_prompt > 0) == (o.n_gen > 0) || o.n_prompt < 0 || o.n_gen < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "speed test: exactly one of n_prompt ({}) and n_gen ({}) must be positive",
                      o.n_prompt, o.n_gen);
  }
  if (o.repetitions < 1 || o.n_threads < 1 || o.batch < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "speed test: repetitions ({}), threads ({}) and batch ({}) must be >= 1",
                      o.repetitions, o.n_threads, o.batch);
  }
  const int64_t n_vocab = model.hparams().n_vocab;
  const int64_t n_ctx = std::max<int64_t>(o.n_prompt + o.n_gen, 1);
  ExecutionContext context(o.n_threads);
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  TokenStream tokens(o.seed, n_vocab);

  {  // Warm-up: one token reads every weight once (faults the mapping in) and starts the
     // pool's threads; llama-bench warms up too.
    LOCARA_ASSIGN_OR_RETURN(KvCache cache, model.make_kv_cache(n_ctx, o.kv_type));
    const int32_t token = tokens.next();
    LOCARA_RETURN_IF_ERROR(model.forward({&token, 1}, 0, cache, context, logits));
  }

  SpeedTestResult result;
  std::vector<int32_t> prompt(static_cast<size_t>(o.n_prompt));
  for (int rep = 0; rep < o.repetitions; ++rep) {
    // A fresh cache and fresh ids each time; neither is timed.
    LOCARA_ASSIGN_OR_RETURN(KvCache cache, model.make_kv_cache(n_ctx, o.kv_type));
    for (int32_t& token : prompt) token = tokens.next();
    const auto start = std::chrono::steady_clock::now();
    if (o.n_prompt > 0) {
      for (int64_t at = 0; at < o.n_prompt; at += o.batch) {
        const int64_t n = std::min(o.batch, o.n_prompt - at);
        LOCARA_RETURN_IF_ERROR(model.forward({prompt.data() + at, static_cast<size_t>(n)}, at,
                                             cache, context, logits));
      }
    } else {
      for (int64_t i = 0; i < o.n_gen; ++i) {
        // Like llama-bench, the next token is random rather than sampled: sampling is
        // not what this measures.
        const int32_t token = tokens.next();
        LOCARA_RETURN_IF_ERROR(model.forward({&token, 1}, i, cache, context, logits));
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.seconds.push_back(seconds);
    result.tokens_per_second.push_back(static_cast<double>(o.n_prompt + o.n_gen) / seconds);
  }
  std::tie(result.mean_tokens_per_second, result.stddev_tokens_per_second) =
      mean_and_stddev(result.tokens_per_second);
  std::tie(result.mean_seconds, result.stddev_seconds) = mean_and_stddev(result.seconds);
  return result;
}

WeightSummary summarize_weights(const GgufReader& gguf) {
  WeightSummary summary;
  std::map<TensorType, uint64_t> elements_by_type;
  for (const GgufTensor& tensor : gguf.tensors()) {
    const auto n_elements = static_cast<uint64_t>(tensor.n_elements());
    summary.total_bytes += tensor.n_bytes;
    summary.n_parameters += n_elements;
    if (tensor.name != "token_embd.weight") summary.bytes_per_token += tensor.n_bytes;
    if (tensor.dims.size() >= 2) elements_by_type[tensor.type] += n_elements;
  }
  uint64_t most = 0;
  for (const auto& [type, n] : elements_by_type) {
    if (n > most) {
      most = n;
      summary.main_type = type;
    }
  }
  return summary;
}

}  // namespace locara
