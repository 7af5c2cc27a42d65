#include "app/compliance_facts.h"

#include <fmt/format.h>

#include <algorithm>

#include "app/drills.h"
#include "app/evidence.h"
#include "app/rollouts.h"
#include "app/scan_results.h"
#include "app/waivers.h"
#include "compliance/policy.h"
#include "core/encoding.h"

namespace interlock::app {
namespace {

constexpr size_t kMaxPolicyBytes = 1 << 20;

compliance::AuditFacts Verified(audit::AuditLog& log) {
  compliance::AuditFacts a;
  auto report = log.Verify({});
  if (!report) {
    a.problem = report.error().message();
    return a;
  }
  a.verified = report->ok;
  a.problem = report->problem;
  a.size = report->size;
  a.pruned = report->pruned;
  a.root = HexEncode(std::span<const uint8_t>(report->root));
  a.first_bad_index = report->first_bad_index;
  return a;
}

std::vector<compliance::PolicyFact> Policies(const FileSystem& fs, const std::string& dir) {
  std::vector<compliance::PolicyFact> out;
  const std::string policies = JoinPath(dir, "policies");
  if (!fs.IsDirectory(policies)) return out;
  auto names = fs.ListFiles(policies);
  if (!names) {
    out.push_back({"policies/", std::nullopt, "", names.error().message()});
    return out;
  }
  std::sort(names->begin(), names->end());
  for (const std::string& name : *names) {
    if (!name.ends_with(".md")) continue;
    const std::string file = "policies/" + name;
    auto text = fs.ReadFile(JoinPath(policies, name), kMaxPolicyBytes);
    if (!text) {
      out.push_back({file, std::nullopt, "", text.error().message()});
      continue;
    }
    out.push_back(compliance::ReadPolicy(file, *text));
  }
  return out;
}

}  // namespace

Result<compliance::Facts> GatherComplianceFacts(audit::AuditLog& log, const FileSystem& fs,
                                                const std::string& governance_dir, UnixMillis now) {
  compliance::Facts facts;
  facts.now = now;
  facts.audit = Verified(log);
  const audit::KeySummary keys = log.Keys();
  facts.keys = compliance::KeyFacts{keys.cipher, keys.data_keys, keys.newest_period_end,
                                    keys.master_key_source};
  facts.policies = Policies(fs, governance_dir);

  std::vector<compliance::ViolationFact> violations;
  auto rows = log.LoadState(std::string(kIncidentKind));
  if (!rows) return std::unexpected(rows.error());
  for (const auto& [id, value] : *rows) {
    auto incident = IncidentFromJson(value);
    if (!incident) return std::unexpected(incident.error());
    violations.push_back({incident->id,
                          fmt::format("rollback of {} in {}: {}", incident->service,
                                      incident->environment, incident->why),
                          incident->opened_at, incident->reviewed_at});
  }
  facts.violations = std::move(violations);

  auto scans = LoadLatestScans(log);
  if (!scans) return std::unexpected(scans.error());
  auto fact = [](const std::optional<ScanResult>& r) -> std::optional<compliance::ScanFact> {
    if (!r) return std::nullopt;
    return compliance::ScanFact{r->findings, r->at, 0};
  };
  facts.scans_known = true;

  auto attested = LoadAttestations(log);
  if (!attested) return std::unexpected(attested.error());
  for (const Attestation& a : *attested) {
    std::string text = a.text;
    if (!a.digests.empty()) text += fmt::format(" (files {})", fmt::join(a.digests, ", "));
    facts.attestations.push_back({a.control, a.attested_by, std::move(text), a.at, a.expires, 0});
  }
  auto drills = LoadDrills(log);
  if (!drills) return std::unexpected(drills.error());
  facts.drills = DrillFacts(*drills);
  auto waivers = LoadWaivers(log);
  if (!waivers) return std::unexpected(waivers.error());
  for (const WaiverStatus& w : *waivers) facts.waivers.push_back(WaiverFactOf(w));
  facts.secret_scan = fact(scans->secrets);
  facts.pii_scan = fact(scans->pii);
  facts.unknown_why = "not kept where this run can read it";
  return facts;
}

}  // namespace interlock::app
