// The secret corpus (see corpus.h) and its scoring.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>

#include "core/encoding.h"
#include "core/memory_fs.h"
#include "core/process.h"
#include "scan/corpus.h"
#include "scan/secrets.h"

namespace interlock::scan {

double CorpusScore::Precision() const {
  size_t findings = true_findings + false_findings;
  return findings == 0 ? 1.0 : static_cast<double>(true_findings) / static_cast<double>(findings);
}

double CorpusScore::Recall() const {
  return positives == 0 ? 1.0 : static_cast<double>(detected) / static_cast<double>(positives);
}

namespace {

class Maker {
 public:
  explicit Maker(uint64_t seed) : engine_(seed) {}
  std::string Pick(std::string_view alphabet, size_t n) {
    std::string out;
    std::uniform_int_distribution<size_t> d(0, alphabet.size() - 1);
    for (size_t i = 0; i < n; ++i) out += alphabet[d(engine_)];
    return out;
  }
  std::string Alnum(size_t n) { return Pick(kAlnum, n); }
  std::string Upper(size_t n) { return Pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", n); }
  std::string Digits(size_t n) { return Pick("0123456789", n); }
  std::string Hex(size_t n) { return Pick("0123456789abcdef", n); }
  std::string B64(size_t n) { return Pick(kB64, n); }
  std::string Url64(size_t n) { return Pick(kUrl64, n); }
  std::string Uuid() {
    return Hex(8) + "-" + Hex(4) + "-4" + Hex(3) + "-a" + Hex(3) + "-" + Hex(12);
  }

 private:
  static constexpr std::string_view kAlnum =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static constexpr std::string_view kB64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr std::string_view kUrl64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::mt19937_64 engine_;
};

std::string Base64Url(std::string_view text) {
  std::string b = Base64Encode(text);
  for (char& c : b) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

struct Sample {
  std::string rule;  // expected rule id; empty for a clean sample
  std::string text;
};

std::vector<Sample> Corpus() {
  Maker m(20240601);
  std::vector<Sample> s;
  auto pem = [&](std::string_view kind, bool escaped) {
    std::string nl = escaped ? "\\n" : "\n";
    std::string body;
    for (int i = 0; i < 12; ++i) body += m.B64(64) + nl;
    return "-----BEGIN " + std::string(kind) + "PRIVATE KEY-----" + nl + body + "-----END " +
           std::string(kind) + "PRIVATE KEY-----";
  };
  s.push_back({"aws-access-key-id",
               "aws_access_key_id = AKIA" + m.Pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16) + "\n"});
  s.push_back({"aws-access-key-id", "export AWS_ACCESS_KEY_ID=\"ASIA" +
                                        m.Pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16) + "\"\n"});
  s.push_back({"aws-secret-access-key", "aws_secret_access_key = " + m.B64(40) + "\n"});
  s.push_back({"aws-secret-access-key", "{\"AWS_SECRET_ACCESS_KEY\": \"" + m.B64(40) + "\"}\n"});
  s.push_back({"gcp-api-key", "const firebase = { apiKey: \"AIza" + m.Url64(35) + "\" };\n"});
  s.push_back(
      {"gcp-service-account-key",
       "{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo\",\n  \"private_key\": \"" +
           pem("", true) + "\\n\",\n  \"client_email\": \"x@demo.iam.gserviceaccount.com\"\n}\n"});
  s.push_back({"azure-storage-account-key",
               "conn = \"DefaultEndpointsProtocol=https;AccountName=store1;AccountKey=" +
                   m.B64(86) + "==;EndpointSuffix=core.windows.net\"\n"});
  s.push_back({"azure-shared-access-key",
               "Endpoint=sb://ns1.servicebus.windows.net/"
               ";SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" +
                   m.B64(43) + "=\n"});
  s.push_back(
      {"azure-ad-client-secret", "AZURE_CLIENT_SECRET=" + m.Alnum(3) + "8Q~" + m.Alnum(34) + "\n"});
  s.push_back({"github-pat", "token: ghp_" + m.Alnum(36) + "\n"});
  s.push_back({"github-pat", "git clone https://ghp_" + m.Alnum(36) + "@github.com/o/r.git\n"});
  s.push_back(
      {"github-fine-grained-pat", "GH=github_pat_" + m.Alnum(22) + "_" + m.Alnum(59) + "\n"});
  s.push_back({"github-oauth-token", "oauth = 'gho_" + m.Alnum(36) + "'\n"});
  s.push_back({"github-app-token", "installation: ghs_" + m.Alnum(36) + "\n"});
  s.push_back({"github-app-token", "user_token=ghu_" + m.Alnum(36) + "\n"});
  s.push_back({"github-refresh-token", "refresh: ghr_" + m.Alnum(76) + "\n"});
  s.push_back({"gitlab-pat", "GITLAB_TOKEN=glpat-" + m.Url64(20) + "\n"});
  s.push_back({"gitlab-runner-token", "token = \"glrt-" + m.Url64(20) + "\"\n"});
  s.push_back({"bitbucket-app-password", "BB_APP_PASSWORD=ATBB" + m.Alnum(32) + "\n"});
  s.push_back({"bitbucket-client-secret", "bitbucket_client_secret: " + m.Alnum(32) + "\n"});
  s.push_back({"slack-bot-token", "SLACK_BOT_TOKEN=xoxb-" + m.Digits(12) + "-" + m.Digits(13) +
                                      "-" + m.Alnum(24) + "\n"});
  s.push_back({"slack-user-token", "slack: xoxp-" + m.Digits(12) + "-" + m.Digits(12) + "-" +
                                       m.Digits(13) + "-" + m.Hex(32) + "\n"});
  s.push_back({"slack-app-token", "app_token = \"xapp-1-A" + m.Upper(10) + "-" + m.Digits(13) +
                                      "-" + m.Hex(64) + "\"\n"});
  s.push_back({"slack-webhook-url", "url: https://hooks.slack.com/services/T" + m.Upper(8) + "/B" +
                                        m.Upper(8) + "/" + m.Alnum(24) + "\n"});
  s.push_back({"discord-webhook-url", "hook = \"https://discord.com/api/webhooks/" + m.Digits(18) +
                                          "/" + m.Url64(68) + "\"\n"});
  s.push_back({"discord-bot-token", "DISCORD_TOKEN = \"M" + m.Alnum(23) + "." + m.Url64(6) + "." +
                                        m.Url64(27) + "\"\n"});
  s.push_back(
      {"telegram-bot-token", "bot = Bot(\"" + m.Digits(10) + ":AA" + m.Url64(33) + "\")\n"});
  s.push_back({"stripe-secret-key", "Stripe.api_key = \"sk_live_" + m.Alnum(24) + "\"\n"});
  s.push_back({"stripe-secret-key", "STRIPE_RESTRICTED=rk_live_" + m.Alnum(99) + "\n"});
  s.push_back({"square-access-token", "square: sq0atp-" + m.Url64(22) + "\n"});
  s.push_back({"square-access-token", "SQUARE_TOKEN=EAAA" + m.Url64(60) + "\n"});
  s.push_back({"square-oauth-secret", "secret = sq0csp-" + m.Url64(43) + "\n"});
  s.push_back({"braintree-access-token", "BT=access_token$production$" +
                                             m.Pick("abcdefghijklmnopqrstuvwxyz0123456789", 16) +
                                             "$" + m.Hex(32) + "\n"});
  s.push_back(
      {"sendgrid-api-key", "SENDGRID_API_KEY=SG." + m.Url64(22) + "." + m.Url64(43) + "\n"});
  s.push_back({"mailgun-api-key", "mailgun: key-" + m.Hex(32) + "\n"});
  s.push_back({"mailchimp-api-key", "MC_KEY = \"" + m.Hex(32) + "-us14\"\n"});
  s.push_back({"postmark-server-token", "POSTMARK_SERVER_TOKEN=" + m.Uuid() + "\n"});
  s.push_back({"npm-access-token", "//registry.npmjs.org/:_authToken=npm_" + m.Alnum(36) + "\n"});
  s.push_back({"pypi-upload-token", "password = pypi-AgEIcHlwaS5vcmc" + m.Url64(120) + "\n"});
  s.push_back({"openai-api-key",
               "OPENAI_API_KEY=sk-proj-" + m.Url64(40) + "T3BlbkFJ" + m.Url64(40) + "\n"});
  s.push_back({"anthropic-api-key", "key = \"sk-ant-api03-" + m.Url64(93) + "AA\"\n"});
  s.push_back({"private-key", pem("RSA ", false) + "\n"});
  s.push_back({"private-key", "# deploy key\n" + pem("OPENSSH ", false) + "\n"});
  s.push_back({"private-key", pem("EC ", false) + "\n"});
  {
    std::string header = Base64Url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    std::string payload = Base64Url("{\"sub\":\"" + m.Digits(10) + "\",\"name\":\"" + m.Alnum(8) +
                                    "\",\"iat\":" + m.Digits(10) + "}");
    s.push_back(
        {"jwt", "Authorization: Bearer " + header + "." + payload + "." + m.Url64(43) + "\n"});
  }
  s.push_back({"database-url-password",
               "DATABASE_URL=postgres://app:" + m.Alnum(20) + "@db.internal:5432/app\n"});
  s.push_back({"database-url-password", "uri = \"mongodb+srv://svc:" + m.Alnum(16) +
                                            "@cluster0.ab1cd.mongodb.net/prod\"\n"});
  s.push_back({"database-url-password",
               "REDIS_URL=redis://default:" + m.Alnum(24) + "@cache.internal:6379/0\n"});
  s.push_back(
      {"database-url-password", "broker: amqp://worker:" + m.Alnum(18) + "@rabbit:5672/\n"});
  s.push_back({"database-url-password", "mysql://root:" + m.Alnum(14) + "@10.0.0.5/shop\n"});
  s.push_back({"generic-secret-assignment", "api_key = \"" + m.Alnum(32) + "\"\n"});
  s.push_back({"generic-secret-assignment", "  client_secret: " + m.Url64(40) + "\n"});
  s.push_back({"generic-secret-assignment", "const authToken = '" + m.Alnum(28) + "';\n"});
  s.push_back({"generic-secret-assignment",
               "DB_PASSWORD=" + m.Alnum(6) + "!" + m.Digits(3) + m.Alnum(6) + "\n"});

  // Clean look-alikes.
  for (const std::string& text : {
           std::string("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"),
           std::string("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
           std::string("token: <your-token>\n"),
           std::string("password = \"changeme\"\n"),
           std::string("api_key = \"xxxxxxxxxxxxxxxxxxxxxxxx\"\n"),
           std::string("GITHUB_TOKEN=${GITHUB_TOKEN}\n"),
           std::string("secret: {{ .Values.apiSecret }}\n"),
           std::string("password = os.environ[\"DB_PASSWORD\"]\n"),
           std::string("token = request.headers.get(\"Authorization\")\n"),
           std::string("const secretKey = process.env.SECRET_KEY;\n"),
           std::string("self.token = token\n"),
           std::string("if password == confirm_password:\n"),
           std::string("max_tokens = 4096\n"),
           std::string("TOKEN_EXPIRY_SECONDS = 3600000000\n"),
           std::string("password_reset_url = \"https://example.com/reset\"\n"),
           std::string("commit = \"") + m.Hex(40) + "\"\n",
           std::string("sha256: ") + m.Hex(64) + "\n",
           std::string("secret_digest = \"") + m.Hex(64) + "\"\n",
           std::string("checksum: sha256:") + m.Hex(64) + "\n",
           std::string("request_id = \"") + m.Uuid() + "\"\n",
           std::string("token_id: ") + m.Uuid() + "\n",
           std::string("data = \"") + Base64Encode("The quick brown fox jumps over the lazy dog") +
               "\"\n",
           std::string("description_b64: ") +
               Base64Encode("an ordinary sentence, nothing secret in it") + "\n",
           std::string("DATABASE_URL=postgres://user:password@localhost:5432/db\n"),
           std::string("mysql://root:root@localhost/test\n"),
           std::string("REDIS_URL=redis://:${REDIS_PASSWORD}@redis:6379\n"),
           std::string("amqp://guest:guest@localhost:5672/\n"),
           std::string("-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n"),
           std::string("-----BEGIN PUBLIC KEY-----\n") + m.B64(64) + "\n" + m.B64(64) +
               "\n-----END PUBLIC KEY-----\n",
           std::string("jwt = "
                       "\"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                       "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
                       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\"\n"),
           std::string("GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"),
           std::string("SLACK_TOKEN=xoxb-your-token-here\n"),
           std::string("stripe.api_key = \"sk_test_4eC39HqLyjWDarjtT1zdp7dc\"\n"),
           std::string("\"integrity\": \"sha512-") + m.B64(86) + "==\"\n",
           std::string("tokens = tokenize(text)\n"),
           std::string("api_key: str = Field(..., description=\"the API key\")\n"),
           std::string("password_hash = bcrypt.hashpw(password, salt)\n"),
           std::string("# Set SECRET_KEY in your environment before starting the server.\n"),
           std::string("auth_url = \"https://login.example.com/oauth2/v2.0/authorize\"\n"),
           std::string("image: registry.example.com/team/app@sha256:") + m.Hex(64) + "\n",
           std::string("uuid = \"") + m.Uuid() + "\"\n",
           std::string("version: 1.2.3-rc.4+build.5678\n"),
           std::string("PASSWORD_MIN_LENGTH = 12\n"),
           std::string("secret_name: prod/database/credentials\n"),
           std::string("token_url: https://oauth2.googleapis.com/token\n"),
           std::string("  URI_FOR_OBJECT_ON_TOKEN =\n\t\tURI_FOR_OBJECT_V11 | URI_FOR_TOKEN,\n"),
           std::string("auth_mode = AUTH_MODE_V2_STRICT\n"),
       }) {
    s.push_back({"", text});
  }
  return s;
}

}  // namespace

Result<CorpusScore> ScoreSecretCorpus() {
  std::vector<Sample> corpus = Corpus();
  MemoryFileSystem fs;
  for (size_t i = 0; i < corpus.size(); ++i) {
    auto written = fs.WriteFile(fmt::format("corpus/{:03}.txt", i), corpus[i].text);
    if (!written) return std::unexpected(written.error());
  }
  SecretScanOptions options;
  options.paths = {"corpus"};
  options.key = "0123456789abcdef0123456789abcdef";
  FakeProcessRunner processes;
  auto report = ScanSecrets(options, fs, processes);
  if (!report) return std::unexpected(report.error());

  std::map<std::string, std::vector<std::string>> rules_by_path;
  for (const SecretFinding& f : report->findings) rules_by_path[f.path].push_back(f.rule_id);
  CorpusScore score;
  score.samples = corpus.size();
  for (size_t i = 0; i < corpus.size(); ++i) {
    const std::vector<std::string>& got = rules_by_path[fmt::format("corpus/{:03}.txt", i)];
    if (corpus[i].rule.empty()) {
      score.false_findings += got.size();
      for (const std::string& r : got)
        score.problems.push_back(fmt::format("false positive {} in {}", r, corpus[i].text));
      continue;
    }
    ++score.positives;
    if (std::find(got.begin(), got.end(), corpus[i].rule) != got.end()) {
      ++score.detected;
      score.rules_detected.insert(corpus[i].rule);
    } else {
      score.problems.push_back(fmt::format("missed {} in {}", corpus[i].rule, corpus[i].text));
    }
    // A second rule on a true sample (a service account file's private
    // key, say) counts against precision but is not a problem of its own.
    for (const std::string& r : got)
      (r == corpus[i].rule ? score.true_findings : score.false_findings) += 1;
  }
  return score;
}

}  // namespace interlock::scan
