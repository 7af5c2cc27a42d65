#include "compliance/contract.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/assign.h"

namespace interlock::compliance {
namespace {

Error Invalid(std::string message) { return Error::InvalidArgument(std::move(message)); }

constexpr std::string_view kReportFields[] = {"contract", "change_type", "consumers",
                                              "migration_guide"};
constexpr std::string_view kConsumerFields[] = {"module", "impact", "migration_required"};

bool Blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

// A required, non-blank string of at most `max` bytes.
Result<std::string> Text(const json::ObjectReader& o, std::string_view key, size_t max) {
  std::string_view text;
  INTERLOCK_ASSIGN(text, o.String(key));
  if (Blank(text)) return std::unexpected(Invalid(o.Path(key) + ": must not be empty"));
  if (text.size() > max) {
    return std::unexpected(
        Invalid(fmt::format("{}: at most {} bytes, found {}", o.Path(key), max, text.size())));
  }
  return std::string(text);
}

Result<ContractConsumer> ReadConsumer(json::Value value, const std::string& path,
                                      const ReportLimits& limits) {
  if (!value.is_object()) {
    return std::unexpected(Invalid(
        fmt::format("{}: expected an object, found {}", path, json::TypeName(value.type()))));
  }
  std::optional<json::ObjectReader> o;
  INTERLOCK_ASSIGN(o, json::ObjectReader::Make(value, path, path, kConsumerFields));
  ContractConsumer consumer;
  INTERLOCK_ASSIGN(consumer.module, Text(*o, "module", limits.max_text));
  INTERLOCK_ASSIGN(consumer.impact, o->Enum<Impact>("impact"));
  std::optional<bool> migration;
  INTERLOCK_ASSIGN(migration, o->OptionalBool("migration_required"));
  if (!migration) return std::unexpected(Invalid(o->Path("migration_required") + ": required"));
  consumer.migration_required = *migration;
  return consumer;
}

std::string VersionText(const SemVer& v) {
  return fmt::format("{}.{}.{}", v.major, v.minor, v.patch);
}

bool Less(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major < b.major;
  if (a.minor != b.minor) return a.minor < b.minor;
  return a.patch < b.patch;
}

std::string_view Article(ChangeClass c) { return c == ChangeClass::kAdditive ? "an" : "a"; }

}  // namespace

Result<CompatibilityReport> ReadCompatibilityReport(json::Value report, std::string_view path,
                                                    const ReportLimits& limits) {
  const std::string where(path);
  if (!report.is_object()) {
    return std::unexpected(Invalid(
        fmt::format("{}: expected an object, found {}", where, json::TypeName(report.type()))));
  }
  std::optional<json::ObjectReader> o;
  INTERLOCK_ASSIGN(o, json::ObjectReader::Make(report, where, where, kReportFields));
  CompatibilityReport out;
  INTERLOCK_ASSIGN(out.contract, Text(*o, "contract", limits.max_text));
  INTERLOCK_ASSIGN(out.change_type, o->Enum<ChangeClass>("change_type"));
  if (auto consumers = o->Find("consumers")) {
    if (!consumers->is_array()) {
      return std::unexpected(o->WrongType("consumers", "an array", *consumers));
    }
    if (consumers->size() > limits.max_consumers) {
      return std::unexpected(
          Invalid(fmt::format("{}: at most {} consumers, found {}", o->Path("consumers"),
                              limits.max_consumers, consumers->size())));
    }
    size_t index = 0;
    for (json::Value element : consumers->elements()) {
      std::string at = fmt::format("{}[{}]", o->Path("consumers"), index);
      ContractConsumer consumer;
      INTERLOCK_ASSIGN(consumer, ReadConsumer(element, at, limits));
      auto same =
          std::find_if(out.consumers.begin(), out.consumers.end(),
                       [&](const ContractConsumer& c) { return c.module == consumer.module; });
      if (same != out.consumers.end()) {
        std::string shown;
        json::AppendQuoted(&shown, consumer.module);
        return std::unexpected(
            Invalid(fmt::format("{}.module: {} is listed twice (first at {}[{}])", at, shown,
                                o->Path("consumers"), same - out.consumers.begin())));
      }
      out.consumers.push_back(std::move(consumer));
      ++index;
    }
  }
  bool migrating = std::any_of(out.consumers.begin(), out.consumers.end(),
                               [](const ContractConsumer& c) { return c.migration_required; });
  if (o->Find("migration_guide")) {
    INTERLOCK_ASSIGN(out.migration_guide, Text(*o, "migration_guide", limits.max_text));
  } else if (out.change_type == ChangeClass::kBreaking) {
    return std::unexpected(
        Invalid(o->Path("migration_guide") + ": required when change_type is breaking"));
  } else if (migrating) {
    return std::unexpected(Invalid(o->Path("migration_guide") +
                                   ": required when a consumer's migration_required is true"));
  }
  return out;
}

Result<CompatibilityReport> ParseCompatibilityReport(std::string_view text,
                                                     const ReportLimits& limits) {
  auto document = json::Parse(text, {.subject = "compatibility_report",
                                     .max_bytes = limits.max_bytes,
                                     .max_depth = 8,
                                     .require_object = false});
  if (!document) return std::unexpected(document.error());
  return ReadCompatibilityReport(document->root(), "compatibility_report", limits);
}

Result<VersionChange> VersionChange::Between(std::string_view from, std::string_view to) {
  auto a = ParseSemVer(from);
  if (!a) {
    return std::unexpected(Invalid(fmt::format(
        "from version: expected a semantic version such as 2.5.4 or v2.5.4, found '{}'", from)));
  }
  auto b = ParseSemVer(to);
  if (!b) {
    return std::unexpected(Invalid(fmt::format(
        "to version: expected a semantic version such as 2.5.4 or v2.5.4, found '{}'", to)));
  }
  return VersionChange{BumpBetween(*a, *b), a, b};
}

Bump NeededBump(ChangeClass c) { return c == ChangeClass::kBreaking ? Bump::kMajor : Bump::kMinor; }

std::optional<std::string> BumpReason(ChangeClass claimed, std::string_view what,
                                      const VersionChange& change, bool unchanged) {
  if (change.from && change.to) {
    const SemVer& a = *change.from;
    const SemVer& b = *change.to;
    if (Less(b, a)) {
      return fmt::format(
          "the version goes down from {} to {}: a contract change needs a higher "
          "version",
          VersionText(a), VersionText(b));
    }
    if (!Less(a, b)) {
      return fmt::format("the version stays {}: a contract change needs a higher version",
                         VersionText(a));
    }
  }
  Bump needed = NeededBump(claimed);
  if (change.bump == needed || (unchanged && change.bump == Bump::kPatch)) return std::nullopt;
  std::string made = change.from && change.to
                         ? fmt::format("{} to {} is a {} bump", VersionText(*change.from),
                                       VersionText(*change.to), Name(change.bump))
                         : fmt::format("the bump made is {}", Name(change.bump));
  return fmt::format("{} {} {} change, which needs a {} version bump; {}", what, Article(claimed),
                     Name(claimed), Name(needed), made);
}

std::vector<std::string> ContractDenyReasons(const CompatibilityReport& report,
                                             const std::optional<VersionChange>& change,
                                             const ContractDiff* diff) {
  std::vector<std::string> reasons;
  bool unchanged = diff != nullptr && diff->findings.empty() && diff->omitted == 0;
  if (change) {
    if (auto reason = BumpReason(report.change_type, "the report claims", *change, unchanged)) {
      reasons.push_back(std::move(*reason));
    }
  }
  if (diff != nullptr && diff->verdict > report.change_type) {
    constexpr size_t kShown = 3;
    std::vector<std::string> shown;
    for (const ContractFinding& f : diff->findings) {
      if (f.change_class != diff->verdict) continue;
      if (shown.size() == kShown) break;
      shown.push_back(fmt::format("{} ({})", f.message, f.location));
    }
    size_t total = diff->Count(diff->verdict);
    std::string more =
        total > shown.size() ? fmt::format("; and {} more", total - shown.size()) : "";
    reasons.push_back(
        fmt::format("the report claims {} {} change, but the diff finds {} {} "
                    "change{}: {}{}",
                    Article(report.change_type), Name(report.change_type), total,
                    Name(diff->verdict), total == 1 ? "" : "s", fmt::join(shown, "; "), more));
  }
  return reasons;
}

}  // namespace interlock::compliance
