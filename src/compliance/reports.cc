#include "compliance/reports.h"

#include <algorithm>

#include "compliance/render.h"

namespace interlock::compliance {
namespace {

std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// A framework id as part of a file name: ASCII letters, digits, '.', '-'
// and '_' kept, anything else '_'.
std::string FileSafe(std::string_view id) {
  std::string out;
  for (char ch : id) {
    const bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    out += keep ? ch : '_';
  }
  return out;
}

}  // namespace

std::optional<ReportFormat> ParseReportFormat(std::string_view name) {
  for (size_t i = 0; i < kReportFormatNames.size(); ++i) {
    if (kReportFormatNames[i] == name) return static_cast<ReportFormat>(i);
  }
  return std::nullopt;
}

std::vector<std::string> FrameworksOf(const governance::Control& control) {
  std::vector<std::string> out;
  for (const std::string& m : control.maps) {
    std::string framework = m.substr(0, m.find(':'));
    if (std::find(out.begin(), out.end(), framework) == out.end()) {
      out.push_back(std::move(framework));
    }
  }
  return out;
}

std::optional<ReportFile> RenderReport(ReportFormat format, const Report& report,
                                       const ReportContext& context) {
  switch (format) {
    case ReportFormat::kMarkdown:
      return ReportFile{"report.md", ReportMarkdown(report, context)};
    case ReportFormat::kHtml:
      return ReportFile{"report.html", ReportHtml(report, context)};
    case ReportFormat::kJson:
      return ReportFile{"report.json", Dump(ReportJson(report, context.checkpoint))};
    case ReportFormat::kJunit:
      return ReportFile{"report.junit.xml", ReportJunit(report, context)};
    case ReportFormat::kCsv:
      return ReportFile{
          report.framework.empty() ? "report.csv" : "report-" + FileSafe(report.framework) + ".csv",
          ReportCsv(report, context, report.framework)};
    case ReportFormat::kSarif:
      return ReportFile{"report.sarif", Dump(ReportSarif(report, context))};
    case ReportFormat::kOcsf:
      return ReportFile{"report.ocsf.jsonl", ReportOcsf(report, context)};
    case ReportFormat::kOscal:
      return ReportFile{"report.oscal.json", Dump(ReportOscal(report, context))};
    case ReportFormat::kPoam: {
      auto poam = ReportPoam(report, context);
      if (!poam) return std::nullopt;
      return ReportFile{"report.poam.json", Dump(*poam)};
    }
  }
  return std::nullopt;
}

std::vector<ReportFile> RenderAllReports(const Report& report, const ReportContext& context) {
  std::vector<ReportFile> files;
  for (size_t i = 0; i < kReportFormatNames.size(); ++i) {
    const auto format = static_cast<ReportFormat>(i);
    if (format == ReportFormat::kCsv) {
      for (const governance::ComplianceFramework& f : context.governance->compliance.frameworks) {
        if (!report.framework.empty() && f.id != report.framework) continue;
        files.push_back({"report-" + FileSafe(f.id) + ".csv", ReportCsv(report, context, f.id)});
      }
      continue;
    }
    if (auto file = RenderReport(format, report, context)) files.push_back(std::move(*file));
  }
  return files;
}

}  // namespace interlock::compliance
