#include "app/scan_results.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "audit/json.h"
#include "core/json.h"

namespace interlock::app {
namespace {

audit::StateChange Row(std::string_view scanner, uint64_t findings,
                       const decision::Request& request, UnixMillis at) {
  nlohmann::ordered_json value = {{"findings", findings},
                                  {"at", at},
                                  {"service", request.service.value_or("")},
                                  {"environment", Name(request.environment)}};
  return {std::string(kScanKind), std::string(scanner), audit::Dump(value)};
}

Result<ScanResult> Read(const std::string& id, const std::string& value) {
  auto bad = [&](const Error& e) {
    return std::unexpected(Error::Corruption(fmt::format("scan row {}: {}", id, e.message())));
  };
  auto doc = json::Parse(value, {.subject = "scan row"});
  if (!doc) return bad(doc.error());
  static constexpr std::string_view kKeys[] = {"findings", "at", "service", "environment"};
  auto o = json::ObjectReader::Make(doc->root(), "", "scan row", kKeys);
  if (!o) return bad(o.error());
  ScanResult r;
  auto findings = o->OptionalNumber("findings", 0, 9e15);
  if (!findings) return bad(findings.error());
  auto at = o->OptionalNumber("at", 0, 9e15);
  if (!at) return bad(at.error());
  auto service = o->OptionalString("service");
  if (!service) return bad(service.error());
  auto environment = o->OptionalString("environment");
  if (!environment) return bad(environment.error());
  r.findings = static_cast<uint64_t>(findings->value_or(0));
  r.at = static_cast<UnixMillis>(at->value_or(0));
  r.service = std::string(service->value_or(""));
  r.environment = std::string(environment->value_or(""));
  return r;
}

}  // namespace

std::vector<audit::StateChange> ScanRows(const decision::Request& request, UnixMillis at) {
  std::vector<audit::StateChange> rows;
  if (request.secret_scan)
    rows.push_back(Row("secrets", request.secret_scan->findings, request, at));
  if (request.pii_scan) rows.push_back(Row("pii", request.pii_scan->findings, request, at));
  return rows;
}

Result<LatestScans> LoadLatestScans(audit::AuditLog& log) {
  auto rows = log.LoadState(std::string(kScanKind));
  if (!rows) return std::unexpected(rows.error());
  LatestScans latest;
  for (const auto& [id, value] : *rows) {
    auto r = Read(id, value);
    if (!r) return std::unexpected(r.error());
    if (id == "secrets") {
      latest.secrets = *r;
    } else if (id == "pii") {
      latest.pii = *r;
    } else {
      return std::unexpected(Error::Corruption(fmt::format("scan row {}: unknown scanner", id)));
    }
  }
  return latest;
}

}  // namespace interlock::app
