#include "app/compliance_gate.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "audit/json.h"
#include "compliance/change_record.h"
#include "compliance/contract.h"
#include "core/digest.h"
#include "core/json.h"
#include "decision/metadata.h"

namespace interlock::app {
namespace {

// Members a pipeline adds to the metadata beside a change record.
constexpr std::string_view kPipelineContext[] = {"commit", "triggered_by", "run_url",
                                                 "pipeline_url"};

// What a change record in `request`'s metadata may hold beside its own
// members.
std::vector<std::string_view> AlsoAllowed(const governance::Governance& g) {
  std::vector<std::string_view> out(std::begin(kPipelineContext), std::end(kPipelineContext));
  for (const std::vector<std::string>& path : g.metadata_paths) {
    if (!path.empty()) out.push_back(path.front());
  }
  return out;
}

std::optional<compliance::ChangeRecord> RecordOf(const governance::Governance& g,
                                                 const decision::Request& request,
                                                 std::vector<std::string>* findings) {
  std::optional<json::Value> metadata = decision::MetadataObject(request);
  if (!metadata) return std::nullopt;
  auto change_id = metadata->Find("change_id");
  if (!change_id || change_id->is_null()) return std::nullopt;
  std::vector<std::string_view> also = AlsoAllowed(g);
  auto record = compliance::ReadChangeRecord(*metadata, "metadata", also);
  if (!record) {
    findings->push_back("the change record is invalid: " + record.error().message());
    return std::nullopt;
  }
  return std::move(*record);
}

// The digest an artifact's name carries, or "" when it carries none.
std::string_view DigestOf(std::string_view artifact) {
  if (IsSha256Digest(artifact)) return artifact;
  size_t at = artifact.rfind("@sha256:");
  if (at == std::string_view::npos) return {};
  std::string_view digest = artifact.substr(at + 1);
  return IsSha256Digest(digest) ? digest : std::string_view{};
}

// The model artifacts of a model_update whose record is `record`;
// findings say what is missing.
std::optional<ModelArtifacts> Artifacts(const decision::Request& request,
                                        const std::optional<compliance::ChangeRecord>& record,
                                        std::vector<std::string>* findings) {
  size_t before = findings->size();
  if (!record) {
    findings->push_back(
        "a model_update carries its change record in metadata (change_id, author, owner, "
        "timestamp, rationale, impact, tests_run, artifacts, approvals, rollback_plan, "
        "risk_level and provenance); metadata.change_id: required");
    return std::nullopt;
  }
  if (!record->provenance) {
    findings->push_back(
        "metadata.provenance: required for a model_update (model_id, training_dataset, "
        "training_config, training_timestamp, metrics)");
  }
  if (!request.version || request.version->empty()) {
    findings->push_back(
        "change.version: required for a model_update, whose artifacts are pinned per version");
  }
  ModelArtifacts a;
  if (record->artifacts.empty()) {
    findings->push_back(
        "metadata.artifacts: a model_update names its artifacts by sha256 digest; "
        "found none");
  }
  for (size_t i = 0; i < record->artifacts.size(); ++i) {
    std::string_view digest = DigestOf(record->artifacts[i]);
    if (digest.empty()) {
      std::string shown;
      json::AppendQuoted(&shown, record->artifacts[i]);
      findings->push_back(
          fmt::format("metadata.artifacts[{}]: expected \"sha256:<64 lowercase hex>\" or "
                      "\"<name>@sha256:<64 lowercase hex>\", found {}",
                      i, shown));
      continue;
    }
    a.digests.emplace_back(digest);
  }
  if (findings->size() != before) return std::nullopt;
  std::sort(a.digests.begin(), a.digests.end());
  a.digests.erase(std::unique(a.digests.begin(), a.digests.end()), a.digests.end());
  a.model_id = record->provenance->model_id;
  a.version = *request.version;
  return a;
}

std::optional<compliance::VersionChange> VersionChangeOf(const decision::Request& request,
                                                         std::vector<std::string>* findings) {
  if (request.version && request.previous_version) {
    auto change = compliance::VersionChange::Between(*request.previous_version, *request.version);
    if (change) return *change;
    findings->push_back("change: " + change.error().message());
    return std::nullopt;
  }
  if (request.bump_given) return compliance::VersionChange::OfBump(request.bump);
  findings->push_back(
      "a contract change says its version change (change.previous_version and change.version, "
      "or change.bump), which its compatibility report must fit");
  return std::nullopt;
}

void ContractFindings(const decision::Request& request, std::vector<std::string>* findings) {
  std::optional<json::Value> metadata = decision::MetadataObject(request);
  if (!metadata) return;
  auto given = metadata->Find("compatibility_report");
  if (!given || given->is_null()) return;
  auto report = compliance::ReadCompatibilityReport(*given, "metadata.compatibility_report");
  if (!report) {
    findings->push_back("the compatibility report is invalid: " + report.error().message());
    return;
  }
  std::optional<compliance::VersionChange> change = VersionChangeOf(request, findings);
  if (!change) return;
  for (std::string& reason : compliance::ContractDenyReasons(*report, change, nullptr)) {
    findings->push_back(std::move(reason));
  }
}

void RecordFindings(const compliance::ChangeRecord& record, const decision::Request& request,
                    RiskLevel computed, std::vector<std::string>* findings) {
  if (record.risk_level < computed) {
    findings->push_back(
        fmt::format("metadata.risk_level is {}, lower than the risk the decision computed ({})",
                    Name(record.risk_level), Name(computed)));
  }
  if (request.environment == Environment::kProduction && record.tests_run.empty()) {
    findings->push_back("metadata.tests_run is empty: a production change names the tests it ran");
  }
}

void Cap(std::vector<std::string>* findings) {
  if (findings->size() <= kMaxFindings) return;
  size_t more = findings->size() - (kMaxFindings - 1);
  findings->resize(kMaxFindings - 1);
  findings->push_back(fmt::format("and {} more finding{}", more, more == 1 ? "" : "s"));
}

}  // namespace

std::vector<std::string> GateFindings(const governance::Governance& g,
                                      const decision::Request& request, RiskLevel computed) {
  std::vector<std::string> findings;
  if (!request.metadata && request.change_type != ChangeType::kModelUpdate) return findings;
  std::optional<compliance::ChangeRecord> record = RecordOf(g, request, &findings);
  if (record) RecordFindings(*record, request, computed, &findings);
  if (request.change_type == ChangeType::kModelUpdate && findings.empty()) {
    Artifacts(request, record, &findings);
  }
  ContractFindings(request, &findings);
  Cap(&findings);
  return findings;
}

std::vector<std::string> AllFindings(const governance::Governance& g,
                                     const decision::Request& request, const decision::Decision& d,
                                     const GateContext& context) {
  std::vector<std::string> findings = GateFindings(g, request, d.risk);
  if (d.required_controls.any()) {
    for (std::string& f : ControlFindings(g, d.required_controls, context.controls)) {
      findings.push_back(std::move(f));
    }
  }
  if (context.log != nullptr && findings.empty()) {
    if (auto artifacts = ModelArtifactsOf(g, request)) {
      if (auto conflict = ArtifactConflict(*context.log, *artifacts)) {
        findings.push_back(std::move(*conflict));
      }
    }
  }
  Cap(&findings);
  return findings;
}

ControlStatus ControlStatus::Of(const compliance::Report& report) {
  ControlStatus s;
  s.at = report.at;
  for (const compliance::ControlResult& r : report.results) {
    s.by_id[r.control->id] = {r.outcome, r.reason};
  }
  return s;
}

std::vector<std::string> ControlFindings(const governance::Governance& g,
                                         const governance::ControlSet& required,
                                         const ControlStatus* status) {
  std::vector<std::string> findings;
  const std::vector<governance::Control>& controls = g.compliance.controls;
  for (size_t i = 0; i < controls.size() && i < required.size(); ++i) {
    if (!required.test(i)) continue;
    const governance::Control& c = controls[i];
    if (status == nullptr) {
      findings.push_back(fmt::format(
          "control {} must pass, and no evaluation of the controls is at hand yet", c.id));
      continue;
    }
    auto it = status->by_id.find(c.id);
    if (it == status->by_id.end()) {
      findings.push_back(
          fmt::format("control {} must pass, and the evaluation of {} holds no "
                      "result for it",
                      c.id, FormatTimestamp(status->at)));
      continue;
    }
    const ControlStanding& s = it->second;
    if (s.outcome == compliance::Outcome::kPass || s.outcome == compliance::Outcome::kWaived ||
        s.outcome == compliance::Outcome::kNotApplicable) {
      continue;
    }
    findings.push_back(fmt::format("control {} must pass and is {} (evaluated {}): {}", c.id,
                                   compliance::OutcomeName(s.outcome), FormatTimestamp(status->at),
                                   s.reason));
  }
  return findings;
}

std::optional<ModelArtifacts> ModelArtifactsOf(const governance::Governance& g,
                                               const decision::Request& request) {
  if (request.change_type != ChangeType::kModelUpdate) return std::nullopt;
  std::vector<std::string> findings;
  std::optional<compliance::ChangeRecord> record = RecordOf(g, request, &findings);
  if (!findings.empty()) return std::nullopt;
  return Artifacts(request, record, &findings);
}

audit::StateChange ModelArtifactRow(const ModelArtifacts& a, std::string_view service,
                                    UnixMillis at) {
  nlohmann::ordered_json value = {{"model_id", a.model_id},
                                  {"version", a.version},
                                  {"digests", a.digests},
                                  {"service", service},
                                  {"at", at}};
  return {std::string(kModelArtifactKind), a.model_id + "@" + a.version, audit::Dump(value)};
}

std::optional<std::string> ArtifactConflict(audit::AuditLog& log, const ModelArtifacts& a) {
  const std::string id = a.model_id + "@" + a.version;
  auto fail = [&](const std::string& why) {
    return fmt::format(
        "the pinned artifacts of model {} version {} cannot be read ({}), so none "
        "can be checked",
        a.model_id, a.version, why);
  };
  auto rows = log.LoadState(store::StateQuery{.kind = std::string(kModelArtifactKind), .id = id});
  if (!rows) return fail(rows.error().message());
  if (rows->empty()) return std::nullopt;
  auto doc = json::Parse(rows->front().second, {.subject = "model_artifact row"});
  if (!doc) return fail(doc.error().message());
  static constexpr std::string_view kKeys[] = {"model_id", "version", "digests", "service", "at"};
  auto o = json::ObjectReader::Make(doc->root(), "", "model_artifact row", kKeys);
  if (!o) return fail(o.error().message());
  auto digests = o->OptionalStringArray("digests");
  if (!digests) return fail(digests.error().message());
  std::vector<std::string> pinned = digests->value_or(std::vector<std::string>{});
  if (pinned == a.digests) return std::nullopt;
  auto at = o->OptionalNumber("at", 0, 9e15);
  std::string when = at && *at ? " on " + FormatTimestamp(static_cast<UnixMillis>(**at)) : "";
  return fmt::format(
      "model {} version {} was pinned{} to {}; this request names {}: a model version's "
      "artifacts are immutable, so a new artifact needs a new version",
      a.model_id, a.version, when, fmt::join(pinned, ", "), fmt::join(a.digests, ", "));
}

}  // namespace interlock::app
