// The reports tools import: JUnit XML, CSV and SARIF 2.1.0.
#include <fmt/format.h>

#include <algorithm>

#include "compliance/render.h"
#include "compliance/report_text.h"
#include "compliance/reports.h"

namespace interlock::compliance {
namespace {

using nlohmann::ordered_json;

std::string Attr(std::string_view name, std::string_view value) {
  return fmt::format(" {}=\"{}\"", name, XmlEscape(value));
}

// The frameworks the JUnit suites and CSV files are made for: those of
// frameworks.yml a result maps to (only the report's when it names one),
// in file order.
std::vector<std::string> SuiteFrameworks(const Report& report, const governance::Governance& g) {
  std::vector<std::string> out;
  for (const governance::ComplianceFramework& f : g.compliance.frameworks) {
    if (!report.framework.empty() && f.id != report.framework) continue;
    const bool used = std::any_of(report.results.begin(), report.results.end(),
                                  [&](const ControlResult& r) { return r.control->MapsTo(f.id); });
    if (used) out.push_back(f.id);
  }
  return out;
}

std::string TestCase(const ControlResult& r, const std::string& suite) {
  std::string out = "    <testcase" + Attr("name", r.control->id) +
                    Attr("classname", "compliance." + suite) + Attr("time", "0") + ">\n";
  std::string detail = r.reason;
  for (const std::string& e : r.evidence) detail += "\n" + e;
  switch (r.outcome) {
    case Outcome::kPass:
      break;
    case Outcome::kFail:
      out += "      <failure" + Attr("message", r.reason) + Attr("type", "fail") + ">" +
             XmlEscape(detail) + "</failure>\n";
      break;
    case Outcome::kError:
      out += "      <error" + Attr("message", r.reason) + Attr("type", "error") + ">" +
             XmlEscape(detail) + "</error>\n";
      break;
    case Outcome::kWaived:
    case Outcome::kNotApplicable:
      out += "      <skipped" +
             Attr("message", fmt::format("{}: {}", OutcomeName(r.outcome), r.reason)) + "/>\n";
      break;
  }
  if (!r.evidence.empty()) {
    out += "      <system-out>" + XmlEscape(fmt::format("{}", fmt::join(r.evidence, "\n"))) +
           "</system-out>\n";
  }
  return out + "    </testcase>\n";
}

std::string Suite(const Report& report, const ReportContext& ctx, const std::string& name,
                  const std::vector<const ControlResult*>& cases) {
  Counts counts;
  for (const ControlResult* r : cases) counts.Add(r->outcome);
  std::string out =
      "  <testsuite" + Attr("name", name) + Attr("tests", std::to_string(cases.size())) +
      Attr("failures", std::to_string(counts.Of(Outcome::kFail))) +
      Attr("errors", std::to_string(counts.Of(Outcome::kError))) +
      Attr("skipped",
           std::to_string(counts.Of(Outcome::kWaived) + counts.Of(Outcome::kNotApplicable))) +
      Attr("timestamp", FormatTimestamp(report.at)) + Attr("time", "0") + ">\n";
  out += "    <properties>\n";
  out += "      <property" + Attr("name", "governance.version") +
         Attr("value", ctx.governance->version) + "/>\n";
  if (ctx.audit) {
    out += "      <property" + Attr("name", "audit.checkpoint.size") +
           Attr("value", std::to_string(ctx.audit->size)) + "/>\n";
    out += "      <property" + Attr("name", "audit.checkpoint.root") +
           Attr("value", ctx.audit->root) + "/>\n";
  }
  if (!ctx.checkpoint.empty()) {
    out += "      <property" + Attr("name", "audit.checkpoint.signed") +
           Attr("value", ctx.checkpoint) + "/>\n";
  }
  out += "    </properties>\n";
  for (const ControlResult* r : cases) out += TestCase(*r, name);
  return out + "  </testsuite>\n";
}

ordered_json Text(const std::string& text) { return {{"text", text}}; }

// `items` without repeats, in order (SARIF tags are unique).
std::vector<std::string> Unique(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  return out;
}

}  // namespace

std::string ReportJunit(const Report& report, const ReportContext& context) {
  std::string suites;
  int tests = 0;
  Counts total;
  auto add = [&](const std::string& name, const std::vector<const ControlResult*>& cases) {
    if (cases.empty()) return;
    suites += Suite(report, context, name, cases);
    tests += static_cast<int>(cases.size());
    for (const ControlResult* r : cases) total.Add(r->outcome);
  };
  for (const std::string& f : SuiteFrameworks(report, *context.governance)) {
    std::vector<const ControlResult*> cases;
    for (const ControlResult& r : report.results) {
      if (r.control->MapsTo(f)) cases.push_back(&r);
    }
    add(f, cases);
  }
  std::vector<const ControlResult*> unmapped;
  for (const ControlResult& r : report.results) {
    if (FrameworksOf(*r.control).empty()) unmapped.push_back(&r);
  }
  add("unmapped", unmapped);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites" +
         Attr("name", "interlock compliance") + Attr("tests", std::to_string(tests)) +
         Attr("failures", std::to_string(total.Of(Outcome::kFail))) +
         Attr("errors", std::to_string(total.Of(Outcome::kError))) +
         Attr("skipped",
              std::to_string(total.Of(Outcome::kWaived) + total.Of(Outcome::kNotApplicable))) +
         Attr("time", "0") + ">\n" + suites + "</testsuites>\n";
}

std::string ReportCsv(const Report& report, const ReportContext&, std::string_view framework) {
  auto record = [](const std::vector<std::string>& fields) {
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) line += ',';
      line += CsvField(fields[i]);
    }
    return line + "\r\n";
  };
  std::string out = record({"framework", "requirements", "control", "description", "check",
                            "status", "reason", "evidence", "evidence_at", "expires_at"});
  for (const ControlResult& r : report.results) {
    const governance::Control& c = *r.control;
    if (!framework.empty() && !c.MapsTo(framework)) continue;
    std::vector<std::string> maps;
    for (const std::string& m : c.maps) {
      if (framework.empty() || m.starts_with(std::string(framework) + ":")) maps.push_back(m);
    }
    out += record({framework.empty() ? fmt::format("{}", fmt::join(FrameworksOf(c), ";"))
                                     : std::string(framework),
                   fmt::format("{}", fmt::join(maps, ";")), c.id, c.description,
                   std::string(governance::kControlCheckNames[static_cast<size_t>(c.check)]),
                   std::string(OutcomeName(r.outcome)), r.reason,
                   fmt::format("{}", fmt::join(r.evidence, "; ")),
                   r.evidence_at ? FormatTimestamp(*r.evidence_at) : "",
                   r.expires_at ? FormatTimestamp(*r.expires_at) : ""});
  }
  return out;
}

ordered_json ReportSarif(const Report& report, const ReportContext& context) {
  ordered_json rules = ordered_json::array();
  ordered_json results = ordered_json::array();
  for (size_t i = 0; i < report.results.size(); ++i) {
    const ControlResult& r = report.results[i];
    const governance::Control& c = *r.control;
    rules.push_back(
        {{"id", c.id},
         {"shortDescription", Text(c.description)},
         {"fullDescription",
          Text(fmt::format(
              "{} Check: {}. Maps to: {}.", c.description,
              governance::kControlCheckNames[static_cast<size_t>(c.check)],
              c.maps.empty() ? "nothing" : fmt::format("{}", fmt::join(c.maps, ", "))))},
         {"properties", {{"tags", Unique(c.maps)}, {"covers", c.covers}}}});
    const bool failing = r.outcome == Outcome::kFail || r.outcome == Outcome::kError ||
                         r.outcome == Outcome::kWaived;
    ordered_json result = {
        {"ruleId", c.id},
        {"ruleIndex", i},
        {"kind", failing                                ? "fail"
                 : r.outcome == Outcome::kNotApplicable ? "notApplicable"
                                                        : "pass"},
        {"level", failing ? "error" : "none"},
        {"message", Text(r.reason.empty() ? std::string(OutcomeName(r.outcome)) : r.reason)},
    };
    ordered_json physical = {
        {"artifactLocation",
         {{"uri", c.origin.file.empty() ? "compliance/controls.yml" : c.origin.file}}}};
    if (c.origin.mark.line > 0) physical["region"] = {{"startLine", c.origin.mark.line}};
    result["locations"] = ordered_json::array(
        {{{"physicalLocation", std::move(physical)},
          {"logicalLocations", ordered_json::array({{{"name", c.id}, {"kind", "object"}}})}}});
    if (r.outcome == Outcome::kWaived) {
      result["suppressions"] =
          ordered_json::array({{{"kind", "external"}, {"justification", r.reason}}});
    }
    ordered_json properties = {{"outcome", OutcomeName(r.outcome)}, {"evidence", r.evidence}};
    if (r.evidence_at) properties["evidence_at"] = FormatTimestamp(*r.evidence_at);
    if (r.expires_at) properties["expires_at"] = FormatTimestamp(*r.expires_at);
    result["properties"] = std::move(properties);
    results.push_back(std::move(result));
  }
  ordered_json run_properties = {{"framework", report.framework},
                                 {"governance_version", context.governance->version},
                                 {"checkpoint", context.checkpoint}};
  if (context.audit) {
    run_properties["audit_size"] = context.audit->size;
    run_properties["audit_root"] = context.audit->root;
  }
  ordered_json run = {
      {"tool",
       {{"driver",
         {{"name", "interlock"}, {"version", context.version}, {"rules", std::move(rules)}}}}},
      {"invocations", ordered_json::array({{{"executionSuccessful", true},
                                            {"endTimeUtc", FormatTimestamp(report.at)}}})},
      {"results", std::move(results)},
      {"properties", std::move(run_properties)},
  };
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", ordered_json::array({std::move(run)})}};
}

}  // namespace interlock::compliance
