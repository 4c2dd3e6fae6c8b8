#include "tokenizer/vocab.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "tokenizer/pretokenizer.h"

namespace locara {
namespace {

uint32_t attrs_for_type(TokenType type) {
  switch (type) {
    case TokenType::kNormal:
      return kAttrNormal;
    case TokenType::kUnknown:
      return kAttrUnknown;
    case TokenType::kControl:
      return kAttrControl;
    case TokenType::kUserDefined:
      return kAttrUserDefined;
    case TokenType::kUnused:
      return kAttrUnused;
    case TokenType::kByte:
      return kAttrByte;
    case TokenType::kUndefined:
      return kAttrUndefined;
  }
  return kAttrUndefined;  // a type number GGUF does not define
}

// Texts llama.cpp treats as "end of turn" when tokenizer.ggml.eot_token_id is absent, in the
// order we prefer them (Phi-3 has both <|end|> and <|endoftext|>; <|end|> ends its turns).
constexpr std::string_view kEndOfTurnTexts[] = {
    "<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",         "<|endoftext|>",
    "<|end_of_text|>", "<EOT>",      "_<EOT>",  "<｜end▁of▁sentence｜>", "<end_of_utterance>",
};
constexpr std::string_view kEndOfMessageText = "<|eom_id|>";

bool contains_ascii_lowercase(std::string_view haystack, std::string_view needle) {
  std::string lowered(haystack);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lowered.find(needle) != std::string::npos;
}

}  // namespace

VocabConfig VocabConfig::defaults_for(std::string_view tokenizer_model, std::string_view pre) {
  VocabConfig config;
  if (tokenizer_model == "llama") {  // SentencePiece
    config.bos = 1;
    config.eos = 2;
    config.unk = 0;
    config.add_bos = true;
    config.add_space_prefix = true;
  } else if (tokenizer_model == "gpt2") {  // byte-level BPE
    config.bos = 11;
    config.eos = 11;
    const std::optional<PretokenizerFlags> flags = pretokenizer_flags(pre);
    config.add_bos = flags && flags->add_bos;
  } else if (tokenizer_model == "bert") {  // WordPiece
    config.bos = 101;
    config.unk = 100;
    config.sep = 102;
    config.pad = 0;
    config.add_bos = true;
    config.add_sep = true;
  }
  config.pre = std::string(pre);
  return config;
}

Expected<Vocab> Vocab::create(std::vector<std::string> texts, std::vector<float> scores,
                              std::vector<TokenType> types, VocabConfig config) {
  const size_t n = texts.size();
  if (n == 0) {
    return make_error(ErrorCode::kInvalidArgument, "tokenizer.ggml.tokens is empty");
  }
  if (n > static_cast<size_t>(INT32_MAX)) {
    return make_error(ErrorCode::kOutOfRange,
                      "tokenizer.ggml.tokens has {} entries, more than int32 ids can address", n);
  }
  if (!scores.empty() && scores.size() != n) {
    return make_error(ErrorCode::kInvalidArgument,
                      "tokenizer.ggml.scores has {} entries but tokenizer.ggml.tokens has {}",
                      scores.size(), n);
  }
  if (!types.empty() && types.size() != n) {
    return make_error(ErrorCode::kInvalidArgument,
                      "tokenizer.ggml.token_type has {} entries but tokenizer.ggml.tokens has {}",
                      types.size(), n);
  }
  const std::pair<const char*, int32_t> ids[] = {
      {"tokenizer.ggml.bos_token_id", config.bos},
      {"tokenizer.ggml.eos_token_id", config.eos},
      {"tokenizer.ggml.unknown_token_id", config.unk},
      {"tokenizer.ggml.padding_token_id", config.pad},
      {"tokenizer.ggml.eot_token_id", config.eot},
      {"tokenizer.ggml.eom_token_id", config.eom},
      {"tokenizer.ggml.seperator_token_id", config.sep},
  };
  for (const auto& [key, id] : ids) {
    if (id != kNoToken && (id < 0 || static_cast<size_t>(id) >= n)) {
      return make_error(ErrorCode::kOutOfRange, "{} = {} is outside the vocabulary of {} tokens",
                        key, id, n);
    }
  }
  if (config.add_bos && config.bos == kNoToken) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "tokenizer.ggml.add_bos_token is true but tokenizer.ggml.bos_token_id is unset");
  }
  if (config.add_eos && config.eos == kNoToken) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "tokenizer.ggml.add_eos_token is true but tokenizer.ggml.eos_token_id is unset");
  }

  if (config.add_sep && config.sep == kNoToken) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "tokenizer.ggml.add_sep_token is true but tokenizer.ggml.seperator_token_id is unset");
  }

  Vocab vocab;
  vocab.config_ = std::move(config);
  vocab.tokens_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    TokenData& token = vocab.tokens_[i];
    token.text = std::move(texts[i]);
    // A NaN score would break the merge queue's ordering (undefined behaviour in the heap);
    // treat it as the worst score instead.
    const float score = scores.empty() ? 0.0f : scores[i];
    token.score = std::isnan(score) ? -std::numeric_limits<float>::infinity() : score;
    token.type = types.empty() ? TokenType::kNormal : types[i];
    token.attrs = attrs_for_type(token.type);
  }
  vocab.build_lookups();
  vocab.build_special_lists();
  vocab.apply_model_overrides();
  return vocab;
}

void Vocab::build_lookups() {
  text_to_id_.reserve(tokens_.size());
  for (int32_t id = 0; id < n_tokens(); ++id) {
    // An empty text can never be matched, and as a special token it would match everywhere.
    if (!text(id).empty()) text_to_id_.insert_or_assign(text(id), id);
  }
  for (int byte = 0; byte < 256; ++byte) {
    int32_t id = find(fmt::format("<0x{:02X}>", byte));
    if (id == kNoToken) id = find(std::string(1, static_cast<char>(byte)));
    byte_to_token_[static_cast<size_t>(byte)] = id;
  }
}

void Vocab::build_special_lists() {
  // End of turn / message by text, as llama.cpp does for files converted without the ids.
  // A matching token that is not typed control becomes control, so it is never shown.
  auto mark_control = [this](int32_t id) {
    tokens_[static_cast<size_t>(id)].attrs |= kAttrControl;
  };
  if (config_.eot == kNoToken) {
    for (std::string_view text : kEndOfTurnTexts) {
      if (const int32_t id = find(text); id != kNoToken) {
        config_.eot = id;
        break;
      }
    }
  }
  if (config_.eom == kNoToken) config_.eom = find(kEndOfMessageText);

  for (std::string_view text : kEndOfTurnTexts) {
    if (const int32_t id = find(text); id != kNoToken) eog_ids_.push_back(id);
  }
  if (const int32_t id = find(kEndOfMessageText); id != kNoToken) eog_ids_.push_back(id);
  for (const int32_t id : eog_ids_) mark_control(id);
  for (const int32_t id : {config_.eos, config_.eot, config_.eom}) {
    if (id != kNoToken) eog_ids_.push_back(id);
  }
  std::sort(eog_ids_.begin(), eog_ids_.end());
  eog_ids_.erase(std::unique(eog_ids_.begin(), eog_ids_.end()), eog_ids_.end());

  for (int32_t id = 0; id < n_tokens(); ++id) {
    if (has_attr(id, kAttrControl | kAttrUserDefined | kAttrUnknown) && !text(id).empty()) {
      special_tokens_.push_back(id);
    }
  }
  // std::sort, not stable_sort: equal-length texts then come in the order llama.cpp's
  // identical sort gives them, which decides the (rare) overlapping matches.
  std::sort(special_tokens_.begin(), special_tokens_.end(),
            [this](int32_t a, int32_t b) { return text(a).size() > text(b).size(); });
}

void Vocab::apply_model_overrides() {
  auto contains_any = [](std::string_view haystack, std::initializer_list<std::string_view> any) {
    return std::any_of(any.begin(), any.end(), [haystack](std::string_view needle) {
      return haystack.find(needle) != std::string_view::npos;
    });
  };
  // The fill-mask embedders' "<mask>" swallows the whitespace before it, as their Hugging
  // Face added token says (lstrip) and GGUF cannot: llama.cpp keys this on the
  // pre-tokenizer and the architecture, exactly as spelled (no lowercasing).
  if (contains_any(config_.pre, {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) ||
      contains_any(config_.architecture, {"nomic-bert-moe", "jina-bert-v3"})) {
    if (const int32_t id = find("<mask>"); id != kNoToken) {
      tokens_[static_cast<size_t>(id)].attrs |= kAttrLstrip;
    }
  } else if (contains_ascii_lowercase(config_.model_name, "phi-3") ||
             contains_ascii_lowercase(config_.model_name, "phi3")) {
    // Phi-3's special tokens swallow the whitespace after them, except the ones below
    // (llama.cpp keys this on general.name).
    for (const int32_t id : special_tokens_) tokens_[static_cast<size_t>(id)].attrs |= kAttrRstrip;
    if (const int32_t id = find("</s>"); id != kNoToken) {
      tokens_[static_cast<size_t>(id)].attrs |= kAttrRstrip;
    }
    for (std::string_view text : {"<unk>", "<s>", "<|endoftext|>"}) {
      if (const int32_t id = find(text); id != kNoToken) {
        tokens_[static_cast<size_t>(id)].attrs &= ~static_cast<uint32_t>(kAttrRstrip);
      }
    }
  }
}

int32_t Vocab::find(std::string_view text) const {
  const auto it = text_to_id_.find(text);
  return it == text_to_id_.end() ? kNoToken : it->second;
}

std::optional<uint8_t> Vocab::token_byte(int32_t id) const {
  if (!has_attr(id, kAttrByte)) return std::nullopt;
  const std::string& text = token(id).text;
  if (text.size() != 6 || text.compare(0, 3, "<0x") != 0 || text[5] != '>') return std::nullopt;
  auto hex_digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int high = hex_digit(text[3]);
  const int low = hex_digit(text[4]);
  if (high < 0 || low < 0) return std::nullopt;
  return static_cast<uint8_t>(high * 16 + low);
}

bool Vocab::is_end_of_generation(int32_t id) const {
  return id != kNoToken && std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

}  // namespace locara
