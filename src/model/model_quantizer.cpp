#include "model/model_quantizer.h"

#include <filesystem>
#include <string_view>

#include "gguf/gguf_writer.h"
#include "ops/convert_rows.h"

namespace locara {
namespace {

// Keys that describe a split model: the output is always one file.
bool is_split_key(std::string_view key) {
  return key == "split.no" || key == "split.count" || key == "split.tensors.count";
}

Expected<MixtureModel> read_mixture_model(const GgufReader& input) {
  MixtureModel model;
  LOCARA_ASSIGN_OR_RETURN(model.architecture, input.get_string("general.architecture"));
  const std::string prefix = model.architecture + ".";
  LOCARA_ASSIGN_OR_RETURN(model.n_layer, input.get_int(prefix + "block_count"));
  LOCARA_ASSIGN_OR_RETURN(model.n_head, input.get_int(prefix + "attention.head_count"));
  auto n_head_kv = input.get_int(prefix + "attention.head_count_kv");
  model.n_head_kv = n_head_kv ? *n_head_kv : model.n_head;
  auto n_expert = input.get_int(prefix + "expert_count");
  model.n_expert = n_expert ? *n_expert : 0;
  return model;
}

}  // namespace

Expected<QuantizeReport> plan_quantization(const GgufReader& input,
                                           const QuantizeOptions& options) {
  auto model = read_mixture_model(input);
  if (!model) {
    return make_error(model.error().code, "{}: {}", input.path(), model.error().message);
  }
  std::vector<MixtureTensor> described;
  for (const GgufTensor& tensor : input.tensors()) {
    described.push_back({tensor.name, tensor.type, tensor.dims});
  }
  const auto assignments =
      assign_tensor_types(described, *model, options.file_type, {.pure = options.pure});

  const FileTypeInfo& file_type = file_type_info(options.file_type);
  QuantizeReport report;
  for (size_t i = 0; i < input.tensors().size(); ++i) {
    const GgufTensor& tensor = input.tensors()[i];
    QuantizedTensor entry{tensor.name,         tensor.type,
                          assignments[i].type, assignments[i].fell_back,
                          tensor.n_bytes,      tensor.n_bytes};
    if (entry.to != entry.from) {
      if (!ops::can_convert_to(entry.to)) {
        const bool default_works = ops::can_convert_to(file_type.default_type);
        return make_error(
            ErrorCode::kUnsupported,
            "{}: file type {} needs {} for tensor '{}', which is not supported yet "
            "(no quantization kernel){}",
            input.path(), file_type.name, tensor_type_name(entry.to), tensor.name,
            !options.pure && default_works ? "; --pure uses the default type everywhere" : "");
      }
      const bool source_is_float = tensor.type == TensorType::kF32 ||
                                   tensor.type == TensorType::kF16 ||
                                   tensor.type == TensorType::kBF16;
      if (!source_is_float && !options.allow_requantize) {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}: tensor '{}' is already {}; requantizing loses quality "
                          "(--allow-requantize accepts it)",
                          input.path(), tensor.name, tensor_type_name(tensor.type));
      }
      if (!ops::can_convert_from(tensor.type)) {
        return make_error(ErrorCode::kUnsupported,
                          "{}: tensor '{}': reading type {} is not supported yet", input.path(),
                          tensor.name, tensor_type_name(tensor.type));
      }
      entry.bytes_after =
          *tensor_row_bytes(entry.to, tensor.row_length()) * static_cast<uint64_t>(tensor.n_rows());
    }
    report.bytes_before += entry.bytes_before;
    report.bytes_after += entry.bytes_after;
    report.n_fallbacks += entry.fell_back ? 1 : 0;
    report.tensors.push_back(std::move(entry));
  }
  return report;
}

Expected<QuantizeReport> quantize_model(const std::string& input_path,
                                        const std::string& output_path,
                                        const QuantizeOptions& options) {
  std::error_code error;
  if (std::filesystem::equivalent(input_path, output_path, error)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: the output would overwrite the input; choose another path", output_path);
  }
  LOCARA_ASSIGN_OR_RETURN(auto input, GgufReader::open(input_path));
  LOCARA_ASSIGN_OR_RETURN(QuantizeReport report, plan_quantization(*input, options));

  GgufWriter writer(input->alignment());
  for (const auto& [key, value] : input->metadata()) {
    if (!is_split_key(key)) writer.set(key, value);
  }
  writer.set_uint32("general.file_type", static_cast<uint32_t>(options.file_type));
  writer.set_uint32("general.quantization_version", 2);

  std::vector<StreamedTensor> tensors;
  tensors.reserve(input->tensors().size());
  for (size_t i = 0; i < input->tensors().size(); ++i) {
    const GgufTensor& source = input->tensors()[i];
    const QuantizedTensor& plan = report.tensors[i];
    StreamedTensor tensor{source.name, source.dims, plan.to, {}, {}};
    if (plan.to == plan.from) {
      tensor.bytes = {source.data, source.n_bytes};
    } else {
      const GgufTensor* from = &source;
      tensor.make_rows = [from](int64_t row_begin, int64_t row_end, float* out,
                                ops::ThreadPool& pool) {
        const size_t row_bytes = *tensor_row_bytes(from->type, from->row_length());
        ops::dequantize_rows(from->type, from->data + static_cast<size_t>(row_begin) * row_bytes,
                             out, from->row_length(), row_end - row_begin, pool);
      };
    }
    tensors.push_back(std::move(tensor));
  }
  ops::ThreadPool pool(options.n_threads > 0 ? options.n_threads : 1);
  LOCARA_RETURN_IF_ERROR(
      write_streamed_model(writer, tensors, output_path, pool, options.on_progress));
  return report;
}

}  // namespace locara
