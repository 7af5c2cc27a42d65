#include <gtest/gtest.h>

#include "core/memory_fs.h"
#include "core/process.h"
#include "scan/matcher.h"
#include "scan/rules.h"
#include "scan/secrets.h"

namespace interlock::scan {
namespace {

// Written the way gitleaks' own configuration files are.
constexpr std::string_view kGitleaks = R"toml(title = "team rules"

[extend]
useDefault = true
disabledRules = ["jwt"]

[[rules]]
id = "acme-api-key"
description = "Acme API key"
regex = '''(?i)\b(acme_[a-z0-9]{24})(?:[^a-z0-9]|$)'''
secretGroup = 1
entropy = 3.0
keywords = ["ACME_"]
tags = ["acme"]

  [[rules.allowlists]]
  description = "the documented key"
  regexes = ['''acme_0{24}''']

[[rules]]
id = "pkcs12-file"
description = "PKCS #12 file"
path = '''(?i)(?:^|/)[^/]+\.p(?:12|fx)$'''

[[rules]]
id = "old-style"
regex = '''oldkey_[0-9]{12}'''
  [rules.allowlist]
  paths = ['''fixtures/''']

[allowlist]
description = "global"
paths = ['''(?:^|/)vendor/''']

[[allowlists]]
stopwords = ["notreal"]

[[allowlists]]
targetRules = ["old-style"]
regexTarget = "line"
regexes = ['''# sample''']
)toml";

TEST(GitleaksConfigTest, ImportsRulesAllowlistsAndDefaults) {
  auto config = ParseSecretConfig(kGitleaks, "scan/secrets.toml");
  ASSERT_TRUE(config) << config.error().message();
  size_t defaults = DefaultSecretConfig().rules.size();
  EXPECT_EQ(config->rules.size(), defaults - 1 + 3);
  const SecretRule& acme = config->rules[defaults - 1];
  EXPECT_EQ(acme.id, "acme-api-key");
  EXPECT_EQ(acme.secret_group, 1);
  EXPECT_EQ(acme.keywords, std::vector<std::string>{"acme_"});
  EXPECT_EQ(acme.source, "scan/secrets.toml:7");
  ASSERT_EQ(acme.allowlists.size(), 1u);
  EXPECT_EQ(config->rules.back().allowlists.size(), 1u);
  EXPECT_EQ(config->allowlists.size(), 4u);  // the built-in one and the file's three

  MemoryFileSystem fs;
  ASSERT_TRUE(fs.WriteFile("r/app.cfg", "key = acme_q8w7e6r5t4y3u2i1o9p8a7s6\n"));
  ASSERT_TRUE(fs.WriteFile("r/doc.cfg", "key = acme_000000000000000000000000\n"));
  ASSERT_TRUE(fs.WriteFile("r/vendor/lib.cfg", "key = acme_q8w7e6r5t4y3u2i1o9p8a7s6\n"));
  ASSERT_TRUE(fs.WriteFile("r/cert.P12", "bytes"));
  ASSERT_TRUE(fs.WriteFile("r/a.txt", "oldkey_123456789012\noldkey_123456789013 # sample\n"));
  ASSERT_TRUE(fs.WriteFile("r/fixtures/a.txt", "oldkey_123456789012\n"));
  ASSERT_TRUE(fs.WriteFile("r/stop.cfg", "key = acme_notrealq8w7e6r5t4y3u2i1o9\n"));
  SecretScanOptions options;
  options.paths = {"r"};
  options.key = "k-0123456789abcdef";
  options.config = *config;
  FakeProcessRunner processes;
  auto report = ScanSecrets(options, fs, processes);
  ASSERT_TRUE(report) << report.error().message();
  std::vector<std::string> got;
  for (const SecretFinding& f : report->findings) got.push_back(f.rule_id + " " + f.path);
  EXPECT_EQ(got, (std::vector<std::string>{"old-style r/a.txt", "acme-api-key r/app.cfg",
                                           "pkcs12-file r/cert.P12"}));
  EXPECT_EQ(report->counts.paths_allowlisted, 1u);
}

TEST(GitleaksConfigTest, ErrorsNameTheFileAndLine) {
  auto bad_key = ParseSecretConfig("[[rules]]\nid = \"x\"\nregex = 'a'\nregx = 'b'\n", "g.toml");
  ASSERT_FALSE(bad_key);
  EXPECT_EQ(bad_key.error().message(),
            "g.toml:4: unknown key \"regx\" in a rule (expected one of: id, description, regex, "
            "secretGroup, entropy, keywords, path, tags, allowlist, allowlists, maxLength, "
            "skipReport)");
  auto syntax = ParseSecretConfig("[[rules]\n", "g.toml");
  ASSERT_FALSE(syntax);
  EXPECT_TRUE(syntax.error().message().starts_with("g.toml:1:")) << syntax.error().message();
  auto no_regex = ParseSecretConfig("[[rules]]\nid = \"x\"\n", "g.toml");
  ASSERT_FALSE(no_regex);
  EXPECT_EQ(no_regex.error().message(), "g.toml:1: rule \"x\" needs a regex or a path");
  auto wrong_type =
      ParseSecretConfig("[[rules]]\nid = \"x\"\nregex = 'a'\nentropy = \"high\"\n", "g.toml");
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().message(), "g.toml:4: entropy: expected a number from 0 to 8");
  auto composite = ParseSecretConfig(
      "[[rules]]\nid = \"x\"\nregex = 'a'\n[[rules.required]]\nid = \"y\"\n", "g.toml");
  ASSERT_FALSE(composite);
  EXPECT_EQ(composite.error().message(),
            "g.toml:4: composite rules ([[rules.required]]) are not supported");
}

TEST(GitleaksConfigTest, RegexThatRe2CannotCompileNamesRuleAndLine) {
  auto config = ParseSecretConfig(
      "[[rules]]\nid = \"ok\"\nregex = 'a+'\n\n[[rules]]\nid = \"lookahead\"\nregex = "
      "'''a(?=b)'''\n",
      "team.toml");
  ASSERT_TRUE(config);
  auto matcher = SecretMatcher::Compile(*config);
  ASSERT_FALSE(matcher);
  EXPECT_EQ(matcher.error().message(),
            "team.toml:5: rule \"lookahead\": regex does not compile: invalid perl operator: (?=");
}

TEST(GitleaksConfigTest, RegexVectorscanRefusesIsStillConfirmed) {
  // A Unicode property outside Vectorscan's UTF-8 mode: Vectorscan refuses
  // it, so RE2 confirms the rule over the whole text.
  auto config =
      ParseSecretConfig("[[rules]]\nid = \"greek\"\nregex = '''zz\\p{Greek}+qq'''\n", "t.toml");
  ASSERT_TRUE(config);
  auto matcher = SecretMatcher::Compile(*config);
  ASSERT_TRUE(matcher) << matcher.error().message();
  EXPECT_EQ((*matcher)->UnprefilteredRules(), std::vector<std::string>{"greek"});
  EXPECT_TRUE(SecretMatcher::Compile(DefaultSecretConfig()).value()->UnprefilteredRules().empty());
  MemoryFileSystem fs;
  ASSERT_TRUE(fs.WriteFile("r/a", "x zz\xce\xb1\xce\xb2qq y\n"));
  SecretScanOptions options;
  options.paths = {"r"};
  options.key = "k-0123456789abcdef";
  options.config = *config;
  FakeProcessRunner processes;
  auto report = ScanSecrets(options, fs, processes);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->findings.size(), 1u);
}

TEST(GitleaksConfigTest, GoRegexFeaturesCompile) {
  // What gitleaks' rule files use: flags switched mid-pattern, (?-i:...),
  // \x60, escaped \\n inside classes, $ inside alternations.
  auto config = ParseSecretConfig(R"toml(
[allowlist]
paths = ['''(?i)\.(?:png|jpe?g)$''']
regexes = ['''^\${(?:[A-Z_]+|[a-z_]+)}$''', '''(?i)^true|false|null$''']
stopwords = ["abcdefghijklmnop"]

[[rules]]
id = "mixed-case"
regex = '''\b(LTXI(?i)[a-z0-9]{20})(?:[\x60'"\s;]|\\[nr]|$)'''
keywords = ["ltxi"]

[[rules]]
id = "named-service"
regex = '''(?i)[\w.-]{0,50}?(?:(?-i:ACME|[Aa]cme))(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([a-z0-9]{32})(?:[\x60'"\s;]|\\[nr]|$)'''
entropy = 3
keywords = ["acme"]
)toml",
                                  "go.toml");
  ASSERT_TRUE(config) << config.error().message();
  auto matcher = SecretMatcher::Compile(*config);
  ASSERT_TRUE(matcher) << matcher.error().message();
  MemoryFileSystem fs;
  ASSERT_TRUE(fs.WriteFile(
      "r/a", "ACME_KEY = \"q8w7e6r5t4y3u2i1o9p8a7s6d5f4g3h2\"\nid LTXIq8w7e6r5t4y3u2i1o9p8;\n"));
  SecretScanOptions options;
  options.paths = {"r"};
  options.key = "k-0123456789abcdef";
  FakeProcessRunner processes;
  auto report = ScanSecrets(options, **matcher, fs, processes);
  ASSERT_TRUE(report) << report.error().message();
  ASSERT_EQ(report->findings.size(), 2u);
  EXPECT_EQ(report->findings[0].rule_id, "named-service");
  EXPECT_EQ(report->findings[1].rule_id, "mixed-case");
}

TEST(SecretRulesTest, EntropyOfKnownStrings) {
  EXPECT_DOUBLE_EQ(ShannonEntropy(""), 0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("aaaa"), 0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("abab"), 1);
  EXPECT_DOUBLE_EQ(ShannonEntropy("abcd"), 2);
}

}  // namespace
}  // namespace interlock::scan
