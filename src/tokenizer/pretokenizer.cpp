#include "tokenizer/pretokenizer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>

namespace locara {
namespace {

// The patterns, written for PCRE2 with Unicode properties. Where a model's tokenizer.json has
// (?i:'s|'t|...), the contractions are spelled out per letter: PCRE2's caseless matching would
// also take the long s and the Kelvin sign.
constexpr std::string_view kContractions =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

// GPT-2: contractions, letters, digits, other symbols (each with one optional leading space),
// then runs of whitespace that do not eat the space before a word.
constexpr std::string_view kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";

std::string llama3() {  // Llama 3: up to three digits a word, newlines kept with symbols
  return std::string(kContractions) +
         R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

std::string qwen2() {  // Qwen2: as Llama 3 with one digit a word
  return std::string(kContractions) +
         R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

// Tekken (Mistral NeMo and later) and GPT-4o: words split at lowercase-to-uppercase changes.
constexpr std::string_view kUpper = R"([\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}])";
constexpr std::string_view kLower = R"([\p{Ll}\p{Lm}\p{Lo}\p{M}])";

std::string cased_words(std::string_view suffix) {
  const std::string prefix = R"([^\r\n\p{L}\p{N}]?)";
  return fmt::format("{0}{1}*{2}+{3}|{0}{1}+{2}*{3}", prefix, kUpper, kLower, suffix);
}

std::string tekken() {
  return cased_words("") + R"(|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

std::string gpt4o() {
  return cased_words(std::string(kContractions) + "?") +
         R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

// CJK ideographs, the scripts from U+0800 up to them, and Hangul: DeepSeek keeps them whole.
constexpr std::string_view kDeepseekCjk =
    R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";

// DeepSeek LLM's letters: the cased letters (Latin, Greek, Cyrillic, Armenian, Georgian,
// Cherokee, Glagolitic, Coptic, Deseret, Osage, ...) as its tokenizer lists them, range by
// range. Non-ASCII characters are written as escapes throughout: several of these (the Ohm and
// Kelvin signs, Greek with oxia) are ones that Unicode normalization would silently replace.
constexpr std::string_view kDeepseekLetters =
    R"(\s?[)"
    R"(A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293})"
    R"(\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386})"
    R"(\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F})"
    R"(\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA})"
    R"(\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A})"
    R"(\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D})"
    R"(\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4})"
    R"(\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3})"
    R"(\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107})"
    R"(\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D})"
    R"(\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184})"
    R"(\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D})"
    R"(\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E})"
    R"(\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A})"
    R"(\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB})"
    R"(\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943})"
    R"(]+)";

struct Family {
  std::vector<std::string_view> names;
  std::vector<std::string> patterns;  // applied in this order
  PretokenizerFlags flags;
};

PretokenizerFlags make_flags(bool clean_spaces, bool ignore_merges = false, bool add_bos = false) {
  return {ignore_merges, clean_spaces, add_bos};
}

const std::vector<Family>& families() {
  static const std::vector<Family> kFamilies = {
      // llama.cpp's fallback for files without tokenizer.ggml.pre.
      {{"default"},
       {R"([\p{P}\$\+<=>\^~\|]+)", std::string(kGpt2), R"(\p{N}+)", "[0-9][0-9][0-9]"},
       make_flags(true)},
      {{"gpt-2", "gpt-neox", "mpt", "phi-2", "olmo", "jais"},
       {std::string(kGpt2)},
       make_flags(true)},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral"},
       {llama3()},
       make_flags(true, /*ignore_merges=*/true, /*add_bos=*/true)},
      {{"dbrx", "smaug-bpe"}, {llama3()}, make_flags(true)},
      {{"qwen2", "deepseek-r1-qwen"}, {qwen2()}, make_flags(false)},
      {{"stablelm2", "megrez"}, {qwen2()}, make_flags(true)},
      {{"deepseek-llm"},
       {R"([\r\n])", std::string(kDeepseekLetters),
        R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)",
        R"(\s+$)", std::string(kDeepseekCjk), R"(\p{N}+)"},
       make_flags(false)},
      {{"deepseek-coder"},
       {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", std::string(kDeepseekCjk), R"(\p{N})"},
       make_flags(false)},
      {{"deepseek-v3"},
       {R"(\p{N}{1,3})", R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
        R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
       make_flags(false)},
      {{"falcon"},
       {R"([\p{P}\$\+<=>\^~\|`]+)", std::string(kGpt2), "[0-9][0-9][0-9]"},
       make_flags(true)},
      {{"starcoder", "refact", "codeshell", "exaone", "minerva-7b"},
       {R"(\p{N})", std::string(kGpt2)},
       make_flags(true)},
      {{"smollm", "command-r"}, {R"(\p{N})", std::string(kGpt2)}, make_flags(false)},
      {{"poro-chat"},
       {R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{0964}\x{06D4}\x{060C})]+)"},
       make_flags(false)},
      {{"bloom", "gpt3-finnish"},
       {R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{0964}\x{06D4}\x{060C})]+)"},
       make_flags(true)},
      {{"tekken"}, {tekken()}, make_flags(false, /*ignore_merges=*/true, /*add_bos=*/true)},
      {{"gpt-4o", "llama4"}, {gpt4o()}, make_flags(false)},
  };
  return kFamilies;
}

const Family* find_family(std::string_view pre) {
  if (pre.empty()) pre = "default";
  for (const Family& family : families()) {
    for (const std::string_view name : family.names) {
      if (name == pre) return &family;
    }
  }
  return nullptr;
}

}  // namespace

std::optional<PretokenizerFlags> pretokenizer_flags(std::string_view pre) {
  const Family* family = find_family(pre);
  if (family == nullptr) return std::nullopt;
  return family->flags;
}

std::vector<std::string_view> known_pretokenizers() {
  std::vector<std::string_view> names;
  for (const Family& family : families()) {
    names.insert(names.end(), family.names.begin(), family.names.end());
  }
  return names;
}

Expected<Pretokenizer> Pretokenizer::for_name(std::string_view pre) {
  const Family* family = find_family(pre);
  if (family == nullptr) {
    return make_error(ErrorCode::kUnsupported,
                      "tokenizer.ggml.pre = '{}' is not a known pre-tokenizer (known: {})", pre,
                      fmt::join(known_pretokenizers(), ", "));
  }
  return from_patterns({family->patterns.begin(), family->patterns.end()});
}

Expected<Pretokenizer> Pretokenizer::from_patterns(const std::vector<std::string_view>& patterns) {
  std::vector<Regex> regexes;
  regexes.reserve(patterns.size());
  for (const std::string_view pattern : patterns) {
    LOCARA_ASSIGN_OR_RETURN(Regex regex, Regex::compile(pattern));
    regexes.push_back(std::move(regex));
  }
  return Pretokenizer(std::move(regexes));
}

void Pretokenizer::split(std::string_view text, std::vector<TextSpan>& words) const {
  words.clear();
  if (text.empty()) return;
  words.push_back({0, text.size()});
  std::vector<TextSpan> next;
  std::vector<TextSpan> matches;
  for (const Regex& regex : regexes_) {
    next.clear();
    for (const TextSpan& word : words) {
      matches.clear();
      regex.find_all(text.substr(word.offset, word.length), matches);
      size_t cursor = 0;  // within the word
      for (const TextSpan& match : matches) {
        if (match.offset > cursor) next.push_back({word.offset + cursor, match.offset - cursor});
        // An empty match only marks a cut; llama.cpp's zero-length word yields no token.
        if (match.length > 0) next.push_back({word.offset + match.offset, match.length});
        cursor = match.end();
      }
      if (cursor < word.length) next.push_back({word.offset + cursor, word.length - cursor});
    }
    words.swap(next);
  }
}

}  // namespace locara
