#include "engine/logit_agreement.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "model/execution_context.h"

namespace locara {
namespace {

// log-softmax in double: a KL of ~1e-6 between f16 and f32 logits is below float's
// rounding of the sums.
void log_softmax(std::span<const float> logits, std::vector<double>& out) {
  double max_logit = -INFINITY;
  for (float v : logits) max_logit = std::max(max_logit, static_cast<double>(v));
  double sum = 0.0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - max_logit);
  const double log_sum = max_logit + std::log(sum);
  out.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = static_cast<double>(logits[i]) - log_sum;
}

size_t argmax(std::span<const float> logits) {
  return static_cast<size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// One model reading a token sequence from position 0, a batch at a time.
class Reader {
 public:
  // On the heap: an ExecutionContext (its thread pool) does not move.
  static Expected<std::unique_ptr<Reader>> create(const LoadedModel& model, int64_t n_ctx,
                                                  const LogitAgreementOptions& options) {
    LOCARA_ASSIGN_OR_RETURN(KvCache cache, model.model->make_kv_cache(n_ctx, options.kv_type));
    return std::unique_ptr<Reader>(new Reader(model, std::move(cache), options.n_threads));
  }

  // Logits (n_vocab per token) of tokens at [start, start + tokens.size()).
  Status read(std::span<const int32_t> tokens, int64_t start, std::vector<float>& logits) {
    logits.resize(tokens.size() * static_cast<size_t>(model_->model->hparams().n_vocab));
    return model_->model->forward(tokens, start, cache_, context_, logits, /*all_logits=*/true);
  }

 private:
  Reader(const LoadedModel& model, KvCache cache, int n_threads)
      : model_(&model), cache_(std::move(cache)), context_(n_threads) {}
  const LoadedModel* model_;
  KvCache cache_;
  ExecutionContext context_;
};

// The prompt and the base model's greedy continuation of it.
Expected<std::vector<int32_t>> greedy_sequence(const LoadedModel& base,
                                               const std::vector<int32_t>& prompt,
                                               const LogitAgreementOptions& options) {
  const int64_t n_ctx = static_cast<int64_t>(prompt.size()) + options.continuation_tokens;
  LOCARA_ASSIGN_OR_RETURN(auto reader, Reader::create(base, n_ctx, options));
  const auto n_vocab = static_cast<size_t>(base.model->hparams().n_vocab);
  std::vector<int32_t> tokens = prompt;
  std::vector<float> logits;
  for (size_t done = 0; done < prompt.size();) {
    const size_t count = std::min(prompt.size() - done,
                                  static_cast<size_t>(std::max<int64_t>(1, options.max_batch)));
    LOCARA_RETURN_IF_ERROR(
        reader->read(std::span(prompt).subspan(done, count), static_cast<int64_t>(done), logits));
    done += count;
  }
  for (int32_t i = 0; i < options.continuation_tokens; ++i) {
    const auto last = std::span<const float>(logits).last(n_vocab);
    tokens.push_back(static_cast<int32_t>(argmax(last)));
    if (i + 1 == options.continuation_tokens) break;
    LOCARA_RETURN_IF_ERROR(
        reader->read(std::span(tokens).last(1), static_cast<int64_t>(tokens.size()) - 1, logits));
  }
  return tokens;
}

}  // namespace

double LogitAgreement::top1_rate() const {
  return positions > 0 ? static_cast<double>(top1_agreements) / static_cast<double>(positions)
                       : 0.0;
}

double LogitAgreement::mean_kl() const {
  return positions > 0 ? sum_kl / static_cast<double>(positions) : 0.0;
}

double LogitAgreement::mean_base_entropy() const {
  return positions > 0 ? sum_base_entropy / static_cast<double>(positions) : 0.0;
}

void LogitAgreement::add(const LogitAgreement& other) {
  positions += other.positions;
  top1_agreements += other.top1_agreements;
  sum_kl += other.sum_kl;
  max_kl = std::max(max_kl, other.max_kl);
  sum_base_entropy += other.sum_base_entropy;
}

void compare_distributions(std::span<const float> base_logits, std::span<const float> other_logits,
                           LogitAgreement& into) {
  thread_local std::vector<double> base_log_p;
  thread_local std::vector<double> other_log_p;
  log_softmax(base_logits, base_log_p);
  log_softmax(other_logits, other_log_p);
  double kl = 0.0;
  double entropy = 0.0;
  for (size_t i = 0; i < base_log_p.size(); ++i) {
    const double p = std::exp(base_log_p[i]);
    kl += p * (base_log_p[i] - other_log_p[i]);
    entropy -= p * base_log_p[i];
  }
  kl = std::max(kl, 0.0);  // rounding can leave -1e-17 for identical distributions
  ++into.positions;
  if (argmax(base_logits) == argmax(other_logits)) ++into.top1_agreements;
  into.sum_kl += kl;
  into.max_kl = std::max(into.max_kl, kl);
  into.sum_base_entropy += entropy;
}

Expected<LogitAgreementReport> compare_logits(const LoadedModel& base, const LoadedModel& other,
                                              std::span<const std::vector<int32_t>> prompts,
                                              const LogitAgreementOptions& options) {
  const int64_t n_vocab = base.model->hparams().n_vocab;
  if (other.model->hparams().n_vocab != n_vocab) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the models' vocabularies differ: {} tokens in the base, {} in the other",
                      n_vocab, other.model->hparams().n_vocab);
  }
  if (options.continuation_tokens < 0) {
    return make_error(ErrorCode::kInvalidArgument, "continuation_tokens {} is negative",
                      options.continuation_tokens);
  }
  LogitAgreementReport report;
  for (size_t p = 0; p < prompts.size(); ++p) {
    const std::vector<int32_t>& prompt = prompts[p];
    if (prompt.empty()) return make_error(ErrorCode::kInvalidArgument, "prompt {} is empty", p);
    for (int32_t token : prompt) {
      if (token < 0 || token >= n_vocab) {
        return make_error(ErrorCode::kInvalidArgument,
                          "prompt {}: token {} is not in the vocabulary (0..{})", p, token,
                          n_vocab - 1);
      }
    }
    SequenceAgreement sequence;
    sequence.n_prompt = static_cast<int64_t>(prompt.size());
    LOCARA_ASSIGN_OR_RETURN(sequence.tokens, greedy_sequence(base, prompt, options));

    // Both models read the same batches, so a model compared with itself agrees exactly.
    const auto n_tokens = static_cast<int64_t>(sequence.tokens.size());
    LOCARA_ASSIGN_OR_RETURN(auto base_reader, Reader::create(base, n_tokens, options));
    LOCARA_ASSIGN_OR_RETURN(auto other_reader, Reader::create(other, n_tokens, options));
    std::vector<float> base_logits;
    std::vector<float> other_logits;
    const int64_t batch = std::max<int64_t>(1, options.max_batch);
    for (int64_t start = 0; start < n_tokens; start += batch) {
      const auto chunk = std::span<const int32_t>(sequence.tokens)
                             .subspan(static_cast<size_t>(start),
                                      static_cast<size_t>(std::min(batch, n_tokens - start)));
      LOCARA_RETURN_IF_ERROR(base_reader->read(chunk, start, base_logits));
      LOCARA_RETURN_IF_ERROR(other_reader->read(chunk, start, other_logits));
      for (size_t i = 0; i < chunk.size(); ++i) {
        const auto row =
            std::span<const float>(base_logits)
                .subspan(i * static_cast<size_t>(n_vocab), static_cast<size_t>(n_vocab));
        const auto other_row =
            std::span<const float>(other_logits)
                .subspan(i * static_cast<size_t>(n_vocab), static_cast<size_t>(n_vocab));
        compare_distributions(row, other_row, sequence.agreement);
      }
    }
    report.total.add(sequence.agreement);
    report.sequences.push_back(std::move(sequence));
  }
  return report;
}

}  // namespace locara
