// `interlock audit ...`: the audit trail from the command line. Every command
// prints JSON (one object, or JSON lines) so scripts can use it.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/audit_access.h"
#include "audit/json.h"
#include "audit/log.h"
#include "cli/cli.h"
#include "cli/command.h"
#include "core/duration.h"
#include "core/encoding.h"
#include "core/fs.h"
#include "governance/loader.h"

namespace interlock::cli {
namespace {

using json = nlohmann::ordered_json;

struct AuditOptions {
  std::string data;
  std::string governance;
  std::string as;
  std::string event = "-";
  std::optional<std::string> actor, type, environment, since, until;
  size_t limit = 1000;
  std::optional<uint64_t> index, size, from, to;
  bool bundle = false;
  std::optional<std::string> checkpoint, key, bundle_file;
  std::string backup_to;
  std::string grant_to;
  std::optional<std::string> duration;
  bool quiet = false;
};

// The reader's rights; `as` is the --as flag.
Result<audit::Reader> ReaderAs(const governance::Governance& g, const std::string& as) {
  if (as.empty()) {
    return std::unexpected(
        Error::InvalidArgument("--as PRINCIPAL is required: reads of the audit log are logged"));
  }
  return app::ReaderFor(g, as);
}

Result<governance::Governance> LoadGovernance(const AuditOptions& o, Io& io) {
  std::string dir = GovernanceDir(o.governance, io);
  auto g = governance::Load(io.fs, dir);
  if (!g) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "governance directory {} is invalid or missing ({}); it defines who may read the "
        "audit log (--governance DIR, interlock check {})",
        dir, g.error().empty() ? "" : g.error().front().ToString(), dir)));
  }
  return std::move(*g);
}

Result<std::optional<UnixMillis>> ParseTime(const std::optional<std::string>& text,
                                            const char* flag) {
  if (!text) return std::nullopt;
  auto t = ParseTimestamp(*text);
  if (!t) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("{}: {}", flag, t.error().message())));
  }
  return *t;
}

std::string Hex(const audit::Hash& h) { return audit::HashHex(h); }

int RunAppend(const AuditOptions& o, Io& io) {
  auto text = ReadInput(o.event, io, size_t{1} << 30, "events");
  if (!text) return Fail(io, text.error());
  // One JSON document, or JSON lines: validate all before writing any.
  UnixMillis now = io.clock.Now();
  std::vector<audit::Event> events;
  auto whole = audit::ParseEvent(*text, now);
  bool single = whole.has_value() || json::accept(*text);
  if (single) {
    if (!whole) return Fail(io, whole.error());
    events.push_back(std::move(*whole));
  } else {
    std::istringstream lines(*text);
    std::string line;
    size_t number = 0;
    while (std::getline(lines, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto event = audit::ParseEvent(line, now);
      if (!event) {
        return Fail(io, Error::InvalidArgument(fmt::format("line {}: {} (nothing was written)",
                                                           number, event.error().message())));
      }
      events.push_back(std::move(*event));
    }
  }
  if (events.empty()) return Fail(io, Error::InvalidArgument("no event given"));
  auto opened = OpenAuditLogAlone(o.data, nullptr, io);
  if (!opened) return Fail(io, opened.error());
  auto appended = (*opened)->AppendEvents(std::move(events));
  if (!appended) return Fail(io, appended.error());
  for (const audit::Appended& a : *appended) {
    Print(io.out, "{}\n", json{{"index", a.index}, {"leaf_hash", Hex(a.leaf_hash)}}.dump());
  }
  return kExitOk;
}

int RunQuery(const AuditOptions& o, Io& io, bool export_mode) {
  auto g = LoadGovernance(o, io);
  if (!g) return Fail(io, g.error());
  auto reader = ReaderAs(*g, o.as);
  if (!reader) return Fail(io, reader.error());
  audit::QueryFilter f;
  f.actor = o.actor;
  f.event_type = o.type;
  f.environment = o.environment;
  auto since = ParseTime(o.since, "--since");
  if (!since) return Fail(io, since.error());
  auto until = ParseTime(o.until, "--until");
  if (!until) return Fail(io, until.error());
  f.since = *since;
  f.until = *until;
  f.limit = export_mode ? std::numeric_limits<size_t>::max() / 2 : o.limit;
  if (export_mode) {
    f.from_index = o.from.value_or(0);
    if (o.to) f.to_index = *o.to + 1;  // --to is inclusive
  }
  auto opened = OpenAuditLogAlone(o.data, &*g, io);
  if (!opened) return Fail(io, opened.error());
  audit::AuditLog& log = **opened;

  std::string note;
  uint64_t tree_size = 0;
  if (export_mode && o.bundle) {
    auto cp = log.Checkpoint();
    if (!cp) return Fail(io, cp.error());
    note = *cp;
    tree_size = log.size();
    if (!f.to_index || *f.to_index > tree_size) f.to_index = tree_size;
  }
  auto entries = log.Query(*reader, f);
  if (!entries) return Fail(io, entries.error());
  if (!(export_mode && o.bundle)) {
    for (const audit::Entry& e : *entries)
      Print(io.out, "{}\n", audit::EntryJson(e, export_mode).dump());
    return kExitOk;
  }
  json records = json::array();
  for (const audit::Entry& e : *entries) {
    json r = audit::EntryJson(e, true);
    auto proof = log.ProveInclusion(e.index, tree_size);
    if (!proof) return Fail(io, proof.error());
    r["proof"] = audit::HashList(proof->proof);
    records.push_back(std::move(r));
  }
  json bundle = {{"format", "interlock-audit-bundle/v1"},
                 {"origin", log.origin()},
                 {"verifier_key", log.VerifierKey()},
                 {"tree_size", tree_size},
                 {"checkpoint", note},
                 {"records", std::move(records)}};
  Print(io.out, "{}\n", bundle.dump(2));
  return kExitOk;
}

// Checks a bundle offline: signature, leaf hashes, inclusion proofs.
int RunVerifyBundle(const AuditOptions& o, Io& io) {
  auto text = ReadInput(*o.bundle_file, io, size_t{1} << 31, "bundle");
  if (!text) return Fail(io, text.error());
  json b = json::parse(*text, nullptr, false);
  auto invalid = [&](std::string what) {
    return Fail(io, Error::InvalidArgument(fmt::format("{}: {}", *o.bundle_file, what)));
  };
  if (!b.is_object() || !b.contains("checkpoint") || !b["checkpoint"].is_string() ||
      !b.contains("records") || !b["records"].is_array() || !b.contains("verifier_key") ||
      !b["verifier_key"].is_string()) {
    return invalid("not an audit bundle (expected checkpoint, verifier_key and records)");
  }
  std::string vkey = o.key.value_or(b["verifier_key"].get<std::string>());
  if (!o.key) {
    Print(io.err, "warning: trusting the verifier key inside the bundle; pass --key to pin it\n");
  }
  auto verifier = audit::NoteVerifier::Parse(vkey);
  if (!verifier) return Fail(io, verifier.error());
  auto body = verifier->Verify(b["checkpoint"].get<std::string>());
  json report = {{"ok", false}};
  auto finish = [&](std::optional<uint64_t> index, const std::string& problem) {
    report["ok"] = problem.empty();
    if (index) report["first_bad_index"] = *index;
    if (!problem.empty()) report["problem"] = problem;
    Print(io.out, "{}\n", report.dump());
    return problem.empty() ? kExitOk : kExitFailure;
  };
  if (!body) return finish(std::nullopt, "checkpoint: " + body.error().message());
  auto cp = audit::ParseCheckpoint(*body);
  if (!cp) return finish(std::nullopt, "checkpoint: " + cp.error().message());
  report["tree_size"] = cp->size;
  audit::Hash root;
  std::copy(cp->root.begin(), cp->root.end(), root.begin());
  uint64_t checked = 0;
  for (const json& r : b["records"]) {
    if (!r.is_object() || !r.contains("index") || !r["index"].is_number_unsigned() ||
        !r.contains("leaf_hash") || !r["leaf_hash"].is_string() || !r.contains("proof") ||
        !r["proof"].is_array()) {
      return invalid(fmt::format("record {}: expected index, leaf_hash and proof", checked));
    }
    uint64_t index = r["index"].get<uint64_t>();
    auto leaf_hash = audit::ParseHashHex(r["leaf_hash"].get<std::string>());
    if (!leaf_hash) return finish(index, leaf_hash.error().message());
    if (r.contains("leaf") && r["leaf"].is_string()) {
      auto leaf = Base64Decode(r["leaf"].get<std::string>());
      if (!leaf) return finish(index, "leaf: " + leaf.error().message());
      if (audit::LeafHash(*leaf) != *leaf_hash) {
        return finish(index,
                      fmt::format("record {}: its leaf bytes do not hash to leaf_hash", index));
      }
      auto fields = audit::ParseLeaf(*leaf);
      if (!fields)
        return finish(index, fmt::format("record {}: {}", index, fields.error().message()));
      if (fields->index != index) {
        return finish(index,
                      fmt::format("record {}: its leaf bytes name index {}", index, fields->index));
      }
      // The event shown must be the one the leaf commits to.
      if (r.contains("event") && !r["event"].is_null()) {
        auto committed = nlohmann::json::parse(fields->event, nullptr, false);
        if (committed.is_discarded() || committed != nlohmann::json::parse(r["event"].dump())) {
          return finish(
              index, fmt::format("record {}: its event is not the one in its leaf bytes", index));
        }
      }
    } else if (r.contains("event") && !r["event"].is_null()) {
      return finish(
          index,
          fmt::format("record {}: its event comes without the leaf bytes that prove it", index));
    }
    std::vector<audit::Hash> proof;
    for (const json& h : r["proof"]) {
      auto parsed = h.is_string() ? audit::ParseHashHex(h.get<std::string>())
                                  : Result<audit::Hash>(std::unexpected(
                                        Error::InvalidArgument("proof: expected hex strings")));
      if (!parsed) return finish(index, parsed.error().message());
      proof.push_back(*parsed);
    }
    auto included = audit::VerifyInclusion(index, cp->size, *leaf_hash, proof, root);
    if (!included) {
      return finish(index, fmt::format("record {}: not included in the checkpoint: {}", index,
                                       included.error().message()));
    }
    ++checked;
  }
  report["records"] = checked;
  return finish(std::nullopt, "");
}

int RunVerify(const AuditOptions& o, Io& io) {
  if (o.bundle_file) return RunVerifyBundle(o, io);
  audit::VerifyOptions options;
  if (o.checkpoint) {
    auto note = io.fs.ReadFile(*o.checkpoint, audit::kMaxNoteSize);
    if (!note) return Fail(io, note.error());
    options.checkpoint_note = *note;
  }
  options.verifier_key = o.key;
  if (!o.quiet) {
    options.progress = [&io](uint64_t done, uint64_t total) {
      if (total >= 100000) Print(io.err, "verified {} of {} entries\n", done, total);
    };
  }
  auto opened = OpenAuditLogAlone(o.data, nullptr, io);
  if (!opened) return Fail(io, opened.error());
  auto report = (*opened)->Verify(options);
  if (!report) return Fail(io, report.error());
  json out = {{"ok", report->ok}, {"tree_size", report->size}};
  if (report->ok) {
    out["root_hash"] = Hex(report->root);
    out["pruned"] = report->pruned;
    out["checkpoints"] = report->checkpoints;
  } else {
    out["first_bad_index"] =
        report->first_bad_index ? json(*report->first_bad_index) : json(nullptr);
    out["problem"] = report->problem;
  }
  Print(io.out, "{}\n", out.dump());
  if (!report->ok) Print(io.err, "audit log verification failed: {}\n", report->problem);
  return report->ok ? kExitOk : kExitFailure;
}

int RunProve(const AuditOptions& o, Io& io) {
  auto opened = OpenAuditLogAlone(o.data, nullptr, io);
  if (!opened) return Fail(io, opened.error());
  auto p = (*opened)->ProveInclusion(*o.index, o.size);
  if (!p) return Fail(io, p.error());
  Print(io.out, "{}\n", audit::InclusionJson(*p).dump());
  return kExitOk;
}

int RunConsistency(const AuditOptions& o, Io& io) {
  auto opened = OpenAuditLogAlone(o.data, nullptr, io);
  if (!opened) return Fail(io, opened.error());
  auto p = (*opened)->ProveConsistency(*o.from, o.to);
  if (!p) return Fail(io, p.error());
  Print(io.out, "{}\n", audit::ConsistencyJson(*p).dump());
  return kExitOk;
}

int RunCheckpoint(const AuditOptions& o, Io& io) {
  auto opened = OpenAuditLogAlone(o.data, nullptr, io);
  if (!opened) return Fail(io, opened.error());
  auto note = (*opened)->Checkpoint();
  if (!note) return Fail(io, note.error());
  io.out << *note;
  return kExitOk;
}

int RunPublicKey(const AuditOptions& o, Io& io) {
  auto opened = OpenAuditLogAlone(o.data, nullptr, io);
  if (!opened) return Fail(io, opened.error());
  Print(io.out, "{}\n", (*opened)->VerifierKey());
  return kExitOk;
}

int RunPrune(const AuditOptions& o, Io& io) {
  auto g = LoadGovernance(o, io);
  if (!g) return Fail(io, g.error());
  auto reader = ReaderAs(*g, o.as);
  if (!reader) return Fail(io, reader.error());
  if (reader->scope != audit::ReadScope::kAll || reader->needs_grant) {
    return Fail(io, Error::PermissionDenied(fmt::format(
                        "{} may not prune the audit log: only principals who read all of it "
                        "without a grant may",
                        o.as)));
  }
  auto opened = OpenAuditLogAlone(o.data, &*g, io);
  if (!opened) return Fail(io, opened.error());
  auto report = (*opened)->Prune(app::RetentionOf(*g), o.as);
  if (!report) return Fail(io, report.error());
  Print(io.out, "{}\n",
        json{{"pruned_payloads", report->payloads},
             {"shredded_keys", report->shredded_keys},
             {"audit_index", report->record.index}}
            .dump());
  return kExitOk;
}

int RunGrant(const AuditOptions& o, Io& io) {
  auto g = LoadGovernance(o, io);
  if (!g) return Fail(io, g.error());
  auto by = ReaderAs(*g, o.as);
  if (!by) return Fail(io, by.error());
  auto to = app::ReaderFor(*g, o.grant_to);
  if (!to) return Fail(io, to.error());
  // The grantee's own access entry says how long a grant lasts.
  Millis duration{0};
  for (const governance::AuditAccess& a : g->audit.access) {
    for (const governance::Principal& p : g->principals) {
      if (p.id == o.grant_to && p.roles.test(a.role) && a.grant_duration > duration) {
        duration = a.grant_duration;
      }
    }
  }
  if (o.duration) {
    auto parsed = ParseDuration(*o.duration);
    if (!parsed) {
      return Fail(io, Error::InvalidArgument(fmt::format(
                          "--duration: \"{}\" is not a duration (e.g. 30d, 12h)", *o.duration)));
    }
    duration = *parsed;
  }
  if (!to->needs_grant) {
    return Fail(io, Error::InvalidArgument(fmt::format(
                        "{} reads the audit log by role and needs no grant", o.grant_to)));
  }
  auto opened = OpenAuditLogAlone(o.data, &*g, io);
  if (!opened) return Fail(io, opened.error());
  auto appended = (*opened)->Grant(*by, o.grant_to, duration.count());
  if (!appended) return Fail(io, appended.error());
  Print(io.out, "{}\n",
        json{{"granted_to", o.grant_to},
             {"granted_by", o.as},
             {"duration_days", duration.count() / audit::kDay},
             {"audit_index", appended->index}}
            .dump());
  return kExitOk;
}

int RunBackup(const AuditOptions& o, Io& io) {
  auto opened = OpenAuditLogAlone(o.data, nullptr, io);
  if (!opened) return Fail(io, opened.error());
  if (auto ok = (*opened)->Backup(o.backup_to); !ok) return Fail(io, ok.error());
  Print(io.out, "{}\n",
        json{{"backup", o.backup_to},
             {"tree_size", (*opened)->size()},
             {"note",
              "the master key and the signing key are not in the backup; keep copies of them "
              "apart from it"}}
            .dump());
  return kExitOk;
}

}  // namespace

std::vector<Command> AuditCommands() {
  auto o = std::make_shared<AuditOptions>();
  auto data = [o](CLI::App* sub) {
    sub->add_option("--data", o->data,
                    "Data directory (default: $INTERLOCK_DATA, else ./.interlock)");
  };
  auto reader = [o](CLI::App* sub) {
    sub->add_option("--governance", o->governance,
                    "Governance directory (default: $INTERLOCK_GOVERNANCE, else ./governance)");
    sub->add_option("--as", o->as, "The principal reading (from principals.yaml)");
  };
  auto run = [o](int (*f)(const AuditOptions&, Io&)) {
    return [o, f](Io& io) { return f(*o, io); };
  };
  return {
      {"audit", "The verifiable, encrypted audit trail", nullptr, nullptr},
      {"audit append", "Append one event (JSON) or JSON lines; prints each index and leaf hash",
       [=](CLI::App* sub) {
         data(sub);
         sub->add_option("--event", o->event, "Event file, or - for stdin")->capture_default_str();
       },
       run(RunAppend)},
      {"audit query", "Read events (access rules apply; logged)",
       [=](CLI::App* sub) {
         data(sub);
         reader(sub);
         sub->add_option("--actor", o->actor, "Actor id");
         sub->add_option("--type", o->type, "Event type");
         sub->add_option("--env", o->environment, "Environment");
         sub->add_option("--since", o->since, "From this RFC 3339 time (inclusive)");
         sub->add_option("--until", o->until, "Up to this RFC 3339 time (exclusive)");
         sub->add_option("--limit", o->limit, "At most this many events")->capture_default_str();
       },
       [o](Io& io) { return RunQuery(*o, io, false); }},
      {"audit checkpoint", "Sign and print a checkpoint", data, run(RunCheckpoint)},
      {"audit public-key", "Print the checkpoint verifier key", data, run(RunPublicKey)},
      {"audit prove", "Inclusion proof of one entry",
       [=](CLI::App* sub) {
         data(sub);
         sub->add_option("--index", o->index, "Entry index")->required();
         sub->add_option("--size", o->size, "Tree size (default: the current size)");
       },
       run(RunProve)},
      {"audit consistency", "Consistency proof between two tree sizes",
       [=](CLI::App* sub) {
         data(sub);
         sub->add_option("--from", o->from, "Older tree size")->required();
         sub->add_option("--to", o->to, "Newer tree size (default: the current size)");
       },
       run(RunConsistency)},
      {"audit export", "Export entries as JSON lines, or a bundle verifiable offline (--bundle)",
       [=](CLI::App* sub) {
         data(sub);
         reader(sub);
         sub->add_option("--from", o->from, "First index");
         sub->add_option("--to", o->to, "Last index (inclusive)");
         sub->add_flag("--bundle", o->bundle, "Records + signed checkpoint + inclusion proofs");
       },
       [o](Io& io) { return RunQuery(*o, io, true); }},
      {"audit verify", "Recompute everything; exit 0 intact, 1 naming the first bad index",
       [=](CLI::App* sub) {
         data(sub);
         sub->add_option("--checkpoint", o->checkpoint,
                         "A checkpoint saved earlier that must still hold");
         sub->add_option("--key", o->key, "Verifier key (default: the log's own)");
         sub->add_option("--bundle", o->bundle_file, "Check an exported bundle offline instead");
         sub->add_flag("--quiet", o->quiet, "No progress lines");
       },
       run(RunVerify)},
      {"audit prune", "Delete expired payloads and destroy expired data keys (leaf hashes stay)",
       [=](CLI::App* sub) {
         data(sub);
         reader(sub);
       },
       run(RunPrune)},
      {"audit grant", "Give an auditor a time-limited read grant",
       [=](CLI::App* sub) {
         data(sub);
         reader(sub);
         sub->add_option("--to", o->grant_to, "The principal receiving the grant")->required();
         sub->add_option("--duration", o->duration,
                         "How long (default: the grantee's grant_duration in the governance)");
       },
       run(RunGrant)},
      {"audit backup", "Copy the log consistently while it is in use",
       [=](CLI::App* sub) {
         data(sub);
         sub->add_option("--to", o->backup_to, "Path of the copy (must not exist)")->required();
       },
       run(RunBackup)},
  };
}

}  // namespace interlock::cli
