#include "compliance/drill.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/json.h"

namespace interlock::compliance {
namespace {

bool Blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

Result<std::string> Text(const json::ObjectReader& f, std::string_view key) {
  auto v = f.String(key);
  if (!v) return std::unexpected(v.error());
  if (Blank(*v)) {
    return std::unexpected(Error::InvalidArgument(fmt::format("{}: required, not blank", key)));
  }
  if (v->size() > kMaxDrillTextBytes) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("{}: at most {} bytes, found {}", key, kMaxDrillTextBytes, v->size())));
  }
  return std::string(*v);
}

}  // namespace

Result<DrillReport> ParseDrillReport(std::string_view body) {
  static constexpr std::string_view kFields[] = {"drill",  "scenario", "expected",   "actual",
                                                 "passed", "issues",   "remediation"};
  auto object = json::ReadObject(body, kFields, {.subject = "drill"});
  if (!object) return std::unexpected(object.error());
  const json::ObjectReader& f = object->fields;
  DrillReport r;
  auto drill = f.String("drill");
  if (!drill) return std::unexpected(drill.error());
  if (std::find(governance::kDrillNames.begin(), governance::kDrillNames.end(), *drill) ==
      governance::kDrillNames.end()) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("drill: expected one of {}, found \"{}\"",
                                           fmt::join(governance::kDrillNames, ", "), *drill)));
  }
  r.drill = std::string(*drill);
  for (auto [key, out] : {std::pair{"scenario", &r.scenario}, std::pair{"expected", &r.expected},
                          std::pair{"actual", &r.actual}}) {
    auto v = Text(f, key);
    if (!v) return std::unexpected(v.error());
    *out = std::move(*v);
  }
  auto passed = f.OptionalBool("passed");
  if (!passed) return std::unexpected(passed.error());
  if (!*passed) return std::unexpected(Error::InvalidArgument("passed: required, a boolean"));
  r.passed = **passed;
  auto issues = f.OptionalStringArray("issues");
  if (!issues) return std::unexpected(issues.error());
  if (*issues) r.issues = std::move(**issues);
  if (r.issues.size() > kMaxDrillIssues) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("issues: at most {}, found {}", kMaxDrillIssues, r.issues.size())));
  }
  for (size_t i = 0; i < r.issues.size(); ++i) {
    if (Blank(r.issues[i]) || r.issues[i].size() > kMaxDrillTextBytes) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("issues[{}]: expected 1 to {} bytes, not blank", i, kMaxDrillTextBytes)));
    }
  }
  if (f.Find("remediation") || !r.issues.empty() || !r.passed) {
    auto v = Text(f, "remediation");
    if (!v) {
      if (!f.Find("remediation")) {
        return std::unexpected(
            Error::InvalidArgument("remediation: required when the drill failed or found issues"));
      }
      return std::unexpected(v.error());
    }
    r.remediation = std::move(*v);
  }
  return r;
}

std::optional<Millis> DrillInterval(const governance::Governance& g, std::string_view drill) {
  std::optional<Millis> out;
  for (const governance::Control& c : g.compliance.controls) {
    if (c.check != governance::ControlCheck::kDrill || c.drill != drill) continue;
    if (!out || c.within < *out) out = c.within;
  }
  return out;
}

}  // namespace interlock::compliance
