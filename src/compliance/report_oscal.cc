// The security-tool exchange formats: OCSF Compliance Findings and OSCAL
// assessment results and POA&M. Field names and enumerations follow OCSF
// 1.3.0 (events/findings/compliance_finding, objects/compliance,
// objects/finding_info, objects/metadata) and OSCAL 1.1.2 (the
// assessment-results and poam models).
#include <fmt/format.h>

#include "compliance/report_text.h"
#include "compliance/reports.h"

namespace interlock::compliance {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view kOcsfVersion = "1.3.0";
constexpr std::string_view kOscalVersion = "1.1.2";
// The namespace of the OSCAL properties only Interlock defines.
constexpr std::string_view kPropNamespace = "urn:interlock:compliance";

// What makes one run's identifiers its own: the time and the checkpoint.
std::string RunKey(const Report& report, const ReportContext& ctx) {
  return fmt::format("{}|{}|{}|{}", report.at, report.framework, ctx.audit ? ctx.audit->size : 0,
                     ctx.audit ? ctx.audit->root : "");
}

struct OcsfStatus {
  int severity_id;
  std::string_view severity;
  int compliance_status_id;
  std::string_view compliance_status;
  int status_id;
  std::string_view status;
};

OcsfStatus OcsfOf(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return {1, "Informational", 1, "Pass", 1, "New"};
    case Outcome::kFail:
      return {4, "High", 3, "Fail", 1, "New"};
    case Outcome::kWaived:
      return {2, "Low", 3, "Fail", 3, "Suppressed"};
    case Outcome::kError:
      return {3, "Medium", 2, "Warning", 1, "New"};
    case Outcome::kNotApplicable:
      return {1, "Informational", 99, "Not Applicable", 1, "New"};
  }
  return {0, "Unknown", 0, "Unknown", 0, "Unknown"};
}

// An OSCAL token (^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$) for `id`: ASCII letters,
// digits, '.', '-' and '_' kept, anything else '_', and a leading '_' when
// it does not begin with a letter or '_'.
std::string Token(std::string_view id) {
  std::string out;
  for (char ch : id) {
    const bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
    out += keep ? ch : '_';
  }
  if (out.empty() ||
      !((out[0] >= 'a' && out[0] <= 'z') || (out[0] >= 'A' && out[0] <= 'Z') || out[0] == '_')) {
    out.insert(out.begin(), '_');
  }
  return out;
}

bool IsSpace(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

// OSCAL's string data type (^\S(.*\S)?$) for `text`: each run of white
// space one space, none at either end; "-" when nothing is left. With
// `line`, the same for markup-line (^[^\n]+$).
std::string OneLine(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (IsSpace(ch)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += ch;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.empty() ? "-" : out;
}

ordered_json Prop(std::string_view name, std::string_view value) {
  return {{"name", name}, {"ns", kPropNamespace}, {"value", OneLine(value)}};
}

ordered_json Metadata(const Report& report, const ReportContext& ctx, std::string title) {
  ordered_json props = ordered_json::array();
  if (ctx.audit) {
    props.push_back(Prop("audit-checkpoint-size", std::to_string(ctx.audit->size)));
    if (!ctx.audit->root.empty()) props.push_back(Prop("audit-checkpoint-root", ctx.audit->root));
  }
  if (!report.framework.empty()) props.push_back(Prop("framework", report.framework));
  ordered_json m = {{"title", std::move(title)},
                    {"last-modified", FormatTimestamp(report.at)},
                    {"version", OneLine(ctx.governance->version)},
                    {"oscal-version", kOscalVersion}};
  if (!props.empty()) m["props"] = std::move(props);
  if (!ctx.checkpoint.empty()) {
    m["remarks"] = "The signed audit checkpoint this document was built from:\n\n" + ctx.checkpoint;
  }
  return m;
}

ordered_json Observation(const ControlResult& r, const std::string& uuid, UnixMillis at) {
  const governance::Control& c = *r.control;
  ordered_json o = {
      {"uuid", uuid},
      {"title", OneLine(c.id)},
      {"description", r.reason.empty() ? std::string(OutcomeName(r.outcome)) : r.reason},
      {"props", ordered_json::array(
                    {Prop("outcome", OutcomeName(r.outcome)),
                     Prop("check", governance::kControlCheckNames[static_cast<size_t>(c.check)])})},
      {"methods",
       ordered_json::array({c.check == governance::ControlCheck::kAttested ? "EXAMINE" : "TEST"})},
  };
  if (!r.evidence.empty()) {
    ordered_json evidence = ordered_json::array();
    for (const std::string& e : r.evidence) evidence.push_back({{"description", e}});
    o["relevant-evidence"] = std::move(evidence);
  }
  o["collected"] = FormatTimestamp(r.evidence_at.value_or(at));
  if (r.expires_at) o["expires"] = FormatTimestamp(*r.expires_at);
  return o;
}

ordered_json Finding(const ControlResult& r, const std::string& uuid,
                     const std::string& observation) {
  const governance::Control& c = *r.control;
  ordered_json status = {
      {"state", r.outcome == Outcome::kPass ? "satisfied" : "not-satisfied"},
      {"reason", r.outcome == Outcome::kPass                                    ? "pass"
                 : r.outcome == Outcome::kFail || r.outcome == Outcome::kWaived ? "fail"
                                                                                : "other"}};
  if (r.outcome != Outcome::kPass && r.outcome != Outcome::kFail) {
    status["remarks"] = fmt::format("{}: {}", OutcomeName(r.outcome), r.reason);
  }
  ordered_json props = ordered_json::array();
  for (const std::string& m : c.maps) props.push_back(Prop("framework-requirement", m));
  props.push_back(Prop("outcome", OutcomeName(r.outcome)));
  return {{"uuid", uuid},
          {"title", OneLine(c.id)},
          {"description", c.description.empty() ? "-" : c.description},
          {"props", std::move(props)},
          {"target",
           {{"type", "objective-id"}, {"target-id", Token(c.id)}, {"status", std::move(status)}}},
          {"related-observations", ordered_json::array({{{"observation-uuid", observation}}})}};
}

}  // namespace

std::string ReportOcsf(const Report& report, const ReportContext& context) {
  const std::string key = RunKey(report, context);
  std::string out;
  for (const ControlResult& r : report.results) {
    const governance::Control& c = *r.control;
    const OcsfStatus s = OcsfOf(r.outcome);
    std::vector<std::string> standards = FrameworksOf(c);
    if (standards.empty()) standards.push_back("Interlock control catalogue");
    ordered_json unmapped = {
        {"outcome", OutcomeName(r.outcome)},
        {"check", governance::kControlCheckNames[static_cast<size_t>(c.check)]},
        {"evidence", r.evidence},
        {"governance_version", context.governance->version}};
    if (r.evidence_at) unmapped["evidence_at"] = FormatTimestamp(*r.evidence_at);
    if (r.expires_at) unmapped["expires_at"] = FormatTimestamp(*r.expires_at);
    if (context.audit) {
      unmapped["audit_size"] = context.audit->size;
      unmapped["audit_root"] = context.audit->root;
    }
    if (!context.checkpoint.empty()) unmapped["checkpoint"] = context.checkpoint;
    ordered_json finding = {
        {"activity_id", 1},
        {"activity_name", "Create"},
        {"category_uid", 2},
        {"category_name", "Findings"},
        {"class_uid", 2003},
        {"class_name", "Compliance Finding"},
        {"type_uid", 200301},
        {"type_name", "Compliance Finding: Create"},
        {"severity_id", s.severity_id},
        {"severity", s.severity},
        {"status_id", s.status_id},
        {"status", s.status},
        {"time", report.at},
        {"message", r.reason},
        {"metadata",
         {{"version", kOcsfVersion},
          {"product",
           {{"name", "interlock"}, {"vendor_name", "Interlock"}, {"version", context.version}}},
          {"uid", NameBasedUuid("ocsf-event|" + key + "|" + c.id)}}},
        {"finding_info",
         {{"uid", NameBasedUuid("ocsf-finding|" + key + "|" + c.id)},
          {"title", c.description},
          {"desc", r.reason},
          {"created_time", report.at}}},
        {"compliance",
         {{"control", c.id},
          {"requirements", c.maps},
          {"standards", std::move(standards)},
          {"status", s.compliance_status},
          {"status_id", s.compliance_status_id},
          {"status_code", OutcomeName(r.outcome)},
          {"status_detail", r.reason}}},
        {"unmapped", std::move(unmapped)},
    };
    out += finding.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return out;
}

ordered_json ReportOscal(const Report& report, const ReportContext& context) {
  const std::string key = RunKey(report, context);
  ordered_json observations = ordered_json::array();
  ordered_json findings = ordered_json::array();
  ordered_json controls = ordered_json::array();
  for (const ControlResult& r : report.results) {
    const std::string obs = NameBasedUuid("oscal-observation|" + key + "|" + r.control->id);
    observations.push_back(Observation(r, obs, report.at));
    findings.push_back(
        Finding(r, NameBasedUuid("oscal-finding|" + key + "|" + r.control->id), obs));
    controls.push_back({{"control-id", Token(r.control->id)}});
  }
  ordered_json selection = ordered_json::object();
  if (controls.empty()) {
    selection["include-all"] = ordered_json::object();
  } else {
    selection["include-controls"] = std::move(controls);
  }
  ordered_json result = {
      {"uuid", NameBasedUuid("oscal-result|" + key)},
      {"title", "interlock compliance check"},
      {"description",
       fmt::format("The control catalogue (compliance/controls.yml) evaluated for {}: {}.",
                   report.framework.empty() ? "every framework" : report.framework,
                   report.counts.Passed() ? "passed" : "failed")},
      {"start", FormatTimestamp(report.at)},
      {"end", FormatTimestamp(report.at)},
      {"reviewed-controls", {{"control-selections", ordered_json::array({selection})}}},
  };
  if (!observations.empty()) {
    result["observations"] = std::move(observations);
    result["findings"] = std::move(findings);
  }
  return {{"assessment-results",
           {{"uuid", NameBasedUuid("oscal-assessment-results|" + key)},
            {"metadata", Metadata(report, context, "Interlock compliance assessment results")},
            {"import-ap",
             {{"href", "compliance/controls.yml"},
              {"remarks", "The assessment plan is the governance's control catalogue."}}},
            {"results", ordered_json::array({std::move(result)})}}}};
}

std::optional<ordered_json> ReportPoam(const Report& report, const ReportContext& context) {
  const std::string key = RunKey(report, context);
  ordered_json observations = ordered_json::array();
  ordered_json items = ordered_json::array();
  for (const ControlResult& r : report.results) {
    if (r.outcome != Outcome::kFail && r.outcome != Outcome::kError &&
        r.outcome != Outcome::kWaived) {
      continue;
    }
    const std::string obs = NameBasedUuid("poam-observation|" + key + "|" + r.control->id);
    observations.push_back(Observation(r, obs, report.at));
    ordered_json props = ordered_json::array(
        {Prop("control", r.control->id), Prop("outcome", OutcomeName(r.outcome))});
    for (const std::string& m : r.control->maps) props.push_back(Prop("framework-requirement", m));
    items.push_back(
        {{"uuid", NameBasedUuid("poam-item|" + key + "|" + r.control->id)},
         {"title", OneLine(fmt::format("{}: {}", r.control->id, r.control->description))},
         {"description", r.reason.empty() ? std::string(OutcomeName(r.outcome)) : r.reason},
         {"props", std::move(props)},
         {"related-observations", ordered_json::array({{{"observation-uuid", obs}}})}});
  }
  if (items.empty()) return std::nullopt;
  const std::string& organisation = context.governance->organisation;
  return ordered_json{
      {"plan-of-action-and-milestones",
       {{"uuid", NameBasedUuid("poam|" + key)},
        {"metadata",
         Metadata(report, context, "Interlock compliance plan of action and milestones")},
        {"system-id",
         {{"identifier-type", kPropNamespace},
          {"id", OneLine(organisation.empty() ? "interlock" : organisation)}}},
        {"observations", std::move(observations)},
        {"poam-items", std::move(items)}}}};
}

}  // namespace interlock::compliance
