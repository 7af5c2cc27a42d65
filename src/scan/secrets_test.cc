#include "scan/secrets.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/json.h"
#include "core/memory_fs.h"
#include "core/process.h"
#include "core/text.h"
#include "scan/matcher.h"

namespace interlock::scan {
namespace {

// A GitHub token built from pieces, so no real-looking key is stored.
std::string Token(char fill = 'k') {
  return "ghp_" + std::string("Zx9") + std::string(6, fill) + "Qw7Er5Ty3Ui1Op0As8Df6Gh4Jk2";
}

class SecretsTest : public ::testing::Test {
 protected:
  Result<SecretReport> Scan(std::vector<std::string> paths = {"repo"}) {
    options_.paths = std::move(paths);
    return ScanSecrets(options_, fs_, processes_);
  }
  void SetUp() override { options_.key = "test-key-0123456789abcdef"; }

  MemoryFileSystem fs_;
  FakeProcessRunner processes_;
  SecretScanOptions options_;
};

TEST_F(SecretsTest, FindingHasLineColumnMaskedPreviewAndNoSecret) {
  ASSERT_TRUE(fs_.WriteFile("repo/a.env", "# config\nNAME=x\nTOKEN=" + Token() + "\n"));
  auto report = Scan();
  ASSERT_TRUE(report) << report.error().message();
  ASSERT_EQ(report->findings.size(), 1u);
  const SecretFinding& f = report->findings[0];
  EXPECT_EQ(f.rule_id, "github-pat");
  EXPECT_EQ(f.path, "repo/a.env");
  EXPECT_EQ(f.line, 3u);
  EXPECT_EQ(f.column, 7u);
  EXPECT_EQ(f.preview, "TOKEN=ghp_*****");
  EXPECT_EQ(f.fingerprint.size(), 64u);
  std::string json = ReportJson(*report);
  EXPECT_EQ(json.find(Token()), std::string::npos);
  EXPECT_EQ(ReportText(*report).find(Token()), std::string::npos);
  EXPECT_EQ(ReportSarif(*report).find(Token()), std::string::npos);
  EXPECT_EQ(report->counts.files_scanned, 1u);
  EXPECT_EQ(report->counts.findings, 1u);
}

TEST_F(SecretsTest, FingerprintSurvivesEditsAboveAndDependsOnTheKey) {
  ASSERT_TRUE(fs_.WriteFile("repo/a.txt", "t=" + Token() + "\n"));
  auto before = Scan();
  ASSERT_TRUE(fs_.WriteFile("repo/a.txt", "new line\nanother\nt=" + Token() + "\n"));
  auto after = Scan();
  ASSERT_TRUE(before && after);
  ASSERT_EQ(before->findings.size(), 1u);
  ASSERT_EQ(after->findings.size(), 1u);
  EXPECT_EQ(before->findings[0].fingerprint, after->findings[0].fingerprint);
  EXPECT_NE(before->findings[0].line, after->findings[0].line);
  options_.key = "another-key-0123456789";
  auto other = Scan();
  ASSERT_TRUE(other);
  EXPECT_NE(other->findings[0].fingerprint, before->findings[0].fingerprint);
}

TEST_F(SecretsTest, EveryFindingOnALineIsMasked) {
  ASSERT_TRUE(fs_.WriteFile("repo/a.txt", "a=" + Token('k') + " b=" + Token('m') + "\n"));
  auto report = Scan();
  ASSERT_TRUE(report);
  ASSERT_EQ(report->findings.size(), 2u);
  EXPECT_EQ(report->findings[0].preview, "a=ghp_***** b=ghp_*****");
  // The second's preview starts 40 characters before it, inside the first.
  EXPECT_EQ(report->findings[1].preview, "...***** b=ghp_*****");
}

TEST_F(SecretsTest, BaselineSuppressesKnownFindings) {
  ASSERT_TRUE(fs_.WriteFile("repo/a.txt", "t=" + Token('k') + "\n"));
  auto first = Scan();
  ASSERT_TRUE(first);
  auto baseline = ParseBaseline(BaselineJson(*first), "baseline.json");
  ASSERT_TRUE(baseline) << baseline.error().message();
  options_.baseline = *baseline;
  ASSERT_TRUE(fs_.WriteFile("repo/a.txt", "t=" + Token('k') + "\nu=" + Token('m') + "\n"));
  auto second = Scan();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->counts.suppressed, 1u);
  ASSERT_EQ(second->findings.size(), 1u);
  EXPECT_EQ(second->findings[0].line, 2u);
  // A baseline written then keeps both.
  auto again = ParseBaseline(BaselineJson(*second), "b");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 2u);
}

TEST(BaselineTest, ReadsListsAndRefusesGarbage) {
  std::string fp(64, 'a');
  auto list = ParseBaseline("[\"" + fp + "\"]", "b.json");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->count(fp), 1u);
  auto lines = ParseBaseline("# known\n" + fp + "\n", "b.txt");
  ASSERT_TRUE(lines);
  EXPECT_EQ(lines->size(), 1u);
  auto bad = ParseBaseline("not a fingerprint\n", "b.txt");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "b.txt:1: expected a fingerprint (64 lowercase hex digits)");
  auto wrong = ParseBaseline("{\"x\": 1}", "b.json");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message(),
            "b.json: expected a report with a \"findings\" array, or an array of fingerprints");
}

TEST_F(SecretsTest, InlineAllowNeedsAReason) {
  ASSERT_TRUE(fs_.WriteFile("repo/a.py", "a = '" + Token('k') +
                                             "'  # interlock:allow revoked in 2024, test fixture\n"
                                             "b = '" +
                                             Token('m') + "'  # interlock:allow\n"));
  auto report = Scan();
  ASSERT_TRUE(report);
  ASSERT_EQ(report->allowed.size(), 1u);
  EXPECT_EQ(report->allowed[0].allow_reason, "revoked in 2024, test fixture");
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings[0].line, 2u);
  EXPECT_TRUE(report->findings[0].allow_without_reason);
  EXPECT_EQ(report->counts.allowed, 1u);
  EXPECT_EQ(report->counts.allow_without_reason, 1u);
  EXPECT_NE(ReportJson(*report).find("interlock:allow without a reason does not allow a finding"),
            std::string::npos);
}

TEST_F(SecretsTest, SecretStraddlingAWindowBoundaryIsFoundOnce) {
  options_.window_size = 64;
  options_.overlap = 128;
  for (size_t pad = 40; pad < 80; ++pad) {
    ASSERT_TRUE(fs_.WriteFile("repo/a.txt", std::string(pad, 'x') + "\nk=" + Token() + "\n" +
                                                std::string(300, 'y') + "\n"));
    auto report = Scan();
    ASSERT_TRUE(report);
    ASSERT_EQ(report->findings.size(), 1u) << "pad " << pad;
    EXPECT_EQ(report->findings[0].line, 2u);
    EXPECT_EQ(report->findings[0].column, 3u);
  }
}

TEST_F(SecretsTest, BinaryEmptyAndInvalidUtf8Files) {
  std::string binary =
      "\x7f"
      "ELF";
  binary += '\0';
  binary += "t=" + Token();
  ASSERT_TRUE(fs_.WriteFile("repo/bin", binary));
  ASSERT_TRUE(fs_.WriteFile("repo/empty", ""));
  ASSERT_TRUE(fs_.WriteFile("repo/latin1", "caf\xe9 \xff\xfe t=" + Token() + " \xc3\n"));
  auto report = Scan();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->counts.binary_skipped, 1u);
  EXPECT_EQ(report->counts.files_scanned, 2u);
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings[0].path, "repo/latin1");
  EXPECT_EQ(report->findings[0].column, 11u);
  // The text shows '?' for bytes that are not UTF-8, and the JSON U+FFFD.
  EXPECT_EQ(FindInvalidUtf8(ReportText(*report)), std::string::npos);
  EXPECT_NE(ReportText(*report).find("caf? ?? t=ghp_*****"), std::string::npos)
      << ReportText(*report);
  json::ParseOptions po;
  po.max_bytes = 1 << 20;
  EXPECT_TRUE(json::Parse(ReportJson(*report), po));
}

TEST(SecretsRealFileSystemTest, EmptySmallAndMappedFiles) {
  char templ[] = "/tmp/interlock-scan-fs.XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  const std::string dir = templ;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  RealFileSystem fs;
  ASSERT_TRUE(fs.WriteFile(dir + "/empty", ""));
  ASSERT_TRUE(fs.WriteFile(dir + "/small", "t=" + Token() + "\n"));
  // Big enough to be mapped rather than read.
  ASSERT_TRUE(fs.WriteFile(dir + "/big", std::string(1u << 20, '.') + "\nt=" + Token() + "\n"));
  SecretScanOptions options;
  options.paths = {dir};
  options.key = "test-key-0123456789abcdef";
  FakeProcessRunner processes;
  auto report = ScanSecrets(options, fs, processes);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->counts.files_scanned, 3u);
  ASSERT_EQ(report->findings.size(), 2u);
  EXPECT_EQ(report->findings[0].path, dir + "/big");
  EXPECT_EQ(report->findings[0].line, 2u);
}

// A mapped file scanned in windows gives each window's pages back once it
// is scanned (MappedFile::Release): what is read again afterwards, to count
// lines and make previews, must be the file's bytes still.
TEST(SecretsRealFileSystemTest, PagesGivenBackAreReadAgainUnchanged) {
  char templ[] = "/tmp/interlock-scan-fs.XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  const std::string dir = templ;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  std::string text;
  std::vector<std::pair<uint64_t, uint64_t>> where;  // line, column of each token
  for (uint64_t line = 1; text.size() < (2u << 20); ++line) {
    if (line % 997 == 0) {
      where.emplace_back(line, 5);
      text += "tok=" + Token() + "\n";
    } else {
      text += std::string(200 + line % 50, '.') + "\n";
    }
  }
  RealFileSystem fs;
  ASSERT_TRUE(fs.WriteFile(dir + "/big", text));
  SecretScanOptions options;
  options.paths = {dir};
  options.key = "test-key-0123456789abcdef";
  options.window_size = 64u << 10;
  options.overlap = 4u << 10;
  FakeProcessRunner processes;
  auto report = ScanSecrets(options, fs, processes);
  ASSERT_TRUE(report) << report.error().message();
  ASSERT_EQ(report->findings.size(), where.size());
  for (size_t i = 0; i < where.size(); ++i) {
    EXPECT_EQ(report->findings[i].line, where[i].first) << i;
    EXPECT_EQ(report->findings[i].column, where[i].second) << i;
    EXPECT_EQ(report->findings[i].preview, "tok=ghp_*****") << i;
  }
}

// Many secrets on one long line: each gets its own column and a preview
// that masks every secret it shows, in one pass over the line.
TEST_F(SecretsTest, ManySecretsOnOneLongLine) {
  const std::string token = Token();
  std::string line;
  std::vector<uint64_t> columns;
  for (int i = 0; i < 3000; ++i) {
    line += std::string(static_cast<size_t>(100 + i % 7), 'a') + " ";
    columns.push_back(line.size() + 1);
    line += token + " ";
  }
  options_.window_size = 64u << 10;
  ASSERT_TRUE(fs_.WriteFile("repo/long.txt", line + "\n"));
  auto report = Scan();
  ASSERT_TRUE(report) << report.error().message();
  ASSERT_EQ(report->findings.size(), columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    EXPECT_EQ(report->findings[i].line, 1u);
    EXPECT_EQ(report->findings[i].column, columns[i]) << i;
    EXPECT_EQ(report->findings[i].preview.find(token.substr(4, 8)), std::string::npos) << i;
  }
}

TEST_F(SecretsTest, VeryLongSingleLine) {
  std::string line(20u << 20, 'a');
  std::string token = Token();
  line.replace(10u << 20, token.size() + 2, " " + token + " ");
  line.replace(15u << 20, token.size() + 2, " " + token + " ");
  options_.window_size = 1u << 20;
  ASSERT_TRUE(fs_.WriteFile("repo/long.txt", line));
  auto report = Scan();
  ASSERT_TRUE(report);
  ASSERT_EQ(report->findings.size(), 2u);
  EXPECT_EQ(report->findings[0].line, 1u);
  EXPECT_EQ(report->findings[0].column, (10u << 20) + 2);
  EXPECT_LE(report->findings[0].preview.size(), 140u);
  EXPECT_EQ(report->findings[0].fingerprint, report->findings[1].fingerprint);
}

TEST_F(SecretsTest, MissingPathIsAnError) {
  auto report = Scan({"nowhere"});
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().message(), "nowhere: no such file or directory");
}

TEST_F(SecretsTest, UnreadableFileIsAnError) {
  ASSERT_TRUE(fs_.WriteFile("repo/a.txt", "x"));
  fs_.FailReads("repo/a.txt");
  auto report = Scan();
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().message(), "repo/a.txt: read failed: injected fault");
}

TEST_F(SecretsTest, ManyFilesOnSeveralThreadsGiveTheSameReport) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(fs_.WriteFile(fmt::format("repo/f{:02}.txt", i),
                              i % 7 == 0 ? "t=" + Token() + "\n" : "nothing here\n"));
  }
  options_.threads = 1;
  auto one = Scan();
  options_.threads = 4;
  auto four = Scan();
  ASSERT_TRUE(one && four);
  EXPECT_EQ(ReportJson(*one), ReportJson(*four));
  EXPECT_EQ(one->findings.size(), 8u);
}

TEST_F(SecretsTest, GitDirectoriesAreSkipped) {
  ASSERT_TRUE(fs_.WriteFile("repo/.git/config", "t=" + Token() + "\n"));
  ASSERT_TRUE(fs_.WriteFile("repo/src/.git/x", "t=" + Token() + "\n"));
  auto report = Scan();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->counts.files_scanned, 0u);
}

TEST(ScanKeyTest, FlagThenEnvironmentThenCreatedFile) {
  MemoryFileSystem fs;
  SeededRandom random(7);
  auto none = [](const char*) -> std::optional<std::string> { return std::nullopt; };
  auto env = [](const char* name) -> std::optional<std::string> {
    if (std::string_view(name) == "HOME") return "/home/u";
    return std::nullopt;
  };
  auto made = LoadScanKey("", env, fs, random);
  ASSERT_TRUE(made) << made.error().message();
  EXPECT_EQ(made->size(), 64u);
  EXPECT_EQ(*fs.FileMode("/home/u/.config/interlock/scan.key"), 0600u);
  auto again = LoadScanKey("", env, fs, random);
  EXPECT_EQ(*again, *made);
  auto from_env = LoadScanKey(
      "",
      [](const char* name) -> std::optional<std::string> {
        if (std::string_view(name) == "INTERLOCK_SCAN_KEY") return "ci-key-0123456789abcdef";
        return std::nullopt;
      },
      fs, random);
  EXPECT_EQ(*from_env, "ci-key-0123456789abcdef");
  ASSERT_TRUE(fs.WriteFile("k", "short\n"));
  auto short_key = LoadScanKey("k", none, fs, random);
  ASSERT_FALSE(short_key);
  EXPECT_EQ(short_key.error().message(), "k: the scan key must be at least 16 bytes");
  auto nowhere = LoadScanKey("", none, fs, random);
  ASSERT_FALSE(nowhere);
}

TEST_F(SecretsTest, SarifHasRulesResultsAndFingerprints) {
  ASSERT_TRUE(fs_.WriteFile("repo/a b.txt", "t=" + Token() + "\n"));
  auto report = Scan();
  ASSERT_TRUE(report);
  std::string sarif = ReportSarif(*report);
  json::ParseOptions po;
  po.max_bytes = 1 << 22;
  auto doc = json::Parse(sarif, po);
  ASSERT_TRUE(doc) << doc.error().message();
  json::Value run = *(*doc->root().Find("runs")).elements().begin();
  EXPECT_EQ(doc->root().Find("version")->AsString(), "2.1.0");
  json::Value rules = *run.Find("tool")->Find("driver")->Find("rules");
  EXPECT_EQ(rules.size(), DefaultSecretConfig().rules.size());
  json::Value result = *run.Find("results")->elements().begin();
  EXPECT_EQ(result.Find("ruleId")->AsString(), "github-pat");
  json::Value location = *result.Find("locations")->elements().begin();
  json::Value physical = *location.Find("physicalLocation");
  EXPECT_EQ(physical.Find("artifactLocation")->Find("uri")->AsString(), "repo/a%20b.txt");
  EXPECT_EQ(*physical.Find("region")->Find("startLine")->AsInt64(), 1);
  EXPECT_EQ(*physical.Find("region")->Find("startColumn")->AsInt64(), 3);
  EXPECT_EQ(result.Find("partialFingerprints")->Find("interlockSecret/v1")->AsString(),
            report->findings[0].fingerprint);
}

}  // namespace
}  // namespace interlock::scan
