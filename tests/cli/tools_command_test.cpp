// `locara synth`, `locara quantize` and `locara bench` as users and benchmark scripts meet
// them: files that load, deterministic bytes, llama-bench's JSON fields, clear errors.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

const std::string kLocara = std::string(LOCARA_BINARY_DIR) + "/locara";

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Output run(const std::string& args) {
  const std::string err_path = "/tmp/locara-tools-test-" + std::to_string(getpid()) + ".err";
  const std::string command = kLocara + " " + args + " 2>" + err_path;
  Output result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  std::stringstream text;
  text << err.rdbuf();
  result.err = text.str();
  std::remove(err_path.c_str());
  return result;
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ToolsCommand : public ::testing::Test {
 protected:
  std::string temp(const std::string& name) {
    paths_.push_back("/tmp/locara-tools-test-" + std::to_string(getpid()) + "-" + name);
    return paths_.back();
  }
  void TearDown() override {
    for (const std::string& p : paths_) std::filesystem::remove(p);
  }
  // A tiny synthetic model (rows of 64, 2 layers) in `type`.
  std::string tiny_model(const std::string& type) {
    const std::string path = temp("tiny-" + type + ".gguf");
    const Output o = run("synth --shape 64,2,4,2,128 --vocab 300 --type " + type + " -o " + path);
    EXPECT_EQ(o.exit_code, 0) << o.err;
    return path;
  }
  std::vector<std::string> paths_;
};

TEST_F(ToolsCommand, SynthIsDeterministicAndLoads) {
  const std::string a = temp("a.gguf"), b = temp("b.gguf"), c = temp("c.gguf");
  const std::string args = "synth --shape 64,2,4,2,128 --vocab 300 --type q8_0 --seed 5 ";
  Output o = run(args + "-t 1 -o " + a);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.err.find("synth: wrote"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("100%"), std::string::npos) << o.err;  // the progress bar
  ASSERT_EQ(run(args + "-t 2 -o " + b).exit_code, 0);
  EXPECT_EQ(bytes_of(a), bytes_of(b));
  ASSERT_EQ(run("synth --shape 64,2,4,2,128 --vocab 300 --type q8_0 --seed 6 -o " + c).exit_code,
            0);
  EXPECT_NE(bytes_of(a), bytes_of(c));
  EXPECT_FALSE(std::filesystem::exists(a + ".tmp"));

  o = run("run " + a + " hello -n 4 --temp 0 --ignore-eos");
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.err.find("generation: 4 tokens"), std::string::npos) << o.err;
}

TEST_F(ToolsCommand, SynthBadArguments) {
  const std::string out = temp("bad.gguf");
  Output o = run("synth --shape 64,2,4 --type q8_0 -o " + out);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("expected 5"), std::string::npos) << o.err;
  o = run("synth --shape 64,2,x,2,128 -o " + out);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("'x'"), std::string::npos) << o.err;
  o = run("synth --shape 64,2,4,2,128 --type q9_9 -o " + out);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("q9_9"), std::string::npos) << o.err;
  o = run("synth --shape 64,2,5,1,128 -o " + out);  // 5 heads do not divide 64
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("inconsistent"), std::string::npos) << o.err;
  o = run("synth --shape 64,2,4,2,128 --vocab 10 -o " + out);
  EXPECT_EQ(o.exit_code, 1);
  o = run("synth --shape 64,2,4,2,128");  // no output path
  EXPECT_NE(o.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(ToolsCommand, QuantizeWritesALoadableModel) {
  const std::string source = tiny_model("f32");
  const std::string out = temp("q8.gguf");
  Output o = run("quantize " + source + " " + out + " q8_0 -v");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.err.find("bits per weight"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("blk.1.ffn_down.weight"), std::string::npos) << o.err;  // -v
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));
  o = run("run " + out + " hello -n 4 --temp 0 --ignore-eos");
  EXPECT_EQ(o.exit_code, 0) << o.err;

  // The same bytes as synthesizing Q8_0 directly (same seed, same mixture).
  EXPECT_EQ(bytes_of(out), bytes_of(tiny_model("q8_0")));
}

TEST_F(ToolsCommand, QuantizeBadArguments) {
  const std::string source = tiny_model("f32");
  const std::string out = temp("out.gguf");
  Output o = run("quantize " + source + " " + out + " q3_X");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("unknown type 'q3_X'"), std::string::npos) << o.err;
  o = run("quantize " + source + " " + out + " q8_0 --repack");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("no repacked file is needed"), std::string::npos) << o.err;
  o = run("quantize /nonexistent/in.gguf " + out + " q8_0");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("/nonexistent/in.gguf"), std::string::npos) << o.err;
  o = run("quantize " + source + " " + source + " q8_0");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("overwrite"), std::string::npos) << o.err;
  o = run("quantize " + source + " " + out);  // no type
  EXPECT_NE(o.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(ToolsCommand, BenchJsonHasLlamaBenchFields) {
  const std::string model = tiny_model("q8_0");
  const Output o = run("bench -m " + model + " -p 8 -n 4 -r 1 -t 2 -o json --roofline-mib 64");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto json = nlohmann::json::parse(o.out);
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 2u);
  for (const auto& test : json) {
    for (const char* field :
         {"build_commit", "cpu_info", "model_filename", "model_type", "model_size",
          "model_n_params", "n_threads", "n_prompt", "n_gen", "avg_ts", "stddev_ts", "samples_ts",
          "samples_ns", "test_time", "avg_ns", "bytes_per_token", "roofline_anon_gbs",
          "roofline_mmap_gbs", "roofline_fraction"}) {
      EXPECT_TRUE(test.contains(field)) << field;
    }
    EXPECT_EQ(test["n_threads"], 2);
    EXPECT_EQ(test["samples_ts"].size(), 1u);
    EXPECT_GT(test["avg_ts"].get<double>(), 0.0);
    EXPECT_NE(test["model_type"].get<std::string>().find("Q8_0"), std::string::npos);
  }
  EXPECT_EQ(json[0]["n_prompt"], 8);
  EXPECT_EQ(json[0]["n_gen"], 0);
  EXPECT_EQ(json[1]["n_prompt"], 0);
  EXPECT_EQ(json[1]["n_gen"], 4);
  EXPECT_GT(json[1]["bytes_per_token"].get<uint64_t>(), 0u);
  EXPECT_GT(json[1]["roofline_anon_gbs"].get<double>(), 0.0);
  EXPECT_GT(json[1]["roofline_mmap_gbs"].get<double>(), 0.0);
  EXPECT_GT(json[1]["roofline_fraction"].get<double>(), 0.0);
}

TEST_F(ToolsCommand, BenchMarkdownTable) {
  const std::string model = tiny_model("f16");
  const Output o = run("bench -m " + model + " -p 8 -n 4 -r 2 -t 1 --no-roofline");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.out.find("| model"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("pp8"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("tg4"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(" F16 "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(" ± "), std::string::npos) << o.out;
}

TEST_F(ToolsCommand, BenchBadArguments) {
  const std::string model = tiny_model("q8_0");
  Output o = run("bench -m " + model + " -r 0");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("repetition"), std::string::npos) << o.err;
  o = run("bench -m " + model + " -o xml");
  EXPECT_NE(o.exit_code, 0);
  o = run("bench -m " + model + " -t 0 -p 8 -n 0");
  EXPECT_EQ(o.exit_code, 1);
  o = run("bench -m /nonexistent/model.gguf -p 8 -n 0");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("/nonexistent/model.gguf"), std::string::npos) << o.err;
}

}  // namespace
