// The dispatch tables: the scalar reference one, and the active one the engine calls.
#include "ops/type_traits.h"

#include <array>

#include "ops/cpu_features.h"
#include "ops/kernel_table.h"
#include "ops/kernels_ref.h"
#include "ops/quant_blocks.h"
#include "ops/quant_blocks_k.h"

namespace locara::ops {
namespace {

// One entry per type id; an entry without to_float means "no kernels".
using Table = KernelTable;

void set(Table& table, TensorType type, TypeTraits traits) {
  entry(table, type) = traits;
}

Table make_reference_table() {
  using T = TensorType;
  Table table{};
  set(table, T::kF32,
      {ref::to_float_f32, ref::from_float_f32, ref::vec_dot_f32, T::kF32, 1, sizeof(float)});
  set(table, T::kF16,
      {ref::to_float_f16, ref::from_float_f16, ref::vec_dot_f16, T::kF16, 1, sizeof(uint16_t)});
  set(table, T::kBF16,
      {ref::to_float_bf16, ref::from_float_bf16, ref::vec_dot_bf16, T::kBF16, 1, sizeof(uint16_t)});
  set(table, T::kQ4_0,
      {ref::to_float_q4_0, ref::from_float_q4_0, ref::vec_dot_q4_0_q8_0, T::kQ8_0, kQuantBlockSize,
       sizeof(BlockQ4_0)});
  set(table, T::kQ4_1,
      {ref::to_float_q4_1, ref::from_float_q4_1, ref::vec_dot_q4_1_q8_1, T::kQ8_1, kQuantBlockSize,
       sizeof(BlockQ4_1)});
  set(table, T::kQ5_0,
      {ref::to_float_q5_0, ref::from_float_q5_0, ref::vec_dot_q5_0_q8_0, T::kQ8_0, kQuantBlockSize,
       sizeof(BlockQ5_0)});
  set(table, T::kQ5_1,
      {ref::to_float_q5_1, ref::from_float_q5_1, ref::vec_dot_q5_1_q8_1, T::kQ8_1, kQuantBlockSize,
       sizeof(BlockQ5_1)});
  set(table, T::kQ8_0,
      {ref::to_float_q8_0, ref::from_float_q8_0, ref::vec_dot_q8_0_q8_0, T::kQ8_0, kQuantBlockSize,
       sizeof(BlockQ8_0)});
  // Q8_1 only ever holds converted activations: it has no dot of its own.
  set(table, T::kQ8_1,
      {ref::to_float_q8_1, ref::from_float_q8_1, nullptr, T::kQ8_1, kQuantBlockSize,
       sizeof(BlockQ8_1)});
  // K formats and IQ4: ggml pairs the super-block formats with Q8_K activations and
  // IQ4_NL (32-element blocks) with Q8_0. Q8_K, like Q8_1, only holds activations.
  set(table, T::kQ2_K,
      {ref::to_float_q2_k, ref::from_float_q2_k, ref::vec_dot_q2_k_q8_k, T::kQ8_K, kSuperBlockSize,
       sizeof(BlockQ2_K)});
  set(table, T::kQ3_K,
      {ref::to_float_q3_k, ref::from_float_q3_k, ref::vec_dot_q3_k_q8_k, T::kQ8_K, kSuperBlockSize,
       sizeof(BlockQ3_K)});
  set(table, T::kQ4_K,
      {ref::to_float_q4_k, ref::from_float_q4_k, ref::vec_dot_q4_k_q8_k, T::kQ8_K, kSuperBlockSize,
       sizeof(BlockQ4_K)});
  set(table, T::kQ5_K,
      {ref::to_float_q5_k, ref::from_float_q5_k, ref::vec_dot_q5_k_q8_k, T::kQ8_K, kSuperBlockSize,
       sizeof(BlockQ5_K)});
  set(table, T::kQ6_K,
      {ref::to_float_q6_k, ref::from_float_q6_k, ref::vec_dot_q6_k_q8_k, T::kQ8_K, kSuperBlockSize,
       sizeof(BlockQ6_K)});
  set(table, T::kQ8_K,
      {ref::to_float_q8_k, ref::from_float_q8_k, nullptr, T::kQ8_K, kSuperBlockSize,
       sizeof(BlockQ8_K)});
  set(table, T::kIQ4_NL,
      {ref::to_float_iq4_nl, ref::from_float_iq4_nl, ref::vec_dot_iq4_nl_q8_0, T::kQ8_0,
       kQuantBlockSize, sizeof(BlockIQ4_NL)});
  set(table, T::kIQ4_XS,
      {ref::to_float_iq4_xs, ref::from_float_iq4_xs, ref::vec_dot_iq4_xs_q8_k, T::kQ8_K,
       kSuperBlockSize, sizeof(BlockIQ4_XS)});
  return table;
}

const Table& reference_table() {
  static const Table table = make_reference_table();
  return table;
}

// The reference table with entries replaced by the widest kernels this CPU runs
// (each ISA's kernels are tested against the reference entries they replace).
Table make_active_table() {
  Table table = reference_table();
  const CpuFeatures& cpu = cpu_features();
#if defined(__x86_64__) || defined(_M_X64)
  if (cpu.has_avx2_kernels()) install_avx2_kernels(table);
  if (cpu.has_avx512_kernels()) install_avx512_kernels(table);
#elif defined(__aarch64__)
  if (cpu.has_neon_kernels()) install_neon_kernels(table);
  if (cpu.has_dotprod_kernels()) install_dotprod_kernels(table);
#endif
  (void)cpu;
  return table;
}

const Table& active_table() {
  static const Table table = make_active_table();
  return table;
}

const TypeTraits* lookup(const Table& table, TensorType type) {
  const auto index = static_cast<size_t>(type);
  if (index >= table.size() || table[index].to_float == nullptr) return nullptr;
  return &table[index];
}

}  // namespace

const TypeTraits* type_traits(TensorType type) {
  return lookup(active_table(), type);
}

const TypeTraits* reference_type_traits(TensorType type) {
  return lookup(reference_table(), type);
}

}  // namespace locara::ops
