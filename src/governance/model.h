// The compiled governance: what a governance directory means, in the form
// the decision engine reads without allocating. Built only by Load
// (governance/loader.h), which validates everything first; a Governance that
// exists is valid.
//
// Thread safety: immutable after Load; share it between threads freely (the
// server swaps whole Governance objects on reload).
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/cron.h"
#include "core/duration.h"
#include "core/names.h"
#include "core/time_zone.h"
#include "core/yaml.h"
#include "expr/expr.h"

namespace interlock::governance {

// Roles are defined by the governance directory; a RoleSet holds role
// indices into Governance::roles.
inline constexpr size_t kMaxRoles = 64;
using RoleSet = std::bitset<kMaxRoles>;

// The controls of the catalogue (compliance/controls.yml) a matrix row or a
// rule requires to pass, as indices into Governance::controls.
inline constexpr size_t kMaxControls = 256;
using ControlSet = std::bitset<kMaxControls>;

// Where a definition came from, for messages and --explain.
struct Origin {
  std::string file;  // relative to the governance directory
  yaml::Mark mark;
};

struct Role {
  std::string id;
  std::string description;
};

struct Principal {
  std::string id;
  std::string name;
  ActorType type = ActorType::kHuman;
  RoleSet roles;
  std::string team;
  std::string email;
  std::string slack_id;  // the Slack user id for /emergency-stop and /approve
  Origin origin;

  // Who this principal is as a person, for every "distinct people" rule:
  // the e-mail address in lower case when there is one, else the id. Two
  // principals with one e-mail are one person (check refuses that, but a
  // request under review may outlive a reload).
  std::string Person() const;
};

struct Channel {
  std::string id;
  std::string type;  // slack | email | pagerduty | webhook
};

// How many distinct humans must approve, and the roles of which at least one
// approval each is mandatory.
struct Approvals {
  int count = 0;
  RoleSet mandatory;
};

struct Workflow {
  std::string id;
  std::string description;
  int required_approvers = 0;
  RoleSet approver_roles;
  Millis timeout{0};
  std::optional<size_t> escalation_role;  // index into roles
  std::vector<std::string> notification_channels;
  bool ai_agent_can_recommend = false;
  std::vector<std::string> steps;
  std::string canary;  // canary strategy id, or empty
  Origin origin;
};

// What a matrix row or a risk tier prescribes.
struct Outcome {
  Approvals approvals;
  std::optional<size_t> workflow;  // index into workflows; set when approvals.count > 0
  AiRole ai_agent_role = AiRole::kHumanOnly;
};

struct MatrixRow {
  std::string id;
  std::string description;
  // The values each dimension matches, indexed by enum value.
  std::bitset<8> change_types;  // by ChangeType
  std::bitset<3> environments;  // by Environment
  std::bitset<3> bumps;         // by Bump
  std::optional<RiskLevel> risk;
  Outcome outcome;
  // Controls that must pass for a change the row matches (requires_controls:
  // control ids, checklist ids or framework ids).
  ControlSet requires_controls;
  Origin origin;
};

struct RiskTier {
  RiskLevel level = RiskLevel::kLow;
  std::string description;
  std::vector<std::string> examples;
  expr::Program when;
  Outcome outcome;
  std::string audit_level;
  RoleSet oversight;
  Origin origin;
};

enum class RuleEffect : uint8_t { kDeny, kRequireApproval };

struct Rule {
  std::string id;
  std::string description;
  expr::Program when;
  RuleEffect effect = RuleEffect::kDeny;
  Outcome outcome;  // for kRequireApproval
  // Controls that must pass when the rule fires (as MatrixRow's).
  ControlSet requires_controls;
  Origin origin;
};

struct EmergencyStopPolicy {
  std::vector<std::string> when_to_activate;
  RoleSet activate_roles;
  std::vector<std::string> activation_methods;
  std::vector<std::string> notify;
  std::string incident_severity;
  RoleSet deactivate_roles;  // each must sign: one distinct person per role
  int deactivate_distinct_people = 2;
  std::vector<std::string> deactivate_requires;
  std::optional<size_t> ai_reenable_role;
  Origin deactivation_origin;  // the deactivation block, for messages
};

enum class TriggerAction : uint8_t { kRollback, kBlockAndRollback, kEscalateToHuman };

// What an evaluation whose metrics had no data (or whose source failed)
// counts as: it holds the rollout where it is, or counts as a failure, or
// as a pass. A promotion criterion without data always holds.
enum class OnMissing : uint8_t { kHold, kFail, kPass };

// How a rollback trigger or promotion criterion is evaluated (canary.yml's
// `analysis`, and the same keys on each trigger).
struct CheckSettings {
  Millis window{300'000};  // the metrics' window; default 5m
  // Fires when `fail_m` of the last `fail_n` evaluations failed (`consecutive:
  // N` is N of N; `m_of_n: [M, N]`). Default: 1 of 1.
  int fail_m = 1;
  int fail_n = 1;
  OnMissing on_no_data = OnMissing::kHold;
  OnMissing on_error = OnMissing::kHold;
  bool dry_run = false;     // evaluates and records, never acts
  int min_samples = 1;      // fewer points in the window: insufficient data
  double min_requests = 0;  // fewer `requests` in the window: insufficient data
  // Of the Mann-Whitney judge of X_shift metrics (rollout/analysis.h).
  double confidence = 0.98;
};

struct RollbackTrigger {
  std::string name;
  expr::Program condition;
  Millis window{0};
  Millis timeout{0};
  std::vector<Severity> severity;
  TriggerAction action = TriggerAction::kRollback;
  std::vector<std::string> notification;
  std::optional<size_t> workflow;  // escalate_to_human: the approval workflow it opens
  CheckSettings check;
  Origin origin;
};

struct RollbackPolicy {
  std::vector<RollbackTrigger> triggers;
  std::string strategy;  // blue-green | canary
  std::vector<std::string> verification;
  Millis timeout{0};
  bool notify_on_start = true;
  bool notify_on_complete = true;
  bool notify_on_failure = true;
  bool create_incident = true;
  bool notify_stakeholders = true;
  bool schedule_review = true;
  Millis review_deadline{0};
  // New rollouts of a service wait for the review of its last rollback.
  bool block_until_review = true;
};

struct CanaryStrategy {
  std::string id;
  std::vector<double> traffic_steps;  // fractions, e.g. 0.05
  Millis monitoring_duration{0};
  Millis interval{30'000};  // between evaluations
  // Absent in the built-in blue-green strategy, whose rollouts answer to
  // the rollback triggers alone and promote when none holds or fails.
  std::optional<expr::Program> rollback_when;
  std::optional<expr::Program> promote_when;
  CheckSettings analysis;  // of rollback_when and promote_when
  Origin origin;
};

// The strategy ids a change's risk picks when a rollout names none, and the
// one-step strategy that always exists.
inline constexpr std::string_view kHighRiskStrategy = "high_risk";
inline constexpr std::string_view kCriticalStrategy = "critical";
inline constexpr std::string_view kBlueGreenStrategy = "blue-green";

// Who may steer a rollout by hand (canary.yml `rollout_overrides`), by
// action: promote, abort, pause, resume, skip_step, and review (submit a
// rollback's review and clear a service's block).
struct RolloutOverrides {
  RoleSet promote, abort, pause, resume, skip_step, review;
};

// A metric read from Prometheus (canary.yml `metrics`): the query of the
// canary's value and, optionally, of the baseline's.
struct MetricQuery {
  std::string name;
  std::string query;
  std::string baseline_query;
  Origin origin;
};

struct ModelUpdatePolicy {
  bool requires_human_approval = true;
  Millis freeze_window{0};
};

// A freeze window (safety/freeze-windows.yml). While one is in force for a
// change, a decision on it is deny, or require_approval through the
// window's break-glass workflow.
enum class FreezeKind : uint8_t {
  kWeekly,            // from one weekday and time to another, every week
  kCron,              // from each time a cron schedule fires, for `duration`
  kAfterModelUpdate,  // for `duration` after a model_update was allowed or approved
  kAfterRollback,     // after a rollback, until its incident's review is in
};

struct FreezeWindow {
  std::string name;
  std::string reason;  // shown with every decision it freezes
  FreezeKind kind = FreezeKind::kWeekly;
  int weekly_from = 0, weekly_to = 0;  // minutes since Sunday 00:00, wall clock
  CronSchedule cron;
  std::string cron_text;
  Millis duration{0};
  std::shared_ptr<const TimeZone> zone;  // of the scheduled kinds
  // Which changes it covers; empty: all. Services are canonical.
  std::vector<Environment> environments;
  std::vector<std::string> services;
  std::vector<ChangeType> change_types;
  std::optional<size_t> break_glass;  // a workflow
  Origin origin;
};

// How Kubernetes objects map to Interlock's names (integrations/
// kubernetes.yml), for the admission webhook and Flagger's hooks. A pattern
// is a name, or a prefix ending in '*' ("prod-*"; "*" alone matches all).
struct KubernetesNamespace {
  std::string pattern;
  Environment environment = Environment::kProduction;
  std::string service;  // canonical; empty: from the object's labels or name
};

struct KubernetesAgent {
  std::string username;   // a pattern, e.g. system:serviceaccount:agents:*
  std::string principal;  // an ai_agent of principals.yaml
};

struct KubernetesPolicy {
  std::vector<KubernetesNamespace> namespaces;  // the first match applies
  // The labels that name an object's service, the first present applies;
  // without one, the object's name does.
  std::vector<std::string> service_labels = {"app.kubernetes.io/name", "app"};
  std::vector<KubernetesAgent> ai_agents;

  const KubernetesNamespace* FindNamespace(std::string_view ns) const;
  const KubernetesAgent* FindAgent(std::string_view username) const;
};

// Whether `name` matches a pattern of KubernetesPolicy.
bool MatchesPattern(std::string_view pattern, std::string_view name);

enum class ReadScope : uint8_t { kOwn, kTeam, kAll };

struct AuditAccess {
  size_t role = 0;
  ReadScope scope = ReadScope::kOwn;
  Millis grant_duration{0};  // 0: no time limit
};

struct AuditPolicy {
  std::array<Millis, 3> retention_by_environment{};  // by Environment
  Millis retention_security_incident{0};
  Millis retention_ai_agent_decision{0};
  std::vector<AuditAccess> access;
};

struct ComplianceControl {
  std::string id;
  std::string requirement;
};

struct ComplianceFramework {
  std::string id;
  std::string name;
  std::string applies_to;
  std::vector<std::string> requirements;
  std::vector<std::string> ai_agent_implications;
  std::vector<ComplianceControl> controls;
};

// How a control of compliance/controls.yml is evaluated (its `check:`).
// Each is computed from Interlock's own state and configuration, except
// kAttested: evidence a person with the right role attests.
enum class ControlCheck : uint8_t {
  kAuditVerifies,        // the audit trail is enabled and verifies
  kEncryptionAtRest,     // records sealed at rest, their data keys rotating
  kTlsInTransit,         // TLS 1.3 on the server, or a declared terminator
  kRoleBasedAccess,      // every route authenticated, every role defined
  kAiBoundaries,         // no workflow lets an AI approve; critical is human only
  kDrill,                // a drill of `drill` passed within `within`
  kViolationsReported,   // every violation reported within violation_reporting
  kRetentionConfigured,  // a retention period for every class of record
  kSecretScanClean,      // the latest secret scan the gate used found nothing
  kPiiScanClean,         // the latest PII scan the gate used found nothing
  kPolicyReviews,        // no policy of policies/*.md is past its review date
  kAttested,             // attested evidence, unexpired, within `within`
};
inline constexpr std::array<std::string_view, 12> kControlCheckNames = {
    "audit_verifies",      "encryption_at_rest",   "tls_in_transit",
    "role_based_access",   "ai_boundaries",        "drill",
    "violations_reported", "retention_configured", "secret_scan_clean",
    "pii_scan_clean",      "policy_reviews",       "attested"};

// The drills a kDrill control may name (interlock drill <name>).
inline constexpr std::array<std::string_view, 4> kDrillNames = {"emergency-stop", "rollback",
                                                                "approval-bypass", "audit-verify"};

// One check of the control catalogue (compliance/controls.yml).
struct Control {
  std::string id;
  std::string description;
  ControlCheck check = ControlCheck::kAttested;
  std::string drill;       // kDrill: one of kDrillNames
  Millis within{0};        // kDrill, kAttested, kEncryptionAtRest (key age): how recent; 0: any
  std::string terminator;  // kTlsInTransit: the TLS terminator declared in front of the server
  // kAttested: the roles whose holders may attest its evidence (a human
  // holding one); CompliancePolicy::attesters unless the control names its own.
  RoleSet attesters;
  // The framework requirements it maps to, "FRAMEWORK:reference" (e.g.
  // "HIPAA:164.312(a)(2)(iv)"), the framework an id of frameworks.yml.
  std::vector<std::string> maps;
  // The checklist items it covers: control ids of frameworks.yml and item
  // ids of the pre-deploy checklists.
  std::vector<std::string> covers;
  Origin origin;

  // The frameworks it maps to (the part of each `maps` entry before ':').
  bool MapsTo(std::string_view framework) const;
};

// A pre-deploy checklist (seed 003: security, privacy, audit).
struct Checklist {
  std::string id;
  std::string name;
  std::vector<ComplianceControl> items;
};

struct CompliancePolicy {
  std::vector<ComplianceFramework> frameworks;
  Millis violation_reporting{0};
  std::vector<Checklist> checklists;
  std::vector<Control> controls;  // the catalogue, in file order
  RoleSet attesters;              // controls.yml `attesters`: who attests by default

  const Control* FindControl(std::string_view id) const;
};

struct Governance {
  std::string organisation;
  std::string version;  // "sha256:<hex>" digest of every file in the directory
  std::vector<Role> roles;
  std::vector<Principal> principals;
  std::vector<Channel> channels;
  RoleSet reload_roles;  // may reload the directory into a running server by API
  // The known services and environments (interlock.yaml `services` and
  // `environments`); empty: any. When listed, a request naming another one
  // is refused. Services are canonical (lower case).
  std::vector<std::string> services;
  std::vector<Environment> environments;
  std::vector<Workflow> workflows;
  std::vector<MatrixRow> matrix;
  std::vector<RiskTier> tiers;  // sorted most severe first
  std::vector<Rule> rules;
  EmergencyStopPolicy emergency_stop;
  RollbackPolicy rollback;
  std::vector<CanaryStrategy> canaries;  // blue-green included, last unless the file names it
  std::vector<MetricQuery> metric_queries;
  RolloutOverrides rollout_overrides;
  ModelUpdatePolicy model_updates;
  std::vector<FreezeWindow> freeze_windows;
  KubernetesPolicy kubernetes;
  AuditPolicy audit;
  CompliancePolicy compliance;
  // Compiled conditions refer to these by slot (governance/fields.h).
  std::vector<std::vector<std::string>> metadata_paths;
  std::vector<std::string> metric_names;

  std::optional<size_t> FindRole(std::string_view id) const;
  std::optional<size_t> FindWorkflow(std::string_view id) const;
  const CanaryStrategy* FindCanary(std::string_view id) const;
  const MetricQuery* FindMetricQuery(std::string_view name) const;
  const Principal* FindPrincipal(std::string_view id) const;
  // The role ids of a set, in definition order.
  std::vector<std::string> RoleIds(const RoleSet& set) const;
  // Role ids of a set, in definition order, joined by ", ".
  std::string RoleNames(const RoleSet& set) const;
};

}  // namespace interlock::governance
