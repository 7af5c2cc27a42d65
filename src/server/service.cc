// One file for now: the routes, their views, Slack and /metrics share the
// service's private Impl. It is to be split into a routes table and a file
// per job as state moves into app/ (docs/architecture.md, "The target").
#include "server/service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/lane.h"
#include "app/stop_board.h"
#include "audit/crypto.h"
#include "audit/event.h"
#include "audit/json.h"
#include "audit/log.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/text.h"
#include "decision/engine.h"
#include "decision/render.h"
#include "decision/request.h"
#include "governance/audit_access.h"
#include "governance/diagnostic.h"
#include "governance/loader.h"
#include "notify/notifier.h"
#include "notify/slack.h"
#include "safety/stop.h"
#include "server/tokens.h"
#include "server/web.h"
#include "store/sqlite_audit_store.h"
#include "workflow/approval.h"

namespace interlock::server {
namespace {

using json = nlohmann::ordered_json;
using governance::Governance;
using governance::Principal;
using GovernancePtr = std::shared_ptr<const Governance>;

constexpr std::string_view kStopKind = "emergency_stop";
constexpr std::string_view kApprovalKind = "approval";
// The dashboard's hourly decision counts: one state row of this kind.
constexpr std::string_view kStatsKind = "dashboard";
constexpr std::string_view kStatsId = "decisions_per_hour";
constexpr int64_t kStatsHours = 168;  // a week
constexpr UnixMillis kHourMs = 3'600'000;
// Approvals per page of GET /v1/approvals.
constexpr uint64_t kDefaultApprovalPage = 100;
constexpr uint64_t kMaxApprovalPage = 1000;

// An approval as the API shows it: its stored form plus what is still missing.
json ApprovalJson(const workflow::ApprovalRequest& a) {
  json out = workflow::ToJson(a);
  out["missing_roles"] = workflow::MissingRoles(a);
  out["approvals_needed"] =
      std::max(0, a.required_approvals - static_cast<int>(a.approvals.size()));
  return out;
}

// Whom `actor` may hand `a` to now: every principal a delegation to would
// be accepted for. Empty if `actor` may not delegate.
std::vector<std::string> DelegateCandidates(const Governance& g, const workflow::ApprovalRequest& a,
                                            const Principal& actor, UnixMillis now, bool stopped) {
  std::vector<std::string> out;
  for (const Principal& to : g.principals) {
    if (workflow::Act(g, a, actor, workflow::Action::kDelegate, "dry run", to.id, now, stopped)) {
      out.push_back(to.id);
    }
  }
  return out;
}

// The actions `actor` may take on `a` now, tried against the workflow rules
// without committing anything, so the dashboard shows only those.
std::vector<std::string> ActionsFor(const Governance& g, const workflow::ApprovalRequest& a,
                                    const Principal& actor, UnixMillis now, bool stopped) {
  std::vector<std::string> out;
  for (workflow::Action act :
       {workflow::Action::kApprove, workflow::Action::kReject, workflow::Action::kRequestChanges,
        workflow::Action::kEscalate, workflow::Action::kResubmit}) {
    // A repeated approval is accepted but changes nothing: not offered.
    bool approved =
        std::any_of(a.approvals.begin(), a.approvals.end(),
                    [&](const workflow::Approval& x) { return x.principal == actor.id; });
    if (act == workflow::Action::kApprove && approved) continue;
    if (workflow::Act(g, a, actor, act, "dry run", std::nullopt, now, stopped)) {
      out.emplace_back(Name(act));
    }
  }
  if (!DelegateCandidates(g, a, actor, now, stopped).empty()) {
    out.emplace_back(Name(workflow::Action::kDelegate));
  }
  return out;
}

HttpResponse JsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = audit::Dump(body);
  r.body += '\n';
  return r;
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse r = JsonResponse(status, {{"error", {{"code", code}, {"message", message}}}});
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

// 405 with the Allow header RFC 9110 asks for.
HttpResponse MethodNotAllowed(std::string_view path, std::string_view method,
                              std::initializer_list<std::string_view> allowed) {
  HttpResponse r = ErrorResponse(
      405, "method_not_allowed",
      fmt::format("{} does not accept {} (only {})", path, method, fmt::join(allowed, ", ")));
  r.headers.emplace_back("Allow", fmt::format("{}", fmt::join(allowed, ", ")));
  return r;
}

// Whether `method` is one of `allowed`; HEAD goes wherever GET does.
bool MethodIn(std::string_view method, std::initializer_list<std::string_view> allowed) {
  if (method == "HEAD") method = "GET";
  return std::find(allowed.begin(), allowed.end(), method) != allowed.end();
}

// The HTTP answer to an expected failure.
HttpResponse ErrorResponse(const Error& e) {
  switch (e.kind()) {
    case ErrorKind::kInvalidArgument:
      return ErrorResponse(400, "invalid", e.message());
    case ErrorKind::kNotFound:
      return ErrorResponse(404, "not_found", e.message());
    case ErrorKind::kAlreadyExists:
      return ErrorResponse(409, "conflict", e.message());
    case ErrorKind::kPermissionDenied:
      return ErrorResponse(403, "forbidden", e.message());
    case ErrorKind::kUnavailable:
    case ErrorKind::kIo:
      return ErrorResponse(503, "unavailable", e.message());
    case ErrorKind::kCorruption:
    case ErrorKind::kInternal:
      break;
  }
  return ErrorResponse(500, "internal", e.message());
}

// A JSON answer whose body is already written (decision/render.h).
HttpResponse RawJsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.body += '\n';
  return r;
}

Result<std::optional<uint64_t>> IndexParam(const HttpRequest& r, std::string_view name,
                                           bool required) {
  auto v = r.Query(name);
  if (!v) {
    if (required) {
      return std::unexpected(
          Error::InvalidArgument(fmt::format("query parameter {}: required", name)));
    }
    return std::optional<uint64_t>();
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || v->empty()) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("query parameter {}: expected a non-negative integer, got \"{}\"", name, *v)));
  }
  return std::optional<uint64_t>(n);
}

json StopJson(const Governance& g, const safety::StopState& s) {
  json out = {{"active", s.active}, {"ai_agents_disabled", s.ai_disabled}};
  if (s.active || !s.incident.empty()) {
    out["reason"] = s.reason;
    out["activated_by"] = s.activated_by;
    out["activated_at"] = FormatTimestamp(s.activated_at);
    out["incident"] = s.incident;
  }
  if (s.active) {
    json signatures = json::array();
    for (const safety::Signature& sig : s.signatures) {
      signatures.push_back(
          {{"principal", sig.principal}, {"role", sig.role}, {"at", FormatTimestamp(sig.at)}});
    }
    out["pending_deactivation"] = {{"signatures", signatures},
                                   {"pending_roles", safety::PendingRoles(g, s)}};
  }
  if (s.deactivated_at) out["deactivated_at"] = FormatTimestamp(*s.deactivated_at);
  return out;
}

// The delivery settings for `g`: the file named in the options, else
// DATA/delivery.yaml if it exists, else none.
Result<notify::DeliveryConfig> LoadDelivery(const ServiceOptions& o, const Governance& g) {
  std::string path = o.delivery_file;
  if (path.empty()) {
    path = JoinPath(o.data_dir, "delivery.yaml");
    if (!o.fs->Exists(path)) return notify::NoDelivery(g);
  }
  auto text = o.fs->ReadFile(path, 1 << 20);
  if (!text) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("delivery settings {}: {}", path, text.error().message())));
  }
  notify::EnvReader env =
      o.env ? o.env : [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return notify::ParseDelivery(path, *text, g, *o.fs, env);
}

}  // namespace

struct Service::Impl {
  ServiceOptions options;
  std::atomic<GovernancePtr> governance;
  std::unique_ptr<audit::AuditLog> log;
  std::unique_ptr<Tokens> tokens;

  // The emergency stops: read without a lock, written by the stop lane only.
  app::StopBoard stops;

  std::mutex approvals_mu;
  std::map<std::string, workflow::ApprovalRequest> approvals;  // by id; guarded by approvals_mu
  // The roles that may approve a pending request, which a stop change
  // notifies: republished by every change to `approvals`, so that the stop
  // lane reads them without taking approvals_mu.
  std::atomic<std::shared_ptr<const std::vector<std::string>>> pending_roles{
      std::make_shared<const std::vector<std::string>>()};
  std::atomic<uint64_t> approvals_finished{0};
  std::atomic<uint64_t> approval_latency_ms{0};  // summed over the finished ones

  std::atomic<uint64_t> decisions[3] = {0, 0, 0};  // by DecisionKind
  // Decisions by hour (hours since 1970) and DecisionKind, the last
  // kStatsHours hours, for the dashboard's chart.
  std::mutex stats_mu;
  std::map<int64_t, std::array<uint64_t, 3>> hourly;
  bool hourly_dirty = false;
  UnixMillis hourly_saved_at = 0;
  std::atomic<uint64_t> decision_failures{0};
  std::atomic<uint64_t> pending_decisions{0};
  std::mutex pending_mu;
  std::condition_variable pending_cv;
  std::function<HttpStats()> http_stats;

  std::unique_ptr<notify::Sender> network_sender;
  std::unique_ptr<notify::Notifier> notifier;  // after log: destroyed before it

  // Declared last: destroyed first, so no task outlives what it uses. The
  // emergency stop's actions have a lane of their own, so they never wait
  // behind approval actions, reloads or audit reads.
  std::unique_ptr<app::Lane> stop_lane = std::make_unique<app::Lane>();
  std::unique_ptr<app::Lane> state_lane = std::make_unique<app::Lane>();
  std::unique_ptr<app::Lane> read_lane = std::make_unique<app::Lane>();

  // Queues `task` on `lane` for `who`; answers 429 if they have too much
  // waiting there already.
  void Post(app::Lane& lane, const std::string& who, const Respond& respond,
            std::function<void()> task) {
    if (!lane.Post(who, std::move(task))) {
      HttpResponse r =
          ErrorResponse(429, "too_many_requests",
                        fmt::format("{} has too many requests waiting; retry in a second", who));
      r.headers.emplace_back("Retry-After", "1");
      respond(std::move(r));
    }
  }

  // Republishes pending_roles. REQUIRES: approvals_mu held.
  void PublishPendingRoles() {
    std::vector<std::string> roles;
    for (const auto& [id, a] : approvals) {
      if (workflow::IsFinal(a.state)) continue;
      for (const std::string& role : a.eligible_roles) {
        if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
      }
    }
    pending_roles.store(std::make_shared<const std::vector<std::string>>(std::move(roles)));
  }

  // The principal behind the request's bearer token, or the answer to send.
  std::expected<const Principal*, HttpResponse> Authenticate(const HttpRequest& r,
                                                             const Governance& g) {
    auto header = r.Header("authorization");
    if (!header)
      return std::unexpected(ErrorResponse(401, "unauthorized", "a bearer token is required"));
    std::string_view h = *header;
    constexpr std::string_view kBearer = "Bearer ";
    if (h.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), h.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return std::unexpected(ErrorResponse(401, "unauthorized",
                                           "the Authorization header must be \"Bearer <token>\""));
    }
    auto id = tokens->Authenticate(h.substr(kBearer.size()));
    if (!id) {
      if (id.error().kind() == ErrorKind::kPermissionDenied) {
        return std::unexpected(ErrorResponse(401, "unauthorized", id.error().message()));
      }
      return std::unexpected(ErrorResponse(id.error()));
    }
    const Principal* p = g.FindPrincipal(*id);
    if (!p) {
      return std::unexpected(ErrorResponse(
          401, "unauthorized",
          fmt::format("the token's principal {} is no longer in principals.yaml", *id)));
    }
    return p;
  }

  safety::StopState Stop() { return stops.Snapshot()->at("global"); }
  std::optional<std::string> AiRefusal(std::string_view agent, std::optional<Environment> env,
                                       const std::optional<std::string>& service) {
    return app::AiRefusal(*stops.Snapshot(), agent, env, service);
  }

  // An approval as `actor` sees it: with "your_actions", the actions they
  // may take now, and with `candidates` "delegate_candidates", whom they may
  // hand it to. Takes no lock.
  json ApprovalView(const Governance& g, const app::StopMap& stops_now,
                    const workflow::ApprovalRequest& a, const Principal& actor, bool candidates) {
    json out = ApprovalJson(a);
    UnixMillis now = options.clock->Now();
    bool stopped =
        app::Covering(stops_now, a.change.environment, a.change.service, a.requester) != nullptr;
    out["your_actions"] = ActionsFor(g, a, actor, now, stopped);
    if (candidates) out["delegate_candidates"] = DelegateCandidates(g, a, actor, now, stopped);
    return out;
  }

  // The decision engine's view of the stop covering a request; `reason`
  // holds the text the state points to.
  static decision::SafetyState SafetyOf(const safety::StopState* stop,
                                        const std::optional<std::string>& service,
                                        std::string& reason) {
    decision::SafetyState safety;
    if (stop) {
      reason = app::CoveringReason(*stop, service);
      safety.emergency_stop = true;
      safety.stop_reason = reason;
    }
    return safety;
  }

  void Decide(const HttpRequest& r, Respond respond, const GovernancePtr& g,
              const Principal& actor);
  // POST /v1/decisions/simulate: the decision for any request, explained;
  // nothing is recorded and no approval is opened.
  void Simulate(const HttpRequest& r, const Respond& respond, const Governance& g,
                const Principal& caller);
  // GET /v1/me: who the token belongs to and what they may do.
  json Me(const Governance& g, const Principal& p);
  // GET /v1/stats: decisions per hour and approval latency, for the charts.
  Result<json> Stats(const HttpRequest& r);
  // Counts a decision answered at `at` in its hour.
  void CountDecision(DecisionKind kind, UnixMillis at);
  // Stores the hourly counts if they changed (at most once a minute unless
  // `force`), so a restart keeps the charts.
  void SaveStats(bool force);
  void EmergencyStop(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                     const Principal& actor);
  // A JSON answer, or the error response to send instead.
  using Outcome = std::expected<json, HttpResponse>;
  // Takes `action` (activate, deactivate, reenable_ai_agents) on the stop of
  // `scope` on the service's thread, then calls `done`.
  void StopAction(const GovernancePtr& g, const Principal& actor, safety::Scope scope,
                  const std::string& action, std::map<std::string, std::string> fields,
                  const std::function<void(Outcome)>& done);
  // Takes `act` on approval `id` on the service's thread, then calls `done`.
  void ApprovalAction(const GovernancePtr& g, const Principal& actor, const std::string& id,
                      workflow::Action act, std::string rationale, std::string to,
                      const std::function<void(Outcome)>& done);
  void Audit(const HttpRequest& r, const Respond& respond, const GovernancePtr& g,
             const Principal& actor);
  void Approvals(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                 const Principal& actor);
  // GET /v1/approvals[/{id}] on the read lane: what `actor` may read, one
  // page from after `cursor` (an approval id), its read recorded.
  void ReadApprovals(const Governance& g, const Principal& actor, const std::string& id,
                     const std::optional<std::string>& wanted, const std::string& cursor,
                     size_t page, const Respond& respond);
  // Stores `t`'s request with its audit event and its notifications;
  // holds approvals_mu.
  Result<audit::Appended> CommitApproval(const Governance& g, const workflow::Transition& t);
  // The outbox messages for an approval's notifications, on its workflow's
  // channels.
  Result<std::vector<notify::Message>> Announce(const Governance& g,
                                                const workflow::ApprovalRequest& a,
                                                const std::vector<workflow::Notification>& ns);
  // The outbox messages for a change of the emergency stop: on the stop
  // policy's notify targets, to the roles that activate and deactivate it
  // and every approver of a pending request (whose approvals cannot
  // complete now).
  Result<std::vector<notify::Message>> AnnounceStop(const Governance& g,
                                                    const safety::StopChange& change,
                                                    std::string_view action);
  HttpResponse Metrics();
  // POST /slack/commands: Slack's slash commands, signed by Slack.
  void Slack(const HttpRequest& r, const Respond& respond, const GovernancePtr& g);

  std::mutex slack_mu;
  std::map<std::string, int64_t> slack_seen;  // signature -> its timestamp, for 5 minutes
};

void Service::Impl::Decide(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                           const Principal& actor) {
  decision::RequestLimits limits;
  auto request = decision::ParseRequest(r.body, limits);
  if (!request) {
    respond(ErrorResponse(400, "invalid_request", request.error().message()));
    return;
  }
  // The actor is the token's; a body may name it, and must then name it
  // right.
  if (!request->actor_given) {
    request->actor_id = actor.id;
    request->actor_type = actor.type;
  } else if (request->actor_id != actor.id || request->actor_type != actor.type) {
    respond(ErrorResponse(
        403, "forbidden",
        fmt::format("the request names actor {} ({}), but the token belongs to {} ({})",
                    request->actor_id, Name(request->actor_type), actor.id, Name(actor.type))));
    return;
  }
  // Roles and team are the governance's, never the body's.
  request->actor_roles.clear();
  for (size_t i = 0; i < g->roles.size(); ++i) {
    if (actor.roles.test(i)) request->actor_roles.push_back(g->roles[i].id);
  }
  request->actor_team = actor.team.empty() ? std::nullopt : std::optional<std::string>(actor.team);
  if (auto ok = decision::CheckRequest(*g, *request); !ok) {
    respond(ErrorResponse(400, "invalid_request", ok.error().message()));
    return;
  }
  // AI agents under a global or their own stop were refused in Handle;
  // those under an environment's or a service's are refused here.
  if (actor.type == ActorType::kAiAgent) {
    if (auto refusal = AiRefusal(actor.id, request->environment, request->service)) {
      respond(ErrorResponse(423, "locked", *refusal));
      return;
    }
  }
  std::shared_ptr<const app::StopMap> stops_now = stops.Snapshot();
  std::string stop_reason;
  decision::SafetyState safety =
      SafetyOf(app::Covering(*stops_now, request->environment, request->service, actor.id),
               request->service, stop_reason);
  decision::Decision d;
  decision::Decide(*g, *request, safety, &d);
  std::vector<std::string> reasons = decision::ReasonTexts(*g, *request, safety, d);
  std::string why = fmt::format("{}", fmt::join(reasons, "; "));
  std::string body = decision::DecisionText(*g, *request, safety, d, {.reasons = &reasons});

  // Built as the audit log's own JSON type, so that it is validated and
  // made canonical without being written out and parsed again.
  nlohmann::json event = {{"event_type", "decision"},
                          {"actor", {{"type", Name(actor.type)}, {"id", actor.id}}},
                          {"environment", Name(request->environment)},
                          {"action", {{"type", Name(request->change_type)}}},
                          {"decision",
                           {{"outcome", Name(d.kind)},
                            {"risk_level", Name(d.risk)},
                            {"rationale", request->ai_rationale.value_or(why)}}},
                          {"reason", why},
                          {"ai_agent", {{"involved", actor.type == ActorType::kAiAgent}}},
                          {"governance_version", g->version}};
  if (request->service) event["action"]["service"] = *request->service;
  if (request->version) event["action"]["version"] = *request->version;
  if (request->ai_confidence) event["decision"]["confidence_score"] = *request->ai_confidence;
  if (request->summary) event["summary"] = *request->summary;
  UnixMillis now = options.clock->Now();
  std::vector<audit::Event> events;
  std::vector<audit::StateChange> changes;
  std::optional<workflow::ApprovalRequest> approval;
  std::vector<notify::Message> outbox;
  if (d.kind == DecisionKind::kRequireApproval) {
    std::array<uint8_t, 8> bytes;
    if (auto ok = options.random->Fill(bytes); !ok) {
      respond(ErrorResponse(ok.error()));
      return;
    }
    auto opened = workflow::Open(*g, *request, d, "apr_" + ToHex(bytes.data(), bytes.size()), now);
    if (!opened) {
      respond(ErrorResponse(400, "invalid_request",
                            "the approval cannot be opened: " + opened.error().message()));
      return;
    }
    event["approval"] = {{"required", true}, {"id", opened->request.id}};
    auto messages = Announce(*g, opened->request, opened->notifications);
    if (!messages) {
      respond(ErrorResponse(messages.error()));
      return;
    }
    approval = std::move(opened->request);
    changes.push_back({std::string(kApprovalKind), approval->id, audit::Dump(ToJson(*approval))});
    for (const notify::Message& m : *messages) changes.push_back(notify::Notifier::Row(m));
    outbox = std::move(*messages);
    auto open_event = audit::MakeEvent(std::move(opened->audit_event), now);
    if (!open_event) {
      respond(ErrorResponse(500, "internal", open_event.error().message()));
      return;
    }
    events.push_back(std::move(*open_event));
  }
  auto parsed = audit::MakeEvent(std::move(event), now);
  if (!parsed) {
    respond(ErrorResponse(500, "internal",
                          "the decision's audit event is invalid: " + parsed.error().message()));
    return;
  }
  events.insert(events.begin(), std::move(*parsed));
  pending_decisions.fetch_add(1);
  log->CommitAsync(
      std::move(events), std::move(changes),
      [this, respond = std::move(respond), body = std::move(body), kind = d.kind, now,
       approval = std::move(approval),
       outbox = std::move(outbox)](Result<std::vector<audit::Appended>> appended) mutable {
        if (appended) {
          decisions[static_cast<size_t>(kind)].fetch_add(1);
          CountDecision(kind, now);
          std::string index = std::to_string(appended->front().index);
          std::string id;
          if (approval) ::interlock::json::AppendQuoted(&id, approval->id);
          decision::ExtraMember extra[] = {{"audit_index", index}, {"approval_id", id}};
          decision::AppendMembers(&body, std::span(extra, approval ? 2 : 1));
          if (approval) {
            std::lock_guard lock(approvals_mu);
            approvals[approval->id] = std::move(*approval);
            PublishPendingRoles();
          }
          notifier->Enqueue(std::move(outbox));
          respond(RawJsonResponse(200, std::move(body)));
        } else {
          // Fail closed: no durable record, no permission.
          decision_failures.fetch_add(1);
          respond(JsonResponse(
              503, {{"decision", "deny"},
                    {"error",
                     {{"code", "audit_unavailable"},
                      {"message", "the decision could not be recorded, so it is deny: " +
                                      appended.error().message()}}}}));
        }
        std::lock_guard lock(pending_mu);
        pending_decisions.fetch_sub(1);
        pending_cv.notify_all();
      });
}

Result<std::vector<notify::Message>> Service::Impl::Announce(
    const Governance& g, const workflow::ApprovalRequest& a,
    const std::vector<workflow::Notification>& ns) {
  std::vector<std::string> channels;
  if (auto w = g.FindWorkflow(a.workflow)) channels = g.workflows[*w].notification_channels;
  bool urgent = a.state == workflow::ApprovalState::kEscalated ||
                a.state == workflow::ApprovalState::kBlocked;
  std::vector<notify::Message> out;
  for (const workflow::Notification& n : ns) {
    notify::Announcement an;
    an.principals = n.principals;
    an.roles = n.roles;
    an.subject = fmt::format("Approval {} is {}", a.id, Name(a.state));
    an.text = n.text;
    an.severity = urgent ? "warning" : "info";
    an.about = "approval " + a.id;
    auto messages = notifier->Compose(g, an, channels);
    if (!messages) return std::unexpected(messages.error());
    for (notify::Message& m : *messages) out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<notify::Message>> Service::Impl::AnnounceStop(const Governance& g,
                                                                 const safety::StopChange& change,
                                                                 std::string_view action) {
  notify::Announcement an;
  governance::RoleSet roles = g.emergency_stop.activate_roles | g.emergency_stop.deactivate_roles;
  for (size_t i = 0; i < g.roles.size(); ++i) {
    if (roles.test(i)) an.roles.push_back(g.roles[i].id);
  }
  for (const std::string& role : *pending_roles.load()) an.roles.push_back(role);
  const safety::StopState& next = change.next;
  an.subject = action == "activate"     ? "EMERGENCY STOP ACTIVATED"
               : next.active            ? "Emergency stop: deactivation signed"
               : action == "deactivate" ? "Emergency stop deactivated"
                                        : "AI agents re-enabled";
  an.text = change.summary;
  an.severity = action == "activate" ? "critical" : "warning";
  an.about = fmt::format("emergency_stop {}", next.incident);
  return notifier->Compose(g, an, g.emergency_stop.notify);
}

Result<audit::Appended> Service::Impl::CommitApproval(const Governance& g,
                                                      const workflow::Transition& t) {
  auto event = audit::MakeEvent(t.audit_event, options.clock->Now());
  if (!event) return std::unexpected(event.error());
  auto messages = Announce(g, t.request, t.notifications);
  if (!messages) return std::unexpected(messages.error());
  std::vector<audit::StateChange> changes = {
      {std::string(kApprovalKind), t.request.id, audit::Dump(workflow::ToJson(t.request))}};
  for (const notify::Message& m : *messages) changes.push_back(notify::Notifier::Row(m));
  auto appended = log->Commit(std::move(*event), std::move(changes));
  if (!appended) return std::unexpected(appended.error());
  notifier->Enqueue(std::move(*messages));
  if (workflow::IsFinal(t.request.state)) {
    approvals_finished.fetch_add(1);
    approval_latency_ms.fetch_add(static_cast<uint64_t>(
        std::max<UnixMillis>(0, options.clock->Now() - t.request.created_at)));
  }
  approvals[t.request.id] = t.request;
  PublishPendingRoles();
  return appended;
}

// Whether `actor` may read approval `a`: the audit trail's read rules (own,
// team, all, or all within a grant), plus every approval they review.
bool MayRead(const Governance& g, const audit::Reader& reader, bool granted,
             const workflow::ApprovalRequest& a, const Principal& actor) {
  bool own = a.requester == actor.id || std::find(a.on_behalf_of.begin(), a.on_behalf_of.end(),
                                                  actor.id) != a.on_behalf_of.end();
  if (own) return true;
  switch (reader.scope) {
    case audit::ReadScope::kAll:
      if (!reader.needs_grant || granted) return true;
      break;
    case audit::ReadScope::kTeam:
      if (std::find(reader.team.begin(), reader.team.end(), a.requester) != reader.team.end()) {
        return true;
      }
      break;
    case audit::ReadScope::kOwn:
    case audit::ReadScope::kNone:
      break;
  }
  if (actor.type != ActorType::kHuman) return false;
  for (const std::string& role : a.eligible_roles) {
    auto index = g.FindRole(role);
    if (index && actor.roles.test(*index)) return true;
  }
  return false;
}

void Service::Impl::Approvals(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                              const Principal& actor) {
  // /v1/approvals, /v1/approvals/{id}, /v1/approvals/{id}/{action}
  std::string_view rest = std::string_view(r.path).substr(std::string_view("/v1/approvals").size());
  if (!rest.empty()) rest.remove_prefix(1);
  std::string id(rest.substr(0, rest.find('/')));
  std::string action =
      rest.find('/') == std::string_view::npos ? "" : std::string(rest.substr(rest.find('/') + 1));
  if (action.empty()) {
    if (!MethodIn(r.method, {"GET"})) {
      respond(MethodNotAllowed(r.path, r.method, {"GET"}));
      return;
    }
    std::optional<std::string_view> wanted = r.Query("state");
    if (wanted && !ParseEnum<workflow::ApprovalState>(*wanted)) {
      respond(ErrorResponse(400, "invalid",
                            fmt::format("state: expected one of {}, got \"{}\"",
                                        fmt::join(workflow::kApprovalStateNames, ", "), *wanted)));
      return;
    }
    auto limit = IndexParam(r, "limit", false);
    if (!limit || (*limit && (**limit < 1 || **limit > kMaxApprovalPage))) {
      respond(ErrorResponse(400, "invalid",
                            fmt::format("query parameter limit: expected an integer from 1 to {}",
                                        kMaxApprovalPage)));
      return;
    }
    std::string cursor(r.Query("cursor").value_or(""));
    size_t page = static_cast<size_t>(limit->value_or(kDefaultApprovalPage));
    // Reads commit a record, so they run on the read lane, never on an IO
    // thread.
    Post(*read_lane, actor.id, respond,
         [this, g, actor, id, wanted = wanted ? std::optional<std::string>(*wanted) : std::nullopt,
          cursor, page,
          respond]() mutable { ReadApprovals(*g, actor, id, wanted, cursor, page, respond); });
    return;
  }
  if (r.method != "POST") {
    respond(MethodNotAllowed(r.path, r.method, {"POST"}));
    return;
  }
  auto act = ParseEnum<workflow::Action>(action);
  if (id.empty() || !act || *act == workflow::Action::kOpen || *act == workflow::Action::kTimeout) {
    respond(ErrorResponse(404, "not_found",
                          fmt::format("no approval action \"{}\" (expected approve, reject, "
                                      "request_changes, escalate, delegate or resubmit)",
                                      action)));
    return;
  }
  static constexpr std::string_view kFields[] = {"rationale", "to"};
  auto body = ::interlock::json::ReadObject(r.body, kFields);
  if (!body) {
    respond(ErrorResponse(body.error()));
    return;
  }
  auto rationale = body->fields.String("rationale");
  if (!rationale) {
    respond(ErrorResponse(rationale.error()));
    return;
  }
  auto to = body->fields.OptionalString("to");
  if (!to) {
    respond(ErrorResponse(to.error()));
    return;
  }
  if (*act == workflow::Action::kDelegate && !*to) {
    respond(ErrorResponse(400, "invalid", "to: required"));
    return;
  }
  if (*act != workflow::Action::kDelegate && *to) {
    respond(ErrorResponse(400, "invalid", "to: only a delegation names a person"));
    return;
  }
  ApprovalAction(g, actor, id, *act, std::string(*rationale), std::string(to->value_or("")),
                 [respond = std::move(respond)](Outcome outcome) {
                   respond(outcome ? JsonResponse(200, *outcome) : std::move(outcome.error()));
                 });
}

void Service::Impl::ReadApprovals(const Governance& g, const Principal& actor,
                                  const std::string& id, const std::optional<std::string>& wanted,
                                  const std::string& cursor, size_t page, const Respond& respond) {
  auto reader = governance::ReaderFor(g, actor.id);
  if (!reader) {
    respond(ErrorResponse(reader.error()));
    return;
  }
  bool granted = false;
  if (reader->scope == audit::ReadScope::kAll && reader->needs_grant) {
    auto active = log->HasActiveGrant(actor.id);
    if (!active) {
      respond(ErrorResponse(active.error()));
      return;
    }
    granted = *active;
  }
  // Copied out under the lock; the views are built after it is let go.
  std::vector<workflow::ApprovalRequest> chosen;
  std::optional<std::string> next_cursor;
  bool exists = false;
  {
    std::lock_guard lock(approvals_mu);
    if (!id.empty()) {
      auto it = approvals.find(id);
      exists = it != approvals.end();
      if (exists && MayRead(g, *reader, granted, it->second, actor)) chosen.push_back(it->second);
    } else {
      for (auto it = cursor.empty() ? approvals.begin() : approvals.upper_bound(cursor);
           it != approvals.end(); ++it) {
        const workflow::ApprovalRequest& a = it->second;
        if (wanted && Name(a.state) != *wanted) continue;
        if (!MayRead(g, *reader, granted, a, actor)) continue;
        if (chosen.size() == page) {
          next_cursor = chosen.back().id;
          break;
        }
        chosen.push_back(a);
      }
    }
  }
  if (!id.empty() && chosen.empty()) {
    // Not there, or not the reader's to see: the same answer, so that ids
    // cannot be probed.
    respond(ErrorResponse(404, "not_found", fmt::format("no approval {}", id)));
    (void)exists;
    return;
  }
  // Other people's approvals read: one record for the whole answer.
  std::vector<std::string> others;
  for (const workflow::ApprovalRequest& a : chosen) {
    if (a.requester != actor.id) others.push_back(a.id);
  }
  if (!others.empty()) {
    nlohmann::json event = {{"event_type", "approval_read"},
                            {"actor", {{"type", Name(actor.type)}, {"id", actor.id}}},
                            {"action", {{"type", id.empty() ? "list" : "view"}}},
                            {"approvals", others}};
    if (actor.type == ActorType::kAiAgent) {
      event["decision"] = {{"rationale", "a read of approvals; no rationale is given"}};
    }
    auto made = audit::MakeEvent(std::move(event), options.clock->Now());
    if (!made) {
      respond(ErrorResponse(500, "internal", made.error().message()));
      return;
    }
    if (auto ok = log->Commit(std::move(*made), {}); !ok) {
      respond(ErrorResponse(
          503, "audit_unavailable",
          "the read could not be recorded, so it is refused: " + ok.error().message()));
      return;
    }
  }
  std::shared_ptr<const app::StopMap> stops_now = stops.Snapshot();
  if (!id.empty()) {
    respond(JsonResponse(200, ApprovalView(g, *stops_now, chosen.front(), actor, true)));
    return;
  }
  json list = json::array();
  for (const workflow::ApprovalRequest& a : chosen) {
    list.push_back(ApprovalView(g, *stops_now, a, actor, false));
  }
  json out = {{"approvals", std::move(list)}};
  if (next_cursor) out["next_cursor"] = *next_cursor;
  respond(JsonResponse(200, out));
}

void Service::Impl::ApprovalAction(const GovernancePtr& g, const Principal& actor,
                                   const std::string& id, workflow::Action act,
                                   std::string rationale, std::string to,
                                   const std::function<void(Outcome)>& done) {
  auto task = [this, g, actor, id, act, rationale = std::move(rationale), to = std::move(to),
               done]() mutable {
    std::lock_guard lock(approvals_mu);
    auto it = approvals.find(id);
    if (it == approvals.end()) {
      done(std::unexpected(ErrorResponse(404, "not_found", fmt::format("no approval {}", id))));
      return;
    }
    const workflow::ChangeDetails& change = it->second.change;
    bool stopped = app::Covering(*stops.Snapshot(), change.environment, change.service,
                                 it->second.requester) != nullptr;
    auto t = workflow::Act(*g, it->second, actor, act, rationale,
                           to.empty() ? std::nullopt : std::optional<std::string>(to),
                           options.clock->Now(), stopped);
    if (!t) {
      done(std::unexpected(ErrorResponse(t.error())));
      return;
    }
    auto appended = CommitApproval(*g, *t);
    if (!appended) {
      const Error& e = appended.error();
      bool storage = e.kind() == ErrorKind::kIo || e.kind() == ErrorKind::kUnavailable;
      done(std::unexpected(storage ? ErrorResponse(503, "audit_unavailable",
                                                   "the action was not taken: " + e.message())
                                   : ErrorResponse(e)));
      return;
    }
    json out = ApprovalJson(t->request);
    out["audit_index"] = appended->index;
    done(std::move(out));
  };
  Post(
      *state_lane, actor.id,
      [done](HttpResponse refused) { done(std::unexpected(std::move(refused))); }, std::move(task));
}

void Service::Impl::EmergencyStop(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                                  const Principal& actor) {
  if (MethodIn(r.method, {"GET"})) {
    std::shared_ptr<const app::StopMap> snapshot = stops.Snapshot();
    const app::StopMap& all = *snapshot;
    json out = StopJson(*g, all.at("global"));
    json scoped = json::array();
    for (const auto& [key, st] : all) {
      if (st.scope.kind == safety::ScopeKind::kAll) continue;
      json one = {{"scope", st.scope.ToJson()}};
      one.update(StopJson(*g, st));
      scoped.push_back(std::move(one));
    }
    out["scoped"] = std::move(scoped);
    respond(JsonResponse(200, out));
    return;
  }
  static constexpr std::string_view kFields[] = {
      "action", "reason", "scope", "post_incident_review", "root_cause", "prevention_measures"};
  static constexpr std::string_view kScopeFields[] = {"environment", "service", "agent"};
  auto body = ::interlock::json::ReadObject(r.body, kFields);
  if (!body) {
    respond(ErrorResponse(body.error()));
    return;
  }
  auto action = body->fields.String("action");
  if (!action) {
    respond(ErrorResponse(action.error()));
    return;
  }
  safety::Scope scope;
  auto scope_in = body->fields.OptionalObject("scope", kScopeFields);
  if (!scope_in) {
    respond(ErrorResponse(scope_in.error()));
    return;
  }
  if (*scope_in) {
    json given = json::object();
    for (std::string_view key : kScopeFields) {
      auto value = (*scope_in)->OptionalString(key);
      if (!value) {
        respond(ErrorResponse(value.error()));
        return;
      }
      if (*value) given[std::string(key)] = std::string(**value);
    }
    auto parsed = safety::Scope::FromJson(*g, given);
    if (!parsed) {
      respond(ErrorResponse(parsed.error()));
      return;
    }
    scope = std::move(*parsed);
  }
  std::map<std::string, std::string> fields;
  for (const char* name : {"reason", "post_incident_review", "root_cause", "prevention_measures"}) {
    auto value = body->fields.OptionalString(name);
    if (!value) {
      respond(ErrorResponse(value.error()));
      return;
    }
    if (*value && !(*value)->empty()) fields[name] = std::string(**value);
  }
  if (*action != "activate" && *action != "deactivate" && *action != "reenable_ai_agents") {
    respond(ErrorResponse(400, "invalid",
                          fmt::format("action: expected activate, deactivate or "
                                      "reenable_ai_agents, got \"{}\"",
                                      *action)));
    return;
  }
  StopAction(g, actor, std::move(scope), std::string(*action), std::move(fields),
             [respond = std::move(respond)](Outcome outcome) {
               respond(outcome ? JsonResponse(200, *outcome) : std::move(outcome.error()));
             });
}

void Service::Impl::StopAction(const GovernancePtr& g, const Principal& actor, safety::Scope scope,
                               const std::string& action, std::map<std::string, std::string> fields,
                               const std::function<void(Outcome)>& done) {
  // The stop lane is the only writer of `stops`: no lock is taken here, and
  // nothing but other stop actions can be ahead of this one.
  auto task = [this, g, actor, scope = std::move(scope), action, fields = std::move(fields),
               done]() mutable {
    UnixMillis now = options.clock->Now();
    std::string key = scope.Key();
    std::shared_ptr<const app::StopMap> before = stops.Snapshot();
    auto found = before->find(key);
    safety::StopState current = found != before->end() ? found->second : safety::StopState{scope};
    std::string reason = fields.count("reason") ? fields["reason"] : "";
    auto change = action == "activate"     ? safety::Activate(*g, current, actor, reason, now)
                  : action == "deactivate" ? safety::Deactivate(*g, current, actor, fields, now)
                                           : safety::ReenableAiAgents(*g, current, actor, reason);
    if (!change) {
      done(std::unexpected(ErrorResponse(change.error())));
      return;
    }
    auto event = audit::ParseEvent(audit::Dump(change->event), now);
    if (!event) {
      done(std::unexpected(ErrorResponse(500, "internal", event.error().message())));
      return;
    }
    auto messages = AnnounceStop(*g, *change, action);
    if (!messages) {
      done(std::unexpected(ErrorResponse(messages.error())));
      return;
    }
    std::vector<audit::StateChange> changes = {
        {std::string(kStopKind), key, audit::Dump(change->next.ToJson())}};
    for (const notify::Message& m : *messages) changes.push_back(notify::Notifier::Row(m));
    auto appended = log->Commit(std::move(*event), std::move(changes));
    if (!appended) {
      done(std::unexpected(ErrorResponse(
          503, "audit_unavailable", "the change was not made: " + appended.error().message())));
      return;
    }
    stops.Put(change->next);
    notifier->Enqueue(std::move(*messages));
    json out = StopJson(*g, change->next);
    if (scope.kind != safety::ScopeKind::kAll) out["scope"] = scope.ToJson();
    out["audit_index"] = appended->index;
    out["message"] = change->summary;
    done(std::move(out));
  };
  Post(
      *stop_lane, actor.id,
      [done](HttpResponse refused) { done(std::unexpected(std::move(refused))); }, std::move(task));
}

void Service::Impl::Simulate(const HttpRequest& r, const Respond& respond, const Governance& g,
                             const Principal& caller) {
  auto request = decision::ParseRequest(r.body, decision::RequestLimits{});
  if (!request) {
    respond(ErrorResponse(400, "invalid_request", request.error().message()));
    return;
  }
  // Without an actor, the caller is simulated.
  if (!request->actor_given) {
    request->actor_id = caller.id;
    request->actor_type = caller.type;
  }
  // A principal of principals.yaml named without roles is simulated with
  // the roles and team the governance gives it.
  if (const Principal* p = g.FindPrincipal(request->actor_id); p && request->actor_roles.empty()) {
    for (size_t i = 0; i < g.roles.size(); ++i) {
      if (p->roles.test(i)) request->actor_roles.push_back(g.roles[i].id);
    }
    if (!request->actor_team && !p->team.empty()) request->actor_team = p->team;
  }
  if (auto ok = decision::CheckRequest(g, *request); !ok) {
    respond(ErrorResponse(400, "invalid_request", ok.error().message()));
    return;
  }
  std::string stop_reason;
  decision::SafetyState safety = SafetyOf(
      app::Covering(*stops.Snapshot(), request->environment, request->service, request->actor_id),
      request->service, stop_reason);
  decision::Decision d;
  decision::Decide(g, *request, safety, &d);
  decision::ExtraMember extra[] = {{"simulated", "true"}};
  respond(RawJsonResponse(
      200, decision::DecisionText(g, *request, safety, d, {.explain = true, .extra = extra})));
}

json Service::Impl::Me(const Governance& g, const Principal& p) {
  std::vector<std::string> roles;
  for (size_t i = 0; i < g.roles.size(); ++i) {
    if (p.roles.test(i)) roles.push_back(g.roles[i].id);
  }
  // What the dashboard may offer: the stop's own rules, tried without
  // committing anything.
  UnixMillis now = options.clock->Now();
  safety::StopState current = Stop();
  const governance::EmergencyStopPolicy& policy = g.emergency_stop;
  bool human = p.type == ActorType::kHuman;
  std::map<std::string, std::string> fields;
  for (const std::string& f : policy.deactivate_requires) fields[f] = "dry run";
  bool deactivate = current.active ? safety::Deactivate(g, current, p, fields, now).has_value()
                                   : human && (p.roles & policy.deactivate_roles).any();
  std::string read_audit = "none";
  if (auto reader = governance::ReaderFor(g, p.id)) {
    read_audit = reader->needs_grant                        ? "grant"
                 : reader->scope == audit::ReadScope::kAll  ? "all"
                 : reader->scope == audit::ReadScope::kTeam ? "team"
                 : reader->scope == audit::ReadScope::kOwn  ? "own"
                                                            : "none";
  }
  return {{"id", p.id},
          {"name", p.name},
          {"type", Name(p.type)},
          {"roles", roles},
          {"team", p.team},
          {"governance_version", g.version},
          {"may",
           {{"activate_emergency_stop",
             safety::Activate(g, safety::StopState{}, p, "dry run", now).has_value()},
            {"deactivate_emergency_stop", deactivate},
            {"reenable_ai_agents",
             human && policy.ai_reenable_role && p.roles.test(*policy.ai_reenable_role)},
            {"reload_governance", (p.roles & g.reload_roles).any()},
            {"read_audit", read_audit}}}};
}

void Service::Impl::CountDecision(DecisionKind kind, UnixMillis at) {
  std::lock_guard lock(stats_mu);
  int64_t hour = at / kHourMs;
  ++hourly[hour][static_cast<size_t>(kind)];
  hourly_dirty = true;
  while (!hourly.empty() && hourly.begin()->first <= hour - kStatsHours) {
    hourly.erase(hourly.begin());
  }
}

void Service::Impl::SaveStats(bool force) {
  UnixMillis now = options.clock->Now();
  nlohmann::json value = {{"format", 1}, {"hours", nlohmann::json::object()}};
  {
    std::lock_guard lock(stats_mu);
    if (!hourly_dirty || (!force && now - hourly_saved_at < 60'000)) return;
    for (const auto& [hour, counts] : hourly) value["hours"][std::to_string(hour)] = counts;
    hourly_dirty = false;
    hourly_saved_at = now;
  }
  auto saved = log->Commit(std::vector<audit::Event>{},
                           {{std::string(kStatsKind), std::string(kStatsId), audit::Dump(value)}});
  if (!saved) {
    std::lock_guard lock(stats_mu);
    hourly_dirty = true;  // again at the next tick
  }
}

Result<json> Service::Impl::Stats(const HttpRequest& r) {
  auto hours = IndexParam(r, "hours", false);
  if (!hours) return std::unexpected(hours.error());
  uint64_t n = hours->value_or(24);
  if (n < 1 || n > kStatsHours) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("query parameter hours: expected 1 to {}, got {}", kStatsHours, n)));
  }
  UnixMillis now = options.clock->Now();
  int64_t current = now / kHourMs;
  json per_hour = json::array();
  {
    std::lock_guard lock(stats_mu);
    for (int64_t h = current - static_cast<int64_t>(n) + 1; h <= current; ++h) {
      auto it = hourly.find(h);
      std::array<uint64_t, 3> c = it == hourly.end() ? std::array<uint64_t, 3>{} : it->second;
      per_hour.push_back(
          {{"hour", FormatTimestamp(h * kHourMs)},
           {"allow", c[static_cast<size_t>(DecisionKind::kAllow)]},
           {"require_approval", c[static_cast<size_t>(DecisionKind::kRequireApproval)]},
           {"deny", c[static_cast<size_t>(DecisionKind::kDeny)]}});
    }
  }
  // Approvals that ended inside the window, by when they ended.
  struct Finished {
    UnixMillis at;
    json item;
    double seconds;
  };
  std::vector<Finished> finished;
  {
    std::lock_guard lock(approvals_mu);
    for (const auto& [id, a] : approvals) {
      if (!workflow::IsFinal(a.state) || a.history.empty()) continue;
      UnixMillis end = a.history.back().at;
      if (end <= now - static_cast<int64_t>(n) * kHourMs) continue;
      double seconds = static_cast<double>(std::max<UnixMillis>(0, end - a.created_at)) / 1000;
      finished.push_back({end,
                          {{"id", id},
                           {"state", Name(a.state)},
                           {"opened_at", FormatTimestamp(a.created_at)},
                           {"finished_at", FormatTimestamp(end)},
                           {"seconds", seconds}},
                          seconds});
    }
  }
  std::sort(finished.begin(), finished.end(),
            [](const Finished& a, const Finished& b) { return a.at < b.at; });
  std::vector<double> seconds;
  json list = json::array();
  for (Finished& f : finished) {
    seconds.push_back(f.seconds);
    list.push_back(std::move(f.item));
  }
  std::sort(seconds.begin(), seconds.end());
  // Nearest rank.
  auto percentile = [&](double p) -> json {
    if (seconds.empty()) return nullptr;
    size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(seconds.size())));
    return seconds[std::clamp<size_t>(rank, 1, seconds.size()) - 1];
  };
  return json{
      {"now", FormatTimestamp(now)},
      {"decisions_per_hour", per_hour},
      {"approval_latency",
       {{"finished", list}, {"p50_seconds", percentile(0.5)}, {"p90_seconds", percentile(0.9)}}}};
}

void Service::Impl::Audit(const HttpRequest& r, const Respond& respond, const GovernancePtr& g,
                          const Principal& actor) {
  Post(*read_lane, actor.id, respond, [this, r, respond, g, actor]() mutable {
    auto answer = [&]() -> Result<json> {
      if (r.path == "/v1/audit/checkpoint") {
        auto note = log->LatestCheckpoint();
        if (!note) return std::unexpected(note.error());
        // The size the note signs, which may be a little behind log->size().
        auto verifier = audit::NoteVerifier::Parse(log->VerifierKey());
        if (!verifier) return std::unexpected(verifier.error());
        auto text = verifier->Verify(*note);
        if (!text) return std::unexpected(text.error());
        auto checkpoint = audit::ParseCheckpoint(*text);
        if (!checkpoint) return std::unexpected(checkpoint.error());
        return json{
            {"size", checkpoint->size}, {"note", *note}, {"verifier_key", log->VerifierKey()}};
      }
      if (r.path == "/v1/audit/proof") {
        auto index = IndexParam(r, "index", true);
        if (!index) return std::unexpected(index.error());
        auto size = IndexParam(r, "size", false);
        if (!size) return std::unexpected(size.error());
        auto p = log->ProveInclusion(**index, *size);
        if (!p) return std::unexpected(p.error());
        return audit::InclusionJson(*p);
      }
      if (r.path == "/v1/audit/consistency") {
        auto from = IndexParam(r, "from", true);
        if (!from) return std::unexpected(from.error());
        auto to = IndexParam(r, "to", false);
        if (!to) return std::unexpected(to.error());
        auto p = log->ProveConsistency(**from, *to);
        if (!p) return std::unexpected(p.error());
        return audit::ConsistencyJson(*p);
      }
      // /v1/audit/entries
      auto reader = governance::ReaderFor(*g, actor.id);
      if (!reader) return std::unexpected(reader.error());
      audit::QueryFilter f;
      if (auto v = r.Query("actor")) f.actor = std::string(*v);
      if (auto v = r.Query("event_type")) f.event_type = std::string(*v);
      if (auto v = r.Query("environment")) f.environment = std::string(*v);
      for (auto [name, into] : {std::pair{"since", &f.since}, std::pair{"until", &f.until}}) {
        if (auto v = r.Query(name)) {
          auto t = ParseTimestamp(*v);
          if (!t) {
            return std::unexpected(Error::InvalidArgument(
                fmt::format("query parameter {}: {}", name, t.error().message())));
          }
          *into = *t;
        }
      }
      auto from = IndexParam(r, "from", false);
      if (!from) return std::unexpected(from.error());
      if (*from) f.from_index = **from;
      auto limit = IndexParam(r, "limit", false);
      if (!limit) return std::unexpected(limit.error());
      if (*limit) f.limit = std::min<uint64_t>(**limit, 10'000);
      auto entries = log->Query(*reader, f);
      if (!entries) return std::unexpected(entries.error());
      json list = json::array();
      for (const audit::Entry& e : *entries) list.push_back(audit::EntryJson(e, true));
      return json{{"entries", list}};
    }();
    respond(answer ? JsonResponse(200, *answer) : ErrorResponse(answer.error()));
  });
}

namespace {

// Slack's answer to a slash command: shown to the user only, or posted in
// the channel for everyone.
// Every word of it is text, never markup: reasons and summaries come from
// users (notify/slack.h).
HttpResponse SlackReply(bool in_channel, std::string_view text) {
  return JsonResponse(200, {{"response_type", in_channel ? "in_channel" : "ephemeral"},
                            {"text", notify::SlackEscape(text)}});
}

// The words of an error response, for a Slack reply.
std::string ErrorText(const HttpResponse& r) {
  json body = json::parse(r.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].contains("message") &&
      body["error"]["message"].is_string()) {
    return body["error"]["message"].get<std::string>();
  }
  return fmt::format("failed with status {}", r.status);
}

}  // namespace

void Service::Impl::Slack(const HttpRequest& r, const Respond& respond, const GovernancePtr& g) {
  std::string secret = notifier->delivery().slack_signing_secret;
  if (secret.empty()) {
    respond(ErrorResponse(404, "not_found",
                          "Slack commands are off: the delivery settings name no "
                          "slack_commands.signing_secret"));
    return;
  }
  if (r.method != "POST") {
    respond(MethodNotAllowed(r.path, r.method, {"POST"}));
    return;
  }
  // Slack's v0 signature: HMAC-SHA256 of "v0:<timestamp>:<body>".
  auto timestamp = r.Header("x-slack-request-timestamp");
  auto signature = r.Header("x-slack-signature");
  if (!timestamp || !signature) {
    respond(ErrorResponse(401, "unauthorized",
                          "X-Slack-Request-Timestamp and X-Slack-Signature are required"));
    return;
  }
  // Seconds since 1970 as ASCII digits only: no sign, nothing that could
  // overflow the difference below.
  int64_t sent = 0;
  bool digits = !timestamp->empty() && timestamp->size() <= 12 &&
                std::all_of(timestamp->begin(), timestamp->end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  auto [end, ec] = std::from_chars(timestamp->data(), timestamp->data() + timestamp->size(), sent);
  int64_t now = options.clock->Now() / 1000;
  if (!digits || ec != std::errc() || end != timestamp->data() + timestamp->size() ||
      sent > now + 300 || sent < now - 300) {
    respond(ErrorResponse(401, "unauthorized",
                          "X-Slack-Request-Timestamp is not within 5 minutes of now; the request "
                          "is refused as a possible replay"));
    return;
  }
  auto mac = audit::HmacSha256({reinterpret_cast<const uint8_t*>(secret.data()), secret.size()},
                               fmt::format("v0:{}:{}", *timestamp, r.body));
  if (!audit::ConstantTimeEqual("v0=" + ToHex(mac.data(), mac.size()), *signature)) {
    respond(ErrorResponse(401, "unauthorized", "the Slack signature does not match the body"));
    return;
  }
  {
    // A signed request replayed inside the 5 minutes is refused too.
    std::lock_guard lock(slack_mu);
    std::erase_if(slack_seen, [&](const auto& seen) { return seen.second < now - 300; });
    if (!slack_seen.emplace(std::string(*signature), sent).second) {
      respond(ErrorResponse(401, "unauthorized", "this Slack request was already received"));
      return;
    }
  }
  auto form = ParseForm(r.body);
  if (!form) {
    respond(ErrorResponse(400, "invalid", "the body is not application/x-www-form-urlencoded"));
    return;
  }
  std::string user, command, text;
  for (const auto& [name, value] : *form) {
    if (name == "user_id") user = value;
    if (name == "command") command = value;
    if (name == "text") text = value;
  }
  const Principal* actor = nullptr;
  for (const Principal& p : g->principals) {
    if (!p.slack_id.empty() && p.slack_id == user) actor = &p;
  }
  if (!actor) {
    respond(SlackReply(false, fmt::format("Your Slack user {} is not linked to a principal: add "
                                          "slack_id: {} to principals.yaml",
                                          user, user)));
    return;
  }
  std::string_view rest = text;
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  std::string word(rest.substr(0, rest.find(' ')));
  rest.remove_prefix(word.size());
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  auto reply = [respond](bool in_channel, std::function<std::string(const json&)> say) {
    return [respond, in_channel, say = std::move(say)](Outcome outcome) {
      respond(outcome ? SlackReply(in_channel, say(*outcome))
                      : SlackReply(false, "Refused: " + ErrorText(outcome.error())));
    };
  };
  if (command == "/emergency-stop" && word == "status") {
    safety::StopState st = Stop();
    respond(SlackReply(
        false, st.active
                   ? fmt::format("The emergency stop is ACTIVE since {} by {}: {}{}",
                                 FormatTimestamp(st.activated_at), st.activated_by, st.reason,
                                 st.signatures.empty()
                                     ? ""
                                     : fmt::format(" (deactivation pending: {})",
                                                   fmt::join(safety::PendingRoles(*g, st), ", ")))
                   : "The emergency stop is not active."));
  } else if (command == "/emergency-stop" && word == "activate") {
    StopAction(g, *actor, {}, "activate", {{"reason", std::string(rest)}},
               reply(true, [](const json& out) { return out["message"].get<std::string>(); }));
  } else if (command == "/approve" && !word.empty()) {
    ApprovalAction(g, *actor, word, workflow::Action::kApprove, std::string(rest), "",
                   reply(true, [actor](const json& out) {
                     return fmt::format("{} approved {}: it is now {}", actor->id,
                                        out["id"].get<std::string>(),
                                        out["state"].get<std::string>());
                   }));
  } else {
    respond(SlackReply(false,
                       "Usage: /emergency-stop activate <reason> | /emergency-stop status | "
                       "/approve <approval id> <rationale>"));
  }
}

HttpResponse Service::Impl::Metrics() {
  audit::LogStats s = log->stats();
  safety::StopState st = Stop();
  std::string out;
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  metric("interlock_decisions_total", "counter", "Decisions answered, by outcome.");
  for (DecisionKind k :
       {DecisionKind::kAllow, DecisionKind::kRequireApproval, DecisionKind::kDeny}) {
    out += fmt::format("interlock_decisions_total{{outcome=\"{}\"}} {}\n", Name(k),
                       decisions[static_cast<size_t>(k)].load());
  }
  metric("interlock_decision_audit_failures_total", "counter",
         "Decisions answered deny because their audit record could not be made durable.");
  out += fmt::format("interlock_decision_audit_failures_total {}\n", decision_failures.load());
  metric("interlock_audit_size", "gauge", "Entries in the audit log.");
  out += fmt::format("interlock_audit_size {}\n", log->size());
  metric("interlock_audit_commits_total", "counter", "Group commits (transactions) since start.");
  out += fmt::format("interlock_audit_commits_total {}\n", s.batches);
  metric("interlock_audit_committed_records_total", "counter", "Records committed since start.");
  out += fmt::format("interlock_audit_committed_records_total {}\n", s.records);
  metric("interlock_audit_largest_commit", "gauge",
         "Most records in one group commit since start.");
  out += fmt::format("interlock_audit_largest_commit {}\n", s.largest_batch);
  size_t pending = 0;
  {
    std::lock_guard lock(approvals_mu);
    for (const auto& [id, a] : approvals) pending += workflow::IsFinal(a.state) ? 0 : 1;
  }
  metric("interlock_approvals_pending", "gauge",
         "Approval requests not yet approved, rejected or blocked.");
  out += fmt::format("interlock_approvals_pending {}\n", pending);
  metric("interlock_approval_latency_seconds", "summary",
         "Time from opening to approval, rejection or blocking.");
  out += fmt::format("interlock_approval_latency_seconds_sum {:.3f}\n",
                     static_cast<double>(approval_latency_ms.load()) / 1000);
  out += fmt::format("interlock_approval_latency_seconds_count {}\n", approvals_finished.load());
  metric("interlock_emergency_stop_active", "gauge", "1 while the emergency stop is active.");
  out += fmt::format("interlock_emergency_stop_active {}\n", st.active ? 1 : 0);
  notify::NotifierStats n = notifier->stats();
  metric(
      "interlock_notifications_total", "counter",
      "Notification deliveries since start, by result (retried: failed attempts to be retried).");
  out += fmt::format("interlock_notifications_total{{result=\"delivered\"}} {}\n", n.delivered);
  out += fmt::format("interlock_notifications_total{{result=\"failed\"}} {}\n", n.failed);
  out += fmt::format("interlock_notifications_total{{result=\"retried\"}} {}\n", n.retried);
  metric("interlock_notifications_pending", "gauge", "Notifications in the outbox.");
  out += fmt::format("interlock_notifications_pending {}\n", n.pending);
  if (http_stats) {
    HttpStats h = http_stats();
    metric("interlock_http_requests_total", "counter", "HTTP responses written.");
    out += fmt::format("interlock_http_requests_total {}\n", h.requests_served);
    metric("interlock_http_connections_open", "gauge", "HTTP connections open.");
    out += fmt::format("interlock_http_connections_open {}\n", h.connections_open);
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(out);
  return r;
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Service::~Service() {
  Drain();
  impl_->stop_lane.reset();
  impl_->state_lane.reset();
  impl_->read_lane.reset();
}

Result<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const ServiceOptions& options,
                                                      const governance::Governance& g) {
  audit::LogOptions lo;
  lo.data_dir = options.data_dir;
  lo.fs = options.fs;
  lo.clock = options.clock;
  lo.random = options.random;
  lo.master_key_env = options.master_key_env;
  lo.master_key_file_env = options.master_key_file_env;
  lo.retention = governance::RetentionOf(g);
  Result<std::unique_ptr<store::AuditStore>> store;
  if (options.open_audit_store) {
    store = options.open_audit_store(options.data_dir);
  } else {
    store = store::SqliteAuditStore::OpenInDirectory(*options.fs, options.data_dir);
  }
  if (!store) return std::unexpected(store.error());
  return audit::AuditLog::Open(lo, std::move(*store));
}

Result<std::unique_ptr<Service>> Service::Open(const ServiceOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto g = governance::Load(*options.fs, options.governance_dir);
  if (!g) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("governance directory {} is invalid:\n{}", options.governance_dir,
                    governance::DiagnosticsText(g.error(), options.governance_dir))));
  }
  auto shared = std::make_shared<const Governance>(std::move(*g));
  auto delivery = LoadDelivery(options, *shared);
  if (!delivery) return std::unexpected(delivery.error());
  auto log = OpenAuditLog(options, *shared);
  if (!log) return std::unexpected(log.error());
  impl->log = std::move(*log);
  notify::Sender* sender = options.sender;
  if (!sender) {
    impl->network_sender = notify::NewNetworkSender();
    sender = impl->network_sender.get();
  }
  impl->notifier = std::make_unique<notify::Notifier>(*impl->log, *options.clock, *options.random,
                                                      *sender, std::move(*delivery));
  if (auto ok = impl->notifier->Load(); !ok) return std::unexpected(ok.error());
  impl->governance.store(std::move(shared));
  impl->tokens = std::make_unique<Tokens>(*impl->log, *options.clock, *options.random);
  if (auto ok = impl->tokens->Load(); !ok) return std::unexpected(ok.error());
  auto stop = impl->log->LoadState(std::string(kStopKind));
  if (!stop) return std::unexpected(stop.error());
  for (const auto& [id, value] : *stop) {
    json j = json::parse(value, nullptr, false);
    auto state = safety::StopState::FromJson(j);
    if (!state) return std::unexpected(state.error());
    impl->stops.Put(*state);
  }
  auto stats = impl->log->LoadState(std::string(kStatsKind));
  if (!stats) return std::unexpected(stats.error());
  for (const auto& [id, value] : *stats) {
    // Only a chart: counts that cannot be read are started again.
    nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
    if (id != kStatsId || !j.is_object() || !j.contains("hours") || !j["hours"].is_object())
      continue;
    for (const auto& item : j["hours"].items()) {
      const nlohmann::json& c = item.value();
      int64_t hour = 0;
      auto [end, ec] =
          std::from_chars(item.key().data(), item.key().data() + item.key().size(), hour);
      if (ec != std::errc() || !c.is_array() || c.size() != 3) continue;
      for (size_t k = 0; k < 3; ++k) {
        if (c[k].is_number_unsigned()) impl->hourly[hour][k] = c[k].get<uint64_t>();
      }
    }
  }
  auto approvals = impl->log->LoadState(std::string(kApprovalKind));
  if (!approvals) return std::unexpected(approvals.error());
  for (const auto& [id, value] : *approvals) {
    auto a = workflow::FromJson(nlohmann::json::parse(value, nullptr, false));
    if (!a) {
      return std::unexpected(
          Error(a.error().kind(), fmt::format("approval {}: {}", id, a.error().message())));
    }
    impl->approvals[id] = std::move(*a);
  }
  {
    std::lock_guard lock(impl->approvals_mu);
    impl->PublishPendingRoles();
  }
  impl->notifier->Start();
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

bool Service::Recognises(const HttpRequest& headers) const {
  auto header = headers.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!header || header->size() <= kBearer.size()) return false;
  return impl_->tokens->Recognises(header->substr(kBearer.size()));
}

void Service::Handle(HttpRequest request, Respond respond) {
  Impl& s = *impl_;
  const std::string& path = request.path;
  auto method_is = [&](std::initializer_list<std::string_view> allowed) {
    if (MethodIn(request.method, allowed)) return true;
    respond(MethodNotAllowed(path, request.method, allowed));
    return false;
  };
  if (IsWebPath(path)) {
    if (method_is({"GET"})) {
      auto file = WebResponse(request);
      respond(file ? std::move(*file)
                   : ErrorResponse(404, "not_found", fmt::format("no dashboard file {}", path)));
    }
    return;
  }
  if (path == "/healthz") {
    if (method_is({"GET"})) {
      json health = {{"status", "ok"},
                     {"audit_size", s.log->size()},
                     {"governance_version", s.governance.load()->version}};
      if (s.options.insecure_transport) {
        health["warnings"] = {
            "plain HTTP on a non-loopback address: tokens and decisions "
            "cross the network unencrypted"};
        health["insecure_transport"] = true;
      }
      respond(JsonResponse(200, health));
    }
    return;
  }
  if (path == "/slack/commands") {
    s.Slack(request, respond, s.governance.load());
    return;
  }
  bool approvals = path == "/v1/approvals" || path.starts_with("/v1/approvals/");
  bool known = approvals || path == "/metrics" || path == "/v1/decisions" || path == "/v1/me" ||
               path == "/v1/governance/reload" || path == "/api/emergency-stop" ||
               path == "/v1/audit/checkpoint" || path == "/v1/audit/proof" ||
               path == "/v1/audit/consistency" || path == "/v1/audit/entries" ||
               path == "/v1/decisions/simulate" || path == "/v1/stats";
  if (!known) {
    respond(ErrorResponse(404, "not_found", fmt::format("no route {}", path)));
    return;
  }
  GovernancePtr g = s.governance.load();
  auto actor = s.Authenticate(request, *g);
  if (!actor) {
    respond(std::move(actor.error()));
    return;
  }
  const Principal& p = **actor;
  if (p.type == ActorType::kAiAgent) {
    if (auto refusal = s.AiRefusal(p.id, std::nullopt, std::nullopt)) {
      respond(ErrorResponse(423, "locked", *refusal));
      return;
    }
  }
  if (approvals) {
    s.Approvals(request, std::move(respond), g, p);
  } else if (path == "/metrics") {
    if (method_is({"GET"})) respond(s.Metrics());
  } else if (path == "/v1/me") {
    if (method_is({"GET"})) respond(JsonResponse(200, s.Me(*g, p)));
  } else if (path == "/v1/decisions/simulate") {
    if (method_is({"POST"})) s.Simulate(request, respond, *g, p);
  } else if (path == "/v1/stats") {
    if (method_is({"GET"})) {
      auto stats = s.Stats(request);
      respond(stats ? JsonResponse(200, *stats) : ErrorResponse(stats.error()));
    }
  } else if (path == "/v1/governance/reload") {
    if (!method_is({"POST"})) return;
    if ((p.roles & g->reload_roles).none()) {
      respond(ErrorResponse(
          403, "forbidden",
          fmt::format("{} holds none of the roles that may reload the governance ({})", p.id,
                      g->reload_roles.none()
                          ? std::string("reload_roles in interlock.yaml names none")
                          : g->RoleNames(g->reload_roles))));
      return;
    }
    s.Post(*s.state_lane, p.id, respond, [this, respond, id = p.id]() mutable {
      auto version = Reload(id);
      if (version) {
        respond(JsonResponse(200, {{"governance_version", *version}}));
      } else if (version.error().kind() == ErrorKind::kInvalidArgument) {
        respond(ErrorResponse(422, "invalid_governance", version.error().message()));
      } else {
        respond(ErrorResponse(503, "audit_unavailable",
                              "the reload was not made: " + version.error().message()));
      }
    });
  } else if (path == "/v1/decisions") {
    if (method_is({"POST"})) s.Decide(request, std::move(respond), g, p);
  } else if (path == "/api/emergency-stop") {
    if (method_is({"GET", "POST"})) s.EmergencyStop(request, std::move(respond), g, p);
  } else if (method_is({"GET"})) {
    s.Audit(request, respond, g, p);
  }
}

Result<std::string> Service::Reload(const std::string& by) {
  Impl& s = *impl_;
  auto g = governance::Load(*s.options.fs, s.options.governance_dir);
  std::optional<Result<notify::DeliveryConfig>> delivery;
  if (g) delivery = LoadDelivery(s.options, *g);
  UnixMillis now = s.options.clock->Now();
  // A principal through the API, or the process itself on SIGHUP.
  const Principal* p = s.governance.load()->FindPrincipal(by);
  json event = {{"actor", {{"type", p ? Name(p->type) : "service"}, {"id", by}}},
                {"action", {{"type", "governance_reload"}, {"target", s.options.governance_dir}}}};
  std::string text;
  if (!g) {
    text = governance::DiagnosticsText(g.error(), s.options.governance_dir);
    event["event_type"] = "governance_reload_refused";
    event["outcome"] = {{"status", "refused"}};
    event["reason"] = fmt::format("{} error(s); the governance in force stays", g.error().size());
  } else if (!*delivery) {
    text = delivery->error().message();
    event["event_type"] = "governance_reload_refused";
    event["outcome"] = {{"status", "refused"}};
    event["reason"] = "the delivery settings are invalid; the governance in force stays";
  } else {
    event["event_type"] = "governance_reloaded";
    event["outcome"] = {{"status", "success"}};
    event["governance_version"] = g->version;
  }
  auto parsed = audit::ParseEvent(audit::Dump(event), now);
  if (!parsed) return std::unexpected(parsed.error());
  auto appended = s.log->Commit(std::move(*parsed), {});
  if (!appended) return std::unexpected(appended.error());
  if (!g) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("governance directory {} is invalid; the one in force stays:\n{}",
                    s.options.governance_dir, text)));
  }
  if (!*delivery) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "the delivery settings are invalid; the governance and settings in force stay:\n{}",
        text)));
  }
  s.notifier->SetDelivery(std::move(**delivery));
  std::string version = g->version;
  s.governance.store(std::make_shared<const Governance>(std::move(*g)));
  return version;
}

void Service::Tick() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.approvals_mu);
    UnixMillis now = s.options.clock->Now();
    std::vector<workflow::Transition> due;
    for (const auto& [id, a] : s.approvals) {
      if (auto t = workflow::OnTimeout(a, now)) due.push_back(std::move(*t));
    }
    // One that cannot be stored now is due again at the next tick.
    GovernancePtr g = s.governance.load();
    for (const workflow::Transition& t : due) {
      [[maybe_unused]] auto stored = s.CommitApproval(*g, t);
    }
  }
  s.SaveStats(false);
}

void Service::Drain() {
  Impl& s = *impl_;
  for (app::Lane* lane : {s.stop_lane.get(), s.state_lane.get(), s.read_lane.get()}) {
    if (lane) lane->Drain();
  }
  {
    std::unique_lock lock(s.pending_mu);
    s.pending_cv.wait(lock, [&] { return s.pending_decisions.load() == 0; });
  }
  s.SaveStats(true);
}

void Service::SetHttpStats(std::function<HttpStats()> stats) {
  impl_->http_stats = std::move(stats);
}

audit::AuditLog& Service::log() { return *impl_->log; }
Tokens& Service::tokens() { return *impl_->tokens; }
const std::vector<std::string>& Service::warnings() const { return impl_->log->warnings(); }
notify::Notifier& Service::notifier() { return *impl_->notifier; }

}  // namespace interlock::server
