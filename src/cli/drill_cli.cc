// `interlock drill emergency-stop|approval-bypass|audit-verify`: safety drills (seed 000
// section 3.5) run against a running `interlock serve` through its API, on
// the scope kept for drills (the service app::kDrillService), then recorded
// with POST /v1/drills for an engineering lead's sign-off. Each step says
// what was expected and what happened; the drill passes when every step
// did what was expected.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "cli/command.h"
#include "net/http_client.h"

namespace interlock::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr const char* kDefaultDrillServer = "http://127.0.0.1:8080";
// The scope kept for drills (app::kDrillService; the CLI does not link the
// app layer's state).
constexpr const char* kDrillScope = "interlock-drill";

struct DrillFlags {
  std::string server;
  std::string token;  // the person running the drill
  std::vector<std::string> signer_tokens;
  std::vector<std::string> approver_tokens;
  std::string agent_token;
  std::string ca_file;
};

struct Answer {
  int status = 0;
  json body;  // discarded when not JSON
};

// One client of the server for the whole drill.
class Api {
 public:
  Api(std::string base, std::string ca_file)
      : base_(std::move(base)), ca_file_(std::move(ca_file)), http_(net::NewCurlHttpClient()) {}

  Result<Answer> Send(const std::string& token, const std::string& method,
                      const std::string& target, const json& body = nullptr) {
    net::HttpCall call;
    call.method = method;
    call.url = base_ + target;
    call.ca_file = ca_file_;
    call.headers = {{"User-Agent", "interlock-drill"},
                    {"Accept", "application/json"},
                    {"Authorization", "Bearer " + token}};
    if (!body.is_null()) {
      call.body = body.dump();
      call.headers.emplace_back("Content-Type", "application/json");
    }
    auto reply = http_->Send(call);
    if (!reply) return std::unexpected(reply.error());
    return Answer{reply->status, json::parse(reply->body, nullptr, false)};
  }

 private:
  std::string base_;
  std::string ca_file_;
  std::unique_ptr<net::HttpClient> http_;
};

// What a drill found, step by step.
struct Steps {
  json list = json::array();
  std::vector<std::string> issues;

  void Check(const std::string& step, const std::string& expected, bool ok,
             const std::string& actual) {
    list.push_back({{"step", step}, {"expected", expected}, {"actual", actual}, {"ok", ok}});
    if (!ok) issues.push_back(fmt::format("{}: expected {}, got {}", step, expected, actual));
  }
  bool Passed() const { return issues.empty(); }
};

// The member `key` of an answer's body, or `otherwise` when the body is not
// an object or lacks it.
template <class T>
T Member(const Answer& a, const char* key, T otherwise) {
  if (!a.body.is_object() || !a.body.contains(key)) return otherwise;
  const json& v = a.body[key];
  if constexpr (std::is_same_v<T, bool>) {
    return v.is_boolean() ? v.get<bool>() : otherwise;
  } else {
    return v.is_string() ? v.get<std::string>() : otherwise;
  }
}

std::string Said(const Answer& a) {
  if (a.body.is_object() && a.body.contains("error") && a.body["error"].is_object()) {
    return fmt::format("{} ({})", a.status, a.body["error"].value("message", ""));
  }
  if (a.body.is_object() && a.body.contains("decision")) {
    return fmt::format("{}, decision {}", a.status, a.body["decision"].dump());
  }
  return fmt::format("{}", a.status);
}

// The principal behind `token`: GET /v1/me.
Result<json> Me(Api& api, const std::string& token, std::string_view who) {
  auto me = api.Send(token, "GET", "/v1/me");
  if (!me) return std::unexpected(me.error());
  if (me->status != 200 || !me->body.is_object()) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("the server does not know the {} token: {}", who, Said(*me))));
  }
  return me->body;
}

// A decision request on the drill scope by `me`: a patch in dev, which the
// default governance allows when no stop holds it, so that a probe leaves
// no approval request behind.
json DrillChange(const json& me) {
  const std::string type = me.value("type", "");
  json request = {{"actor", {{"type", type}, {"id", me.value("id", "")}}},
                  {"change",
                   {{"type", "code"},
                    {"environment", "dev"},
                    {"service", kDrillScope},
                    {"version", "1.0.1"},
                    {"previous_version", "1.0.0"}}},
                  {"checks", {{"tests_passed", true}, {"security_scan", {{"passed", true}}}}}};
  if (type == "ai_agent") {
    request["ai"] = {{"confidence", 0.9}, {"rationale", "a safety drill's probe"}};
  }
  return request;
}

// A decision request on the drill scope by `me` in production: one that
// needs two approvals.
json DrillRelease(const json& me) {
  json request = DrillChange(me);
  request["change"]["environment"] = "production";
  return request;
}

Result<Answer> ScopedStop(Api& api, const std::string& token, json body) {
  body["scope"] = {{"service", kDrillScope}};
  return api.Send(token, "POST", "/api/emergency-stop", body);
}

// Activates the drill scope's stop as the runner; false when it did not.
Result<bool> ActivateStop(Api& api, const DrillFlags& f, Steps& steps) {
  auto on = ScopedStop(api, f.token, {{"action", "activate"}, {"reason", "safety drill"}});
  if (!on) return std::unexpected(on.error());
  const bool ok = on->status == 200 && Member(*on, "active", false);
  steps.Check("activate the stop of service " + std::string(kDrillScope), "200, active", ok,
              Said(*on));
  return ok;
}

// Ends the drill scope's stop with the two signers and re-enables AI
// agents there.
Result<void> EndStop(Api& api, const DrillFlags& f, Steps& steps) {
  const json sign = {{"action", "deactivate"},
                     {"post_incident_review", "safety drill"},
                     {"root_cause", "a drill, no incident"},
                     {"prevention_measures", "none needed"}};
  auto first = ScopedStop(api, f.signer_tokens[0], sign);
  if (!first) return std::unexpected(first.error());
  steps.Check("the first signature of the deactivation", "200, still active",
              first->status == 200 && Member(*first, "active", false), Said(*first));
  auto second = ScopedStop(api, f.signer_tokens[1], sign);
  if (!second) return std::unexpected(second.error());
  steps.Check("the second signature, by another person", "200, inactive",
              second->status == 200 && !Member(*second, "active", true), Said(*second));
  if (second->status != 200 || !Member(*second, "ai_agents_disabled", false)) return Ok();
  bool reenabled = false;
  std::string said;
  for (const std::string& token : f.signer_tokens) {
    auto r = ScopedStop(api, token, {{"action", "reenable_ai_agents"}, {"reason", "drill over"}});
    if (!r) return std::unexpected(r.error());
    said = Said(*r);
    if (r->status == 200) {
      reenabled = true;
      break;
    }
  }
  steps.Check("AI agents re-enabled in the scope", "200", reenabled, said);
  return Ok();
}

Result<void> NeedSigners(const DrillFlags& f, std::string_view drill) {
  if (f.signer_tokens.size() == 2) return Ok();
  return std::unexpected(Error::InvalidArgument(
      fmt::format("the {} drill takes --signer-token twice: the two people whose signatures end "
                  "the stop (by default an engineering lead and a security lead)",
                  drill)));
}

// Scoped emergency stop: activate, prove decisions and agents are refused,
// deactivate with two signers, re-enable agents, prove decisions resume.
Result<void> EmergencyStop(Api& api, const DrillFlags& f, Steps& steps, json& report) {
  if (auto ok = NeedSigners(f, "emergency-stop"); !ok) return ok;
  auto me = Me(api, f.token, "--token");
  if (!me) return std::unexpected(me.error());
  report = {{"scenario", fmt::format("a scoped emergency stop of service {}: activated, decisions "
                                     "and agents refused, ended by two signers",
                                     kDrillScope)},
            {"expected",
             "decisions in the scope are denied and AI agents refused while the stop is active; "
             "one signature does not end it, two people's do; decisions resume after"}};
  auto on = ActivateStop(api, f, steps);
  if (!on) return std::unexpected(on.error());
  if (!*on) return Ok();
  auto denied = api.Send(f.token, "POST", "/v1/decisions", DrillChange(*me));
  if (!denied) return std::unexpected(denied.error());
  steps.Check("a decision in the stopped scope", "deny",
              denied->status == 200 && Member(*denied, "decision", std::string()) == "deny",
              Said(*denied));
  if (!f.agent_token.empty()) {
    auto agent = Me(api, f.agent_token, "--agent-token");
    if (!agent) return std::unexpected(agent.error());
    auto refused = api.Send(f.agent_token, "POST", "/v1/decisions", DrillChange(*agent));
    if (!refused) return std::unexpected(refused.error());
    const bool is_refused =
        refused->status == 423 || refused->status == 403 ||
        (refused->status == 200 && Member(*refused, "decision", std::string()) == "deny");
    steps.Check("an AI agent's decision in the stopped scope", "refused", is_refused,
                Said(*refused));
  }
  if (auto ended = EndStop(api, f, steps); !ended) return ended;
  auto after = api.Send(f.token, "POST", "/v1/decisions", DrillChange(*me));
  if (!after) return std::unexpected(after.error());
  steps.Check("a decision in the scope after the stop", "not deny",
              after->status == 200 && Member(*after, "decision", std::string()) != "deny",
              Said(*after));
  return Ok();
}

// Every way around an approval, tried on a drill release that needs two
// approvals: its requester approving, an AI agent approving, and the
// approval that would complete it given while a stop covers it. Each must be
// refused; the release is then rejected, so nothing stays open.
Result<void> ApprovalBypass(Api& api, const DrillFlags& f, Steps& steps, json& report) {
  if (auto ok = NeedSigners(f, "approval-bypass"); !ok) return ok;
  if (f.approver_tokens.size() != 2 || f.agent_token.empty()) {
    return std::unexpected(Error::InvalidArgument(
        "the approval-bypass drill takes --approver-token twice (two people who may approve a "
        "production release, neither the runner) and --agent-token (an AI agent)"));
  }
  auto me = Me(api, f.token, "--token");
  if (!me) return std::unexpected(me.error());
  report = {{"scenario", fmt::format("a production release of service {} that needs two approvals",
                                     kDrillScope)},
            {"expected",
             "its requester's approval, an AI agent's approval and the approval that would "
             "complete it under an emergency stop are each refused"}};
  auto opened = api.Send(f.token, "POST", "/v1/decisions", DrillRelease(*me));
  if (!opened) return std::unexpected(opened.error());
  const std::string id = Member(*opened, "approval_id", std::string());
  steps.Check("a release that needs approval", "require_approval",
              Member(*opened, "decision", std::string()) == "require_approval" && !id.empty(),
              Said(*opened));
  if (id.empty()) return Ok();
  const std::string target = "/v1/approvals/" + id;
  const json why = {{"rationale", "safety drill: this approval must be refused"}};
  auto refused = [&](const std::string& step, const std::string& token) -> Result<void> {
    auto r = api.Send(token, "POST", target + "/approve", why);
    if (!r) return std::unexpected(r.error());
    steps.Check(step, "refused (4xx)", r->status >= 400 && r->status < 500, Said(*r));
    return Ok();
  };
  if (auto r = refused("its requester approves it", f.token); !r) return r;
  if (auto r = refused("an AI agent approves it", f.agent_token); !r) return r;
  auto first = api.Send(f.approver_tokens[0], "POST", target + "/approve",
                        json{{"rationale", "safety drill: the first of two approvals"}});
  if (!first) return std::unexpected(first.error());
  steps.Check("a first eligible approval", "200, still pending",
              first->status == 200 && Member(*first, "state", std::string()) == "pending",
              Said(*first));
  auto on = ActivateStop(api, f, steps);
  if (!on) return std::unexpected(on.error());
  if (*on) {
    if (auto r = refused("the completing approval under the stop", f.approver_tokens[1]); !r) {
      return r;
    }
    if (auto ended = EndStop(api, f, steps); !ended) return ended;
  }
  auto rejected = api.Send(f.approver_tokens[0], "POST", target + "/reject",
                           json{{"rationale", "safety drill over"}});
  if (!rejected) return std::unexpected(rejected.error());
  steps.Check("the drill's release is rejected, leaving nothing open", "200",
              rejected->status == 200, Said(*rejected));
  return Ok();
}

// The audit log verified by the server (the audit_verifies control) and its
// checkpoint served.
Result<void> AuditVerify(Api& api, const DrillFlags& f, Steps& steps, json& report) {
  auto compliance = api.Send(f.token, "GET", "/v1/compliance");
  if (!compliance) return std::unexpected(compliance.error());
  std::string outcome = "no audit_verifies control";
  std::string reason;
  if (compliance->status == 200 && compliance->body.is_object()) {
    for (const json& c : compliance->body.value("controls", json::array())) {
      if (!c.is_object()) continue;
      if (c.value("check", "") == "audit_verifies") {
        outcome = c.value("outcome", "");
        reason = c.value("reason", "");
        break;
      }
    }
  } else {
    outcome = Said(*compliance);
  }
  steps.Check("the server verifies the whole audit log", "pass", outcome == "pass",
              reason.empty() ? outcome : fmt::format("{}: {}", outcome, reason));
  auto checkpoint = api.Send(f.token, "GET", "/v1/audit/checkpoint");
  if (!checkpoint) return std::unexpected(checkpoint.error());
  steps.Check("the signed checkpoint is served", "200", checkpoint->status == 200,
              Said(*checkpoint));
  report = {{"scenario", "verify every record, tile and checkpoint of the audit log"},
            {"expected", "the log verifies and its signed checkpoint is served"}};
  return Ok();
}

using Drill = Result<void> (*)(Api&, const DrillFlags&, Steps&, json&);

int RunDrill(const DrillFlags& flags, std::string_view name, Drill drill, Io& io) {
  DrillFlags f = flags;
  if (f.server.empty()) f.server = io.env("INTERLOCK_SERVER").value_or(kDefaultDrillServer);
  while (f.server.ends_with('/')) f.server.pop_back();
  if (f.token.empty()) f.token = io.env("INTERLOCK_TOKEN").value_or("");
  if (f.token.empty()) {
    return Fail(io, Error::InvalidArgument(
                        "a token is required: pass --token or set INTERLOCK_TOKEN (the person "
                        "running the drill, who records it)"));
  }
  Api api(f.server, f.ca_file);
  Steps steps;
  json report;
  if (auto ran = drill(api, f, steps, report); !ran) return Fail(io, ran.error());
  report["drill"] = name;
  if (!report.contains("expected")) report["expected"] = "every step as expected";
  std::vector<std::string> done;
  for (const json& s : steps.list) {
    done.push_back(
        fmt::format("{}: {}", s["step"].get<std::string>(), s["actual"].get<std::string>()));
  }
  report["actual"] = fmt::format("{}", fmt::join(done, "; "));
  report["passed"] = steps.Passed();
  report["issues"] = steps.issues;
  if (!steps.Passed()) {
    report["remediation"] = "investigate each issue before the drill is run again";
  }
  auto recorded = api.Send(f.token, "POST", "/v1/drills", report);
  if (!recorded) return Fail(io, recorded.error());
  if (recorded->status != 201) {
    Print(io.err, "error: the drill ran but was not recorded: {}\n", Said(*recorded));
    return kExitFailure;
  }
  json out = {{"drill", name},
              {"passed", steps.Passed()},
              {"steps", steps.list},
              {"record", recorded->body}};
  Print(io.out, "{}\n", out.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!steps.Passed()) {
    Print(io.err, "drill {} failed: {}\n", name, fmt::join(steps.issues, "; "));
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> DrillCommands() {
  auto flags = std::make_shared<DrillFlags>();
  auto common = [flags](CLI::App* sub) {
    sub->add_option(
        "--server", flags->server,
        fmt::format("Server URL (default: $INTERLOCK_SERVER, else {})", kDefaultDrillServer));
    sub->add_option("--token", flags->token,
                    "Token of the person running the drill, who records it (default: "
                    "$INTERLOCK_TOKEN)");
    sub->add_option("--ca-file", flags->ca_file,
                    "PEM certificates to trust for https (default: the system's)");
  };
  auto command = [flags, common](const std::string& name, std::string description, Drill drill,
                                 std::function<void(CLI::App*)> extra) -> Command {
    return {"drill " + name, std::move(description),
            [common, extra = std::move(extra)](CLI::App* sub) {
              common(sub);
              if (extra) extra(sub);
            },
            [flags, name, drill](Io& io) { return RunDrill(*flags, name, drill, io); }};
  };
  return {
      {"drill", "Safety drills against a running server, recorded for sign-off", nullptr, nullptr},
      command("emergency-stop",
              "Drill the emergency stop on the drill scope: activate, prove decisions and agents "
              "are refused, end it with two signers",
              &EmergencyStop,
              [flags](CLI::App* sub) {
                sub->add_option("--signer-token", flags->signer_tokens,
                                "Token of a person who signs the deactivation (twice: two "
                                "people)")
                    ->required();
                sub->add_option("--agent-token", flags->agent_token,
                                "Token of an AI agent, to prove agents are refused under the stop");
              }),
      command("approval-bypass",
              "Drill the approval gate: a requester's own approval, an AI agent's and one under a "
              "stop must each be refused",
              &ApprovalBypass,
              [flags](CLI::App* sub) {
                sub->add_option("--approver-token", flags->approver_tokens,
                                "Token of a person who may approve a production release (twice)")
                    ->required();
                sub->add_option("--signer-token", flags->signer_tokens,
                                "Token of a person who signs the stop's deactivation (twice)")
                    ->required();
                sub->add_option("--agent-token", flags->agent_token, "Token of an AI agent")
                    ->required();
              }),
      command("audit-verify",
              "Drill the audit log's verification: the server verifies the whole log and serves "
              "its checkpoint",
              &AuditVerify, nullptr),
  };
}

}  // namespace interlock::cli
