// `interlock change check`: reads a change record (compliance/change_record.h),
// gathers what the audit log holds about the change, runs the cross-checks
// (compliance/change_check.h) and prints them. docs/changes.md.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "app/audit_access.h"
#include "audit/log.h"
#include "cli/command.h"
#include "compliance/change_check.h"
#include "compliance/change_record.h"
#include "core/json.h"
#include "governance/loader.h"
#include "store/sqlite_audit_store.h"

namespace interlock::cli {
namespace {

struct ChangeFlags {
  std::string file;
  std::string data;
  std::string governance;
  std::string as;
  std::vector<uint64_t> decisions;
  std::vector<std::string> approvals;
  std::string format = "text";
};

// Entries read from the log per query (each query is itself recorded).
constexpr size_t kPage = 10'000;

constexpr std::string_view kNotTied =
    "the audit log does not record change ids: name the change's decisions with --decision INDEX "
    "or its approval requests with --approval ID";

Error Invalid(std::string message) { return Error::InvalidArgument(std::move(message)); }

// Every entry `filter` selects, a page at a time.
Result<std::vector<audit::Entry>> ReadAll(audit::AuditLog& log, const audit::Reader& reader,
                                          audit::QueryFilter filter) {
  std::vector<audit::Entry> out;
  filter.limit = kPage;
  for (;;) {
    auto page = log.Query(reader, filter);
    if (!page) return std::unexpected(page.error());
    bool full = page->size() == kPage;
    for (audit::Entry& e : *page) out.push_back(std::move(e));
    if (!full || out.empty()) break;
    filter.from_index = out.back().index + 1;
  }
  return out;
}

// The entry at `index`, with its event; kInvalidArgument naming `flag`
// when there is none to read.
Result<audit::Entry> EntryAt(audit::AuditLog& log, const audit::Reader& reader, uint64_t index,
                             std::string_view flag) {
  audit::QueryFilter f;
  f.from_index = index;
  f.to_index = index + 1;
  f.limit = 1;
  auto entries = log.Query(reader, f);
  if (!entries) return std::unexpected(entries.error());
  if (entries->empty()) {
    return std::unexpected(
        Invalid(fmt::format("{} {}: the audit log has no entry {}", flag, index, index)));
  }
  if (entries->front().pruned) {
    return std::unexpected(Invalid(fmt::format(
        "{} {}: audit entry {} was pruned under the retention rules", flag, index, index)));
  }
  return std::move(entries->front());
}

// What the audit log holds about the change the flags name.
Result<compliance::ChangeFacts> Gather(const ChangeFlags& flags, audit::AuditLog& log,
                                       const audit::Reader& reader,
                                       std::span<const compliance::Person> people) {
  compliance::ChangeFacts facts;
  facts.log_read = true;
  facts.tied = !flags.decisions.empty() || !flags.approvals.empty();
  if (!facts.tied) facts.why_not_tied = std::string(kNotTied);
  std::set<std::string> approval_ids(flags.approvals.begin(), flags.approvals.end());

  for (uint64_t index : flags.decisions) {
    auto entry = EntryAt(log, reader, index, "--decision");
    if (!entry) return std::unexpected(entry.error());
    auto decision = compliance::DecisionFromEvent(index, entry->event);
    if (!decision) {
      return std::unexpected(
          Invalid("--decision " + std::to_string(index) + ": " + decision.error().message()));
    }
    if (decision->approval_id) approval_ids.insert(*decision->approval_id);
    facts.decisions.push_back(std::move(*decision));
  }

  // The decision that opened an approval request is the entry just before
  // the request's "approval_open" (app/state.cc commits them together).
  if (!flags.approvals.empty()) {
    audit::QueryFilter f;
    f.event_type = "approval_open";
    auto opens = ReadAll(log, reader, f);
    if (!opens) return std::unexpected(opens.error());
    std::set<std::string> found;
    for (const audit::Entry& open : *opens) {
      if (open.pruned || open.index == 0) continue;
      auto id = compliance::ApprovalIdOfEvent(open.event);
      if (!id || !std::count(flags.approvals.begin(), flags.approvals.end(), *id)) continue;
      found.insert(*id);
      auto entry = EntryAt(log, reader, open.index - 1, "--approval " + *id + ": entry");
      if (!entry) return std::unexpected(entry.error());
      auto decision = compliance::DecisionFromEvent(entry->index, entry->event);
      if (decision && decision->approval_id == *id) facts.decisions.push_back(*decision);
    }
    for (const std::string& id : flags.approvals) {
      if (!found.count(id)) {
        return std::unexpected(Invalid(
            fmt::format("--approval {}: the audit log holds no approval request of that id", id)));
      }
    }
  }
  std::sort(facts.decisions.begin(), facts.decisions.end(),
            [](const auto& a, const auto& b) { return a.audit_index < b.audit_index; });
  facts.decisions.erase(
      std::unique(facts.decisions.begin(), facts.decisions.end(),
                  [](const auto& a, const auto& b) { return a.audit_index == b.audit_index; }),
      facts.decisions.end());

  audit::QueryFilter f;
  f.event_type = "approval_approve";
  auto approvals = ReadAll(log, reader, f);
  if (!approvals) return std::unexpected(approvals.error());
  for (const audit::Entry& e : *approvals) {
    if (e.pruned) continue;
    auto approval = compliance::ApprovalFromEvent(e.index, e.event, people);
    if (!approval) return std::unexpected(Error::Corruption(approval.error().message()));
    if (facts.tied && !approval_ids.count(approval->approval_id)) continue;
    facts.approvals.push_back(std::move(*approval));
  }
  return facts;
}

void PrintText(const compliance::ChangeRecord& record, const compliance::ChangeReport& report,
               Io& io) {
  Print(io.out, "change {}: the record is valid\n", record.change_id);
  for (const compliance::CheckResult& c : report.checks) {
    Print(io.out, "  {:<12} {}{}\n", Name(c.status), Name(c.check),
          c.note.empty() ? "" : fmt::format(" ({})", c.note));
    for (const compliance::Finding& f : report.findings) {
      if (f.check != c.check) continue;
      Print(io.out, "      {}{}: {}\n", f.path,
            f.audit_index ? fmt::format(" [audit index {}]", *f.audit_index) : "", f.message);
    }
  }
  size_t unchecked = std::count_if(report.checks.begin(), report.checks.end(), [](const auto& c) {
    return c.status == compliance::CheckStatus::kNotChecked;
  });
  if (report.Failed()) {
    Print(io.out, "{} problem(s) found\n", report.findings.size());
  } else if (unchecked > 0) {
    Print(io.out, "no problem found; {} check(s) not checked\n", unchecked);
  } else {
    Print(io.out, "consistent\n");
  }
}

void PrintJson(const compliance::ChangeRecord& record, const compliance::ChangeReport& report,
               Io& io) {
  std::string out;
  json::Writer w(&out, 2);
  w.BeginObject();
  w.Key("change_id");
  w.String(record.change_id);
  w.Key("valid");
  w.Bool(true);
  w.Key("consistent");
  w.Bool(!report.Failed());
  w.Key("checks");
  w.BeginArray();
  for (const compliance::CheckResult& c : report.checks) {
    w.BeginObject();
    w.Key("check");
    w.String(Name(c.check));
    w.Key("status");
    w.String(Name(c.status));
    if (!c.note.empty()) {
      w.Key("note");
      w.String(c.note);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("findings");
  w.BeginArray();
  for (const compliance::Finding& f : report.findings) {
    w.BeginObject();
    w.Key("check");
    w.String(Name(f.check));
    w.Key("path");
    w.String(f.path);
    w.Key("audit_index");
    if (f.audit_index) {
      w.Uint(*f.audit_index);
    } else {
      w.Null();
    }
    w.Key("message");
    w.String(f.message);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  io.out << out << "\n";
}

int InvalidRecord(const ChangeFlags& flags, const Error& error, Io& io) {
  if (flags.format != "json") return Fail(io, error);
  std::string out;
  json::Writer w(&out, 2);
  w.BeginObject();
  w.Key("valid");
  w.Bool(false);
  w.Key("errors");
  w.BeginArray();
  w.String(error.message());
  w.EndArray();
  w.EndObject();
  io.out << out << "\n";
  return ExitCodeFor(error.kind());
}

int RunCheck(const ChangeFlags& flags, Io& io) {
  auto text = ReadInput(flags.file, io, compliance::kMaxRecordBytes, "change record");
  if (!text) return InvalidRecord(flags, text.error(), io);
  auto record = compliance::ParseChangeRecord(*text);
  if (!record) return InvalidRecord(flags, record.error(), io);

  // The governance: who people are, and who may read the log. Optional
  // unless the log is read.
  std::string governance_dir = GovernanceDir(flags.governance, io);
  std::optional<governance::Governance> g;
  if (!flags.governance.empty() || io.fs.Exists(governance_dir)) {
    auto loaded = governance::Load(io.fs, governance_dir);
    if (!loaded) {
      return Fail(
          io,
          Invalid(fmt::format(
              "governance directory {} is invalid ({}; interlock check {})", governance_dir,
              loaded.error().empty() ? "" : loaded.error().front().ToString(), governance_dir)));
    }
    g = std::move(*loaded);
  }
  std::vector<compliance::Person> people;
  if (g) people = compliance::PeopleOf(*g);

  std::string data = DataDir(flags.data, io);
  std::string db = JoinPath(data, std::string(store::kSqliteAuditFile));
  compliance::ChangeFacts facts;
  if (!io.fs.Exists(db)) {
    if (!flags.data.empty()) {
      return Fail(io, Invalid(fmt::format("--data {}: no audit log there ({})", data, db)));
    }
    if (!flags.decisions.empty() || !flags.approvals.empty()) {
      return Fail(io, Invalid(fmt::format(
                          "--decision and --approval name entries of the audit log, and there is "
                          "none at {} (--data DIR)",
                          data)));
    }
    facts.why_not_read = fmt::format("no audit log to read at {} (--data DIR)", data);
  } else {
    if (!g) {
      return Fail(io, Invalid(fmt::format(
                          "reading the audit log at {} needs the governance directory, which "
                          "says who may read it; {} does not exist (--governance DIR)",
                          data, governance_dir)));
    }
    if (flags.as.empty()) {
      return Fail(io, Invalid(fmt::format("--as PRINCIPAL is required to read the audit log at {}: "
                                          "reads of the audit log are logged",
                                          data)));
    }
    auto reader = app::ReaderFor(*g, flags.as);
    if (!reader) return Fail(io, reader.error());
    if (reader->scope != audit::ReadScope::kAll) {
      return Fail(io, Error::PermissionDenied(fmt::format(
                          "{} may not read the whole audit log, and the checks need every "
                          "approval in it: read as a principal with read: all in "
                          "audit/retention.yml",
                          flags.as)));
    }
    auto log = OpenAuditLogAlone(data, &*g, io);
    if (!log) return Fail(io, log.error());
    auto gathered = Gather(flags, **log, *reader, people);
    if (!gathered) return Fail(io, gathered.error());
    facts = std::move(*gathered);
  }

  compliance::ChangeReport report = compliance::CrossCheck(*record, facts, people);
  if (flags.format == "json") {
    PrintJson(*record, report, io);
  } else {
    PrintText(*record, report, io);
  }
  return report.Failed() ? kExitFailure : kExitOk;
}

}  // namespace

std::vector<Command> ChangeCommands() {
  auto flags = std::make_shared<ChangeFlags>();
  return {
      {"change", "Change records: seed 003's change_metadata.json", nullptr, nullptr},
      {"change check",
       "Validate a change record and cross-check it with the audit log (exit 0 consistent, 1 "
       "problem found, 2 invalid record)",
       [flags](CLI::App* app) {
         app->add_option("FILE", flags->file, "The change_metadata.json, or - for stdin")
             ->required();
         app->add_option("--data", flags->data,
                         "The data directory whose audit log to read (default: $INTERLOCK_DATA, "
                         "else ./.interlock; without a log there, the checks that need it are not "
                         "checked)")
             ->option_text("DIR");
         app->add_option("--governance", flags->governance,
                         "The governance directory: principals and who may read the log "
                         "(default: $INTERLOCK_GOVERNANCE, else ./governance)")
             ->option_text("DIR");
         app->add_option("--as", flags->as,
                         "Read the audit log as PRINCIPAL (one who reads the whole log)")
             ->option_text("PRINCIPAL");
         app->add_option("--decision", flags->decisions,
                         "The audit index of a decision for this change (repeatable)")
             ->option_text("INDEX")
             ->allow_extra_args(false);
         app->add_option("--approval", flags->approvals,
                         "The id of an approval request for this change (repeatable)")
             ->option_text("ID")
             ->allow_extra_args(false);
         app->add_option("--format", flags->format, "Output format")
             ->check(CLI::IsMember({"text", "json"}))
             ->capture_default_str();
       },
       [flags](Io& io) { return RunCheck(*flags, io); }},
  };
}

}  // namespace interlock::cli
