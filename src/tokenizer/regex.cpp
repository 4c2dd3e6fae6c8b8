#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/utf8.h"

namespace locara {

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// Per-thread scratch for matching: one match-data block (only the whole match is read, so one
// pair of offsets suffices for every pattern) and a JIT stack larger than the 32 KiB default,
// so long runs of one character class do not fall back to the interpreter.
class MatchScratch {
 public:
  MatchScratch()
      : match_data_(pcre2_match_data_create(1, nullptr)),
        jit_stack_(pcre2_jit_stack_create(64 * 1024, 1024 * 1024, nullptr)),
        context_(pcre2_match_context_create(nullptr)) {
    if (context_ && jit_stack_) pcre2_jit_stack_assign(context_, nullptr, jit_stack_);
  }
  ~MatchScratch() {
    pcre2_match_context_free(context_);
    pcre2_jit_stack_free(jit_stack_);
    pcre2_match_data_free(match_data_);
  }
  MatchScratch(const MatchScratch&) = delete;
  MatchScratch& operator=(const MatchScratch&) = delete;

  pcre2_match_data* match_data() const { return match_data_; }
  pcre2_match_context* context() const { return context_; }

 private:
  pcre2_match_data* match_data_;
  pcre2_jit_stack* jit_stack_;
  pcre2_match_context* context_;
};

MatchScratch& scratch() {
  thread_local MatchScratch instance;
  return instance;
}

}  // namespace

Expected<Regex> Regex::compile(std::string_view pattern) {
  // UCP: \s, \w, \d and POSIX classes follow Unicode properties, as in the tokenizers the
  // patterns come from. MATCH_INVALID_UTF: text is never rejected; bad bytes just never match.
  // DOLLAR_ENDONLY: $ is the end of the text, never "before a final newline".
  constexpr uint32_t kOptions =
      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY;
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   kOptions, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    return make_error(ErrorCode::kInvalidArgument, "regex '{}': {} at offset {}", pattern,
                      reinterpret_cast<const char*>(message), error_offset);
  }
  auto owned = std::make_shared<Code>();
  owned->code = code;
  // Without JIT support (some platforms) matching still works, interpreted.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  return Regex(std::string(pattern), std::move(owned));
}

void Regex::find_all(std::string_view text, std::vector<TextSpan>& matches) const {
  const MatchScratch& local = scratch();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start <= text.size()) {
    int rc = pcre2_match(code_->code, subject, text.size(), start, 0, local.match_data(),
                         local.context());
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {  // past even the larger stack: interpret
      rc = pcre2_match(code_->code, subject, text.size(), start, PCRE2_NO_JIT, local.match_data(),
                       local.context());
    }
    // No match, or a resource limit on pathological text: the rest stays unmatched.
    if (rc < 0) break;
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(local.match_data());
    const size_t begin = ovector[0];
    const size_t end = ovector[1];
    if (end < begin) break;  // \K in a lookaround can do this; none of our patterns use it
    matches.push_back({begin, end - begin});
    if (end > begin) {
      start = end;
    } else if (begin < text.size()) {
      start = begin;
      utf8_decode(text, start);  // one character on (or one byte, in invalid text)
    } else {
      break;
    }
  }
}

}  // namespace locara
