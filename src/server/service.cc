// The service's life: opening it (governance, delivery settings, audit log,
// stored state), authentication, the lanes, reloads, the tick and draining.
// Its routes are in routes.cc and the *_routes.cc files beside it.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "app/audit_access.h"
#include "audit/event.h"
#include "audit/json.h"
#include "governance/diagnostic.h"
#include "governance/loader.h"
#include "net/http_client.h"
#include "server/service_impl.h"
#include "store/sqlite_audit_store.h"

namespace interlock::server {

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

std::function<void(Outcome)> AnswerWith(Respond respond) {
  return [respond = std::move(respond)](Outcome outcome) {
    respond(outcome ? JsonResponse(200, *outcome) : std::move(outcome.error()));
  };
}

void Service::Impl::Post(app::Lane& lane, const std::string& who, const Respond& respond,
                         std::function<void()> task) {
  if (!lane.Post(who, std::move(task))) {
    HttpResponse r =
        ErrorResponse(429, "too_many_requests",
                      fmt::format("{} has too many requests waiting; retry in a second", who));
    r.headers.emplace_back("Retry-After", "1");
    respond(std::move(r));
  }
}

namespace {

// The token of an Authorization header "Bearer <token>" (the scheme in
// any case, RFC 9110 section 11.1), or nullopt for any other header.
std::optional<std::string_view> BearerToken(std::string_view header) {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), header.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      })) {
    return std::nullopt;
  }
  return header.substr(kBearer.size());
}

}  // namespace

std::expected<const Principal*, HttpResponse> Service::Impl::Authenticate(const HttpRequest& r,
                                                                          const Governance& g) {
  auto header = r.Header("authorization");
  if (!header)
    return std::unexpected(ErrorResponse(401, "unauthorized", "a bearer token is required"));
  auto token = BearerToken(*header);
  if (!token) {
    return std::unexpected(
        ErrorResponse(401, "unauthorized", "the Authorization header must be \"Bearer <token>\""));
  }
  return AuthenticateToken(*token, g);
}

std::expected<const Principal*, HttpResponse> Service::Impl::AuthenticateToken(
    std::string_view token, const Governance& g) {
  auto id = tokens->Authenticate(token);
  if (!id) {
    // A token the store refuses is the request's authentication failing:
    // 401, not the 403 of a refused action.
    HttpError refused = HttpErrorOf(id.error().kind());
    if (refused.status == 403) refused = {401, "unauthorized"};
    return std::unexpected(ErrorResponse(refused.status, refused.code, id.error().message()));
  }
  const Principal* p = g.FindPrincipal(*id);
  if (!p) {
    return std::unexpected(ErrorResponse(
        401, "unauthorized",
        fmt::format("the token's principal {} is no longer in principals.yaml", *id)));
  }
  return p;
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Service::~Service() {
  Drain();
  impl_->rollout_lane.reset();
  impl_->stop_lane.reset();
  impl_->state_lane.reset();
  impl_->read_lane.reset();
}

Result<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const ServiceOptions& options,
                                                      const governance::Governance* g) {
  audit::LogOptions lo;
  lo.data_dir = options.data_dir;
  lo.fs = options.fs;
  lo.clock = options.clock;
  lo.random = options.random;
  lo.master_key_env = options.master_key_env;
  lo.master_key_file_env = options.master_key_file_env;
  if (g != nullptr) lo.retention = app::RetentionOf(*g);
  // Opened once the master key is loaded: a bad key creates no database.
  return audit::AuditLog::Open(lo, [&options]() -> Result<std::unique_ptr<store::AuditStore>> {
    if (options.open_audit_store) return options.open_audit_store(options.data_dir);
    return store::SqliteAuditStore::OpenInDirectory(*options.fs, options.data_dir);
  });
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
  auto log = OpenAuditLog(options, shared.get());
  if (!log) return std::unexpected(log.error());
  impl->log = std::move(*log);
  notify::Sender* sender = options.sender;
  if (!sender) {
    impl->network_sender = notify::NewNetworkSender(net::NewCurlHttpClient(*options.fs));
    sender = impl->network_sender.get();
  }
  impl->governance.store(std::move(shared));
  impl->prometheus.store(impl->MakeMetricSource(*delivery));
  auto state = app::State::Open({.log = impl->log.get(),
                                 .clock = options.clock,
                                 .random = options.random,
                                 .sender = sender,
                                 .delivery = std::move(*delivery)});
  if (!state) return std::unexpected(state.error());
  impl->state = std::move(*state);
  app::State& st = *impl->state;
  impl->tokens = &st.tokens();
  impl->stops = &st.stops();
  impl->approvals = &st.approvals();
  impl->stats = &st.stats();
  impl->notifier = &st.notifier();
  st.StartDelivery();
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

bool Service::Recognises(const HttpRequest& headers) const {
  auto header = headers.Header("authorization");
  auto token = header ? BearerToken(*header) : std::nullopt;
  return token && impl_->tokens->Recognises(*token);
}

Result<std::string> Service::Reload(const std::string& by) { return impl_->Reload(by); }

std::shared_ptr<const Service::Impl::MetricSource> Service::Impl::MakeMetricSource(
    const notify::DeliveryConfig& delivery) const {
  if (!delivery.prometheus) return nullptr;
  const notify::MetricSourceSettings& m = *delivery.prometheus;
  auto made = std::make_shared<MetricSource>();
  made->client = net::NewCurlHttpClient(*options.fs);
  made->source = std::make_unique<rollout::PrometheusSource>(
      *made->client, rollout::PrometheusConfig{.url = m.url,
                                               .bearer_token = m.bearer_token,
                                               .ca_file = m.ca_file,
                                               .timeout = std::chrono::milliseconds(m.timeout_ms)});
  return made;
}

Result<std::string> Service::Impl::Reload(const std::string& by) {
  auto g = governance::Load(*options.fs, options.governance_dir);
  std::optional<Result<notify::DeliveryConfig>> delivery;
  if (g) delivery = LoadDelivery(options, *g);
  UnixMillis now = options.clock->Now();
  // A principal through the API, or the process itself on SIGHUP.
  const Principal* p = governance.load()->FindPrincipal(by);
  json event = {{"actor", {{"type", p ? Name(p->type) : "service"}, {"id", by}}},
                {"action", {{"type", "governance_reload"}, {"target", options.governance_dir}}}};
  std::string text;
  if (!g) {
    text = governance::DiagnosticsText(g.error(), options.governance_dir);
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
  auto appended = log->Commit(std::move(*parsed), {});
  if (!appended) return std::unexpected(appended.error());
  if (!g) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("governance directory {} is invalid; the one in force stays:\n{}",
                    options.governance_dir, text)));
  }
  if (!*delivery) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "the delivery settings are invalid; the governance and settings in force stay:\n{}",
        text)));
  }
  prometheus.store(MakeMetricSource(**delivery));
  notifier->SetDelivery(std::move(**delivery));
  std::string version = g->version;
  governance.store(std::make_shared<const Governance>(std::move(*g)));
  return version;
}

namespace {

// How old the evaluation of the required controls may grow.
constexpr UnixMillis kControlRefreshMs = UnixMillis{5} * 60'000;

bool RequiresControls(const Governance& g) {
  return std::any_of(g.matrix.begin(), g.matrix.end(),
                     [](const governance::MatrixRow& r) { return r.requires_controls.any(); }) ||
         std::any_of(g.rules.begin(), g.rules.end(),
                     [](const governance::Rule& r) { return r.requires_controls.any(); });
}

}  // namespace

void Service::Tick() {
  Impl& s = *impl_;
  GovernancePtr g = s.governance.load();
  s.state->TimeOutApprovals(*g);
  s.stats->Save(s.options.clock->Now(), false);
  // On the stop lane, the one writer of the stops; a failed read is tried
  // again at the next tick.
  s.stop_lane->Post("system:refresh", [state = s.state.get()] { (void)state->RefreshStops(); });
  // The controls a matrix row or a rule requires are evaluated again once
  // their evaluation is kControlRefreshMs old, on the read lane, one round
  // at a time; decisions read the latest and never wait for one.
  if (RequiresControls(*g)) {
    std::shared_ptr<const app::ControlStatus> status = s.control_status.load();
    UnixMillis now = s.options.clock->Now();
    if ((!status || now - status->at >= kControlRefreshMs) &&
        !s.evaluating_controls.exchange(true)) {
      s.read_lane->Post("system:controls", [&s, g] {
        (void)s.EvaluateControls(*g, "");
        s.evaluating_controls.store(false);
      });
    }
  }
  // One evaluation round at a time: a round still running (a slow metric
  // source) is not queued behind.
  if (!s.evaluating.exchange(true)) {
    s.rollout_lane->Post("system:rollouts", [&s] {
      s.EvaluateRollouts();
      s.evaluating.store(false);
    });
  }
}

void Service::Drain() {
  Impl& s = *impl_;
  for (app::Lane* lane :
       {s.stop_lane.get(), s.state_lane.get(), s.read_lane.get(), s.rollout_lane.get()}) {
    if (lane) lane->Drain();
  }
  {
    MutexLock lock(&s.pending_mu);
    while (s.pending_decisions.load() != 0) s.pending_cv.Wait(&s.pending_mu);
  }
  s.stats->Save(s.options.clock->Now(), true);
}

void Service::SetHttpStats(std::function<HttpStats()> stats) {
  impl_->http_stats = std::move(stats);
}

audit::AuditLog& Service::log() { return *impl_->log; }
app::Tokens& Service::tokens() { return *impl_->tokens; }
const std::vector<std::string>& Service::warnings() const { return impl_->log->warnings(); }
notify::Notifier& Service::notifier() { return *impl_->notifier; }

}  // namespace interlock::server
