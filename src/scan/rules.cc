// The built-in ruleset. Each rule's regex is written for RE2 and is
// bounded on both sides of the secret, so that a secret inside a longer
// token is not reported; its keywords are literals that every match
// contains, which the prefilter looks for.
#include "scan/rules.h"

#include <array>
#include <cmath>

namespace interlock::scan {
namespace {

// The characters that may end a token: a secret must not be followed by
// one more character of its own alphabet.
constexpr std::string_view kEnd = R"re((?:[^0-9A-Za-z_\-]|$))re";

SecretRule Rule(std::string id, std::string description, std::string regex,
                std::vector<std::string> keywords, double entropy = 0) {
  SecretRule rule;
  rule.id = std::move(id);
  rule.description = std::move(description);
  rule.regex = std::move(regex);
  rule.keywords = std::move(keywords);
  rule.entropy = entropy;
  return rule;
}

std::string Ended(const std::string& regex) { return regex + std::string(kEnd); }

// An assignment of a value to a name containing `name`: `name = "value"`,
// `name: value`, `"name": "value"`, `name := value`, `name => value`.
std::string Assigned(std::string_view name, std::string_view value) {
  return std::string(R"re((?i))re") + std::string(name) +
         R"re([\w.-]{0,30}?["'\x60]?[ \t]{0,5}(?:=|:|:=|=>|\|\|:|\?=)[ \t]{0,5}["'\x60]?)re" +
         std::string(value);
}

Allowlist SecretRegexes(std::vector<std::string> regexes, std::string description) {
  Allowlist a;
  a.description = std::move(description);
  a.regexes = std::move(regexes);
  return a;
}

}  // namespace

SecretConfig DefaultSecretConfig() {
  SecretConfig c;
  std::vector<SecretRule>& r = c.rules;

  // Cloud providers.
  r.push_back(Rule("aws-access-key-id", "AWS access key ID",
                   Ended(R"re(\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}))re"),
                   {"akia", "asia", "abia", "acca", "a3t"}, 3.0));
  r.back().allowlists.push_back(
      SecretRegexes({"EXAMPLE$"}, "AWS's documented example key ids end in EXAMPLE"));
  r.push_back(Rule("aws-secret-access-key", "AWS secret access key",
                   Assigned("aws[\\w.-]{0,20}?(?:secret|sk)", R"re(([A-Za-z0-9/+]{40}))re"
                                                              R"re((?:[^A-Za-z0-9/+=]|$))re"),
                   {"aws"}, 4.0));
  r.back().allowlists.push_back(
      SecretRegexes({"EXAMPLEKEY$"}, "AWS's documented example secret keys end in EXAMPLEKEY"));
  r.push_back(Rule("gcp-api-key", "Google Cloud (GCP) API key",
                   Ended(R"re(\b(AIza[0-9A-Za-z_\-]{35}))re"), {"aiza"}, 3.5));
  r.push_back(Rule(
      "gcp-service-account-key", "Google Cloud service account private key (JSON)",
      R"re("private_key"\s*:\s*"(-----BEGIN (?:RSA )?PRIVATE KEY-----\\n[A-Za-z0-9+/=\\]{64,}?-----END (?:RSA )?PRIVATE KEY-----(?:\\n)?)")re",
      {"private_key"}));
  r.back().max_length = 16384;
  r.push_back(Rule("azure-storage-account-key", "Azure storage account key in a connection string",
                   R"re((?i)\bAccountKey\s*=\s*([A-Za-z0-9+/]{86}==))re", {"accountkey"}, 4.0));
  r.push_back(
      Rule("azure-shared-access-key",
           "Azure shared access key (Service Bus, Event Hubs, IoT Hub) in a connection string",
           R"re((?i)\bSharedAccessKey\s*=\s*([A-Za-z0-9+/]{42,43}=))re", {"sharedaccesskey"}, 4.0));
  r.push_back(Rule(
      "azure-ad-client-secret", "Azure AD (Entra ID) client secret",
      R"re((?:^|[\s'"=:>(,])([A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$))re",
      {"q~"}, 3.5));

  // Version control.
  r.push_back(Rule("github-pat", "GitHub personal access token (classic)",
                   Ended(R"re(\b(ghp_[0-9A-Za-z]{36}))re"), {"ghp_"}, 3.0));
  r.push_back(Rule("github-fine-grained-pat", "GitHub fine-grained personal access token",
                   Ended(R"re(\b(github_pat_[0-9A-Za-z_]{82}))re"), {"github_pat_"}, 3.0));
  r.push_back(Rule("github-oauth-token", "GitHub OAuth access token",
                   Ended(R"re(\b(gho_[0-9A-Za-z]{36}))re"), {"gho_"}, 3.0));
  r.push_back(Rule("github-app-token", "GitHub App user-to-server or server-to-server token",
                   Ended(R"re(\b((?:ghu|ghs)_[0-9A-Za-z]{36}))re"), {"ghu_", "ghs_"}, 3.0));
  r.push_back(Rule("github-refresh-token", "GitHub refresh token",
                   Ended(R"re(\b(ghr_[0-9A-Za-z]{36,76}))re"), {"ghr_"}, 3.0));
  r.push_back(Rule("gitlab-pat", "GitLab personal, project or group access token",
                   Ended(R"re(\b(glpat-[0-9A-Za-z_\-]{20,}))re"), {"glpat-"}, 3.0));
  r.push_back(Rule("gitlab-runner-token", "GitLab runner authentication token",
                   Ended(R"re(\b(glrt-[0-9A-Za-z_\-]{20,}))re"), {"glrt-"}, 3.0));
  r.push_back(Rule("bitbucket-app-password", "Bitbucket app password or Atlassian API token",
                   Ended(R"re(\b((?:ATBB|ATATT3)[A-Za-z0-9_=\-]{28,200}))re"), {"atbb", "atatt3"},
                   3.5));
  r.push_back(Rule(
      "bitbucket-client-secret", "Bitbucket OAuth consumer secret",
      Assigned("bitbucket[\\w.-]{0,20}?(?:secret|key)", Ended(R"re(([A-Za-z0-9_\-]{32,64}))re")),
      {"bitbucket"}, 3.5));

  // Chat.
  r.push_back(Rule("slack-bot-token", "Slack bot token",
                   Ended(R"re(\b(xoxb-[0-9]{10,13}-[0-9]{10,13}-?[A-Za-z0-9\-]{0,40}))re"),
                   {"xoxb-"}));
  r.push_back(Rule("slack-user-token", "Slack user, workspace or legacy token",
                   Ended(R"re(\b(xox[pearos]-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9\-]{0,90}))re"),
                   {"xoxp-", "xoxe-", "xoxa-", "xoxr-", "xoxo-", "xoxs-"}));
  r.push_back(Rule("slack-app-token", "Slack app-level token",
                   Ended(R"re(\b(xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[a-f0-9]{40,70}))re"),
                   {"xapp-"}));
  r.push_back(
      Rule("slack-webhook-url", "Slack incoming webhook URL",
           R"re((hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{40,70}))re",
           {"hooks.slack.com"}, 3.5));
  r.push_back(
      Rule("discord-webhook-url", "Discord webhook URL",
           Ended(R"re((discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,70}))re"),
           {"discord.com/api/webhooks", "discordapp.com/api/webhooks"}, 3.5));
  r.push_back(Rule(
      "discord-bot-token", "Discord bot token",
      Assigned(
          "discord",
          Ended(R"re(([MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}))re")),
      {"discord"}, 3.5));
  r.push_back(Rule("telegram-bot-token", "Telegram bot API token",
                   Ended(R"re((?:^|[^0-9])([0-9]{8,10}:AA[0-9A-Za-z_\-]{33}))re"), {":aa"}, 3.5));

  // Payments.
  r.push_back(Rule("stripe-secret-key", "Stripe live secret or restricted key",
                   Ended(R"re(\b((?:sk|rk)_(?:live|prod)_[0-9A-Za-z]{20,247}))re"),
                   {"sk_live_", "rk_live_", "sk_prod_", "rk_prod_"}, 3.5));
  r.push_back(Rule("square-access-token", "Square access token",
                   Ended(R"re(\b((?:EAAA|sq0atp-)[0-9A-Za-z_\-]{22,60}))re"), {"eaaa", "sq0atp-"},
                   3.5));
  r.push_back(Rule("square-oauth-secret", "Square OAuth application secret",
                   Ended(R"re(\b(sq0csp-[0-9A-Za-z_\-]{43}))re"), {"sq0csp-"}, 3.5));
  r.push_back(Rule("braintree-access-token", "PayPal Braintree access token",
                   R"re(\b(access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}))re",
                   {"access_token$"}, 3.5));

  // E-mail services.
  r.push_back(Rule("sendgrid-api-key", "SendGrid API key",
                   Ended(R"re(\b(SG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}))re"), {"sg."}, 4.0));
  r.push_back(Rule("mailgun-api-key", "Mailgun private API key",
                   Ended(R"re(\b(key-[0-9a-f]{32}))re"), {"key-"}, 3.3));
  r.push_back(Rule("mailchimp-api-key", "Mailchimp API key",
                   Ended(R"re(\b([0-9a-f]{32}-us[0-9]{1,2}))re"), {"-us"}, 3.3));
  r.push_back(
      Rule("postmark-server-token", "Postmark server or account API token",
           Assigned("postmark",
                    Ended(R"re(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))re")),
           {"postmark"}, 3.0));

  // Package registries.
  r.push_back(Rule("npm-access-token", "npm access token", Ended(R"re(\b(npm_[A-Za-z0-9]{36}))re"),
                   {"npm_"}, 3.5));
  r.push_back(Rule("pypi-upload-token", "PyPI upload token",
                   Ended(R"re(\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}))re"),
                   {"pypi-ageichlwas5vcmc"}));

  // AI services.
  r.push_back(Rule(
      "openai-api-key", "OpenAI API key",
      Ended(
          R"re(\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,74}T3BlbkFJ[A-Za-z0-9_\-]{20,74}))re"),
      {"t3blbkfj"}, 3.5));
  r.push_back(Rule("anthropic-api-key", "Anthropic API key",
                   Ended(R"re(\b(sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_\-]{80,100}))re"),
                   {"sk-ant-"}, 3.5));

  // Keys and tokens in standard formats.
  r.push_back(Rule(
      "private-key", "Private key (PEM or OpenSSH)",
      R"re((-----BEGIN[ A-Z0-9_\-]{0,100}PRIVATE KEY(?: BLOCK)?-----\r?\n[A-Za-z0-9+/=\s:,\-]{64,}?-----END[ A-Z0-9_\-]{0,100}PRIVATE KEY(?: BLOCK)?-----))re",
      {"private key"}));
  r.back().max_length = 16384;
  r.push_back(
      Rule("jwt", "JSON Web Token",
           Ended(R"re(\b(ey[A-Za-z0-9_\-]{15,}\.ey[A-Za-z0-9_\-]{15,}\.[A-Za-z0-9_\-]{10,}))re"),
           {"eyj"}, 3.0));
  r.back().allowlists.push_back(SecretRegexes({"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c$"},
                                              "jwt.io's documented example token"));
  r.push_back(Rule(
      "database-url-password", "Password in a database or message broker URL",
      R"re((?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver)://[^\s:@/'"<>]{1,128}:([^\s@/'"<>]{3,128})@[\w.\-\[\]]+)re",
      {"postgres", "mysql", "mariadb", "mongodb", "redis", "amqp", "mssql", "sqlserver"}));
  {
    Allowlist a;
    a.description = "passwords that are only examples or defaults";
    a.regexes = {
        R"re((?i)^(?:pass(?:word)?|passwd|pwd|secret|changeme|change_me|example|test|postgres|root|admin|guest|user|mysql|redis|dbpass|db_password|mypassword|yourpassword|your_password|password123|\*+|x+|\.+)$)re"};
    r.back().allowlists.push_back(std::move(a));
  }

  // A secret-looking value assigned to a name that says it is one.
  r.push_back(Rule(
      "generic-secret-assignment",
      "High-entropy value assigned to a name such as secret, token, password or api_key",
      Assigned(
          R"re((?:secret|token|passw(?:or)?d|passwd|pwd|api[_.\-]?key|apikey|access[_.\-]?key|auth[_.\-]?key|private[_.\-]?key|client[_.\-]?secret|credentials?))re",
          R"re(([A-Za-z0-9_\-+/=.~!@#$%^&*]{10,150})(?:["'\x60;,\s)\]}]|$))re"),
      {"secret", "token", "passw", "pwd", "api_key", "api-key", "api.key", "apikey", "access_key",
       "access-key", "accesskey", "auth_key", "authkey", "private_key", "credential"},
      3.5));
  r.back().generic = true;
  r.back().max_length = 256;
  {
    Allowlist a;
    a.description = "values that are code, paths or words rather than secrets";
    a.regexes = {
        R"re(^[^0-9]*$)re",                                              // no digit at all
        R"re(^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$)re",  // a.b.c
        R"re(^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$)re",                        // CONSTANT_NAMES
        R"re(^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$)re",                    // SHA-1 / SHA-256
        R"re(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)re",
        R"re(^(?:sha(?:1|256|384|512)|md5)[-:])re",
        R"re(^[sprk]k_test_)re",  // payment providers' test-mode keys
    };
    a.stopwords = {"example", "sample", "dummy",      "placeholder", "changeme",
                   "your_",   "your-",  "xxxx",       "redacted",    "fake",
                   "foobar",  "lorem",  "0123456789", "abcdefgh"};
    r.back().allowlists.push_back(std::move(a));
  }

  // Placeholders and templates are never secrets.
  Allowlist placeholders;
  placeholders.description = "placeholders, template variables and masked values";
  placeholders.regexes = {
      R"re(^\$\{[^}]*\}$|^\$\([^)]*\)$|^\{\{[^}]*\}\}$|^<[^>]*>$|^%\([A-Za-z_]+\)s$)re",
      R"re(^\$[A-Za-z_][A-Za-z0-9_]*$)re",
      R"re((?i)^(?:x{4,}|\*{4,}|\.{4,}|#{4,}|0{8,})$)re",
  };
  placeholders.stopwords = {"xxxxxxxx", "********"};
  c.allowlists.push_back(std::move(placeholders));
  return c;
}

double ShannonEntropy(std::string_view text) {
  if (text.empty()) return 0;
  std::array<size_t, 256> counts{};
  for (unsigned char ch : text) ++counts[ch];
  double entropy = 0;
  const double n = static_cast<double>(text.size());
  for (size_t count : counts) {
    if (count == 0) continue;
    double p = static_cast<double>(count) / n;
    entropy -= p * std::log2(p);
  }
  return entropy;
}

}  // namespace interlock::scan
