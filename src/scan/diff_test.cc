#include "scan/diff.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/fs.h"
#include "core/process.h"
#include "scan/secrets.h"

namespace interlock::scan {
namespace {

constexpr std::string_view kDiff =
    "diff --git a/app.env b/app.env\n"
    "index 1111111..2222222 100644\n"
    "--- a/app.env\n"
    "+++ b/app.env\n"
    "@@ -2,0 +3,2 @@ NAME=x\n"
    "+TOKEN=abc\n"
    "+-- a comment that starts like a header\n"
    "@@ -10 +12 @@\n"
    "--- removed line that looks like a header\n"
    "++++ added line that looks like a header\n"
    "diff --git \"a/sp\\303\\244ce name\" \"b/sp\\303\\244ce name\"\n"
    "new file mode 100644\n"
    "--- /dev/null\n"
    "+++ \"b/sp\\303\\244ce name\"\n"
    "@@ -0,0 +1 @@\n"
    "+hello\n"
    "\\ No newline at end of file\n"
    "diff --git a/logo.png b/logo.png\n"
    "new file mode 100644\n"
    "Binary files /dev/null and b/logo.png differ\n";

TEST(UnifiedDiffTest, AddedLinesWithNewLineNumbers) {
  auto files = ParseUnifiedDiff(kDiff);
  ASSERT_TRUE(files) << files.error().message();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].path, "app.env");
  EXPECT_EQ((*files)[0].text,
            "TOKEN=abc\n-- a comment that starts like a header\n+++ added line that looks like a "
            "header\n");
  EXPECT_EQ((*files)[0].lines, (std::vector<uint64_t>{3, 4, 12}));
  EXPECT_EQ((*files)[1].path,
            "sp\xc3\xa4"
            "ce name");
  EXPECT_EQ((*files)[1].lines, (std::vector<uint64_t>{1}));
  EXPECT_EQ((*files)[2].path, "logo.png");
  EXPECT_TRUE((*files)[2].binary);
}

TEST(UnifiedDiffTest, MalformedDiffsNameTheLine) {
  auto bad = ParseUnifiedDiff("diff --git a/x b/x\n+++ b/x\n@@ -1 +1,2 @@\n+one\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "diff:4: the diff ends inside a hunk");
  auto header = ParseUnifiedDiff("diff --git a/x b/x\n+++ b/x\n@@ -a +1 @@\n");
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().message(), "diff:3: a malformed hunk header");
  auto stray = ParseUnifiedDiff("diff --git a/x b/x\n+++ b/x\n@@ -0,0 +1 @@\n*x\n");
  ASSERT_FALSE(stray);
  EXPECT_EQ(stray.error().message(), "diff:4: a hunk line must start with '+', '-', ' ' or '\\'");
}

std::string GithubToken() {
  return "ghp_" + std::string("Zx9") + "kkkkkk" + "Qw7Er5Ty3Ui1Op0As8Df6Gh4Jk2";
}

TEST(GitDiffScanTest, StagedModeRunsGitAndReportsNewLineNumbers) {
  FakeProcessRunner processes;
  ProcessResult answer;
  answer.out =
      "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -7,0 +8 @@\n+t=" + GithubToken() +
      "\n";
  processes.Answer(
      "git -c core.quotePath=false diff --cached --no-color --no-ext-diff --no-textconv -U0 "
      "--diff-filter=ACMR --src-prefix=a/ --dst-prefix=b/ --",
      answer);
  RealFileSystem fs;
  SecretScanOptions options;
  options.source = SecretSource::kStaged;
  options.key = "k-0123456789abcdef";
  auto report = ScanSecrets(options, fs, processes);
  ASSERT_TRUE(report) << report.error().message();
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings[0].path, "a.txt");
  EXPECT_EQ(report->findings[0].line, 8u);
  EXPECT_EQ(report->findings[0].column, 3u);
}

TEST(GitDiffScanTest, GitFailureIsAnError) {
  FakeProcessRunner processes;
  ProcessResult answer;
  answer.exit_code = 128;
  answer.err = "fatal: bad revision 'nope'\n";
  processes.Answer(
      "git -c core.quotePath=false diff --no-color --no-ext-diff --no-textconv -U0 "
      "--diff-filter=ACMR --src-prefix=a/ --dst-prefix=b/ nope --",
      answer);
  RealFileSystem fs;
  SecretScanOptions options;
  options.source = SecretSource::kDiff;
  options.diff_base = "nope";
  options.key = "k-0123456789abcdef";
  auto report = ScanSecrets(options, fs, processes);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().message(), "git diff failed (exit 128): fatal: bad revision 'nope'");
}

// The real git, in a temporary repository.
TEST(GitDiffScanTest, RealGitStagedAndDiff) {
  char templ[] = "/tmp/interlock-scan-git.XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  const std::string dir = templ;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  RealProcessRunner git;
  auto run = [&](std::vector<std::string> args) {
    ProcessRequest request;
    request.argv = {
        "git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"};
    request.argv.insert(request.argv.end(), args.begin(), args.end());
    request.cwd = dir;
    auto result = git.Run(request);
    ASSERT_TRUE(result) << result.error().message();
    ASSERT_EQ(result->exit_code, 0) << result->err;
  };
  RealFileSystem fs;
  run({"init", "-q"});
  ASSERT_TRUE(fs.WriteFile(dir + "/a.txt", "one\ntwo\nt=" + GithubToken() + "\n"));
  run({"add", "a.txt"});
  run({"commit", "-q", "-m", "first"});
  ASSERT_TRUE(fs.WriteFile(dir + "/a.txt", "zero\none\ntwo\nt=" + GithubToken() + "\nu=" + "ghp_" +
                                               "Ab1" + "mmmmmm" + "Qw7Er5Ty3Ui1Op0As8Df6Gh4Jk2\n"));
  run({"add", "a.txt"});

  SecretScanOptions options;
  options.source = SecretSource::kStaged;
  options.git_dir = dir;
  options.key = "k-0123456789abcdef";
  auto staged = ScanSecrets(options, fs, git);
  ASSERT_TRUE(staged) << staged.error().message();
  ASSERT_EQ(staged->findings.size(), 1u);  // only the added line, not the moved one
  EXPECT_EQ(staged->findings[0].line, 5u);
  EXPECT_EQ(staged->findings[0].path, "a.txt");

  run({"commit", "-q", "-m", "second"});
  options.source = SecretSource::kDiff;
  options.diff_base = "HEAD~1";
  auto diff = ScanSecrets(options, fs, git);
  ASSERT_TRUE(diff) << diff.error().message();
  ASSERT_EQ(diff->findings.size(), 1u);
  EXPECT_EQ(diff->findings[0].line, 5u);
}

TEST(ProcessRunnerTest, BoundedOutputAndMissingProgram) {
  RealProcessRunner runner;
  ProcessRequest request;
  request.argv = {"sh", "-c", "head -c 100000 /dev/zero"};
  request.max_output = 1000;
  auto big = runner.Run(request);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().message(), "sh: wrote more than the limit of 1000 bytes of output");
  request.argv = {"interlock-no-such-program"};
  auto missing = runner.Run(request);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "interlock-no-such-program: no such program");
  request.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  request.max_output = 1000;
  auto ran = runner.Run(request);
  ASSERT_TRUE(ran);
  EXPECT_EQ(ran->exit_code, 3);
  EXPECT_EQ(ran->out, "out\n");
  EXPECT_EQ(ran->err, "err\n");
}

}  // namespace
}  // namespace interlock::scan
