// `interlock contract check`: compares two OpenAPI documents, prints what a
// consumer would feel, and says whether the change fits the compatibility
// report and the version bump claimed for it (compliance/contract.h).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "compliance/contract.h"
#include "compliance/openapi_diff.h"
#include "core/json.h"

namespace interlock::cli {
namespace {

struct ContractFlags {
  std::string before;
  std::string after;
  std::string report;
  std::string from_version;
  std::string to_version;
  std::string bump;
  std::string format = "text";
};

constexpr size_t kReportLimit = size_t{1} << 20;

void WriteJson(Io& io, const compliance::ContractDiff& diff,
               const std::optional<compliance::CompatibilityReport>& report,
               const std::optional<compliance::VersionChange>& change,
               const std::vector<std::string>& reasons) {
  std::string out;
  json::Writer w(&out, 2);
  w.BeginObject();
  w.Key("verdict");
  w.String(Name(diff.verdict));
  w.Key("counts");
  w.BeginObject();
  for (size_t c = 0; c < compliance::kChangeClassNames.size(); ++c) {
    w.Key(compliance::kChangeClassNames[c]);
    w.Uint(diff.counts[c]);
  }
  w.EndObject();
  w.Key("findings");
  w.BeginArray();
  for (const compliance::ContractFinding& f : diff.findings) {
    w.BeginObject();
    w.Key("class");
    w.String(Name(f.change_class));
    w.Key("kind");
    w.String(Name(f.kind));
    w.Key("location");
    w.String(f.location);
    w.Key("message");
    w.String(f.message);
    w.EndObject();
  }
  w.EndArray();
  w.Key("omitted");
  w.Uint(diff.omitted);
  if (report) {
    w.Key("claimed");
    w.String(Name(report->change_type));
  }
  if (change) {
    w.Key("bump");
    w.String(Name(change->bump));
  }
  w.Key("fits");
  w.Bool(reasons.empty());
  w.Key("reasons");
  w.BeginArray();
  for (const std::string& reason : reasons) w.String(reason);
  w.EndArray();
  w.EndObject();
  io.out << out << "\n";
}

int RunCheck(const ContractFlags& flags, Io& io) {
  auto invalid = [&](const Error& error) {
    Print(io.err, "error: {}\n", error.message());
    return kExitInvalid;
  };
  auto usage = [&](std::string_view message) {
    return invalid(Error::InvalidArgument(std::string(message)));
  };
  if (flags.from_version.empty() != flags.to_version.empty()) {
    return usage("--from-version and --to-version go together");
  }
  if (!flags.bump.empty() && !flags.from_version.empty()) {
    return usage("--bump cannot be used with --from-version and --to-version");
  }
  if (flags.before == "-" && flags.after == "-") {
    return usage("only one of OLD and NEW can be standard input");
  }
  std::optional<compliance::VersionChange> change;
  if (!flags.bump.empty()) {
    auto bump = ParseEnum<Bump>(flags.bump);
    if (!bump) return usage("--bump: expected one of patch, minor, major");
    change = compliance::VersionChange::OfBump(*bump);
  } else if (!flags.from_version.empty()) {
    auto between = compliance::VersionChange::Between(flags.from_version, flags.to_version);
    if (!between) return invalid(between.error());
    change = *between;
  }
  const compliance::OpenApiLimits limits;
  auto before = ReadInput(flags.before, io, limits.max_bytes, flags.before);
  if (!before) return invalid(before.error());
  auto after = ReadInput(flags.after, io, limits.max_bytes, flags.after);
  if (!after) return invalid(after.error());
  std::optional<compliance::CompatibilityReport> report;
  if (!flags.report.empty()) {
    auto text = ReadInput(flags.report, io, kReportLimit, flags.report);
    if (!text) return invalid(text.error());
    auto parsed = compliance::ParseCompatibilityReport(*text);
    if (!parsed) {
      return invalid(
          Error::InvalidArgument(fmt::format("{}: {}", flags.report, parsed.error().message())));
    }
    report = std::move(*parsed);
  }
  auto diff = compliance::DiffOpenApi({flags.before, *before}, {flags.after, *after}, limits);
  if (!diff) return invalid(diff.error());

  std::vector<std::string> reasons;
  if (report) {
    reasons = compliance::ContractDenyReasons(*report, change, &*diff);
  } else {
    // No report: the diff's own verdict is the claim, and a breaking change
    // needs a report (with its migration guide).
    if (diff->verdict == compliance::ChangeClass::kBreaking) {
      reasons.push_back(fmt::format(
          "the diff finds {} breaking change{}, and a breaking change needs a compatibility report "
          "(--report) with a migration guide",
          diff->Count(compliance::ChangeClass::kBreaking),
          diff->Count(compliance::ChangeClass::kBreaking) == 1 ? "" : "s"));
    }
    bool unchanged = diff->findings.empty() && diff->omitted == 0;
    if (change) {
      if (auto reason =
              compliance::BumpReason(diff->verdict, "the diff finds", *change, unchanged)) {
        reasons.push_back(std::move(*reason));
      }
    }
  }
  if (flags.format == "json") {
    WriteJson(io, *diff, report, change, reasons);
  } else {
    io.out << compliance::DiffText(*diff);
    if (reasons.empty()) {
      io.out << (report ? "fits: the change fits the compatibility report\n"
                        : "fits: the change is not breaking\n");
    } else {
      io.out << "does not fit:\n";
      for (const std::string& reason : reasons) Print(io.out, "  - {}\n", reason);
    }
  }
  return reasons.empty() ? kExitOk : kExitFailure;
}

}  // namespace

std::vector<Command> ContractCommands() {
  auto check = std::make_shared<ContractFlags>();
  return {
      {"contract", "Contract changes: what changed between two API documents, and what it needs",
       nullptr, nullptr},
      {"contract check",
       "Compare two OpenAPI documents and check the compatibility report and version bump "
       "(exit 0 fits, 1 does not, 2 error)",
       [check](CLI::App* app) {
         app->add_option("OLD", check->before,
                         "The OpenAPI document before (JSON or YAML; - for "
                         "standard input)")
             ->required();
         app->add_option("NEW", check->after, "The OpenAPI document after")->required();
         app->add_option("--report", check->report,
                         "The compatibility report (JSON) the change claims")
             ->option_text("FILE");
         app->add_option("--from-version", check->from_version, "The contract's version before")
             ->option_text("V");
         app->add_option("--to-version", check->to_version, "The contract's version after")
             ->option_text("V");
         app->add_option("--bump", check->bump,
                         "The version bump made, when the versions are "
                         "not given")
             ->check(CLI::IsMember({"patch", "minor", "major"}));
         app->add_option("--format", check->format, "Output format")
             ->check(CLI::IsMember({"text", "json"}))
             ->capture_default_str();
       },
       [check](Io& io) { return RunCheck(*check, io); }},
  };
}

}  // namespace interlock::cli
