#include "model/weights.h"

#include <fmt/ranges.h>

#include "ops/type_traits.h"

namespace locara {

Expected<const GgufTensor*> TensorBinder::find(const std::string& name) const {
  const GgufTensor* tensor = gguf_.find_tensor(name);
  if (!tensor) {
    return make_error(ErrorCode::kNotFound, "{}: required tensor '{}' is missing", gguf_.path(),
                      name);
  }
  return tensor;
}

Expected<ops::WeightMatrix> TensorBinder::matrix(const std::string& name, int64_t row_length,
                                                 int64_t n_rows) const {
  LOCARA_ASSIGN_OR_RETURN(const GgufTensor* tensor, find(name));
  const bool shape_ok =
      tensor->dims.size() == 2 && tensor->dims[0] == row_length && tensor->dims[1] == n_rows;
  if (!shape_ok) {
    return make_error(ErrorCode::kCorruptFile, "{}: tensor '{}' has shape [{}], expected [{}, {}]",
                      gguf_.path(), name, fmt::join(tensor->dims, ", "), row_length, n_rows);
  }
  const ops::TypeTraits* traits = ops::type_traits(tensor->type);
  if (!traits || !traits->vec_dot || !traits->to_float) {
    return make_error(ErrorCode::kUnsupported, "{}: tensor '{}' has type {}, which has no kernels",
                      gguf_.path(), name, tensor_type_name(tensor->type));
  }
  const auto row_bytes = tensor_row_bytes(tensor->type, row_length);
  if (!row_bytes) {
    return make_error(ErrorCode::kCorruptFile, "{}: tensor '{}': row of {} is not whole blocks",
                      gguf_.path(), name, row_length);
  }
  return ops::WeightMatrix{tensor->type, tensor->data, row_length, n_rows, *row_bytes};
}

Expected<const float*> TensorBinder::f32_vector(const std::string& name, int64_t n) const {
  LOCARA_ASSIGN_OR_RETURN(const GgufTensor* tensor, find(name));
  if (tensor->type != TensorType::kF32 || tensor->n_elements() != n) {
    return make_error(ErrorCode::kCorruptFile, "{}: tensor '{}' is {} [{}], expected f32 [{}]",
                      gguf_.path(), name, tensor_type_name(tensor->type),
                      fmt::join(tensor->dims, ", "), n);
  }
  return reinterpret_cast<const float*>(tensor->data);
}

}  // namespace locara
