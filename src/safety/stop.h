// The emergency stop (seed 000, sections 3.2 and 3.3) as a pure state
// machine: no I/O, no clock. Each action takes the current state and returns
// the next one with the audit event that records it, so the caller commits
// both in one transaction (audit::AuditLog::Commit).
//
// Rules, from the governance's safety/auto-rollback.yml `emergency_stop`:
//  - Activation by a human holding one of activate_roles, with a reason.
//    While active every decision is deny, AI agents are refused, approvals
//    cannot complete, and an incident of incident_severity is opened.
//  - Deactivation needs one signature per deactivation role (engineering
//    lead and security lead by default) and distinct_people signatures in
//    all, each by a different person (principals sharing an e-mail address
//    are one person), each
//    carrying every field of deactivation.requires (post-incident review,
//    root cause, prevention measures). Until the last signature the stop
//    stays active, pending the others.
//  - AI agents stay disabled after deactivation until a holder of
//    ai_agents_reenabled_by re-enables them.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "governance/model.h"

namespace interlock::safety {

struct Signature {
  std::string principal;
  std::string role;                           // the deactivation role it fills
  std::map<std::string, std::string> fields;  // post_incident_review, root_cause, ...
  UnixMillis at = 0;
};

// What a stop covers: everything (the global stop), or one environment, one
// service or one AI agent. Each scope is its own stop with the same rules.
enum class ScopeKind : uint8_t { kAll, kEnvironment, kService, kAgent };

struct Scope {
  ScopeKind kind = ScopeKind::kAll;
  std::string value;  // the environment, service or agent id; empty for kAll

  // The stored id: "global", "environment:production", "service:payments",
  // "agent:deployment-agent-01".
  std::string Key() const;
  static Result<Scope> FromKey(std::string_view key);
  // For messages and audit targets: "all", "environment production", ...
  std::string Describe() const;
  // The API's form: {} for everything, else {"environment": "production"},
  // {"service": "payments"} or {"agent": "deployment-agent-01"}.
  nlohmann::ordered_json ToJson() const;
  // Reads the API's form; InvalidArgument naming the field: exactly one of
  // environment (dev, staging, production), service (1-128 characters of
  // a-z A-Z 0-9 . _ -, kept in canonical form, and one of `g`'s known
  // services if it lists them) or agent (an ai_agent principal of `g`).
  static Result<Scope> FromJson(const governance::Governance& g, const nlohmann::ordered_json& j);

  // Whether a decision request in `environment` for `service` by `actor`
  // falls under this scope. Services compare in canonical form
  // (CanonicalService), and a request that names no service is under every
  // service's stop: what it does not state cannot dodge a stop.
  bool Covers(Environment environment, const std::optional<std::string>& service,
              std::string_view actor) const;
  bool operator==(const Scope&) const = default;
};

struct StopState {
  Scope scope;
  bool active = false;
  std::string reason;
  std::string activated_by;
  UnixMillis activated_at = 0;
  std::string incident;               // "SEV-1-<activated_at>"; empty before the first activation
  std::vector<Signature> signatures;  // toward deactivation, while active
  bool ai_disabled = false;           // from activation until re-enabled
  std::optional<UnixMillis> deactivated_at;
  std::vector<Signature> last_deactivation;  // who ended the last stop, and why

  nlohmann::ordered_json ToJson() const;
  // Reads what ToJson wrote; kCorruption naming the field otherwise.
  static Result<StopState> FromJson(const nlohmann::ordered_json& j);
};

struct StopChange {
  StopState next;
  nlohmann::ordered_json event;  // the audit event, for audit::ParseEvent
  std::string summary;           // one line for notifications
};

// `actor` must be a principal of `g`. Errors: kPermissionDenied (role, AI
// agent), kInvalidArgument (missing reason or field; already active;
// already signed; not active).
Result<StopChange> Activate(const governance::Governance& g, const StopState& state,
                            const governance::Principal& actor, std::string_view reason,
                            UnixMillis now);
Result<StopChange> Deactivate(const governance::Governance& g, const StopState& state,
                              const governance::Principal& actor,
                              const std::map<std::string, std::string>& fields, UnixMillis now);
Result<StopChange> ReenableAiAgents(const governance::Governance& g, const StopState& state,
                                    const governance::Principal& actor, std::string_view reason);

// The deactivation roles still missing a signature, by name; once each has
// one and fewer than distinct_people people have signed, every deactivation
// role (one more person holding any of them). Empty: the stop can end.
std::vector<std::string> PendingRoles(const governance::Governance& g, const StopState& state);

}  // namespace interlock::safety
