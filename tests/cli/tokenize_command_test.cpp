// `locara tokenize` as a user meets it: llama-tokenize's table, --ids/--pieces/--json, special
// tokens added and parsed unless --no-special, text from standard input, and clear errors.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

const std::string kVocabDir = std::string(LOCARA_SHARED_DIR) + "/vocab";
const std::string kLlama3 = kVocabDir + "/ggml-vocab-llama-bpe.gguf";

// The text in single quotes for /bin/sh (a quote inside becomes '\'').
std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs `locara tokenize ARGS` through the shell, stdout and stderr into files.
Outcome tokenize(const std::string& args, const std::string& stdin_text = "") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("locara-tokenize-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in") << stdin_text;
  const std::string command = std::string(LOCARA_BINARY_DIR) + "/locara tokenize " + args + " <" +
                              (dir / "in").string() + " >" + (dir / "out").string() + " 2>" +
                              (dir / "err").string();
  const int raw = std::system(command.c_str());
  Outcome run{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(dir / "out"), slurp(dir / "err")};
  std::filesystem::remove_all(dir);
  return run;
}

TEST(TokenizeCommand, PrintsIdsAndPiecesLikeLlamaTokenize) {
  const Outcome run = tokenize(kLlama3 + " " + shell_quoted("Hello world"));
  ASSERT_EQ(run.status, 0) << run.err;
  // Llama 3 adds <|begin_of_text|> (128000); the vector file gives Hello=9906, " world"=1917.
  EXPECT_EQ(run.out,
            "128000 -> '<|begin_of_text|>'\n"
            "  9906 -> 'Hello'\n"
            "  1917 -> ' world'\n");
}

TEST(TokenizeCommand, IdsMatchTheConformanceVectors) {
  const Outcome run =
      tokenize(kLlama3 + " " + shell_quoted(" Hello World!") + " --no-special --ids");
  ASSERT_EQ(run.status, 0) << run.err;
  // ggml-vocab-llama-bpe.gguf.out for " Hello World!".
  EXPECT_EQ(run.out, "[22691, 4435, 0]\n");
}

TEST(TokenizeCommand, SpecialTokenTextIsParsedUnlessNoSpecial) {
  const std::string text = shell_quoted("<|eot_id|>");
  const Outcome parsed = tokenize(kLlama3 + " " + text + " --ids");
  ASSERT_EQ(parsed.status, 0) << parsed.err;
  EXPECT_EQ(parsed.out, "[128000, 128009]\n");
  const Outcome plain = tokenize(kLlama3 + " " + text + " --ids --no-special");
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(plain.out.find("128009"), std::string::npos) << plain.out;
  EXPECT_EQ(plain.out.find("128000"), std::string::npos) << plain.out;
}

TEST(TokenizeCommand, PiecesAreQuotedAndEscaped) {
  const Outcome run = tokenize(kLlama3 + " " + shell_quoted("it's\n") + " --no-special --pieces");
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "['it', '\\'s', '\\n']\n");
}

TEST(TokenizeCommand, JsonListsEveryToken) {
  const Outcome run =
      tokenize(kVocabDir + "/ggml-vocab-bert-bge.gguf " + shell_quoted("Hello") + " --json");
  ASSERT_EQ(run.status, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["n_tokens"], 3);  // [CLS] hello [SEP]
  ASSERT_EQ(json["tokens"].size(), 3u);
  EXPECT_EQ(json["tokens"][0]["piece"], "[CLS]");
  EXPECT_EQ(json["tokens"][1]["id"], 7592);
  EXPECT_EQ(json["tokens"][1]["token"], "\xE2\x96\x81hello");
  EXPECT_EQ(json["tokens"][2]["piece"], "[SEP]");
}

TEST(TokenizeCommand, ReadsStandardInput) {
  const Outcome run = tokenize(kLlama3 + " - --no-special --ids", "Hello world");
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "[9906, 1917]\n");
}

TEST(TokenizeCommand, OutputFormatsAreExclusive) {
  const Outcome run = tokenize(kLlama3 + " hi --ids --json");
  EXPECT_NE(run.status, 0);
  EXPECT_NE(run.err.find("excludes"), std::string::npos) << run.err;
}

TEST(TokenizeCommand, MissingModelFailsNamingTheFile) {
  const Outcome run = tokenize("/nonexistent/model.gguf hi");
  EXPECT_EQ(run.status, 1);
  EXPECT_TRUE(run.out.empty());
  EXPECT_NE(run.err.find("/nonexistent/model.gguf"), std::string::npos) << run.err;
}

}  // namespace
