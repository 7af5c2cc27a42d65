#include "compliance/evaluate.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/duration.h"

namespace interlock::compliance {
namespace {

using governance::Control;
using governance::ControlCheck;
using governance::Governance;

ControlResult Pass(std::string reason, std::vector<std::string> evidence = {}) {
  return {nullptr, Outcome::kPass, std::move(reason), std::move(evidence), {}, {}};
}
ControlResult Fail(std::string reason, std::vector<std::string> evidence = {}) {
  return {nullptr, Outcome::kFail, std::move(reason), std::move(evidence), {}, {}};
}
ControlResult Unknown(std::string_view what, const Facts& facts) {
  std::string reason = fmt::format("{} is not known to this run", what);
  if (!facts.unknown_why.empty()) reason += fmt::format(" ({})", facts.unknown_why);
  return {nullptr, Outcome::kError, std::move(reason), {}, {}, {}};
}

std::string Day(UnixMillis t) { return FormatTimestamp(t).substr(0, 10); }

// " at audit index N", or "" when the fact does not know its index.
std::string AtIndex(uint64_t index) {
  return index == 0 ? "" : fmt::format(" at audit index {}", index);
}

ControlResult AuditVerifies(const Facts& facts) {
  if (!facts.audit) return Unknown("the audit log", facts);
  const AuditFacts& a = *facts.audit;
  std::vector<std::string> evidence = {
      fmt::format("{} records verified ({} pruned, their leaves verified)", a.size, a.pruned)};
  if (!a.root.empty()) evidence.push_back(fmt::format("root {} at size {}", a.root, a.size));
  if (!a.verified) {
    if (a.first_bad_index)
      evidence.push_back(fmt::format("first bad index {}", *a.first_bad_index));
    return Fail(fmt::format("the audit log does not verify: {}", a.problem), std::move(evidence));
  }
  return Pass("the audit log is enabled and every record, tile and checkpoint verifies",
              std::move(evidence));
}

ControlResult EncryptionAtRest(const Control& c, const Facts& facts) {
  if (!facts.keys) return Unknown("the audit log's keys", facts);
  const KeyFacts& k = *facts.keys;
  std::vector<std::string> evidence = {
      fmt::format("cipher {}", k.cipher),
      fmt::format("{} data keys, one per retention class and calendar month", k.data_keys),
      fmt::format("master key kept outside the store: {}", k.master_key_source)};
  if (k.newest_period_end != 0) {
    evidence.push_back(fmt::format("newest data key's period ends {}", Day(k.newest_period_end)));
  }
  if (k.cipher != "AES-256-GCM") {
    return Fail(fmt::format("records are sealed with {}, not AES-256-GCM", k.cipher),
                std::move(evidence));
  }
  // Data keys are made per calendar month: a month is at most 31 days.
  constexpr Millis kMonth{31LL * 86'400'000};
  if (c.within.count() > 0 && c.within < kMonth) {
    return Fail(fmt::format("data keys rotate every calendar month, less often than within {}",
                            FormatDuration(c.within)),
                std::move(evidence));
  }
  return Pass(
      "records are sealed with AES-256-GCM under data keys that rotate every calendar "
      "month, wrapped by a master key kept outside the store",
      std::move(evidence));
}

ControlResult TlsInTransit(const Control& c, const Facts& facts) {
  if (!c.terminator.empty()) {
    std::vector<std::string> evidence = {fmt::format("declared terminator: {}", c.terminator)};
    if (facts.server_tls) {
      evidence.push_back(*facts.server_tls ? "the server serves TLS 1.3 only"
                                           : "the server serves plain HTTP behind it");
    }
    return Pass(fmt::format("TLS 1.3 terminates at {}, as the catalogue declares", c.terminator),
                std::move(evidence));
  }
  if (!facts.server_tls) return Unknown("the server's transport", facts);
  if (*facts.server_tls) return Pass("the server serves TLS 1.3 and nothing older");
  return Fail(
      "the server serves plain HTTP and the catalogue declares no TLS terminator in front "
      "of it");
}

ControlResult RoleBasedAccess(const Governance& g, const Facts& facts) {
  if (!facts.routes) return Unknown("the server's routes", facts);
  std::vector<std::string> open;
  size_t authenticated = 0;
  for (const RouteFact& r : *facts.routes) {
    if (!r.authentication.empty()) {
      ++authenticated;
    } else if (!MayBeOpen(r)) {
      open.push_back(fmt::format("{} {}", r.method, r.pattern));
    }
  }
  std::vector<std::string> evidence = {
      fmt::format("{} of {} routes authenticate their caller; the others serve the dashboard's "
                  "static files or the liveness probe",
                  authenticated, facts.routes->size()),
      fmt::format("{} roles defined; every role a principal, workflow, rule or matrix row names is "
                  "one of them (checked when the governance loads)",
                  g.roles.size())};
  for (const governance::Principal& p : g.principals) {
    if (p.roles.none()) {
      return Fail(fmt::format("principal {} holds no role", p.id), std::move(evidence));
    }
  }
  if (!open.empty()) {
    return Fail(fmt::format("routes that hold state answer without authentication: {}",
                            fmt::join(open, ", ")),
                std::move(evidence));
  }
  return Pass(
      "every route that reads or changes state authenticates its caller, and every "
      "principal acts through defined roles",
      std::move(evidence));
}

ControlResult AiBoundaries(const Governance& g) {
  std::vector<std::string> problems;
  for (const governance::Workflow& w : g.workflows) {
    for (const governance::Principal& p : g.principals) {
      if (p.type == ActorType::kHuman || (p.roles & w.approver_roles).none()) continue;
      problems.push_back(fmt::format("{} {} holds an approver role of workflow {} ({})",
                                     Name(p.type), p.id, w.id,
                                     g.RoleNames(p.roles & w.approver_roles)));
    }
  }
  for (const governance::RiskTier& t : g.tiers) {
    if (t.level == RiskLevel::kCritical && t.outcome.ai_agent_role != AiRole::kHumanOnly) {
      problems.push_back(
          fmt::format("the critical risk tier lets an AI agent {}", Name(t.outcome.ai_agent_role)));
    }
  }
  for (const governance::MatrixRow& row : g.matrix) {
    if (row.risk == RiskLevel::kCritical && row.outcome.ai_agent_role != AiRole::kHumanOnly) {
      problems.push_back(fmt::format("matrix row {} (critical) lets an AI agent {}", row.id,
                                     Name(row.outcome.ai_agent_role)));
    }
  }
  std::vector<std::string> evidence = {
      "the approval workflow refuses every approval, rejection and escalation by an ai_agent or "
      "a service",
      fmt::format("{} workflows, {} principals, {} risk tiers and {} matrix rows checked",
                  g.workflows.size(), g.principals.size(), g.tiers.size(), g.matrix.size())};
  if (!problems.empty()) {
    return Fail(fmt::format("{}", fmt::join(problems, "; ")), std::move(evidence));
  }
  return Pass("no AI agent or service holds an approver role, and critical changes are human only",
              std::move(evidence));
}

ControlResult Dated(ControlResult r, UnixMillis at, UnixMillis expires) {
  r.evidence_at = at;
  if (expires != 0) r.expires_at = expires;
  return r;
}

ControlResult Drill(const Control& c, const Facts& facts) {
  const DrillFact* latest = nullptr;
  for (const DrillFact& d : facts.drills) {
    if (d.drill == c.drill && d.passed && (latest == nullptr || d.at > latest->at)) latest = &d;
  }
  if (latest == nullptr) {
    return Fail(
        fmt::format("no passed {} drill is recorded (interlock drill {})", c.drill, c.drill));
  }
  const UnixMillis due = latest->at + c.within.count();
  std::vector<std::string> evidence = {fmt::format("drill on {}{}: {}", Day(latest->at),
                                                   AtIndex(latest->audit_index), latest->summary)};
  if (facts.now > due) {
    return Dated(Fail(fmt::format("the last passed {} drill was on {}; one was due by {}", c.drill,
                                  Day(latest->at), Day(due)),
                      std::move(evidence)),
                 latest->at, due);
  }
  return Dated(Pass(fmt::format("the {} drill passed on {}; the next is due by {}", c.drill,
                                Day(latest->at), Day(due)),
                    std::move(evidence)),
               latest->at, due);
}

ControlResult Attested(const Control& c, const Facts& facts) {
  const AttestationFact* latest = nullptr;
  for (const AttestationFact& a : facts.attestations) {
    if (a.control == c.id && (latest == nullptr || a.at > latest->at)) latest = &a;
  }
  if (latest == nullptr) {
    return Fail("no evidence is attested (POST /v1/evidence)");
  }
  UnixMillis expires = latest->expires;
  if (c.within.count() > 0) {
    const UnixMillis due = latest->at + c.within.count();
    expires = expires == 0 ? due : std::min(expires, due);
  }
  std::vector<std::string> evidence = {fmt::format("attested by {} on {}{}: {}",
                                                   latest->attested_by, Day(latest->at),
                                                   AtIndex(latest->audit_index), latest->text)};
  if (expires != 0 && facts.now >= expires) {
    return Dated(Fail(fmt::format("the evidence attested on {} expired on {}", Day(latest->at),
                                  Day(expires)),
                      std::move(evidence)),
                 latest->at, expires);
  }
  return Dated(Pass(fmt::format("attested by {} on {}", latest->attested_by, Day(latest->at)),
                    std::move(evidence)),
               latest->at, expires);
}

ControlResult ViolationsReported(const Governance& g, const Facts& facts) {
  if (!facts.violations) return Unknown("the violations (incidents)", facts);
  const Millis window = g.compliance.violation_reporting;
  if (window.count() <= 0) {
    return Fail("frameworks.yml sets no violation_reporting period");
  }
  std::vector<std::string> late;
  size_t pending = 0;
  for (const ViolationFact& v : *facts.violations) {
    const UnixMillis due = v.opened_at + window.count();
    const UnixMillis reported = v.reported_at != 0 ? v.reported_at : facts.now;
    if (reported > due) {
      late.push_back(fmt::format(
          "{} ({}, opened {}, {})", v.id, v.what, FormatTimestamp(v.opened_at),
          v.reported_at != 0 ? fmt::format("reported {}", FormatTimestamp(v.reported_at))
                             : std::string("not reported")));
    } else if (v.reported_at == 0) {
      ++pending;
    }
  }
  std::vector<std::string> evidence = {
      fmt::format("{} violations (incidents) recorded, {} awaiting their report within {}",
                  facts.violations->size(), pending, FormatDuration(window))};
  if (!late.empty()) {
    return Fail(
        fmt::format("reported later than {}: {}", FormatDuration(window), fmt::join(late, "; ")),
        std::move(evidence));
  }
  return Pass(fmt::format("every violation was reported within {}", FormatDuration(window)),
              std::move(evidence));
}

ControlResult RetentionConfigured(const Governance& g) {
  const governance::AuditPolicy& a = g.audit;
  std::vector<std::string> evidence;
  std::vector<std::string> missing;
  for (size_t e = 0; e < kEnvironmentNames.size(); ++e) {
    const Millis m = a.retention_by_environment[e];
    if (m.count() <= 0) missing.push_back(std::string(kEnvironmentNames[e]));
    evidence.push_back(fmt::format("{}: {}", kEnvironmentNames[e], FormatDuration(m)));
  }
  if (a.retention_security_incident.count() <= 0) missing.push_back("security_incident");
  if (a.retention_ai_agent_decision.count() <= 0) missing.push_back("ai_agent_decision");
  evidence.push_back(
      fmt::format("security_incident: {}", FormatDuration(a.retention_security_incident)));
  evidence.push_back(
      fmt::format("ai_agent_decision: {}", FormatDuration(a.retention_ai_agent_decision)));
  if (!missing.empty()) {
    return Fail(
        fmt::format("audit/retention.yml sets no retention for {}", fmt::join(missing, ", ")),
        std::move(evidence));
  }
  return Pass("audit/retention.yml sets a retention period for every class of record",
              std::move(evidence));
}

ControlResult ScanClean(const Facts& facts, const std::optional<ScanFact>& scan,
                        std::string_view kind, std::string_view field) {
  if (!facts.scans_known) return Unknown("the latest scans", facts);
  if (!scan) {
    return Fail(fmt::format("no decision has used a {} scan yet ({})", kind, field));
  }
  std::vector<std::string> evidence = {
      fmt::format("{} scan used by a decision at {}{}: {} findings", kind,
                  FormatTimestamp(scan->at), AtIndex(scan->audit_index), scan->findings)};
  if (scan->findings > 0) {
    return Dated(
        Fail(fmt::format("the latest {} scan found {}", kind, scan->findings), std::move(evidence)),
        scan->at, 0);
  }
  return Dated(Pass(fmt::format("the latest {} scan the gate used found nothing", kind),
                    std::move(evidence)),
               scan->at, 0);
}

ControlResult PolicyReviews(const Facts& facts) {
  if (!facts.policies) return Unknown("the policy documents", facts);
  if (facts.policies->empty()) return Fail("the governance has no policies/*.md");
  std::vector<std::string> problems;
  std::vector<std::string> evidence;
  for (const PolicyFact& p : *facts.policies) {
    if (!p.next_review) {
      problems.push_back(fmt::format("{}: {}", p.file, p.problem));
      continue;
    }
    evidence.push_back(fmt::format("{}: next review {}{}", p.file, Day(*p.next_review),
                                   p.owner.empty() ? "" : fmt::format(", owner {}", p.owner)));
    if (facts.now > *p.next_review + 86'400'000) {
      problems.push_back(fmt::format("{} was due for review on {}", p.file, Day(*p.next_review)));
    }
  }
  if (!problems.empty()) return Fail(fmt::format("{}", fmt::join(problems, "; ")), evidence);
  return Pass(fmt::format("every policy ({}) is within its review date", facts.policies->size()),
              std::move(evidence));
}

ControlResult EvaluateOne(const Governance& g, const Control& c, const Facts& facts) {
  switch (c.check) {
    case ControlCheck::kAuditVerifies:
      return AuditVerifies(facts);
    case ControlCheck::kEncryptionAtRest:
      return EncryptionAtRest(c, facts);
    case ControlCheck::kTlsInTransit:
      return TlsInTransit(c, facts);
    case ControlCheck::kRoleBasedAccess:
      return RoleBasedAccess(g, facts);
    case ControlCheck::kAiBoundaries:
      return AiBoundaries(g);
    case ControlCheck::kDrill:
      return Drill(c, facts);
    case ControlCheck::kViolationsReported:
      return ViolationsReported(g, facts);
    case ControlCheck::kRetentionConfigured:
      return RetentionConfigured(g);
    case ControlCheck::kSecretScanClean:
      return ScanClean(facts, facts.secret_scan, "secret", "checks.secret_scan");
    case ControlCheck::kPiiScanClean:
      return ScanClean(facts, facts.pii_scan, "PII", "checks.pii_scan");
    case ControlCheck::kPolicyReviews:
      return PolicyReviews(facts);
    case ControlCheck::kAttested:
      return Attested(c, facts);
  }
  return Unknown("this check", facts);
}

bool Approved(const WaiverFact& w) { return w.approval_state == "approved"; }

// The approved waiver of `c` in force at `now` (the one that lasts longest),
// else the approved one that expired last; null when neither exists.
const WaiverFact* WaiverOf(const Control& c, const Facts& facts, bool* expired) {
  const WaiverFact* in_force = nullptr;
  const WaiverFact* lapsed = nullptr;
  for (const WaiverFact& w : facts.waivers) {
    if (w.control != c.id || !Approved(w)) continue;
    const WaiverFact*& slot = facts.now < w.expires ? in_force : lapsed;
    if (slot == nullptr || w.expires > slot->expires) slot = &w;
  }
  *expired = in_force == nullptr && lapsed != nullptr;
  return in_force != nullptr ? in_force : lapsed;
}

// `r` as the waiver `w` of its control leaves it.
void ApplyWaiver(const WaiverFact& w, bool expired, ControlResult& r) {
  const std::string by = fmt::format("{}", fmt::join(w.approved_by, ", "));
  r.waiver = w;
  r.waiver_expired = expired;
  if (expired) {
    r.evidence.push_back(fmt::format("waiver {} (approved by {}) expired on {}", w.id, by,
                                     FormatTimestamp(w.expires)));
    return;
  }
  r.evidence.push_back(fmt::format("waiver {}{}, approved by {}: {}", w.id, AtIndex(w.audit_index),
                                   by, w.justification));
  if (w.run) {
    r.evaluated = r.outcome;
    r.reason = fmt::format("waived until {} (evaluated: {}: {})", FormatTimestamp(w.expires),
                           OutcomeName(r.outcome), r.reason);
  } else {
    r.reason =
        fmt::format("waived until {}, not evaluated (run: false)", FormatTimestamp(w.expires));
  }
  r.outcome = Outcome::kWaived;
}

}  // namespace

bool MayBeOpen(const RouteFact& route) {
  return route.method == "GET" &&
         (route.pattern == "/" || route.pattern == "/assets/{path}" || route.pattern == "/healthz");
}

Report Evaluate(const Governance& g, const Facts& facts, std::string_view framework) {
  Report report;
  report.at = facts.now;
  report.framework = std::string(framework);
  for (const Control& c : g.compliance.controls) {
    if (!framework.empty() && !c.MapsTo(framework)) continue;
    bool expired = false;
    const WaiverFact* w = WaiverOf(c, facts, &expired);
    ControlResult r;
    if (w != nullptr && !expired && !w->run) {
      r.outcome = Outcome::kWaived;  // run: false: the control is not evaluated
    } else {
      r = EvaluateOne(g, c, facts);
    }
    if (w != nullptr) ApplyWaiver(*w, expired, r);
    r.control = &c;
    report.counts.Add(r.outcome);
    report.results.push_back(std::move(r));
  }
  return report;
}

}  // namespace interlock::compliance
