// Where notifications go: the server's delivery settings, kept apart from
// the governance directory because they hold secrets (webhook URLs, keys,
// passwords) that do not belong in a reviewed git repository.
//
// The file (`interlock serve --delivery FILE`, default DATA/delivery.yaml
// when it exists) is YAML:
//
//   version: 1
//   channels:
//     slack:                     # a channel id of interlock.yaml, type slack
//       url_env: SLACK_WEBHOOK_URL
//     pagerduty:                 # type pagerduty
//       routing_key_file: /etc/interlock/pagerduty.key
//       url: https://events.pagerduty.com/v2/enqueue   # the default
//     email:                     # type email
//       smtp_url: smtps://smtp.example.com:465
//       from: interlock@example.com
//       username: interlock
//       password_env: SMTP_PASSWORD
//       starttls: true           # for smtp://; the default
//     hooks:                     # type webhook
//       url: https://hooks.example.com/interlock
//       secret_env: HOOK_SECRET  # signs each body (notify/outbox.h)
//   slack_commands:
//     signing_secret_env: SLACK_SIGNING_SECRET
//   prometheus:                  # the rollouts' metric source (canary.yml metrics)
//     url: http://127.0.0.1:9090
//     bearer_token_env: PROMETHEUS_TOKEN   # optional
//     timeout: 5s                # one query; the default
//
// Every secret is given as NAME (in the file), NAME_env (an environment
// variable) or NAME_file (a file holding it; surrounding white space is
// trimmed); exactly one of the three. ca_file (PEM) may be added to any
// channel sent over https or smtps.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/fs.h"
#include "core/status.h"
#include "governance/model.h"
#include "notify/smtp.h"

namespace interlock::notify {

struct ChannelDelivery {
  std::string id;
  std::string type;    // slack | email | pagerduty | webhook
  std::string url;     // slack, pagerduty, webhook
  std::string secret;  // pagerduty routing key, webhook signing secret
  std::string ca_file;
  SmtpOptions smtp;  // email
  std::string from;  // email
};

// Where the rollouts' metric queries go (rollout/prometheus.h).
struct MetricSourceSettings {
  std::string url;
  std::string bearer_token;
  std::string ca_file;
  int64_t timeout_ms = 5000;
};

struct DeliveryConfig {
  std::map<std::string, ChannelDelivery> channels;  // by channel id
  std::string slack_signing_secret;                 // empty: /slack/commands is off
  std::optional<MetricSourceSettings> prometheus;   // absent: pushed metrics only
  // Channels of the governance with no delivery settings: their messages
  // are not composed. For the server's start-up warnings.
  std::vector<std::string> undelivered;
};

// Reads an environment variable; nullopt when unset.
using EnvReader = std::function<std::optional<std::string>(const std::string&)>;

// Parses and checks `text` (from `path`, for messages) against `g`'s
// channels: every channel named must exist there and carry the settings
// its type needs. Errors are kInvalidArgument, one per line, each naming
// the file, line and column, e.g.
//   delivery.yaml:4:7: channels.pagerduty: routing_key_env: the environment
//   variable PD_KEY is not set
Result<DeliveryConfig> ParseDelivery(const std::string& path, std::string_view text,
                                     const governance::Governance& g, const FileSystem& fs,
                                     const EnvReader& env);

// No file: nothing is delivered; every channel is listed as undelivered.
DeliveryConfig NoDelivery(const governance::Governance& g);

}  // namespace interlock::notify
