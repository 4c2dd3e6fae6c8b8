// Tokenizing 1 MB of English prose with the vocabularies in shared/vocab/, in MB/s:
// - cold: the word cache emptied before each pass (a first, long prompt);
// - warm: the cache kept from the pass before (a prompt seen again);
// - uncached: no word cache at all.
// The text is generated from a fixed seed (common words, rarer made-up ones, numbers,
// punctuation, paragraphs), so every run tokenizes the same bytes.
//   build-bpe/bench/tokenizer_bench --benchmark_filter='llama-bpe'
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace locara {
namespace {

constexpr size_t kTextBytes = 1 << 20;

// splitmix64: the same numbers on every platform and standard library.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

constexpr std::array<std::string_view, 120> kCommonWords = {
    "the",     "of",      "and",      "to",        "a",         "in",         "is",
    "it",      "you",     "that",     "he",        "was",       "for",        "on",
    "are",     "with",    "as",       "I",         "his",       "they",       "be",
    "at",      "one",     "have",     "this",      "from",      "or",         "had",
    "by",      "hot",     "word",     "but",       "what",      "some",       "we",
    "can",     "out",     "other",    "were",      "all",       "there",      "when",
    "up",      "use",     "your",     "how",       "said",      "an",         "each",
    "she",     "which",   "do",       "their",     "time",      "if",         "will",
    "way",     "about",   "many",     "then",      "them",      "write",      "would",
    "like",    "so",      "these",    "her",       "long",      "make",       "thing",
    "see",     "him",     "two",      "has",       "look",      "more",       "day",
    "could",   "go",      "come",     "did",       "number",    "sound",      "no",
    "most",    "people",  "my",       "over",      "know",      "water",      "than",
    "call",    "first",   "who",      "may",       "down",      "side",       "been",
    "now",     "find",    "memory",   "machine",   "runtime",   "model",      "however",
    "because", "through", "question", "between",   "another",   "children",   "morning",
    "system",  "program", "example",  "different", "important", "government", "university",
    "language"};

constexpr std::array<std::string_view, 24> kSyllables = {
    "ka", "lo", "mi", "ner", "tan", "vis", "qu",  "or", "el",  "dra", "fen", "gul",
    "ph", "th", "ix", "ast", "ble", "cro", "dun", "sy", "wre", "zo",  "ing", "tion"};

std::string english_text() {
  Random random(20250614);
  std::string text;
  text.reserve(kTextBytes + 256);
  bool sentence_start = true;
  while (text.size() < kTextBytes) {
    std::string word;
    const size_t kind = random.below(100);
    if (kind < 80) {  // a common word, more often an early (frequent) one
      word = kCommonWords[random.below(random.below(kCommonWords.size()) + 1)];
    } else if (kind < 95) {  // a rarer, made-up word of 2-4 syllables
      const size_t n = 2 + random.below(3);
      for (size_t i = 0; i < n; ++i) word += kSyllables[random.below(kSyllables.size())];
    } else {  // a number
      word = std::to_string(random.below(100000));
    }
    if (sentence_start && word[0] >= 'a' && word[0] <= 'z')
      word[0] = static_cast<char>(word[0] - 32);
    sentence_start = false;
    text += word;
    const size_t after = random.below(100);
    if (after < 8) {
      text += ", ";
    } else if (after < 14) {
      text += random.below(5) == 0 ? ".\n\n" : ". ";
      sentence_start = true;
    } else if (after < 15) {
      text += "? ";
      sentence_start = true;
    } else if (after < 16) {
      text += "'s ";
    } else {
      text += ' ';
    }
  }
  return text;
}

const std::string& bench_text() {
  static const std::string text = english_text();
  return text;
}

std::unique_ptr<Tokenizer> load(const std::string& family, size_t cache_capacity) {
  const std::string path = std::string(LOCARA_SHARED_DIR) + "/vocab/ggml-vocab-" + family + ".gguf";
  auto gguf = GgufReader::open(path);
  if (!gguf) return nullptr;
  auto tokenizer = Tokenizer::from_gguf(**gguf, {.word_cache_capacity = cache_capacity});
  return tokenizer ? std::move(*tokenizer) : nullptr;
}

enum class CacheMode { kCold, kWarm, kUncached };

void BM_encode_english(benchmark::State& state, std::string family, CacheMode mode) {
  const auto tokenizer =
      load(family, mode == CacheMode::kUncached ? 0 : TokenizerOptions{}.word_cache_capacity);
  if (!tokenizer) {
    state.SkipWithError(("cannot load the " + family + " vocabulary").c_str());
    return;
  }
  const std::string& text = bench_text();
  if (mode == CacheMode::kWarm) tokenizer->encode(text, false, false);
  size_t n_tokens = 0;
  for (auto _ : state) {
    if (mode == CacheMode::kCold) {
      state.PauseTiming();
      tokenizer->word_cache().clear();
      state.ResumeTiming();
    }
    const std::vector<int32_t> ids = tokenizer->encode(text, false, false);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(n_tokens);
  state.counters["cache_MiB"] = static_cast<double>(tokenizer->cache_bytes()) / (1 << 20);
}

void register_benchmarks() {
  for (const char* family : {"llama-bpe", "qwen2", "gpt-2", "mpt", "deepseek-llm", "llama-spm"}) {
    for (const auto& [name, mode] :
         {std::pair{"cold", CacheMode::kCold}, std::pair{"warm", CacheMode::kWarm},
          std::pair{"uncached", CacheMode::kUncached}}) {
      benchmark::RegisterBenchmark(
          (std::string("encode_1MB_english/") + family + "/" + name).c_str(), BM_encode_english,
          std::string(family), mode)
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.5);
    }
  }
  for (const char* family : {"bert-bge"}) {
    benchmark::RegisterBenchmark((std::string("encode_1MB_english/") + family).c_str(),
                                 BM_encode_english, std::string(family), CacheMode::kUncached)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
  }
}

}  // namespace
}  // namespace locara

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  locara::register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
