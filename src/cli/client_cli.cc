// `interlock stop ...`, `interlock approvals ...` and `interlock rollout ...`: clients of a running
// `interlock serve`. Each sends one request as the principal of its token and
// prints the server's JSON answer; the server decides who may do what.
#include "cli/cli.h"

#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cli/command.h"
#include "core/url.h"
#include "net/http_client.h"

namespace interlock::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr const char* kDefaultServer = "http://127.0.0.1:8080";

// Flags of every client subcommand; each uses its own.
struct ClientFlags {
  std::string server;
  std::string token;
  std::string ca_file;
  std::string reason;
  std::string review, root_cause, prevention;
  std::string environment, service, agent;  // a scoped stop
  std::string state, limit, cursor;         // a page of approvals
  std::string id;
  std::string rationale;
  std::string to;
  std::string actions_taken;  // a rollback's review
};

struct ApiRequest {
  std::string method;
  std::string target;
  json body;  // null: none
};

using MakeRequest = std::function<ApiRequest(const ClientFlags&)>;

// The server's URL, checked, without a trailing "/": the requests' targets
// go after it (a path prefix is a server behind a reverse proxy).
Result<std::string> ServerUrl(std::string_view url) {
  auto invalid = [url](std::string_view why) {
    return std::unexpected(Error::InvalidArgument(fmt::format("server URL \"{}\": {}", url, why)));
  };
  if (url.find("://") == std::string_view::npos) {
    return invalid("expected http://host[:port] or https://...");
  }
  Result<Url> parsed = ParseUrl(url);
  if (!parsed) return invalid(parsed.error().message());
  if (parsed->scheme != "https" && parsed->scheme != "http") {
    return invalid("the scheme must be http or https");
  }
  if (parsed->userinfo) {
    return invalid("credentials do not go in the URL; the token is given apart");
  }
  if (parsed->query || parsed->fragment) return invalid("a query or fragment is not allowed");
  std::string out(url);
  while (out.ends_with('/')) out.pop_back();
  return out;
}

// Visible ASCII only: what may go into a header value unchanged.
bool Visible(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
}

// The exit code for an HTTP status the server answered.
int ExitCodeForStatus(int status) {
  if (status >= 200 && status < 300) return kExitOk;
  if (status >= 400 && status < 500) return kExitInvalid;
  return kExitFailure;
}

// What the server said went wrong: the message of its {"error": {...}}
// body, or, from something that is not Interlock (a proxy), the status and
// the start of the body.
std::string ErrorMessage(const std::string& server, const net::HttpReply& answer,
                         const json& body) {
  if (body.is_object() && body.contains("error") && body["error"].is_object() &&
      body["error"].contains("message") && body["error"]["message"].is_string()) {
    return body["error"]["message"].get<std::string>();
  }
  constexpr size_t kShown = 200;
  std::string shown = answer.body.substr(0, kShown);
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (shown.empty()) return fmt::format("{} answered {} with an empty body", server, answer.status);
  return fmt::format("{} answered {}: {}{}", server, answer.status, shown,
                     answer.body.size() > kShown ? "..." : "");
}

int Send(const ClientFlags& flags, const ApiRequest& request, Io& io) {
  std::string server = flags.server;
  if (server.empty()) server = io.env("INTERLOCK_SERVER").value_or("");
  if (server.empty()) server = kDefaultServer;
  auto base = ServerUrl(server);
  if (!base) return Fail(io, base.error());
  std::string token = flags.token.empty() ? io.env("INTERLOCK_TOKEN").value_or("") : flags.token;
  if (token.empty()) {
    return Fail(io, Error::InvalidArgument(
                        "a token is required: pass --token or set INTERLOCK_TOKEN (interlock "
                        "token create --principal ID makes one)"));
  }
  if (!Visible(token)) {
    return Fail(io,
                Error::InvalidArgument(
                    "the token has spaces or control characters; a token is itk_<id>_<secret>"));
  }
  net::HttpCall call;
  call.method = request.method;
  call.url = *base + request.target;
  call.ca_file = flags.ca_file;
  call.headers = {{"User-Agent", "interlock-cli"},
                  {"Accept", "application/json"},
                  {"Authorization", "Bearer " + token}};
  if (!request.body.is_null()) {
    call.body = request.body.dump();
    call.headers.emplace_back("Content-Type", "application/json");
  }
  auto answer = net::NewCurlHttpClient()->Send(call);
  if (!answer) return Fail(io, answer.error());
  json body = json::parse(answer->body, nullptr, false);
  int code = ExitCodeForStatus(answer->status);
  if (code != kExitOk) {
    Print(io.err, "error: {}\n", ErrorMessage(server, *answer, body));
    return code;
  }
  if (body.is_discarded()) {
    return Fail(io, Error::Unavailable(fmt::format("{} answered {} with a body that is not JSON",
                                                   server, answer->status)));
  }
  Print(io.out, "{}\n", body.dump(-1, ' ', false, json::error_handler_t::replace));
  return kExitOk;
}

// A change of the global stop, or of the one scope the flags name (the
// server refuses more than one).
ApiRequest StopRequest(json body, const ClientFlags& c) {
  json scope = json::object();
  if (!c.environment.empty()) scope["environment"] = c.environment;
  if (!c.service.empty()) scope["service"] = c.service;
  if (!c.agent.empty()) scope["agent"] = c.agent;
  if (!scope.empty()) body["scope"] = std::move(scope);
  return {"POST", "/api/emergency-stop", std::move(body)};
}

struct ApprovalAction {
  const char* name;    // on the command line
  const char* action;  // in the API
  const char* description;
};

const ApprovalAction kApprovalActions[] = {
    {"approve", "approve", "Approve an approval request (a human with an eligible role)"},
    {"reject", "reject", "Reject an approval request"},
    {"request-changes", "request_changes",
     "Send an approval request back to its requester for changes"},
    {"escalate", "escalate", "Escalate an approval request to the workflow's escalation role"},
    {"resubmit", "resubmit", "Resubmit an approval request after changes (its requester)"},
};

const ApprovalAction kRolloutActions[] = {
    {"promote", "promote", "Promote a rollout to all traffic now"},
    {"abort", "abort", "Abort a rollout"},
    {"pause", "pause", "Pause a rollout where it is"},
    {"resume", "resume", "Resume a paused rollout"},
    {"skip-step", "skip_step", "Move a rollout to its next traffic step now"},
};

}  // namespace

std::vector<Command> ClientCommands() {
  auto flags = std::make_shared<ClientFlags>();
  using Extra = std::function<void(CLI::App*, ClientFlags&)>;
  // A command that sends what `make` builds from the flags; `extra`
  // declares the flags of its own.
  auto command = [flags](std::string path, std::string description, Extra extra,
                         MakeRequest make) -> Command {
    return {std::move(path), std::move(description),
            [flags, extra = std::move(extra)](CLI::App* sub) {
              sub->add_option("--server", flags->server,
                              fmt::format("Server URL, http:// or https:// (default: "
                                          "$INTERLOCK_SERVER, else {})",
                                          kDefaultServer));
              sub->add_option("--token", flags->token, "Bearer token (default: $INTERLOCK_TOKEN)");
              sub->add_option("--ca-file", flags->ca_file,
                              "PEM certificates to trust for https (default: the system's)");
              if (extra) extra(sub, *flags);
            },
            [flags, make = std::move(make)](Io& io) { return Send(*flags, make(*flags), io); }};
  };
  auto scoped = [](CLI::App* sub, ClientFlags& o) {
    sub->add_option("--environment", o.environment, "Only this environment's stop (a scoped stop)");
    sub->add_option("--service", o.service, "Only this service's stop (a scoped stop)");
    sub->add_option("--agent", o.agent, "Only this AI agent's stop (a scoped stop)");
  };
  auto reason = [scoped](CLI::App* sub, ClientFlags& o) {
    sub->add_option("--reason", o.reason, "Why")->required();
    scoped(sub, o);
  };
  auto id = [](CLI::App* sub, ClientFlags& o) {
    sub->add_option("ID", o.id, "Approval id")->required();
  };
  std::vector<Command> out = {
      {"stop", "The emergency stop of a running server", nullptr, nullptr},
      command("stop activate", "Activate the emergency stop: every decision is deny", reason,
              [](const ClientFlags& c) {
                return StopRequest({{"action", "activate"}, {"reason", c.reason}}, c);
              }),
      command(
          "stop deactivate",
          "Sign the deactivation of the emergency stop (it ends once every signer role has signed)",
          [scoped](CLI::App* sub, ClientFlags& o) {
            sub->add_option("--review", o.review, "The post-incident review")->required();
            sub->add_option("--root-cause", o.root_cause, "The root cause")->required();
            sub->add_option("--prevention", o.prevention, "The prevention measures")->required();
            scoped(sub, o);
          },
          [](const ClientFlags& c) {
            return StopRequest({{"action", "deactivate"},
                                {"post_incident_review", c.review},
                                {"root_cause", c.root_cause},
                                {"prevention_measures", c.prevention}},
                               c);
          }),
      command("stop reenable-ai", "Re-enable AI agents after the emergency stop", reason,
              [](const ClientFlags& c) {
                return StopRequest({{"action", "reenable_ai_agents"}, {"reason", c.reason}}, c);
              }),
      command("stop status", "Show the emergency stop", nullptr,
              [](const ClientFlags&) {
                return ApiRequest{"GET", "/api/emergency-stop", nullptr};
              }),
      {"approvals", "Approval requests of a running server", nullptr, nullptr},
      command(
          "approvals list", "List approval requests, a page at a time",
          [](CLI::App* sub, ClientFlags& o) {
            sub->add_option("--state", o.state, "Only those in STATE (pending, approved, ...)");
            sub->add_option("--limit", o.limit, "At most this many (default 100, at most 1000)");
            sub->add_option("--cursor", o.cursor,
                            "The page after this one (the next_cursor of the last page)");
          },
          [](const ClientFlags& c) {
            std::vector<std::string> query;
            if (!c.state.empty()) query.push_back("state=" + PercentEncode(c.state));
            if (!c.limit.empty()) query.push_back("limit=" + PercentEncode(c.limit));
            if (!c.cursor.empty()) query.push_back("cursor=" + PercentEncode(c.cursor));
            std::string target = "/v1/approvals";
            if (!query.empty()) target += "?" + fmt::format("{}", fmt::join(query, "&"));
            return ApiRequest{"GET", target, nullptr};
          }),
      command("approvals show", "Show one approval request", id,
              [](const ClientFlags& c) {
                return ApiRequest{"GET", "/v1/approvals/" + PercentEncode(c.id), nullptr};
              }),
  };
  for (const ApprovalAction& a : kApprovalActions) {
    out.push_back(command(
        fmt::format("approvals {}", a.name), a.description,
        [id](CLI::App* sub, ClientFlags& o) {
          id(sub, o);
          sub->add_option("--rationale", o.rationale, "Why")->required();
        },
        [&a](const ClientFlags& c) {
          return ApiRequest{"POST",
                            fmt::format("/v1/approvals/{}/{}", PercentEncode(c.id), a.action),
                            {{"rationale", c.rationale}}};
        }));
  }
  out.push_back(command(
      "approvals delegate", "Hand your review of an approval request to another principal",
      [id](CLI::App* sub, ClientFlags& o) {
        id(sub, o);
        sub->add_option("--to", o.to, "The principal who reviews instead")->required();
        sub->add_option("--rationale", o.rationale, "Why")->required();
      },
      [](const ClientFlags& c) {
        return ApiRequest{"POST",
                          "/v1/approvals/" + PercentEncode(c.id) + "/delegate",
                          {{"rationale", c.rationale}, {"to", c.to}}};
      }));
  out.push_back({"rollout", "Rollouts of a running server, and their rollbacks' incidents", nullptr,
                 nullptr});
  out.push_back(command(
      "rollout list", "List rollouts",
      [](CLI::App* sub, ClientFlags& o) {
        sub->add_option("--state", o.state,
                        "Only those in STATE (progressing, paused, promoted, rolled_back, "
                        "aborted)");
      },
      [](const ClientFlags& c) {
        return ApiRequest{
            "GET",
            c.state.empty() ? "/v1/rollouts" : "/v1/rollouts?state=" + PercentEncode(c.state),
            nullptr};
      }));
  auto rollout_id = [](CLI::App* sub, ClientFlags& o) {
    sub->add_option("ID", o.id, "Rollout id")->required();
  };
  out.push_back(command("rollout show", "Show one rollout, its checks and its metrics", rollout_id,
                        [](const ClientFlags& c) {
                          return ApiRequest{"GET", "/v1/rollouts/" + PercentEncode(c.id), nullptr};
                        }));
  for (const ApprovalAction& a : kRolloutActions) {
    out.push_back(command(
        fmt::format("rollout {}", a.name), a.description,
        [rollout_id](CLI::App* sub, ClientFlags& o) {
          rollout_id(sub, o);
          sub->add_option("--rationale", o.rationale, "Why")->required();
        },
        [&a](const ClientFlags& c) {
          return ApiRequest{"POST",
                            fmt::format("/v1/rollouts/{}/{}", PercentEncode(c.id), a.action),
                            {{"rationale", c.rationale}}};
        }));
  }
  out.push_back(command("rollout incidents", "List the incidents of rollbacks", nullptr,
                        [](const ClientFlags&) {
                          return ApiRequest{"GET", "/v1/incidents", nullptr};
                        }));
  out.push_back(command(
      "rollout review", "Submit the review of a rollback's incident",
      [](CLI::App* sub, ClientFlags& o) {
        sub->add_option("ID", o.id, "Incident id")->required();
        sub->add_option("--root-cause", o.root_cause, "The root cause")->required();
        sub->add_option("--actions", o.actions_taken, "The actions taken")->required();
      },
      [](const ClientFlags& c) {
        return ApiRequest{"POST",
                          "/v1/incidents/" + PercentEncode(c.id) + "/review",
                          {{"root_cause", c.root_cause}, {"actions_taken", c.actions_taken}}};
      }));
  return out;
}

}  // namespace interlock::cli
