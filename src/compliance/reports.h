// The reports auditors import (`interlock compliance report`), each built
// from one evaluated Report: a document in Markdown and HTML (seed 000
// section 4.4's template), the JSON of GET /v1/compliance, JUnit XML, CSV
// per framework, SARIF 2.1.0, OCSF Compliance Findings, and OSCAL 1.1
// assessment results with a plan of action and milestones. docs/compliance.md
// says what each carries and how outcomes map onto each format's vocabulary.
//
// Pure: facts in, text out; nothing here reads a file or a clock. Every
// function is thread safe. Hostile text (markup, quotes, newlines, formula
// prefixes, invalid UTF-8) in any input is escaped for its format
// (compliance/report_text.h); JSON carries invalid UTF-8 as U+FFFD.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compliance/evaluate.h"

namespace interlock::compliance {

enum class ReportFormat : uint8_t {
  kMarkdown,
  kHtml,
  kJson,
  kJunit,
  kCsv,
  kSarif,
  kOcsf,
  kOscal,
  kPoam,
};
inline constexpr std::array<std::string_view, 9> kReportFormatNames = {
    "markdown", "html", "json", "junit", "csv", "sarif", "ocsf", "oscal", "poam"};

// The format named `name` exactly, or nullopt.
std::optional<ReportFormat> ParseReportFormat(std::string_view name);

// What a report says beside the controls' results: where they came from.
struct ReportContext {
  // The governance the report was evaluated from (Report::results point into
  // it). Required: every function dereferences it.
  const governance::Governance* governance = nullptr;
  std::string version;               // interlock's, for the tool/product fields
  std::optional<AuditFacts> audit;   // the audit log as the run verified it
  std::string checkpoint;            // the signed checkpoint note; "" when none
  std::vector<PolicyFact> policies;  // the review schedule's policies
};

// The Markdown document: framework, verdict and counts, the audit
// checkpoint, the control requirements table (control id, requirements,
// status, reason, evidence, last evidence, expiry), the AI agent capability
// table derived from the risk tiers, matrix rows, workflows and ai_agent
// principals, the audit trail's retention, the review schedule (policies,
// drills, attested evidence) and the sign-off lines of the attesting roles.
std::string ReportMarkdown(const Report& report, const ReportContext& context);
// The same document as one self-contained HTML page (no scripts, no
// external resources), every text escaped.
std::string ReportHtml(const Report& report, const ReportContext& context);

// JUnit XML: one <testsuite> per framework a result maps to (a control in
// several frameworks is a test case in each; one mapped to none is in the
// suite "unmapped"), one <testcase> per control: fail -> <failure>, error
// -> <error>, waived and not_applicable -> <skipped message="...">.
std::string ReportJunit(const Report& report, const ReportContext& context);

// RFC 4180 CSV (CRLF line ends, a header row) of the controls mapping to
// `framework`, or of every control when it is empty: framework,
// requirements, control, description, check, status, reason, evidence,
// evidence_at, expires_at. Fields are guarded against formula injection.
std::string ReportCsv(const Report& report, const ReportContext& context,
                      std::string_view framework);

// SARIF 2.1.0: one run whose driver's rules are the controls (tags: their
// framework mappings) and one result per control located at its line of
// compliance/controls.yml: fail and error are kind "fail", level "error";
// waived is the same with an external suppression whose justification is
// the reason; pass is kind "pass", not_applicable kind "notApplicable".
nlohmann::ordered_json ReportSarif(const Report& report, const ReportContext& context);

// OCSF 1.3.0 Compliance Findings (class_uid 2003), one JSON object per line,
// one per control.
std::string ReportOcsf(const Report& report, const ReportContext& context);

// An OSCAL 1.1.2 assessment-results document with one result: an
// observation and a finding per control, uuids derived from the control id,
// the report's time and the checkpoint (NameBasedUuid), so one run's
// document is reproducible.
nlohmann::ordered_json ReportOscal(const Report& report, const ReportContext& context);
// An OSCAL 1.1.2 plan-of-action-and-milestones with one item per control
// that failed, is in error or is waived; nullopt when there is none (OSCAL
// requires at least one item).
std::optional<nlohmann::ordered_json> ReportPoam(const Report& report,
                                                 const ReportContext& context);

// One file of a report run.
struct ReportFile {
  std::string name;  // "report.md", "report-SOC2.csv", ...
  std::string text;
};

// The report in `format` as the file it is written to; CSV covers
// Report::framework (every control when it is ""); POA&M is nullopt when
// nothing needs a plan (ReportPoam).
std::optional<ReportFile> RenderReport(ReportFormat format, const Report& report,
                                       const ReportContext& context);
// Every format: report.md, report.html, report.json, report.junit.xml, one
// report-<FRAMEWORK>.csv per framework of frameworks.yml (only
// Report::framework when set), report.sarif, report.ocsf.jsonl,
// report.oscal.json and, when something needs a plan, report.poam.json.
std::vector<ReportFile> RenderAllReports(const Report& report, const ReportContext& context);

// The frameworks a control maps to, in the order of its `maps`, each once.
std::vector<std::string> FrameworksOf(const governance::Control& control);

}  // namespace interlock::compliance
