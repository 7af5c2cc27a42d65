#include "compliance/change_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <initializer_list>

#include "core/json.h"

namespace interlock::compliance {
namespace {

constexpr std::string_view kRecord = "change_metadata";

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Who a name is: an e-mail address in lower case (the name's own, or the
// e-mail of the principal it names), else the name as it is.
std::string Identity(std::string_view name, std::span<const Person> people) {
  if (name.find('@') != std::string_view::npos) return Lower(name);
  for (const Person& p : people) {
    if (p.id == name) return p.email.empty() ? p.id : Lower(p.email);
  }
  return std::string(name);
}

std::string IdentityOf(const ApprovalFact& a, std::span<const Person> people) {
  return a.email.empty() ? Identity(a.approver, people) : Lower(a.email);
}

// The UTC second of a time.
int64_t Second(UnixMillis t) { return t >= 0 ? t / 1000 : -((-t + 999) / 1000); }

std::string When(UnixMillis t) { return FormatTimestamp(t); }

class Checker {
 public:
  Checker(const ChangeRecord& record, const ChangeFacts& facts, std::span<const Person> people)
      : r_(record), f_(facts), people_(people) {}

  ChangeReport Run() && {
    ApproverIndependent();
    ApprovalsBeforeDeploy();
    ApprovalsInLog();
    RiskNotUnderstated();
    TestsRunForProduction();
    return std::move(report_);
  }

 private:
  void Find(ChangeCheck check, std::string path, std::optional<uint64_t> index,
            std::string message) {
    report_.findings.push_back({check, std::move(path), index, std::move(message)});
  }
  // Records the check's status: failed if it found anything since `before`.
  void Done(ChangeCheck check, size_t before, std::string note = "") {
    CheckStatus status =
        report_.findings.size() > before ? CheckStatus::kFailed : CheckStatus::kPassed;
    Record(check, status, std::move(note));
  }
  void NotChecked(ChangeCheck check, std::string why) {
    Record(check, CheckStatus::kNotChecked, std::move(why));
  }
  // Member by member: GCC 12 at -O3 misreads a braced CheckResult moved
  // into the vector as an out-of-bounds copy (-Warray-bounds).
  void Record(ChangeCheck check, CheckStatus status, std::string note) {
    CheckResult& r = report_.checks.emplace_back();
    r.check = check;
    r.status = status;
    r.note = std::move(note);
  }
  // Whether the checks that need the decisions can run; if not, records
  // `check` as not checked.
  bool NeedsDecisions(ChangeCheck check) {
    if (!f_.log_read) {
      NotChecked(check, f_.why_not_read);
    } else if (!f_.tied) {
      NotChecked(check, f_.why_not_tied);
    } else if (f_.decisions.empty()) {
      NotChecked(check, "no decision is recorded for this change");
    } else {
      return true;
    }
    return false;
  }
  std::string ApprovalPath(size_t index, std::string_view member = "") const {
    std::string path = fmt::format("{}.approvals[{}]", kRecord, index);
    if (!member.empty()) path += fmt::format(".{}", member);
    return path;
  }

  // The author never approves their own change. The owner may: seed 003's
  // standard workflow is "Owner reviews and approves".
  void ApproverIndependent() {
    size_t before = report_.findings.size();
    std::string author = Identity(r_.author, people_);
    for (size_t i = 0; i < r_.approvals.size(); ++i) {
      const RecordedApproval& a = r_.approvals[i];
      if (Identity(a.approver, people_) == author) {
        Find(ChangeCheck::kApproverIndependent, ApprovalPath(i, "approver"), std::nullopt,
             fmt::format("{} is the change's author ({}) and cannot approve it", a.approver,
                         r_.author));
      }
    }
    std::string note;
    if (f_.log_read && f_.tied) {
      for (const ApprovalFact& a : f_.approvals) {
        if (IdentityOf(a, people_) == author) {
          Find(ChangeCheck::kApproverIndependent, fmt::format("{}.author", kRecord), a.audit_index,
               fmt::format("{} approved {} in the audit log but is the change's author ({})",
                           a.approver, a.approval_id, r_.author));
        }
      }
    } else {
      note = "the record's approvals only: " + (f_.log_read ? f_.why_not_tied : f_.why_not_read);
    }
    Done(ChangeCheck::kApproverIndependent, before, std::move(note));
  }

  // The act that let the change proceed first: an allow decision, or the
  // approval that granted an approval request.
  void ApprovalsBeforeDeploy() {
    constexpr ChangeCheck kCheck = ChangeCheck::kApprovalsBeforeDeploy;
    if (!f_.log_read) return NotChecked(kCheck, f_.why_not_read);
    if (!f_.tied) return NotChecked(kCheck, f_.why_not_tied);
    std::optional<UnixMillis> at;
    uint64_t index = 0;
    std::string what;
    for (const DecisionFact& d : f_.decisions) {
      if (d.kind == DecisionKind::kAllow && (!at || d.at < *at)) {
        at = d.at;
        index = d.audit_index;
        what = fmt::format("the allow decision at {}", When(d.at));
      }
    }
    for (const ApprovalFact& a : f_.approvals) {
      if (a.granted && (!at || a.at < *at)) {
        at = a.at;
        index = a.audit_index;
        what = fmt::format("{}'s approval at {}, which granted {}", a.approver, When(a.at),
                           a.approval_id);
      }
    }
    if (!at) {
      return NotChecked(kCheck, "no decision or approval recorded for this change let it proceed");
    }
    size_t before = report_.findings.size();
    for (size_t i = 0; i < r_.approvals.size(); ++i) {
      const RecordedApproval& a = r_.approvals[i];
      if (Second(a.timestamp) > Second(*at)) {
        Find(kCheck, ApprovalPath(i, "timestamp"), index,
             fmt::format("{} is after {} (audit index {}) let the change proceed",
                         When(a.timestamp), what, index));
      }
    }
    Done(kCheck, before);
  }

  void ApprovalsInLog() {
    constexpr ChangeCheck kCheck = ChangeCheck::kApprovalsInLog;
    if (!f_.log_read) return NotChecked(kCheck, f_.why_not_read);
    size_t before = report_.findings.size();
    for (size_t i = 0; i < r_.approvals.size(); ++i) {
      const RecordedApproval& a = r_.approvals[i];
      std::string who = Identity(a.approver, people_);
      const ApprovalFact* nearest = nullptr;
      bool held = false;
      for (const ApprovalFact& fact : f_.approvals) {
        if (IdentityOf(fact, people_) != who) continue;
        if (Second(fact.at) == Second(a.timestamp)) {
          held = true;
          break;
        }
        if (!nearest || std::llabs(fact.at - a.timestamp) < std::llabs(nearest->at - a.timestamp)) {
          nearest = &fact;
        }
      }
      if (held) continue;
      std::string message = fmt::format("the audit log holds no approval by {} at {}{}", a.approver,
                                        When(a.timestamp), f_.tied ? " for this change" : "");
      if (nearest) {
        message += fmt::format(" (the nearest by them is at {}, audit index {})", When(nearest->at),
                               nearest->audit_index);
      }
      Find(kCheck, ApprovalPath(i), nearest ? std::optional(nearest->audit_index) : std::nullopt,
           std::move(message));
    }
    std::string note;
    if (!f_.tied) note = "matched against every approval in the audit log: " + f_.why_not_tied;
    Done(kCheck, before, std::move(note));
  }

  void RiskNotUnderstated() {
    constexpr ChangeCheck kCheck = ChangeCheck::kRiskNotUnderstated;
    if (!NeedsDecisions(kCheck)) return;
    const DecisionFact* highest = &f_.decisions.front();
    for (const DecisionFact& d : f_.decisions) {
      if (d.risk > highest->risk) highest = &d;
    }
    size_t before = report_.findings.size();
    if (r_.risk_level < highest->risk) {
      Find(kCheck, fmt::format("{}.risk_level", kRecord), highest->audit_index,
           fmt::format("\"{}\" is below the risk the gate computed, \"{}\" (decision at audit "
                       "index {})",
                       Name(r_.risk_level), Name(highest->risk), highest->audit_index));
    }
    Done(kCheck, before);
  }

  void TestsRunForProduction() {
    constexpr ChangeCheck kCheck = ChangeCheck::kTestsRunForProduction;
    if (!NeedsDecisions(kCheck)) return;
    auto production = std::find_if(
        f_.decisions.begin(), f_.decisions.end(),
        [](const DecisionFact& d) { return d.environment == Environment::kProduction; });
    size_t before = report_.findings.size();
    if (production == f_.decisions.end()) {
      return Done(kCheck, before, "no decision for this change is for production");
    }
    if (r_.tests_run.empty()) {
      Find(kCheck, fmt::format("{}.tests_run", kRecord), production->audit_index,
           fmt::format("empty, but the change was decided for production (decision at audit "
                       "index {})",
                       production->audit_index));
    }
    Done(kCheck, before);
  }

  const ChangeRecord& r_;
  const ChangeFacts& f_;
  std::span<const Person> people_;
  ChangeReport report_;
};

// The string at `path` below `root`, if every step is an object member and
// the last is a string.
std::optional<std::string_view> StringAt(json::Value root,
                                         std::initializer_list<std::string_view> path) {
  json::Value node = root;
  for (std::string_view key : path) {
    if (!node.is_object()) return std::nullopt;
    auto member = node.Find(key);
    if (!member) return std::nullopt;
    node = *member;
  }
  if (!node.is_string()) return std::nullopt;
  return node.AsString();
}

Result<json::Document> ParseEventText(uint64_t index, std::string_view event) {
  auto document = json::Parse(event, {.subject = "event", .max_bytes = size_t{1} << 20});
  if (!document) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("audit entry {}: {}", index, document.error().message())));
  }
  return document;
}

Error Missing(uint64_t index, std::string_view type, std::string_view what) {
  return Error::InvalidArgument(
      fmt::format("audit entry {}: an event of type \"{}\" without a valid {}", index, type, what));
}

// The event's type and time; kInvalidArgument unless its type is `type`.
Result<UnixMillis> TypedAt(uint64_t index, json::Value root, std::string_view type) {
  auto event_type = StringAt(root, {"event_type"});
  if (event_type != type) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("audit entry {}: expected an event of type \"{}\", found {}", index, type,
                    event_type ? fmt::format("\"{}\"", *event_type) : "an event without a type")));
  }
  auto text = StringAt(root, {"timestamp"});
  if (!text) return std::unexpected(Missing(index, type, "timestamp"));
  auto at = ParseTimestamp(*text);
  if (!at) return std::unexpected(Missing(index, type, "timestamp"));
  return *at;
}

}  // namespace

std::vector<Person> PeopleOf(const governance::Governance& g) {
  std::vector<Person> people;
  for (const governance::Principal& p : g.principals) people.push_back({p.id, p.email});
  return people;
}

ChangeReport CrossCheck(const ChangeRecord& record, const ChangeFacts& facts,
                        std::span<const Person> people) {
  return Checker(record, facts, people).Run();
}

Result<DecisionFact> DecisionFromEvent(uint64_t audit_index, std::string_view event) {
  auto document = ParseEventText(audit_index, event);
  if (!document) return std::unexpected(document.error());
  json::Value root = document->root();
  DecisionFact d;
  d.audit_index = audit_index;
  auto at = TypedAt(audit_index, root, "decision");
  if (!at) return std::unexpected(at.error());
  d.at = *at;
  auto environment = StringAt(root, {"environment"});
  auto parsed_environment = environment ? ParseEnum<Environment>(*environment) : std::nullopt;
  if (!parsed_environment) return std::unexpected(Missing(audit_index, "decision", "environment"));
  d.environment = *parsed_environment;
  auto outcome = StringAt(root, {"decision", "outcome"});
  auto kind = outcome ? ParseEnum<DecisionKind>(*outcome) : std::nullopt;
  if (!kind) return std::unexpected(Missing(audit_index, "decision", "decision.outcome"));
  d.kind = *kind;
  auto risk_text = StringAt(root, {"decision", "risk_level"});
  auto risk = risk_text ? ParseEnum<RiskLevel>(*risk_text) : std::nullopt;
  if (!risk) return std::unexpected(Missing(audit_index, "decision", "decision.risk_level"));
  d.risk = *risk;
  if (auto id = StringAt(root, {"approval", "id"})) d.approval_id = std::string(*id);
  return d;
}

Result<ApprovalFact> ApprovalFromEvent(uint64_t audit_index, std::string_view event,
                                       std::span<const Person> people) {
  auto document = ParseEventText(audit_index, event);
  if (!document) return std::unexpected(document.error());
  json::Value root = document->root();
  ApprovalFact a;
  a.audit_index = audit_index;
  auto at = TypedAt(audit_index, root, "approval_approve");
  if (!at) return std::unexpected(at.error());
  a.at = *at;
  auto id = StringAt(root, {"approval", "id"});
  if (!id) return std::unexpected(Missing(audit_index, "approval_approve", "approval.id"));
  a.approval_id = std::string(*id);
  auto approver = StringAt(root, {"actor", "id"});
  if (!approver) return std::unexpected(Missing(audit_index, "approval_approve", "actor.id"));
  a.approver = std::string(*approver);
  for (const Person& p : people) {
    if (p.id == a.approver) a.email = p.email;
  }
  a.granted = StringAt(root, {"approval", "state"}) == "approved";
  return a;
}

std::optional<std::string> ApprovalIdOfEvent(std::string_view event) {
  auto document = json::Parse(event, {.subject = "event", .max_bytes = size_t{1} << 20});
  if (!document) return std::nullopt;
  auto id = StringAt(document->root(), {"approval", "id"});
  if (!id) return std::nullopt;
  return std::string(*id);
}

}  // namespace interlock::compliance
