#include "notify/delivery.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/url.h"
#include "core/yaml.h"

namespace interlock::notify {
namespace {

using yaml::Node;

class Checker {
 public:
  Checker(const std::string& path, const FileSystem& fs, const EnvReader& env)
      : path_(path), fs_(fs), env_(env) {}

  void Error(yaml::Mark mark, std::string_view what) {
    errors_.push_back(fmt::format("{}:{}:{}: {}", path_, mark.line, mark.column, what));
  }
  bool Ok() const { return errors_.empty(); }
  std::string Text() const { return fmt::format("{}", fmt::join(errors_, "\n")); }

  // Only `allowed` keys.
  bool Keys(const Node& node, std::string_view where,
            std::initializer_list<std::string_view> allowed) {
    if (!node.IsMapping()) {
      Error(node.mark(), fmt::format("{}: expected a mapping, found a {}", where, node.TypeName()));
      return false;
    }
    bool ok = true;
    for (const yaml::Entry& e : node.entries()) {
      if (std::find(allowed.begin(), allowed.end(), e.key) == allowed.end()) {
        Error(e.key_mark, fmt::format("{}: unknown key \"{}\" (expected {})", where, e.key,
                                      fmt::join(allowed, ", ")));
        ok = false;
      }
    }
    return ok;
  }

  std::optional<std::string> String(const Node& node, std::string_view where) {
    if (!node.IsScalar() || node.scalar().empty()) {
      Error(node.mark(), fmt::format("{}: expected a non-empty string", where));
      return std::nullopt;
    }
    return node.scalar();
  }

  // A secret given as NAME, NAME_env or NAME_file; nullopt (with an error
  // unless optional) otherwise.
  std::optional<std::string> Secret(const Node& item, std::string_view where,
                                    const std::string& name, bool optional) {
    const Node* plain = item.Find(name);
    const Node* env = item.Find(name + "_env");
    const Node* file = item.Find(name + "_file");
    int given = (plain != nullptr) + (env != nullptr) + (file != nullptr);
    if (given == 0) {
      if (!optional) {
        Error(item.mark(), fmt::format("{}: {} is required (as {}, {}_env or {}_file)", where, name,
                                       name, name, name));
      }
      return std::nullopt;
    }
    if (given > 1) {
      Error(item.mark(), fmt::format("{}: give {} one way only ({}, {}_env or {}_file)", where,
                                     name, name, name, name));
      return std::nullopt;
    }
    if (plain) return String(*plain, fmt::format("{}: {}", where, name));
    if (env) {
      auto var = String(*env, fmt::format("{}: {}_env", where, name));
      if (!var) return std::nullopt;
      auto value = env_(*var);
      if (!value || value->empty()) {
        Error(env->mark(),
              fmt::format("{}: {}_env: the environment variable {} is not set", where, name, *var));
        return std::nullopt;
      }
      return value;
    }
    auto file_path = String(*file, fmt::format("{}: {}_file", where, name));
    if (!file_path) return std::nullopt;
    auto contents = fs_.ReadFile(*file_path, size_t{64} << 10);
    if (!contents) {
      Error(file->mark(), fmt::format("{}: {}_file: {}", where, name, contents.error().message()));
      return std::nullopt;
    }
    std::string_view text = *contents;
    constexpr std::string_view kSpace = " \t\r\n";
    size_t first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) {
      Error(file->mark(), fmt::format("{}: {}_file: {} is empty", where, name, *file_path));
      return std::nullopt;
    }
    return std::string(text.substr(first, text.find_last_not_of(kSpace) - first + 1));
  }

  // An http(s) URL without credentials; plain http only to a loopback host
  // (Url::IsLoopbackHost). The URL itself stays out of the messages: a Slack
  // webhook's path is its secret.
  std::optional<std::string> Url(std::optional<std::string> url, yaml::Mark mark,
                                 std::string_view where) {
    if (!url) return std::nullopt;
    Result<interlock::Url> parsed = ParseUrl(*url);
    if (!parsed) {
      Error(mark, fmt::format("{}: the URL is not valid: {}", where, parsed.error().message()));
      return std::nullopt;
    }
    if (parsed->userinfo) {
      Error(mark, fmt::format("{}: the URL must not carry credentials (user@host)", where));
      return std::nullopt;
    }
    if (parsed->scheme == "https" || (parsed->scheme == "http" && parsed->IsLoopbackHost())) {
      return url;
    }
    Error(mark, fmt::format("{}: the URL must be https:// (plain http:// only to a loopback "
                            "address)",
                            where));
    return std::nullopt;
  }

 private:
  std::string path_;
  const FileSystem& fs_;
  const EnvReader& env_;
  std::vector<std::string> errors_;
};

const governance::Channel* FindChannel(const governance::Governance& g, std::string_view id) {
  for (const governance::Channel& c : g.channels) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

void ParseChannel(Checker& c, const yaml::Entry& entry, const governance::Channel& channel,
                  ChannelDelivery* out) {
  const Node& item = entry.value;
  std::string where = "channels." + entry.key;
  out->id = channel.id;
  out->type = channel.type;
  bool keys = true;
  if (channel.type == "slack") {
    keys = c.Keys(item, where, {"url", "url_env", "url_file", "ca_file"});
  } else if (channel.type == "webhook") {
    keys = c.Keys(item, where, {"url", "secret", "secret_env", "secret_file", "ca_file"});
  } else if (channel.type == "pagerduty") {
    keys = c.Keys(item, where,
                  {"url", "routing_key", "routing_key_env", "routing_key_file", "ca_file"});
  } else {
    keys = c.Keys(item, where,
                  {"smtp_url", "from", "starttls", "username", "password", "password_env",
                   "password_file", "ca_file"});
  }
  if (!keys) return;
  if (const Node* ca = item.Find("ca_file"))
    out->ca_file = c.String(*ca, where + ": ca_file").value_or("");
  if (channel.type == "slack") {
    out->url = c.Url(c.Secret(item, where, "url", false), item.mark(), where).value_or("");
  } else if (channel.type == "webhook") {
    const Node* url = item.Find("url");
    if (!url) {
      c.Error(item.mark(), where + ": url is required");
    } else {
      out->url = c.Url(c.String(*url, where + ": url"), url->mark(), where).value_or("");
    }
    out->secret = c.Secret(item, where, "secret", false).value_or("");
  } else if (channel.type == "pagerduty") {
    out->url = "https://events.pagerduty.com/v2/enqueue";
    if (const Node* url = item.Find("url")) {
      out->url = c.Url(c.String(*url, where + ": url"), url->mark(), where).value_or("");
    }
    out->secret = c.Secret(item, where, "routing_key", false).value_or("");
  } else {
    const Node* url = item.Find("smtp_url");
    const Node* from = item.Find("from");
    if (!url || !from) {
      c.Error(item.mark(), where + ": smtp_url and from are required");
      return;
    }
    out->smtp.url = c.String(*url, where + ": smtp_url").value_or("");
    if (!out->smtp.url.empty() && !out->smtp.url.starts_with("smtp://") &&
        !out->smtp.url.starts_with("smtps://")) {
      c.Error(url->mark(), where + ": smtp_url must be smtp://host[:port] or smtps://host[:port]");
    }
    out->from = c.String(*from, where + ": from").value_or("");
    if (const Node* tls = item.Find("starttls")) {
      if (tls->IsScalar() && (tls->scalar() == "true" || tls->scalar() == "false")) {
        out->smtp.starttls = tls->scalar() == "true";
      } else {
        c.Error(tls->mark(), where + ": starttls: expected true or false");
      }
    }
    if (const Node* user = item.Find("username")) {
      out->smtp.username = c.String(*user, where + ": username").value_or("");
      out->smtp.password = c.Secret(item, where, "password", false).value_or("");
    }
    out->smtp.ca_file = out->ca_file;
  }
}

}  // namespace

Result<DeliveryConfig> ParseDelivery(const std::string& path, std::string_view text,
                                     const governance::Governance& g, const FileSystem& fs,
                                     const EnvReader& env) {
  auto root = yaml::Parse(text);
  if (!root) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("{}:{}:{}: {}", path, root.error().mark.line,
                                           root.error().mark.column, root.error().message)));
  }
  Checker c(path, fs, env);
  DeliveryConfig out;
  if (!c.Keys(*root, "the file", {"version", "channels", "slack_commands", "prometheus"})) {
    return std::unexpected(Error::InvalidArgument(c.Text()));
  }
  const Node* version = root->Find("version");
  if (!version || !version->IsScalar() || version->scalar() != "1") {
    c.Error(version ? version->mark() : root->mark(), "version: expected 1");
  }
  if (const Node* channels = root->Find("channels")) {
    if (!channels->IsMapping()) {
      c.Error(channels->mark(), "channels: expected a mapping of channel ids");
    }
    for (const yaml::Entry& entry : channels->entries()) {
      const governance::Channel* channel = FindChannel(g, entry.key);
      if (!channel) {
        std::vector<std::string> known;
        for (const governance::Channel& ch : g.channels) known.push_back(ch.id);
        c.Error(entry.key_mark,
                fmt::format("channels: \"{}\" is not a channel of interlock.yaml (known: {})",
                            entry.key, fmt::join(known, ", ")));
        continue;
      }
      ParseChannel(c, entry, *channel, &out.channels[entry.key]);
    }
  }
  if (const Node* slack = root->Find("slack_commands")) {
    if (c.Keys(*slack, "slack_commands",
               {"signing_secret", "signing_secret_env", "signing_secret_file"})) {
      out.slack_signing_secret =
          c.Secret(*slack, "slack_commands", "signing_secret", false).value_or("");
    }
  }
  if (const Node* prometheus = root->Find("prometheus")) {
    if (c.Keys(*prometheus, "prometheus",
               {"url", "bearer_token", "bearer_token_env", "bearer_token_file", "ca_file",
                "timeout"})) {
      MetricSourceSettings m;
      const Node* url = prometheus->Find("url");
      if (!url) c.Error(prometheus->mark(), "prometheus: url is required");
      m.url = url ? c.Url(c.String(*url, "prometheus: url"), url->mark(), "prometheus").value_or("")
                  : "";
      m.bearer_token = c.Secret(*prometheus, "prometheus", "bearer_token", true).value_or("");
      if (const Node* ca = prometheus->Find("ca_file")) {
        m.ca_file = c.String(*ca, "prometheus: ca_file").value_or("");
      }
      if (const Node* timeout = prometheus->Find("timeout")) {
        auto ms = timeout->IsScalar() ? ParseDuration(timeout->scalar()) : std::nullopt;
        if (!ms || ms->count() <= 0 || ms->count() > 60'000) {
          c.Error(timeout->mark(), "prometheus: timeout: expected a duration from 1ms to 60s");
        } else {
          m.timeout_ms = ms->count();
        }
      }
      out.prometheus = std::move(m);
    }
  }
  if (!c.Ok()) return std::unexpected(Error::InvalidArgument(c.Text()));
  for (const governance::Channel& ch : g.channels) {
    if (!out.channels.count(ch.id)) out.undelivered.push_back(ch.id);
  }
  return out;
}

DeliveryConfig NoDelivery(const governance::Governance& g) {
  DeliveryConfig out;
  for (const governance::Channel& ch : g.channels) out.undelivered.push_back(ch.id);
  return out;
}

}  // namespace interlock::notify
