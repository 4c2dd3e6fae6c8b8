// The vocabulary of a model: token texts, scores, types and attributes, the special ids and
// flags, and the lookups every tokenizer family needs (text -> id, byte -> byte token).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace locara {

class GgufReader;

inline constexpr int32_t kNoToken = -1;

// Token types as GGUF stores them in tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Attribute bits of a token (llama.cpp's llama_token_attr): its type, plus overrides that
// llama.cpp applies per model (a control-looking end-of-turn token typed normal becomes
// control; Phi-3's special tokens swallow the whitespace after them).
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 7,  // matched as a special token, it eats whitespace to its left
  kAttrRstrip = 1u << 8,  // ... and to its right
};

struct TokenData {
  std::string text;
  float score = 0.0f;
  TokenType type = TokenType::kNormal;
  uint32_t attrs = kAttrNormal;
};

// Special ids and flags. kNoToken means "none". The GGUF keys they come from are named in
// Vocab::from_gguf; missing keys take the family defaults llama.cpp uses.
struct VocabConfig {
  int32_t bos = kNoToken;         // tokenizer.ggml.bos_token_id
  int32_t eos = kNoToken;         // tokenizer.ggml.eos_token_id
  int32_t unk = kNoToken;         // tokenizer.ggml.unknown_token_id
  int32_t pad = kNoToken;         // tokenizer.ggml.padding_token_id
  int32_t eot = kNoToken;         // tokenizer.ggml.eot_token_id (end of turn)
  int32_t eom = kNoToken;         // tokenizer.ggml.eom_token_id (end of message)
  int32_t sep = kNoToken;         // tokenizer.ggml.seperator_token_id (sic; BERT's [SEP])
  bool add_bos = false;           // tokenizer.ggml.add_bos_token
  bool add_eos = false;           // tokenizer.ggml.add_eos_token
  bool add_sep = false;           // tokenizer.ggml.add_sep_token
  bool add_space_prefix = false;  // tokenizer.ggml.add_space_prefix
  // general.name: llama.cpp keys some token attributes on it (Phi-3's rstrip).
  std::string model_name;
  // general.architecture: so is "<mask>"'s lstrip (nomic-bert-moe, jina-bert-v3).
  std::string architecture;
  // tokenizer.ggml.pre: the pre-tokenizer of a BPE vocabulary (pretokenizer.h).
  std::string pre;

  // llama.cpp's defaults for a tokenizer.ggml.model value ("llama": bos 1, eos 2, unk 0,
  // add_bos, add_space_prefix; "bert": [CLS] 101 as BOS, [SEP] 102, both added), and for
  // some BPE pre-tokenizers (Llama 3 adds BOS); unknown models get no special tokens.
  static VocabConfig defaults_for(std::string_view tokenizer_model, std::string_view pre = {});
};

// Immutable after construction; thread-safe for concurrent reads.
class Vocab {
 public:
  // Builds a vocabulary from parallel arrays (scores and types may be empty: all 0.0 /
  // normal). Fails, naming the GGUF key the value would come from, on mismatched lengths,
  // an empty token list, special ids outside [0, n_tokens), or add_bos/add_eos/add_sep
  // without the id to add.
  static Expected<Vocab> create(std::vector<std::string> texts, std::vector<float> scores,
                                std::vector<TokenType> types, VocabConfig config);
  // Reads tokenizer.ggml.* from a GGUF file; errors name the file and the key.
  static Expected<Vocab> from_gguf(const GgufReader& gguf);

  int32_t n_tokens() const { return static_cast<int32_t>(tokens_.size()); }
  bool contains(int32_t id) const { return id >= 0 && id < n_tokens(); }
  // Precondition for the accessors taking an id: contains(id).
  const TokenData& token(int32_t id) const { return tokens_[static_cast<size_t>(id)]; }
  const std::string& text(int32_t id) const { return token(id).text; }
  float score(int32_t id) const { return token(id).score; }
  TokenType type(int32_t id) const { return token(id).type; }
  // False for ids outside the vocabulary.
  bool has_attr(int32_t id, uint32_t attr) const {
    return contains(id) && (token(id).attrs & attr) != 0;
  }

  // The id whose text is exactly `text`, or kNoToken. With duplicate texts the last id
  // wins, as in llama.cpp's token_to_id map.
  int32_t find(std::string_view text) const;
  // The token standing for a raw byte: "<0xNN>" (SentencePiece byte fallback), else the
  // one-character text of the byte, else kNoToken.
  int32_t byte_token(uint8_t byte) const { return byte_to_token_[byte]; }
  // The byte a kByte token stands for, parsed from its "<0xNN>" text.
  std::optional<uint8_t> token_byte(int32_t id) const;

  int32_t bos() const { return config_.bos; }
  int32_t eos() const { return config_.eos; }
  int32_t unk() const { return config_.unk; }
  int32_t pad() const { return config_.pad; }
  int32_t eot() const { return config_.eot; }
  int32_t eom() const { return config_.eom; }
  int32_t sep() const { return config_.sep; }
  bool add_bos() const { return config_.add_bos; }
  bool add_eos() const { return config_.add_eos; }
  bool add_sep() const { return config_.add_sep; }
  bool add_space_prefix() const { return config_.add_space_prefix; }
  const VocabConfig& config() const { return config_; }

  // Ids of control, user-defined and unknown tokens with non-empty text, longest text first:
  // the texts a tokenizer looks for in its input before splitting the rest.
  const std::vector<int32_t>& special_tokens() const { return special_tokens_; }
  // EOS, EOT, EOM and tokens whose text llama.cpp knows to end a turn ("<|end|>", ...).
  bool is_end_of_generation(int32_t id) const;
  const std::vector<int32_t>& end_of_generation_ids() const { return eog_ids_; }

 private:
  // Transparent hashing so lookups by string_view do not allocate.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };

  Vocab() = default;
  void build_lookups();
  void apply_model_overrides();
  void build_special_lists();

  std::vector<TokenData> tokens_;
  VocabConfig config_;
  std::unordered_map<std::string, int32_t, TextHash, std::equal_to<>> text_to_id_;
  std::array<int32_t, 256> byte_to_token_{};
  std::vector<int32_t> special_tokens_;
  std::vector<int32_t> eog_ids_;  // sorted
};

}  // namespace locara
