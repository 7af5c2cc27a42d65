#include "server/service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "audit/event.h"
#include "audit/json.h"
#include "audit/log.h"
#include "core/digest.h"
#include "core/text.h"
#include "decision/engine.h"
#include "decision/render.h"
#include "decision/request.h"
#include "governance/audit_access.h"
#include "governance/diagnostic.h"
#include "governance/loader.h"
#include "safety/stop.h"
#include "server/tokens.h"
#include "workflow/approval.h"

namespace interlock::server {
namespace {

using json = nlohmann::ordered_json;
using governance::Governance;
using governance::Principal;
using GovernancePtr = std::shared_ptr<const Governance>;

constexpr std::string_view kStopKind = "emergency_stop";
constexpr std::string_view kStopId = "global";
constexpr std::string_view kApprovalKind = "approval";

// An approval as the API shows it: its stored form plus what is still missing.
json ApprovalJson(const workflow::ApprovalRequest& a) {
  json out = workflow::ToJson(a);
  out["missing_roles"] = workflow::MissingRoles(a);
  out["approvals_needed"] =
      std::max(0, a.required_approvals - static_cast<int>(a.approvals.size()));
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

// A request body as a JSON object with only `allowed` members; 400 saying
// where otherwise.
Result<json> ParseBody(std::string_view body, std::initializer_list<std::string_view> allowed) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    size_t at = e.byte > 0 ? e.byte - 1 : 0;
    return std::unexpected(Error::InvalidArgument(
        fmt::format("the body is not valid JSON at {}", TextPosition(body, at))));
  }
  if (!j.is_object()) {
    return std::unexpected(Error::InvalidArgument("the body must be a JSON object"));
  }
  for (const auto& [key, value] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("unknown field \"{}\" (expected {})", key, fmt::join(allowed, ", "))));
    }
  }
  return j;
}

Result<std::string> StringField(const json& j, std::string_view name, bool required) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) return std::unexpected(Error::InvalidArgument(fmt::format("{}: required", name)));
    return std::string();
  }
  if (!it->is_string()) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("{}: expected a string, found {}", name, it->type_name())));
  }
  return it->get<std::string>();
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

const Principal* FindPrincipal(const Governance& g, std::string_view id) {
  for (const Principal& p : g.principals) {
    if (p.id == id) return &p;
  }
  return nullptr;
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

// Runs tasks one at a time, in order, on its own thread.
class Serial {
 public:
  Serial() : thread_([this] { Run(); }) {}
  ~Serial() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Post(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
  }
  // Returns once every task posted before the call has run.
  void Drain() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return tasks_.empty() && !busy_; });
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      busy_ = true;
      lock.unlock();
      task();
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

struct Service::Impl {
  ServiceOptions options;
  std::atomic<GovernancePtr> governance;
  std::unique_ptr<audit::AuditLog> log;
  std::unique_ptr<Tokens> tokens;

  std::mutex stop_mu;
  safety::StopState stop;

  std::mutex approvals_mu;
  std::map<std::string, workflow::ApprovalRequest> approvals;  // by id
  std::atomic<uint64_t> approvals_finished{0};
  std::atomic<uint64_t> approval_latency_ms{0};  // summed over the finished ones

  std::atomic<uint64_t> decisions[3] = {0, 0, 0};  // by DecisionKind
  std::atomic<uint64_t> decision_failures{0};
  std::atomic<uint64_t> pending_decisions{0};
  std::mutex pending_mu;
  std::condition_variable pending_cv;
  std::function<HttpStats()> http_stats;

  // Declared last: destroyed first, so no task outlives what it uses.
  std::unique_ptr<Serial> serial = std::make_unique<Serial>();

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
    const Principal* p = FindPrincipal(g, *id);
    if (!p) {
      return std::unexpected(ErrorResponse(
          401, "unauthorized",
          fmt::format("the token's principal {} is no longer in principals.yaml", *id)));
    }
    return p;
  }

  safety::StopState Stop() {
    std::lock_guard lock(stop_mu);
    return stop;
  }

  void Decide(const HttpRequest& r, Respond respond, const GovernancePtr& g,
              const Principal& actor);
  void EmergencyStop(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                     const Principal& actor);
  void Audit(const HttpRequest& r, Respond respond, const GovernancePtr& g, const Principal& actor);
  void Approvals(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                 const Principal& actor);
  // Stores `t`'s request with its audit event; holds approvals_mu.
  Result<audit::Appended> CommitApproval(const workflow::Transition& t);
  HttpResponse Metrics();
};

void Service::Impl::Decide(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                           const Principal& actor) {
  // AI agents were refused in Handle while the stop is on.
  safety::StopState stop = Stop();
  decision::RequestLimits limits;
  auto request = decision::ParseRequest(r.body, limits);
  if (!request) {
    respond(ErrorResponse(400, "invalid_request", request.error().message()));
    return;
  }
  if (request->actor_id != actor.id || request->actor_type != actor.type) {
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
  auto reason = std::make_shared<std::string>(stop.reason);
  decision::SafetyState safety;
  if (stop.active) {
    safety.emergency_stop = true;
    safety.stop_reason = *reason;
  }
  decision::Decision d;
  decision::Decide(*g, *request, safety, &d);
  json body = decision::DecisionJson(*g, *request, safety, d, false);
  std::string why;
  for (const json& reason : body["reasons"]) {
    if (!why.empty()) why += "; ";
    why += reason.get<std::string>();
  }

  json event = {{"event_type", "decision"},
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
    approval = std::move(opened->request);
    changes.push_back({std::string(kApprovalKind), approval->id, audit::Dump(ToJson(*approval))});
    auto open_event = audit::ParseEvent(audit::Dump(opened->audit_event), now);
    if (!open_event) {
      respond(ErrorResponse(500, "internal", open_event.error().message()));
      return;
    }
    events.push_back(std::move(*open_event));
  }
  auto parsed = audit::ParseEvent(audit::Dump(event), now);
  if (!parsed) {
    respond(ErrorResponse(500, "internal",
                          "the decision's audit event is invalid: " + parsed.error().message()));
    return;
  }
  events.insert(events.begin(), std::move(*parsed));
  pending_decisions.fetch_add(1);
  log->CommitAsync(
      std::move(events), std::move(changes),
      [this, respond = std::move(respond), body = std::move(body), kind = d.kind,
       approval = std::move(approval)](Result<std::vector<audit::Appended>> appended) mutable {
        if (appended) {
          decisions[static_cast<size_t>(kind)].fetch_add(1);
          body["audit_index"] = appended->front().index;
          if (approval) {
            body["approval_id"] = approval->id;
            std::lock_guard lock(approvals_mu);
            approvals[approval->id] = std::move(*approval);
          }
          respond(JsonResponse(200, body));
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

Result<audit::Appended> Service::Impl::CommitApproval(const workflow::Transition& t) {
  auto event = audit::ParseEvent(audit::Dump(t.audit_event), options.clock->Now());
  if (!event) return std::unexpected(event.error());
  auto appended = log->Commit(std::move(*event), {{std::string(kApprovalKind), t.request.id,
                                                   audit::Dump(workflow::ToJson(t.request))}});
  if (!appended) return std::unexpected(appended.error());
  if (workflow::IsFinal(t.request.state)) {
    approvals_finished.fetch_add(1);
    approval_latency_ms.fetch_add(static_cast<uint64_t>(
        std::max<UnixMillis>(0, options.clock->Now() - t.request.created_at)));
  }
  approvals[t.request.id] = t.request;
  return appended;
}

void Service::Impl::Approvals(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                              const Principal& actor) {
  // /v1/approvals, /v1/approvals/{id}, /v1/approvals/{id}/{action}
  std::string_view rest = std::string_view(r.path).substr(std::string_view("/v1/approvals").size());
  if (!rest.empty()) rest.remove_prefix(1);
  std::string id(rest.substr(0, rest.find('/')));
  std::string action =
      rest.find('/') == std::string_view::npos ? "" : std::string(rest.substr(rest.find('/') + 1));
  if (id.empty()) {
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
    json list = json::array();
    std::lock_guard lock(approvals_mu);
    for (const auto& [key, a] : approvals) {
      if (!wanted || Name(a.state) == *wanted) list.push_back(ApprovalJson(a));
    }
    respond(JsonResponse(200, {{"approvals", list}}));
    return;
  }
  if (action.empty()) {
    if (!MethodIn(r.method, {"GET"})) {
      respond(MethodNotAllowed(r.path, r.method, {"GET"}));
      return;
    }
    std::lock_guard lock(approvals_mu);
    auto it = approvals.find(id);
    respond(it == approvals.end()
                ? ErrorResponse(404, "not_found", fmt::format("no approval {}", id))
                : JsonResponse(200, ApprovalJson(it->second)));
    return;
  }
  if (r.method != "POST") {
    respond(MethodNotAllowed(r.path, r.method, {"POST"}));
    return;
  }
  auto act = ParseEnum<workflow::Action>(action);
  if (!act || *act == workflow::Action::kOpen || *act == workflow::Action::kTimeout) {
    respond(ErrorResponse(404, "not_found",
                          fmt::format("no approval action \"{}\" (expected approve, reject, "
                                      "request_changes, escalate, delegate or resubmit)",
                                      action)));
    return;
  }
  auto body = ParseBody(r.body, {"rationale", "to"});
  if (!body) {
    respond(ErrorResponse(body.error()));
    return;
  }
  auto rationale = StringField(*body, "rationale", true);
  auto to = StringField(*body, "to", *act == workflow::Action::kDelegate);
  for (const auto* field : {&rationale, &to}) {
    if (!*field) {
      respond(ErrorResponse(field->error()));
      return;
    }
  }
  if (*act != workflow::Action::kDelegate && !to->empty()) {
    respond(ErrorResponse(400, "invalid", "to: only a delegation names a person"));
    return;
  }
  serial->Post([this, respond = std::move(respond), g, actor, id, act = *act,
                rationale = *rationale, to = *to]() mutable {
    bool stopped = Stop().active;
    std::lock_guard lock(approvals_mu);
    auto it = approvals.find(id);
    if (it == approvals.end()) {
      respond(ErrorResponse(404, "not_found", fmt::format("no approval {}", id)));
      return;
    }
    auto t = workflow::Act(*g, it->second, actor, act, rationale,
                           to.empty() ? std::nullopt : std::optional<std::string>(to),
                           options.clock->Now(), stopped);
    if (!t) {
      respond(ErrorResponse(t.error()));
      return;
    }
    auto appended = CommitApproval(*t);
    if (!appended) {
      const Error& e = appended.error();
      bool storage = e.kind() == ErrorKind::kIo || e.kind() == ErrorKind::kUnavailable;
      respond(storage ? ErrorResponse(503, "audit_unavailable",
                                      "the action was not taken: " + e.message())
                      : ErrorResponse(e));
      return;
    }
    json out = ApprovalJson(t->request);
    out["audit_index"] = appended->index;
    respond(JsonResponse(200, out));
  });
}

void Service::Impl::EmergencyStop(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                                  const Principal& actor) {
  if (MethodIn(r.method, {"GET"})) {
    respond(JsonResponse(200, StopJson(*g, Stop())));
    return;
  }
  auto body = ParseBody(r.body, {"action", "reason", "scope", "post_incident_review", "root_cause",
                                 "prevention_measures"});
  if (!body) {
    respond(ErrorResponse(400, "invalid", body.error().message()));
    return;
  }
  auto action = StringField(*body, "action", true);
  if (!action) {
    respond(ErrorResponse(action.error()));
    return;
  }
  if (body->contains("scope")) {
    respond(ErrorResponse(400, "invalid",
                          "scope: scoped emergency stops are not supported; the stop covers "
                          "everything"));
    return;
  }
  std::map<std::string, std::string> fields;
  for (const char* name : {"reason", "post_incident_review", "root_cause", "prevention_measures"}) {
    auto value = StringField(*body, name, false);
    if (!value) {
      respond(ErrorResponse(value.error()));
      return;
    }
    if (!value->empty()) fields[name] = *value;
  }
  if (*action != "activate" && *action != "deactivate" && *action != "reenable_ai_agents") {
    respond(ErrorResponse(400, "invalid",
                          fmt::format("action: expected activate, deactivate or "
                                      "reenable_ai_agents, got \"{}\"",
                                      *action)));
    return;
  }
  serial->Post([this, respond = std::move(respond), g, actor, action = *action,
                fields = std::move(fields)]() mutable {
    std::lock_guard lock(stop_mu);
    UnixMillis now = options.clock->Now();
    std::string reason = fields.count("reason") ? fields["reason"] : "";
    auto change = action == "activate"     ? safety::Activate(*g, stop, actor, reason, now)
                  : action == "deactivate" ? safety::Deactivate(*g, stop, actor, fields, now)
                                           : safety::ReenableAiAgents(*g, stop, actor, reason);
    if (!change) {
      respond(ErrorResponse(change.error()));
      return;
    }
    auto event = audit::ParseEvent(audit::Dump(change->event), now);
    if (!event) {
      respond(ErrorResponse(500, "internal", event.error().message()));
      return;
    }
    auto appended = log->Commit(std::move(*event), {{std::string(kStopKind), std::string(kStopId),
                                                     audit::Dump(change->next.ToJson())}});
    if (!appended) {
      respond(ErrorResponse(503, "audit_unavailable",
                            "the change was not made: " + appended.error().message()));
      return;
    }
    stop = change->next;
    json out = StopJson(*g, stop);
    out["audit_index"] = appended->index;
    out["message"] = change->summary;
    respond(JsonResponse(200, out));
  });
}

void Service::Impl::Audit(const HttpRequest& r, Respond respond, const GovernancePtr& g,
                          const Principal& actor) {
  serial->Post([this, r, respond = std::move(respond), g, actor]() mutable {
    auto answer = [&]() -> Result<json> {
      if (r.path == "/v1/audit/checkpoint") {
        auto note = log->Checkpoint();
        if (!note) return std::unexpected(note.error());
        return json{{"size", log->size()}, {"note", *note}, {"verifier_key", log->VerifierKey()}};
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
  impl_->serial.reset();
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
  audit::LogOptions lo;
  lo.data_dir = options.data_dir;
  lo.fs = options.fs;
  lo.clock = options.clock;
  lo.random = options.random;
  lo.master_key_env = options.master_key_env;
  lo.master_key_file_env = options.master_key_file_env;
  lo.vfs = options.vfs;
  lo.retention = governance::RetentionOf(*shared);
  auto log = audit::AuditLog::Open(lo);
  if (!log) return std::unexpected(log.error());
  impl->log = std::move(*log);
  impl->governance.store(std::move(shared));
  impl->tokens = std::make_unique<Tokens>(*impl->log, *options.clock, *options.random);
  if (auto ok = impl->tokens->Load(); !ok) return std::unexpected(ok.error());
  auto stop = impl->log->LoadState(std::string(kStopKind));
  if (!stop) return std::unexpected(stop.error());
  for (const auto& [id, value] : *stop) {
    json j = json::parse(value, nullptr, false);
    auto state = safety::StopState::FromJson(j);
    if (!state) return std::unexpected(state.error());
    if (id == kStopId) impl->stop = std::move(*state);
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
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

void Service::Handle(HttpRequest request, Respond respond) {
  Impl& s = *impl_;
  const std::string& path = request.path;
  auto method_is = [&](std::initializer_list<std::string_view> allowed) {
    if (MethodIn(request.method, allowed)) return true;
    respond(MethodNotAllowed(path, request.method, allowed));
    return false;
  };
  if (path == "/healthz") {
    if (method_is({"GET"})) {
      respond(JsonResponse(200, {{"status", "ok"},
                                 {"audit_size", s.log->size()},
                                 {"governance_version", s.governance.load()->version}}));
    }
    return;
  }
  bool approvals = path == "/v1/approvals" || path.starts_with("/v1/approvals/");
  bool known = approvals || path == "/metrics" || path == "/v1/decisions" ||
               path == "/api/emergency-stop" || path == "/v1/audit/checkpoint" ||
               path == "/v1/audit/proof" || path == "/v1/audit/consistency" ||
               path == "/v1/audit/entries";
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
    safety::StopState stop = s.Stop();
    if (stop.active || stop.ai_disabled) {
      respond(ErrorResponse(
          423, "locked",
          stop.active
              ? fmt::format("AI agents are refused while the emergency stop is active: {}",
                            stop.reason)
              : std::string("AI agents stay disabled after the emergency stop until they are "
                            "re-enabled")));
      return;
    }
  }
  if (approvals) {
    s.Approvals(request, std::move(respond), g, p);
  } else if (path == "/metrics") {
    if (method_is({"GET"})) respond(s.Metrics());
  } else if (path == "/v1/decisions") {
    if (method_is({"POST"})) s.Decide(request, std::move(respond), g, p);
  } else if (path == "/api/emergency-stop") {
    if (method_is({"GET", "POST"})) s.EmergencyStop(request, std::move(respond), g, p);
  } else if (method_is({"GET"})) {
    s.Audit(request, std::move(respond), g, p);
  }
}

Result<std::string> Service::Reload(const std::string& by) {
  Impl& s = *impl_;
  auto g = governance::Load(*s.options.fs, s.options.governance_dir);
  UnixMillis now = s.options.clock->Now();
  json event = {{"actor", {{"type", "human"}, {"id", by}}},
                {"action", {{"type", "governance_reload"}, {"target", s.options.governance_dir}}}};
  std::string text;
  if (!g) {
    text = governance::DiagnosticsText(g.error(), s.options.governance_dir);
    event["event_type"] = "governance_reload_refused";
    event["outcome"] = {{"status", "refused"}};
    event["reason"] = fmt::format("{} error(s); the governance in force stays", g.error().size());
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
  std::string version = g->version;
  s.governance.store(std::make_shared<const Governance>(std::move(*g)));
  return version;
}

void Service::Tick() {
  Impl& s = *impl_;
  std::lock_guard lock(s.approvals_mu);
  UnixMillis now = s.options.clock->Now();
  std::vector<workflow::Transition> due;
  for (const auto& [id, a] : s.approvals) {
    if (auto t = workflow::OnTimeout(a, now)) due.push_back(std::move(*t));
  }
  // One that cannot be stored now is due again at the next tick.
  for (const workflow::Transition& t : due) [[maybe_unused]] auto stored = s.CommitApproval(t);
}

void Service::Drain() {
  Impl& s = *impl_;
  if (s.serial) s.serial->Drain();
  std::unique_lock lock(s.pending_mu);
  s.pending_cv.wait(lock, [&] { return s.pending_decisions.load() == 0; });
}

void Service::SetHttpStats(std::function<HttpStats()> stats) {
  impl_->http_stats = std::move(stats);
}

audit::AuditLog& Service::log() { return *impl_->log; }
Tokens& Service::tokens() { return *impl_->tokens; }
const std::vector<std::string>& Service::warnings() const { return impl_->log->warnings(); }

}  // namespace interlock::server
