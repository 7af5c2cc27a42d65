#include "compliance/render.h"

#include <fmt/format.h>

#include <algorithm>

namespace interlock::compliance {

nlohmann::ordered_json ReportJson(const Report& report, const std::string& checkpoint) {
  nlohmann::ordered_json counts = nlohmann::ordered_json::object();
  for (size_t i = 0; i < kOutcomeNames.size(); ++i) {
    counts[std::string(kOutcomeNames[i])] = report.counts.by_outcome[i];
  }
  nlohmann::ordered_json controls = nlohmann::ordered_json::array();
  for (const ControlResult& r : report.results) {
    nlohmann::ordered_json c = {
        {"id", r.control->id},
        {"description", r.control->description},
        {"check", governance::kControlCheckNames[static_cast<size_t>(r.control->check)]},
        {"outcome", OutcomeName(r.outcome)},
        {"reason", r.reason},
        {"evidence", r.evidence},
    };
    if (r.evidence_at) c["evidence_at"] = FormatTimestamp(*r.evidence_at);
    if (r.expires_at) c["expires_at"] = FormatTimestamp(*r.expires_at);
    if (r.evaluated) c["evaluated"] = OutcomeName(*r.evaluated);
    if (r.waiver) {
      const WaiverFact& w = *r.waiver;
      c["waiver"] = {{"id", w.id},
                     {"state", r.waiver_expired ? "expired" : "in_force"},
                     {"justification", w.justification},
                     {"expires", FormatTimestamp(w.expires)},
                     {"run", w.run},
                     {"requested_by", w.requested_by},
                     {"approval_id", w.approval_id},
                     {"approved_by", w.approved_by}};
      if (w.audit_index != 0) c["waiver"]["audit_index"] = w.audit_index;
    }
    c["maps"] = r.control->maps;
    c["covers"] = r.control->covers;
    controls.push_back(std::move(c));
  }
  return {{"at", FormatTimestamp(report.at)}, {"framework", report.framework},
          {"checkpoint", checkpoint},         {"counts", std::move(counts)},
          {"passed", report.counts.Passed()}, {"controls", std::move(controls)}};
}

std::string ReportText(const Report& report) {
  size_t width = 0;
  for (const ControlResult& r : report.results) width = std::max(width, r.control->id.size());
  std::string out =
      fmt::format("Compliance check at {}, {}: {} controls\n", FormatTimestamp(report.at),
                  report.framework.empty() ? "every framework" : "framework " + report.framework,
                  report.results.size());
  for (const ControlResult& r : report.results) {
    std::string label(OutcomeName(r.outcome));
    std::transform(label.begin(), label.end(), label.begin(), ::toupper);
    out += fmt::format("  {:<14} {:<{}}  {}\n", label, r.control->id, width, r.reason);
    if (r.waiver && r.waiver_expired) {
      out += fmt::format("  {:<14} {:<{}}  waiver {} expired on {}\n", "", "", width, r.waiver->id,
                         FormatTimestamp(r.waiver->expires));
    }
  }
  out += fmt::format("pass {}, fail {}, waived {}, error {}, not_applicable {}\n",
                     report.counts.Of(Outcome::kPass), report.counts.Of(Outcome::kFail),
                     report.counts.Of(Outcome::kWaived), report.counts.Of(Outcome::kError),
                     report.counts.Of(Outcome::kNotApplicable));
  out += report.counts.Passed() ? "COMPLIANCE CHECK PASSED\n" : "COMPLIANCE CHECK FAILED\n";
  return out;
}

}  // namespace interlock::compliance
