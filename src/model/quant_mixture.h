// Model file types (llama.cpp's LLAMA_FTYPE_*, stored as general.file_type) and the
// mixture rules that pick each tensor's type for one, as llama.cpp's quantizer does.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/tensor_type.h"

namespace locara {

// Numbered as llama.cpp's llama_ftype: never renumber.
enum class FileType : uint32_t {
  kAllF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 7,
  kQ5_0 = 8,
  kQ5_1 = 9,
  kQ2_K = 10,
  kQ3_K_S = 11,
  kQ3_K_M = 12,
  kQ3_K_L = 13,
  kQ4_K_S = 14,
  kQ4_K_M = 15,
  kQ5_K_S = 16,
  kQ5_K_M = 17,
  kQ6_K = 18,
  kIQ4_NL = 25,
  kIQ4_XS = 30,
  kBF16 = 32,
};

struct FileTypeInfo {
  FileType type;
  std::string_view name;         // what users type: "q4_K_M", "f16", ...
  std::string_view description;  // llama.cpp's llama_model_ftype_name: "Q4_K - Medium"
  TensorType default_type;       // what most weights become
};

// Every file type we can write, in the order `locara quantize --help` lists them.
std::span<const FileTypeInfo> file_types();
const FileTypeInfo& file_type_info(FileType type);
// Parses a name ("q4_K_M", "Q8_0", case-insensitive; "q4_K" means q4_K_M as in
// llama-quantize); nullopt if unknown.
std::optional<FileType> file_type_from_name(std::string_view name);
// "f32, f16, bf16, q8_0, ...": every name, for help texts and error messages.
std::string file_type_names();
// The description of a general.file_type value read from a file ("unknown" if not ours).
std::string_view file_type_description(uint64_t file_type_id);

// A tensor as the rules see it.
struct MixtureTensor {
  std::string name;
  TensorType type = TensorType::kF32;  // its type now
  std::vector<int64_t> dims;           // dims[0] = row length
};

// The model facts the rules read.
struct MixtureModel {
  std::string architecture = "llama";
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_expert = 0;
};

struct MixtureOptions {
  // Every quantizable tensor gets the file type's default type (llama-quantize --pure);
  // shape fallbacks still apply.
  bool pure = false;
};

struct TensorAssignment {
  TensorType type = TensorType::kF32;
  // The mixture's choice did not fit the row length and a fallback type was taken.
  bool fell_back = false;
};

// The type each tensor gets in a file of `file_type`, in the order given; follows
// llama.cpp's llama_tensor_get_type (no importance matrix): 1-D tensors and norms keep
// their type; output.weight (and token_embd when tied to it) gets Q6_K in most quantized
// mixtures; attn_v and ffn_down take more bits in some layers (the use_more_bits rule);
// a row length that the choice's block size does not divide falls back (k-quants to
// Q4_0/Q5_0/Q5_1/Q8_0, then F16). Where llama.cpp has no fallback (a legacy type) the
// tensor keeps its type.
std::vector<TensorAssignment> assign_tensor_types(std::span<const MixtureTensor> tensors,
                                                  const MixtureModel& model, FileType file_type,
                                                  const MixtureOptions& options = {});

// True for the tensors llama.cpp quantizes at all (2-D+ weights that are not norms).
bool is_quantizable_tensor(const MixtureTensor& tensor);

}  // namespace locara
