// Vocab::from_gguf: the tokenizer.ggml.* keys of a GGUF file into a Vocab.
#include <cstdint>
#include <limits>

#include "gguf/gguf_reader.h"
#include "tokenizer/gguf_strings.h"
#include "tokenizer/vocab.h"

namespace locara {
namespace {

constexpr std::string_view kTokensKey = "tokenizer.ggml.tokens";
constexpr std::string_view kScoresKey = "tokenizer.ggml.scores";
constexpr std::string_view kTypesKey = "tokenizer.ggml.token_type";

// An array-valued key: nullptr when absent, an error when present but not an array.
Expected<const GgufArray*> find_array(const GgufReader& gguf, std::string_view key) {
  const GgufValue* value = gguf.find(key);
  if (value == nullptr) return static_cast<const GgufArray*>(nullptr);
  const GgufArray* array = value->as_array();
  if (array == nullptr) {
    return make_error(ErrorCode::kCorruptFile, "{}: {} is a {}, not an array", gguf.path(), key,
                      gguf_value_type_name(value->type));
  }
  return array;
}

Expected<std::vector<std::string>> read_texts(const GgufReader& gguf) {
  LOCARA_ASSIGN_OR_RETURN(const std::vector<std::string_view> texts,
                          read_gguf_strings(gguf, kTokensKey, "no tokenizer vocabulary"));
  return std::vector<std::string>(texts.begin(), texts.end());
}

// Scores are float32 in files from llama.cpp's converters; llama.cpp also accepts int32.
Expected<std::vector<float>> read_scores(const GgufReader& gguf) {
  LOCARA_ASSIGN_OR_RETURN(const GgufArray* array, find_array(gguf, kScoresKey));
  std::vector<float> scores;
  if (array == nullptr) return scores;
  if (array->element_type != GgufValueType::kFloat32 &&
      array->element_type != GgufValueType::kInt32) {
    return make_error(ErrorCode::kCorruptFile, "{}: {} holds {}, expected float32 or int32",
                      gguf.path(), kScoresKey, gguf_value_type_name(array->element_type));
  }
  scores.reserve(array->elements.size());
  for (const GgufValue& element : array->elements) {
    const std::optional<double> score = element.as_float();
    if (!score) {
      return make_error(ErrorCode::kCorruptFile, "{}: {}[{}] is not a number", gguf.path(),
                        kScoresKey, scores.size());
    }
    scores.push_back(static_cast<float>(*score));
  }
  return scores;
}

Expected<std::vector<TokenType>> read_types(const GgufReader& gguf) {
  LOCARA_ASSIGN_OR_RETURN(const GgufArray* array, find_array(gguf, kTypesKey));
  std::vector<TokenType> types;
  if (array == nullptr) return types;
  types.reserve(array->elements.size());
  for (const GgufValue& element : array->elements) {
    const std::optional<int64_t> type = element.as_int();
    if (!type) {
      return make_error(ErrorCode::kCorruptFile, "{}: {}[{}] is not an integer", gguf.path(),
                        kTypesKey, types.size());
    }
    // Numbers GGUF does not define read as kUndefined (rendered as nothing), as in llama.cpp.
    const bool known = *type >= 0 && *type <= static_cast<int64_t>(TokenType::kByte);
    types.push_back(known ? static_cast<TokenType>(*type) : TokenType::kUndefined);
  }
  return types;
}

// How a special id key resolves against the vocabulary size.
enum class OutOfRange {
  kError,       // an id we add or stop on: a bad value is a broken file
  kUseDefault,  // pad, sep: models ship pad = n_vocab; llama.cpp keeps the default
};

Status read_special_id(const GgufReader& gguf, std::string_view key, size_t n_tokens,
                       OutOfRange policy, int32_t& id) {
  if (gguf.find(key) == nullptr) return ok_status();
  LOCARA_ASSIGN_OR_RETURN(const int64_t value, gguf.get_int(key));
  // Converters write 0xFFFFFFFF (or -1) for "none"; llama.cpp then keeps the default id.
  if (value < 0 || value == std::numeric_limits<uint32_t>::max()) return ok_status();
  if (static_cast<uint64_t>(value) < n_tokens) {
    id = static_cast<int32_t>(value);
    return ok_status();
  }
  if (policy == OutOfRange::kUseDefault) return ok_status();
  return make_error(ErrorCode::kOutOfRange, "{}: {} = {} is outside the vocabulary of {} tokens",
                    gguf.path(), key, value, n_tokens);
}

Status read_flag(const GgufReader& gguf, std::string_view key, bool& flag) {
  if (gguf.find(key) == nullptr) return ok_status();
  LOCARA_ASSIGN_OR_RETURN(flag, gguf.get_bool(key));
  return ok_status();
}

}  // namespace

Expected<Vocab> Vocab::from_gguf(const GgufReader& gguf) {
  std::string model;
  if (gguf.find("tokenizer.ggml.model") != nullptr) {
    LOCARA_ASSIGN_OR_RETURN(model, gguf.get_string("tokenizer.ggml.model"));
  }
  std::string pre;
  if (gguf.find("tokenizer.ggml.pre") != nullptr) {
    LOCARA_ASSIGN_OR_RETURN(pre, gguf.get_string("tokenizer.ggml.pre"));
  }
  VocabConfig config = VocabConfig::defaults_for(model, pre);
  if (gguf.find("general.name") != nullptr) {
    LOCARA_ASSIGN_OR_RETURN(config.model_name, gguf.get_string("general.name"));
  }
  if (gguf.find("general.architecture") != nullptr) {
    LOCARA_ASSIGN_OR_RETURN(config.architecture, gguf.get_string("general.architecture"));
  }

  LOCARA_ASSIGN_OR_RETURN(std::vector<std::string> texts, read_texts(gguf));
  LOCARA_ASSIGN_OR_RETURN(std::vector<float> scores, read_scores(gguf));
  LOCARA_ASSIGN_OR_RETURN(std::vector<TokenType> types, read_types(gguf));
  const size_t n = texts.size();

  // A family default that does not fit this vocabulary is dropped, as llama.cpp does.
  for (int32_t* id : {&config.bos, &config.eos, &config.unk, &config.pad, &config.sep}) {
    if (*id != kNoToken && static_cast<size_t>(*id) >= n) *id = kNoToken;
  }
  const std::pair<std::string_view, int32_t*> error_ids[] = {
      {"tokenizer.ggml.bos_token_id", &config.bos},
      {"tokenizer.ggml.eos_token_id", &config.eos},
      {"tokenizer.ggml.unknown_token_id", &config.unk},
      {"tokenizer.ggml.eot_token_id", &config.eot},
      {"tokenizer.ggml.eom_token_id", &config.eom},
  };
  for (const auto& [key, id] : error_ids) {
    LOCARA_RETURN_IF_ERROR(read_special_id(gguf, key, n, OutOfRange::kError, *id));
  }
  LOCARA_RETURN_IF_ERROR(read_special_id(gguf, "tokenizer.ggml.padding_token_id", n,
                                         OutOfRange::kUseDefault, config.pad));
  LOCARA_RETURN_IF_ERROR(read_special_id(gguf, "tokenizer.ggml.seperator_token_id", n,
                                         OutOfRange::kUseDefault, config.sep));
  LOCARA_RETURN_IF_ERROR(read_flag(gguf, "tokenizer.ggml.add_bos_token", config.add_bos));
  LOCARA_RETURN_IF_ERROR(read_flag(gguf, "tokenizer.ggml.add_eos_token", config.add_eos));
  LOCARA_RETURN_IF_ERROR(read_flag(gguf, "tokenizer.ggml.add_sep_token", config.add_sep));
  LOCARA_RETURN_IF_ERROR(
      read_flag(gguf, "tokenizer.ggml.add_space_prefix", config.add_space_prefix));

  Expected<Vocab> vocab =
      Vocab::create(std::move(texts), std::move(scores), std::move(types), std::move(config));
  if (!vocab) {
    return Error{vocab.error().code, gguf.path() + ": " + vocab.error().message};
  }
  return vocab;
}

}  // namespace locara
