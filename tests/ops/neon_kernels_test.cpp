// The arm64 kernels (src/ops/arm/) against the reference table: every vec_dot on random
// and raw-byte rows of ragged lengths, every gemm_tile against its own vec_dot (same
// bits), and the SIMD from_float byte for byte. Both kernel families are tested in one
// run, plain NEON and NEON + dotprod (when the CPU has it), whatever LOCARA_ISA says.
// Elsewhere than on arm64 the tests skip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gguf/tensor_type.h"
#include "ops/cpu_features.h"
#include "ops/half.h"
#include "ops/kernel_table.h"
#include "ops/quant_blocks.h"
#include "ops/quant_blocks_k.h"
#include "ops/type_traits.h"
#include "test_rows.h"

namespace locara::ops {
namespace {

#if defined(__aarch64__)

using test_support::decode;
using test_support::encode;
using test_support::random_row;

// A dispatch table as make_active_table() builds it, for one arm64 kernel family.
struct Family {
  std::string name;
  KernelTable table;
};

KernelTable reference_copy() {
  KernelTable table{};
  for (size_t i = 0; i < table.size(); ++i) {
    if (const TypeTraits* ref = reference_type_traits(static_cast<TensorType>(i))) table[i] = *ref;
  }
  return table;
}

const std::vector<Family>& families() {
  static const std::vector<Family> all = [] {
    std::vector<Family> out;
    Family neon{"neon", reference_copy()};
    install_neon_kernels(neon.table);
    out.push_back(neon);
    // detected, not capped: LOCARA_ISA=neon limits the engine, not what this test covers.
    if (detected_cpu_features().has_dotprod_kernels()) {
      Family dotprod{"neon-dotprod", neon.table};
      install_dotprod_kernels(dotprod.table);
      out.push_back(dotprod);
    }
    return out;
  }();
  return all;
}

const TypeTraits& reference(TensorType type) {
  return *reference_type_traits(type);
}

// The types whose vec_dot a family replaces (what these tests must cover).
std::vector<TensorType> replaced_dots(const Family& family) {
  std::vector<TensorType> out;
  for (size_t i = 0; i < family.table.size(); ++i) {
    const auto type = static_cast<TensorType>(i);
    const TypeTraits* ref = reference_type_traits(type);
    if (ref != nullptr && family.table[i].vec_dot != nullptr &&
        family.table[i].vec_dot != ref->vec_dot) {
      out.push_back(type);
    }
  }
  return out;
}

// Row lengths: ragged block counts, and for the float types lengths off every vector width.
std::vector<int64_t> lengths_for(const TypeTraits& traits) {
  std::vector<int64_t> out;
  for (int64_t blocks : {1, 2, 3, 5, 8, 17, 33}) out.push_back(blocks * traits.block_size);
  if (traits.block_size == 1) {
    for (int64_t n : {1, 3, 4, 7, 9, 15, 16, 31, 33, 63, 100, 1000, 4097}) out.push_back(n);
  } else if (traits.block_size == kQuantBlockSize) {
    out.push_back(129 * kQuantBlockSize);
  }
  return out;
}

// The float-summation slack allowed between two exact-integer (or exact-product) dots
// that only add in a different order: relative to the sum of |x_i * y_i|.
double dot_tolerance(const TypeTraits& x_traits, const std::vector<uint8_t>& x,
                     const TypeTraits& y_traits, const std::vector<uint8_t>& y, int64_t n) {
  const std::vector<float> xf = decode(x_traits, x, n);
  const std::vector<float> yf = decode(y_traits, y, n);
  double magnitude = 0.0;
  for (int64_t i = 0; i < n; ++i) magnitude += std::fabs(static_cast<double>(xf[i]) * yf[i]);
  return 2e-6 * magnitude + 1e-6;
}

TEST(NeonKernelsTest, FamiliesReplaceTheHotKernels) {
  for (const Family& family : families()) {
    SCOPED_TRACE(family.name);
    const std::vector<TensorType> replaced = replaced_dots(family);
    for (TensorType type : {TensorType::kF32, TensorType::kF16, TensorType::kQ4_0,
                            TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1,
                            TensorType::kQ8_0, TensorType::kQ4_K, TensorType::kQ6_K}) {
      EXPECT_NE(std::find(replaced.begin(), replaced.end(), type), replaced.end())
          << tensor_type_name(type);
    }
    for (TensorType type : {TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K,
                            TensorType::kQ5_K, TensorType::kQ6_K}) {
      EXPECT_NE(family.table[static_cast<size_t>(type)].gemm_tile, nullptr)
          << tensor_type_name(type);
    }
    EXPECT_NE(family.table[static_cast<size_t>(TensorType::kQ8_0)].from_float,
              reference(TensorType::kQ8_0).from_float);
  }
}

TEST(NeonKernelsTest, ActiveTableIsTheWidestAllowedFamily) {
  const CpuFeatures& cpu = cpu_features();
  const std::string family = active_kernel_family();
  if (!cpu.has_neon_kernels()) {
    EXPECT_EQ(family, "reference");
    EXPECT_EQ(type_traits(TensorType::kQ4_0)->vec_dot, reference(TensorType::kQ4_0).vec_dot);
    return;
  }
  const size_t expected = cpu.has_dotprod_kernels() ? 1 : 0;
  ASSERT_LT(expected, families().size());
  EXPECT_EQ(family, families()[expected].name);
  for (TensorType type : {TensorType::kF32, TensorType::kQ4_0, TensorType::kQ8_0}) {
    EXPECT_EQ(type_traits(type)->vec_dot,
              families()[expected].table[static_cast<size_t>(type)].vec_dot)
        << tensor_type_name(type);
  }
}

TEST(NeonKernelsTest, VecDotMatchesReferenceOnQuantizedRows) {
  for (const Family& family : families()) {
    for (TensorType type : replaced_dots(family)) {
      SCOPED_TRACE(family.name + " " + std::string(tensor_type_name(type)));
      const TypeTraits& ref = reference(type);
      const TypeTraits& fast = family.table[static_cast<size_t>(type)];
      const TypeTraits& y_ref = reference(ref.vec_dot_type);
      uint32_t seed = 1;
      for (int64_t n : lengths_for(ref)) {
        // Weights slightly off-centre (exercises the minimum of Q4_1/Q5_1), activations wide.
        const std::vector<uint8_t> x = encode(ref, random_row(n, seed++, 1.0f, 0.2f));
        const std::vector<uint8_t> y = encode(y_ref, random_row(n, seed++, 3.0f));
        const float expected = ref.vec_dot(n, x.data(), y.data());
        const float got = fast.vec_dot(n, x.data(), y.data());
        EXPECT_NEAR(got, expected, dot_tolerance(ref, x, y_ref, y, n)) << "n = " << n;
      }
    }
  }
}

// F32 dots keep the reference's rounding (products in float, sums in double): the
// stories260K golden is sensitive to the last bit of K and V before their fp16 rounding.
TEST(NeonKernelsTest, F32DotGivesTheReferenceBits) {
  const TypeTraits& ref = reference(TensorType::kF32);
  uint32_t seed = 300;
  for (const Family& family : families()) {
    SCOPED_TRACE(family.name);
    for (int64_t n : {1, 7, 8, 9, 64, 172, 1000, 4097}) {
      const std::vector<float> x = random_row(n, seed++, 1.0f, 0.3f);
      const std::vector<float> y = random_row(n, seed++, 5.0f);
      EXPECT_EQ(family.table[static_cast<size_t>(TensorType::kF32)].vec_dot(n, x.data(), y.data()),
                ref.vec_dot(n, x.data(), y.data()))
          << "n " << n;
    }
  }
}

// Overwrites the fp16 fields of each 32-element block (d, and m or s after it) with
// finite scales, leaving every quantity byte random: nibbles 0..15, bytes -128..127.
void sanitize_scales(std::vector<uint8_t>& bytes, size_t block_bytes, int fp16_fields,
                     std::mt19937& rng) {
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  for (size_t at = 0; at < bytes.size(); at += block_bytes) {
    for (int f = 0; f < fp16_fields; ++f) {
      const uint16_t h = fp32_to_fp16(scale(rng));
      std::memcpy(&bytes[at + 2 * f], &h, sizeof(h));
    }
  }
}

TEST(NeonKernelsTest, VecDotMatchesReferenceOnRawRandomBlocks) {
  struct Case {
    TensorType type;
    int x_fp16_fields;  // d, or d and m
  };
  const Case cases[] = {{TensorType::kQ4_0, 1},
                        {TensorType::kQ4_1, 2},
                        {TensorType::kQ5_0, 1},
                        {TensorType::kQ5_1, 2},
                        {TensorType::kQ8_0, 1}};
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (const Family& family : families()) {
    for (const Case& c : cases) {
      SCOPED_TRACE(family.name + " " + std::string(tensor_type_name(c.type)));
      const TypeTraits& ref = reference(c.type);
      const TypeTraits& y_ref = reference(ref.vec_dot_type);
      for (int64_t blocks : {1, 2, 3, 9}) {
        const int64_t n = blocks * kQuantBlockSize;
        std::vector<uint8_t> x(ref.row_bytes(n));
        std::vector<uint8_t> y(y_ref.row_bytes(n));
        for (uint8_t& b : x) b = static_cast<uint8_t>(byte(rng));
        for (uint8_t& b : y) b = static_cast<uint8_t>(byte(rng));
        sanitize_scales(x, ref.type_size, c.x_fp16_fields, rng);
        // Q8_1's s is d times the sum of its quantities; any finite value tests the dot.
        sanitize_scales(y, y_ref.type_size, ref.vec_dot_type == TensorType::kQ8_1 ? 2 : 1, rng);
        const float expected = ref.vec_dot(n, x.data(), y.data());
        const float got = family.table[static_cast<size_t>(c.type)].vec_dot(n, x.data(), y.data());
        EXPECT_NEAR(got, expected, dot_tolerance(ref, x, y_ref, y, n)) << "blocks " << blocks;
      }
    }
  }
}

// K formats from raw random bytes (every 6-bit scale and minimum, every level), with
// finite fp16 d/dmin and Q8_K activations whose bsums agree with their quantities.
TEST(NeonKernelsTest, KFormatDotsMatchReferenceOnRawRandomBlocks) {
  struct Case {
    TensorType type;
    std::vector<size_t> fp16_offsets;  // d (and dmin) within the block
  };
  const Case cases[] = {{TensorType::kQ4_K, {0, 2}},
                        {TensorType::kQ5_K, {0, 2}},
                        {TensorType::kQ6_K, {offsetof(BlockQ6_K, d)}}};
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(-0.02f, 0.02f);
  for (const Family& family : families()) {
    for (const Case& c : cases) {
      const TypeTraits& fast = family.table[static_cast<size_t>(c.type)];
      if (fast.vec_dot == reference(c.type).vec_dot) continue;
      SCOPED_TRACE(family.name + " " + std::string(tensor_type_name(c.type)));
      const TypeTraits& ref = reference(c.type);
      for (int64_t blocks : {1, 2, 5}) {
        const int64_t n = blocks * kSuperBlockSize;
        std::vector<uint8_t> x(ref.row_bytes(n));
        for (uint8_t& b : x) b = static_cast<uint8_t>(byte(rng));
        for (size_t at = 0; at < x.size(); at += ref.type_size) {
          for (size_t offset : c.fp16_offsets) {
            const uint16_t h = fp32_to_fp16(scale(rng));
            std::memcpy(&x[at + offset], &h, sizeof(h));
          }
        }
        std::vector<BlockQ8_K> y(static_cast<size_t>(blocks));
        for (BlockQ8_K& block : y) {
          block.d = scale(rng);
          for (int8_t& q : block.qs) q = static_cast<int8_t>(byte(rng) - 128);
          for (int g = 0; g < 16; ++g) {
            int sum = 0;
            for (int k = 0; k < 16; ++k) sum += block.qs[16 * g + k];
            block.bsums[g] = static_cast<int16_t>(sum);
          }
        }
        std::vector<uint8_t> y_bytes(y.size() * sizeof(BlockQ8_K));
        std::memcpy(y_bytes.data(), y.data(), y_bytes.size());
        const float expected = ref.vec_dot(n, x.data(), y_bytes.data());
        const float got = fast.vec_dot(n, x.data(), y_bytes.data());
        EXPECT_NEAR(got, expected, dot_tolerance(ref, x, reference(TensorType::kQ8_K), y_bytes, n))
            << "blocks " << blocks;
      }
    }
  }
}

TEST(NeonKernelsTest, GemmTileEqualsVecDotBitForBit) {
  for (const Family& family : families()) {
    for (size_t i = 0; i < family.table.size(); ++i) {
      const TypeTraits& fast = family.table[i];
      if (fast.gemm_tile == nullptr) continue;
      const auto type = static_cast<TensorType>(i);
      SCOPED_TRACE(family.name + " " + std::string(tensor_type_name(type)));
      const TypeTraits& ref = reference(type);
      const TypeTraits& y_ref = reference(ref.vec_dot_type);
      uint32_t seed = 100;
      for (int64_t blocks : {1, 3, 8}) {
        const int64_t n = blocks * ref.block_size;
        for (int64_t n_rows : {1, 2, 3, 5, 8}) {
          for (int64_t n_tokens : {1, 2, 3, 4, 5, 7, 9}) {
            const std::vector<uint8_t> w = encode(ref, random_row(n_rows * n, seed++, 1.0f, 0.1f));
            const std::vector<uint8_t> a = encode(y_ref, random_row(n_tokens * n, seed++, 2.0f));
            const size_t w_row = ref.row_bytes(n);
            const size_t a_row = y_ref.row_bytes(n);
            const int64_t stride = n_rows + 3;  // columns past n_rows must stay untouched
            const float kUntouched = -12345.0f;
            std::vector<float> out(static_cast<size_t>(n_tokens * stride), kUntouched);
            fast.gemm_tile(n, w.data(), w_row, n_rows, a.data(), a_row, n_tokens, out.data(),
                           stride);
            for (int64_t t = 0; t < n_tokens; ++t) {
              for (int64_t r = 0; r < stride; ++r) {
                const float got = out[static_cast<size_t>(t * stride + r)];
                if (r >= n_rows) {
                  EXPECT_EQ(got, kUntouched) << "t " << t << " r " << r;
                  continue;
                }
                const float want = fast.vec_dot(n, w.data() + r * w_row, a.data() + t * a_row);
                EXPECT_EQ(got, want) << "n " << n << " rows " << n_rows << " tokens " << n_tokens
                                     << " t " << t << " r " << r;
              }
            }
          }
        }
      }
    }
  }
}

// Rows that reach the corners of from_float: ties at .5, a scale that is subnormal or
// zero in fp16, one that overflows it, zero and all-equal blocks, mixed magnitudes.
std::vector<std::vector<float>> hard_rows(int64_t n) {
  std::vector<std::vector<float>> rows;
  for (float scale : {1.0f, 1e-3f, 3e-6f, 1e-7f, 1e-30f, 250.0f, 1e6f, 1e7f}) {
    rows.push_back(random_row(n, static_cast<uint32_t>(rows.size()) + 40, scale));
  }
  std::vector<float> ties(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    // |max| = 127 gives d = 1 and 1/d = 1, so every k + 0.5 is an exact tie.
    ties[static_cast<size_t>(i)] = i % 32 == 0 ? 127.0f : static_cast<float>(i % 61 - 30) + 0.5f;
  }
  rows.push_back(ties);
  for (float& v : ties) v = -v;
  rows.push_back(ties);
  rows.push_back(std::vector<float>(static_cast<size_t>(n), 0.0f));
  rows.push_back(std::vector<float>(static_cast<size_t>(n), -0.0f));
  rows.push_back(std::vector<float>(static_cast<size_t>(n), 0.7f));
  // +a and -a both present (Q8_K keeps the sign of the first): negative first, then positive.
  for (float first : {-2.0f, 2.0f}) {
    std::vector<float> opposite = random_row(n, 60, 1.0f);
    for (int64_t i = 3; i + 4 < n; i += 32) {
      opposite[static_cast<size_t>(i)] = first;
      opposite[static_cast<size_t>(i + 4)] = -first;
    }
    rows.push_back(opposite);
  }
  std::vector<float> mixed = random_row(n, 77, 1.0f);
  for (int64_t i = 0; i < n; i += 5) mixed[static_cast<size_t>(i)] *= 1e4f;
  for (int64_t i = 3; i < n; i += 7) mixed[static_cast<size_t>(i)] = 1e-41f;  // subnormal
  rows.push_back(mixed);
  return rows;
}

TEST(NeonKernelsTest, FromFloatIsByteIdenticalToReference) {
  for (const Family& family : families()) {
    for (size_t i = 0; i < family.table.size(); ++i) {
      const TypeTraits& fast = family.table[i];
      const auto type = static_cast<TensorType>(i);
      const TypeTraits* ref = reference_type_traits(type);
      if (ref == nullptr || fast.from_float == ref->from_float) continue;
      SCOPED_TRACE(family.name + " " + std::string(tensor_type_name(type)));
      std::vector<int64_t> lengths;
      for (int64_t blocks : {1, 2, 3, 9}) lengths.push_back(blocks * ref->block_size);
      if (ref->block_size == 1) lengths.insert(lengths.end(), {1, 3, 5, 13, 33});
      for (int64_t n : lengths) {
        std::vector<std::vector<float>> rows = hard_rows(n);
        if (type == TensorType::kF16) {  // defined for every input: NaNs and infinities too
          std::vector<float> special = random_row(n, 5, 7e4f);
          special[0] = std::numeric_limits<float>::quiet_NaN();
          if (n > 1) special[1] = -std::numeric_limits<float>::infinity();
          if (n > 2) special[2] = -std::numeric_limits<float>::quiet_NaN();
          rows.push_back(special);
        }
        for (size_t k = 0; k < rows.size(); ++k) {
          const std::vector<uint8_t> want = encode(*ref, rows[k]);
          std::vector<uint8_t> got(want.size(), 0xAB);
          fast.from_float(rows[k].data(), got.data(), n);
          EXPECT_EQ(got, want) << "n " << n << " row " << k;
        }
      }
    }
  }
}

#else

TEST(NeonKernelsTest, SkippedOffArm64) {
  GTEST_SKIP() << "the NEON kernels exist only in arm64 builds (scripts/test-arm64)";
}

#endif

}  // namespace
}  // namespace locara::ops
