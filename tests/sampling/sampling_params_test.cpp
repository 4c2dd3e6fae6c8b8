#include "sampling/sampling_params.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "sampling/sampler.h"

namespace locara {
namespace {

// Expects validate() to fail with kInvalidArgument and a message naming the field and value.
void expect_rejected(const SamplingParams& params, const std::string& field,
                     const std::string& value) {
  const Status status = params.validate();
  ASSERT_FALSE(status) << field << " = " << value << " was accepted";
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(status.error().message.find(field), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find(value), std::string::npos) << status.error().message;
}

TEST(SamplingParams, DefaultsAndEdgesAreValid) {
  EXPECT_TRUE(SamplingParams{}.validate());
  SamplingParams edges;
  edges.temperature = 0.0f;
  edges.top_k = 0;
  edges.top_p = 1.0f;
  edges.min_p = 1.0f;
  edges.repeat_last_n = -1;
  edges.presence_penalty = -2.0f;
  edges.frequency_penalty = 2.0f;
  edges.banned_tokens = {0, 7};
  EXPECT_TRUE(edges.validate());
  edges.min_p = 0.0f;
  EXPECT_TRUE(edges.validate());
}

// Default params with one field changed.
template <typename Change>
SamplingParams defaults_with(Change change) {
  SamplingParams params;
  change(params);
  return params;
}

TEST(SamplingParams, RejectsEachNonsenseField) {
  using P = SamplingParams;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  expect_rejected(defaults_with([](P& p) { p.temperature = -0.5f; }), "temperature", "-0.5");
  expect_rejected(defaults_with([&](P& p) { p.temperature = nan; }), "temperature", "nan");
  expect_rejected(defaults_with([&](P& p) { p.temperature = inf; }), "temperature", "inf");
  expect_rejected(defaults_with([](P& p) { p.top_k = -1; }), "top_k", "-1");
  expect_rejected(defaults_with([](P& p) { p.top_p = 0.0f; }), "top_p", "0");
  expect_rejected(defaults_with([](P& p) { p.top_p = 1.5f; }), "top_p", "1.5");
  expect_rejected(defaults_with([&](P& p) { p.top_p = nan; }), "top_p", "nan");
  expect_rejected(defaults_with([](P& p) { p.min_p = -0.25f; }), "min_p", "-0.25");
  expect_rejected(defaults_with([](P& p) { p.min_p = 1.25f; }), "min_p", "1.25");
  expect_rejected(defaults_with([](P& p) { p.repeat_penalty = 0.0f; }), "repeat_penalty", "0");
  expect_rejected(defaults_with([](P& p) { p.repeat_penalty = -1.5f; }), "repeat_penalty", "-1.5");
  expect_rejected(defaults_with([](P& p) { p.repeat_last_n = -2; }), "repeat_last_n", "-2");
  expect_rejected(defaults_with([&](P& p) { p.presence_penalty = nan; }), "presence_penalty",
                  "nan");
  expect_rejected(defaults_with([&](P& p) { p.frequency_penalty = inf; }), "frequency_penalty",
                  "inf");
  expect_rejected(defaults_with([](P& p) { p.banned_tokens = {3, -4}; }), "banned_tokens[1]", "-4");
}

TEST(SamplerCreate, ChecksParamsAndVocabulary) {
  SamplingParams params;
  EXPECT_TRUE(Sampler::create(params, 10));

  params.temperature = -1.0f;
  auto bad_params = Sampler::create(params, 10);
  ASSERT_FALSE(bad_params);
  EXPECT_NE(bad_params.error().message.find("temperature"), std::string::npos);

  params = {};
  auto no_vocab = Sampler::create(params, 0);
  ASSERT_FALSE(no_vocab);
  EXPECT_NE(no_vocab.error().message.find("n_vocab = 0"), std::string::npos);

  params.banned_tokens = {2, 10};
  auto out_of_vocab = Sampler::create(params, 10);
  ASSERT_FALSE(out_of_vocab);
  EXPECT_EQ(out_of_vocab.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(out_of_vocab.error().message.find("banned_tokens[1] = 10"), std::string::npos)
      << out_of_vocab.error().message;
}

}  // namespace
}  // namespace locara
