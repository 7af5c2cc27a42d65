// The service's private state and the declarations its files share: the
// routes table (routes.cc), the handlers of each job (decision_routes.cc,
// approval_routes.cc, stop_routes.cc, audit_routes.cc, rollout_routes.cc,
// integration_routes.cc, slack_routes.cc, metrics.cc), the dashboard's views (views.cc) and the
// service's life (service.cc). Private to server/: nothing outside it includes this.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/compliance_gate.h"
#include "app/lane.h"
#include "app/state.h"
#include "audit/log.h"
#include "core/mutex.h"
#include "decision/engine.h"
#include "governance/model.h"
#include "net/http_client.h"
#include "notify/notifier.h"
#include "rollout/prometheus.h"
#include "safety/stop.h"
#include "server/answers.h"
#include "server/service.h"
#include "workflow/approval.h"

namespace interlock::server {

using governance::Governance;
using governance::Principal;
using GovernancePtr = std::shared_ptr<const Governance>;

// One request on its way through a route: what the routes table found for
// it. A handler answers it by calling `respond` once, now or later.
struct Call {
  HttpRequest request;
  Respond respond;
  // The governance in force when the request arrived.
  GovernancePtr g;
  // The token's principal, in *g; null on a route that takes no token.
  const Principal* actor = nullptr;
  // The path parameters of the route's pattern, by name, percent-decoded.
  using Params = std::vector<std::pair<std::string_view, std::string>>;
  Params params;

  // The path parameter `name`; "" if the pattern has none of that name.
  const std::string& Param(std::string_view name) const;
};

// A JSON answer, or the error response to send instead.
using Outcome = std::expected<json, HttpResponse>;
// What answers `respond` with an Outcome: 200 and the JSON, or the error.
std::function<void(Outcome)> AnswerWith(Respond respond);

// An approval as the API shows it: its stored form plus what is still missing.
json ApprovalJson(const workflow::ApprovalRequest& a);
// An emergency stop as the API shows it.
json StopJson(const Governance& g, const safety::StopState& s);
// The delivery settings for `g`: the file named in the options, else
// DATA/delivery.yaml if it exists, else none.
Result<notify::DeliveryConfig> LoadDelivery(const ServiceOptions& o, const Governance& g);

struct Service::Impl {
  ServiceOptions options;
  std::atomic<GovernancePtr> governance;
  std::unique_ptr<audit::AuditLog> log;
  // Before `state`, whose notifier sends through it: destroyed after it.
  std::unique_ptr<notify::Sender> network_sender;
  // Every kind of state, and the changes that span its owners. After `log`:
  // destroyed before it.
  std::unique_ptr<app::State> state;
  // The owners in `state`, by name, for the handlers.
  app::Tokens* tokens = nullptr;
  app::StopBoard* stops = nullptr;  // read without a lock, written by the stop lane only
  app::Approvals* approvals = nullptr;
  app::DecisionStats* stats = nullptr;
  // The metric source of the settings file's `prometheus`, with the client
  // it queries through; null: pushed values only. Made again by a reload,
  // and swapped whole, so that an evaluation holds the one it started with.
  struct MetricSource {
    std::unique_ptr<net::HttpClient> client;
    std::unique_ptr<rollout::PrometheusSource> source;
  };
  std::atomic<std::shared_ptr<const MetricSource>> prometheus;
  // The source `delivery` names, or null.
  std::shared_ptr<const MetricSource> MakeMetricSource(
      const notify::DeliveryConfig& delivery) const;
  notify::Notifier* notifier = nullptr;

  std::atomic<uint64_t> decisions[3] = {0, 0, 0};  // by DecisionKind
  std::atomic<uint64_t> decision_failures{0};
  std::atomic<uint64_t> pending_decisions{0};
  Mutex pending_mu;
  CondVar pending_cv;
  std::function<HttpStats()> http_stats;

  Mutex slack_mu;
  // signature -> its timestamp, for 5 minutes
  std::map<std::string, int64_t> slack_seen GUARDED_BY(slack_mu);

  // Declared last: destroyed first, so no task outlives what it uses. The
  // emergency stop's actions have a lane of their own, so they never wait
  // behind approval actions, reloads or audit reads.
  std::unique_ptr<app::Lane> stop_lane = std::make_unique<app::Lane>();
  std::unique_ptr<app::Lane> state_lane = std::make_unique<app::Lane>();
  std::unique_ptr<app::Lane> read_lane = std::make_unique<app::Lane>();
  // The rollouts' evaluations, so that a slow metric source delays nothing
  // else; one tick's evaluation at a time.
  std::unique_ptr<app::Lane> rollout_lane = std::make_unique<app::Lane>();
  std::atomic<bool> evaluating{false};
  // The latest evaluation of the control catalogue, which the gate reads
  // for the controls a matrix row or a rule requires; null until the first.
  std::atomic<std::shared_ptr<const app::ControlStatus>> control_status;
  std::atomic<bool> evaluating_controls{false};

  // --- service.cc: the service's life -------------------------------------

  // Queues `task` on `lane` for `who`; answers 429 if they have too much
  // waiting there already.
  void Post(app::Lane& lane, const std::string& who, const Respond& respond,
            std::function<void()> task);
  // The principal behind the request's bearer token, or the answer to send.
  std::expected<const Principal*, HttpResponse> Authenticate(const HttpRequest& r,
                                                             const Governance& g);
  // The same for a token given otherwise (Flagger's metadata.token).
  std::expected<const Principal*, HttpResponse> AuthenticateToken(std::string_view token,
                                                                  const Governance& g);
  safety::StopState Stop() { return stops->Snapshot()->at("global"); }
  std::optional<std::string> AiRefusal(std::string_view agent, std::optional<Environment> env,
                                       const std::optional<std::string>& service) {
    return app::AiRefusal(*stops->Snapshot(), agent, env, service);
  }
  // Service::Reload.
  Result<std::string> Reload(const std::string& by);

  // --- routes.cc: the routes that belong to no other job -------------------

  void GetHealth(Call& c);
  void GetDashboardFile(Call& c);
  void PostReload(Call& c);

  // --- decision_routes.cc --------------------------------------------------

  // POST /v1/decisions: decides, records, answers once the record is durable.
  void PostDecision(Call& c);
  // POST /v1/decisions/simulate: the decision for any request, explained;
  // nothing is recorded and no approval is opened.
  void PostSimulation(Call& c);
  // The decision engine's view of the stop covering a request and of the
  // freeze window in force for it, with the texts the state points to.
  struct Safety {
    decision::SafetyState state;
    std::string stop_reason;
    std::string freeze_reason;
    std::vector<std::string> findings;  // the compliance gate's
    Safety() = default;
    Safety(const Safety&) = delete;
    Safety& operator=(const Safety&) = delete;
  };
  // Fills `out` for `request` by `actor` at `at` (freeze windows).
  void SafetyOf(const Governance& g, const decision::Request& request, std::string_view actor,
                UnixMillis at, Safety* out) const;
  // Decides `request` under `safe`, with the compliance gate's findings
  // (app/compliance_gate.h) added to it.
  void DecideGated(const Governance& g, const decision::Request& request, Safety* safe,
                   decision::Decision* d) const;

  // The catalogue evaluated against this server's log, state and
  // transport (GET /v1/compliance); all of it when `framework` is "".
  // Publishes the outcomes to control_status when it is all of it.
  Result<json> EvaluateControls(const Governance& g, const std::string& framework);

  // --- freeze_routes.cc ----------------------------------------------------

  // GET /v1/freeze-windows[?at=]: every window of the governance, and where
  // it is in force at `at` (default: now).
  void GetFreezeWindows(Call& c);
  // That answer's JSON.
  nlohmann::ordered_json FreezeWindowsJson(const Governance& g, UnixMillis at) const;

  // --- compliance_routes.cc ------------------------------------------------

  // GET /v1/compliance[?framework=]: the control catalogue evaluated
  // (compliance/evaluate.h), on the audit read lane.
  void GetCompliance(Call& c);
  // POST /v1/evidence: attested evidence for a control (app/evidence.h), on
  // the state lane.
  void PostEvidence(Call& c);
  // POST /v1/waivers: a waiver of a control asked for, its approval
  // request opened (app/waivers.h), on the state lane.
  void PostWaiver(Call& c);
  // GET /v1/waivers: every waiver with where its approval stands, on the
  // audit read lane.
  void GetWaivers(Call& c);

  // --- drill_routes.cc -----------------------------------------------------

  // POST /v1/drills: a drill's record, its sign-off asked for
  // (app/drills.h), on the state lane.
  void PostDrill(Call& c);
  // GET /v1/drills: the drill calendar and the records, on the audit read
  // lane.
  void GetDrills(Call& c);

  // --- approval_routes.cc --------------------------------------------------

  // GET /v1/approvals and, with the path parameter "id", /v1/approvals/{id}.
  void GetApprovals(Call& c);
  void PostApprovalAction(Call& c);
  // GET /v1/approvals[/{id}] on the read lane: what `actor` may read, one
  // page from after `cursor` (an approval id), its read recorded.
  void ReadApprovals(const Governance& g, const Principal& actor, const std::string& id,
                     const std::optional<std::string>& wanted, const std::string& cursor,
                     size_t page, const Respond& respond);
  // Takes `act` on approval `id` on the state lane, then calls `done`.
  void ApprovalAction(const GovernancePtr& g, const Principal& actor, const std::string& id,
                      workflow::Action act, std::string rationale, std::string to,
                      const std::function<void(Outcome)>& done);

  // --- stop_routes.cc ------------------------------------------------------

  // --- rollout_routes.cc: rollouts and their incidents ---------------------

  void PostRollout(Call& c);
  void GetRollouts(Call& c);
  void PostRolloutAction(Call& c);
  // Takes override `action` (promote, abort, pause, resume, skip_step) by
  // `actor` on rollout `id` on the state lane, then calls `done` with the
  // rollout or the refusal. Nothing moves forward under a stop.
  void RolloutOverride(const GovernancePtr& g, const Principal& actor, const std::string& id,
                       const std::string& action, std::string rationale,
                       const std::function<void(Outcome)>& done);
  void PushRolloutMetrics(Call& c);
  void GetIncidents(Call& c);
  void PostIncidentReview(Call& c);
  // --- integration_routes.cc: the tools that run rollouts ------------------

  // What holds changes of `service` in `environment` by principal `actor`,
  // first to last: an emergency stop covering them (deny), a freeze window
  // in force (require_approval: wait), the rollout `named` (one the caller
  // found by its id) or an active rollout of theirs that is not well, a
  // block until a rollback's review (deny); else allow.
  struct Hold {
    std::string_view decision = "allow";  // allow | require_approval | deny
    std::string reason;
    std::optional<rollout::Rollout> rollout;  // the one that holds, or rollout_id's
  };
  Hold HoldOf(const Governance& g, Environment environment, const std::string& service,
              const std::string& actor, std::optional<rollout::Rollout> named) const;
  // A rollout as the integrations show it: where it stands, not its data.
  static json RolloutSummary(const rollout::Rollout& r);
  // Argo Rollouts' Web metric provider: always 200, the verdict in the body.
  void ArgoAnalysis(Call& c);

  // --- flagger_routes.cc ---------------------------------------------------

  // Flagger's webhooks, POST /v1/integrations/flagger/{hook}: gates answer
  // 200 for go and 403 for wait or no (never 5xx, which Flagger retries);
  // the rollback hook answers 200 for "roll back now"; event and
  // post-rollout hooks are recorded in the audit log.
  void FlaggerHook(Call& c);

  // --- admission_routes.cc -------------------------------------------------

  // Kubernetes' ValidatingAdmissionWebhook: an AdmissionReview v1 in, one
  // with the same uid out, each review recorded in the audit log.
  void KubernetesAdmission(Call& c);

  // Evaluates the rollouts that are due (app::Rollouts::EvaluateDue), on
  // the rollout lane, from the tick.
  void EvaluateRollouts();

  void GetStop(Call& c);
  void PostStop(Call& c);
  // Takes `action` (activate, deactivate, reenable_ai_agents) on the stop of
  // `scope` on the stop lane, then calls `done`.
  void StopAction(const GovernancePtr& g, const Principal& actor, safety::Scope scope,
                  const std::string& action, std::map<std::string, std::string> fields,
                  const std::function<void(Outcome)>& done);

  // --- audit_routes.cc -----------------------------------------------------

  void GetCheckpoint(Call& c);
  void GetProof(Call& c);
  void GetConsistency(Call& c);
  void GetEntries(Call& c);
  // Answers `c` on the read lane with what `read` gives.
  void ReadAudit(Call& c, std::function<Result<json>(const Call&)> read);

  // --- slack_routes.cc -----------------------------------------------------

  // Whether Slack's slash commands are on: the delivery settings name a
  // signing secret.
  bool SlackOn() const;
  // The answer while they are off: 404.
  static HttpResponse SlackOff();
  // POST /slack/commands: Slack's slash commands, signed by Slack.
  void PostSlackCommand(Call& c);

  // --- metrics.cc ----------------------------------------------------------

  // GET /metrics: Prometheus' text format.
  void GetMetrics(Call& c);

  // --- views.cc: the dashboard's views -------------------------------------

  void GetMe(Call& c);
  void GetStats(Call& c);
  // GET /v1/stats' answer: decisions per hour and approval latency.
  Result<json> Stats(const HttpRequest& r);
  // An approval as `actor` sees it: with "your_actions", the actions they
  // may take now, and with `candidates` "delegate_candidates", whom they may
  // hand it to. Takes no lock.
  json ApprovalView(const Governance& g, const app::StopMap& stops_now,
                    const workflow::ApprovalRequest& a, const Principal& actor, bool candidates);
};

}  // namespace interlock::server
