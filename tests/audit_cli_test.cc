// `interlock audit ...` as a user runs it: exit codes, printed JSON, and
// outputs checked with the library and with the openssl command line.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "audit/crypto.h"
#include "audit/merkle.h"
#include "cli/cli.h"
#include "core/encoding.h"
#include "store/sqlite.h"
#include "test_util.h"

namespace interlock::cli {
namespace {

using interlock::testing::FlipBits;
using interlock::testing::TempDir;
using json = nlohmann::json;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

std::string Event(const std::string& actor, int n, const std::string& environment = "production") {
  return json{
      {"event_type", "deploy"},
      {"actor", {{"type", "human"}, {"id", actor}}},
      {"environment", environment},
      {"action", {{"type", "deploy"}, {"target", "api"}, {"version", fmt::format("1.{}", n)}}}}
      .dump();
}

std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    json value = json::parse(line, nullptr, false);
    EXPECT_FALSE(value.is_discarded()) << line;
    out.push_back(std::move(value));
  }
  return out;
}

audit::Hash MustHash(const json& hex) {
  auto hash = audit::ParseHashHex(hex.get<std::string>());
  EXPECT_TRUE(hash.has_value()) << hex;
  return hash.value_or(audit::Hash{});
}

std::vector<audit::Hash> MustHashes(const json& list) {
  std::vector<audit::Hash> out;
  for (const json& hex : list) out.push_back(MustHash(hex));
  return out;
}

// Runs a shell command; returns its exit status and its standard output.
Outcome Shell(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "", "popen failed"};
  std::string output;
  char buffer[512];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output, ""};
}

class AuditCliTest : public ::testing::Test {
 protected:
  AuditCliTest() { EXPECT_EQ(Cli({"init", governance_}).code, kExitOk); }

  // Runs `interlock args...` in this process with env_ as the environment,
  // as `account`.
  Outcome Cli(std::vector<std::string> args, const std::string& input = "",
              const std::string& account = cli::ProcessAccount()) {
    args.insert(args.begin(), "interlock");
    std::istringstream in(input);
    std::ostringstream out, err;
    RealFileSystem fs;
    SystemClock clock;
    SystemRandom random;
    cli::Env env = [this](const char* name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    cli::Io io{in, out, err, env, fs, clock, random, account};
    int code = cli::Run(args, io);
    return {code, out.str(), err.str()};
  }

  // `interlock audit COMMAND --data D [--governance G --as AS] extra...`
  Outcome Audit(const std::string& command, std::vector<std::string> extra = {},
                const std::string& input = "") {
    std::vector<std::string> args = {"audit", command, "--data", data_};
    args.insert(args.end(), extra.begin(), extra.end());
    return Cli(args, input);
  }
  Outcome As(const std::string& command, const std::string& principal,
             std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--governance", governance_, "--as", principal});
    return Audit(command, extra);
  }

  std::vector<json> MustAppend(const std::string& input) {
    Outcome o = Audit("append", {}, input);
    EXPECT_EQ(o.code, kExitOk) << o.err;
    return JsonLines(o.out);
  }

  json MustVerify(std::vector<std::string> extra = {}) {
    Outcome o = Audit("verify", extra);
    EXPECT_EQ(o.code, kExitOk) << o.out << o.err;
    return json::parse(o.out, nullptr, false);
  }

  // Runs `sql` on the log's SQLite file (no command may have it open).
  void Tamper(const std::string& sql) {
    auto db = store::Database::Open(data_ + "/audit.db", false, nullptr);
    ASSERT_TRUE(db.has_value()) << db.error().message();
    auto ok = db->Exec(sql);
    EXPECT_TRUE(ok.has_value()) << ok.error().message();
    EXPECT_EQ(db->Changes(), 1) << sql;
  }

  // Flips the lowest bit of byte `offset` of the payload of record `index` in
  // the log's SQLite file (no command may have it open).
  void FlipPayloadByte(int index, size_t offset) {
    auto db = store::Database::Open(data_ + "/audit.db", false, nullptr);
    ASSERT_TRUE(db.has_value()) << db.error().message();
    std::string payload;
    {
      auto select = db->Prepare(fmt::format("SELECT payload FROM records WHERE idx = {}", index));
      ASSERT_TRUE(select.has_value()) << select.error().message();
      auto row = select->Step();
      ASSERT_TRUE(row.has_value() && *row) << "no record " << index;
      payload = select->Text(0);
    }
    FlipBits(payload, offset);
    auto update = db->Prepare(fmt::format("UPDATE records SET payload = ? WHERE idx = {}", index));
    ASSERT_TRUE(update.has_value()) << update.error().message();
    update->BindBlob(1, payload);
    auto ok = update->Run();
    ASSERT_TRUE(ok.has_value()) << ok.error().message();
    EXPECT_EQ(db->Changes(), 1);
  }

  TempDir dir_;
  std::string data_ = dir_.path() + "/data";
  std::string governance_ = dir_.path() + "/governance";
  std::map<std::string, std::string> env_;
};

TEST_F(AuditCliTest, AppendPrintsOneLinePerEvent) {
  Outcome one = Audit("append", {}, Event("alice", 0));
  EXPECT_EQ(one.code, kExitOk) << one.err;
  std::vector<json> lines = JsonLines(one.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["index"], 0);
  EXPECT_EQ(lines[0]["leaf_hash"].get<std::string>().size(), 64u);
  EXPECT_NE(one.err.find("warning: created a new master key at " + data_ + "/master.key"),
            std::string::npos)
      << one.err;

  // A pretty-printed event is one event, not lines.
  lines = MustAppend(json::parse(Event("bob", 1)).dump(2));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["index"], 1);

  // JSON lines, blank lines skipped, from a file.
  dir_.Write("events.jsonl",
             Event("alice", 2) + "\n\n" + Event("bob", 3) + "\n" + Event("carol", 4) + "\n");
  Outcome many = Audit("append", {"--event", dir_.path() + "/events.jsonl"});
  EXPECT_EQ(many.code, kExitOk) << many.err;
  EXPECT_EQ(many.err, "");  // the master key exists now
  lines = JsonLines(many.out);
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i]["index"], 2 + i);
  EXPECT_EQ(MustVerify()["tree_size"], 5);
}

TEST_F(AuditCliTest, MalformedLineInTheMiddleWritesNothing) {
  MustAppend(Event("alice", 0) + "\n" + Event("alice", 1) + "\n");
  json before = MustVerify();
  ASSERT_EQ(before["tree_size"], 2);

  Outcome wrong_type = Audit("append", {},
                             Event("alice", 2) + "\n" +
                                 R"({"event_type":"deploy","actor":{"id":"x","type":"robot"}})" +
                                 "\n" + Event("alice", 3) + "\n");
  EXPECT_EQ(wrong_type.code, kExitInvalid);
  EXPECT_EQ(wrong_type.out, "");
  EXPECT_EQ(wrong_type.err,
            "error: line 2: /actor/type: expected one of human, ai_agent, service, got \"robot\" "
            "(nothing was written)\n");

  Outcome broken = Audit(
      "append", {},
      Event("alice", 2) + "\n" + R"({"event_type": "deploy", )" + "\n" + Event("alice", 3) + "\n");
  EXPECT_EQ(broken.code, kExitInvalid);
  EXPECT_EQ(broken.out, "");
  EXPECT_TRUE(broken.err.starts_with("error: line 2: ")) << broken.err;
  EXPECT_TRUE(broken.err.ends_with(" (nothing was written)\n")) << broken.err;

  json after = MustVerify();
  EXPECT_EQ(after["tree_size"], 2);
  EXPECT_EQ(after["root_hash"], before["root_hash"]);
}

TEST_F(AuditCliTest, EngineerSeesOnlyTheirOwnEvents) {
  MustAppend(Event("alice", 0) + "\n" + Event("bob", 1) + "\n" + Event("alice", 2) + "\n" +
             Event("dave", 3) + "\n");
  Outcome o = As("query", "alice");
  EXPECT_EQ(o.code, kExitOk) << o.err;
  std::vector<json> lines = JsonLines(o.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["index"], 0);
  EXPECT_EQ(lines[1]["index"], 2);
  for (const json& line : lines) EXPECT_EQ(line["event"]["actor"]["id"], "alice");

  Outcome other = As("query", "alice", {"--actor", "bob"});
  EXPECT_EQ(other.code, kExitInvalid);
  EXPECT_EQ(other.out, "");
  EXPECT_EQ(other.err, "error: alice may read only their own actions, not those of bob\n");

  // bob leads the payments team: alice's and his own, not dave's.
  lines = JsonLines(As("query", "bob", {"--type", "deploy"}).out);
  ASSERT_EQ(lines.size(), 3u);
  for (const json& line : lines) EXPECT_NE(line["event"]["actor"]["id"], "dave");

  Outcome missing = Audit("query", {"--governance", governance_});
  EXPECT_EQ(missing.code, kExitInvalid);
  EXPECT_EQ(missing.err, "error: --as PRINCIPAL is required: reads of the audit log are logged\n");
}

TEST_F(AuditCliTest, AuditorNeedsAGrantFromTheSecurityLead) {
  MustAppend(Event("alice", 0) + "\n" + Event("dave", 1) + "\n");
  Outcome refused = As("query", "oscar");
  EXPECT_EQ(refused.code, kExitInvalid);
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(refused.err,
            "error: oscar may read the audit log only within a time-limited grant, and has no "
            "unexpired one (interlock audit grant --to oscar)\n");

  Outcome by_engineer = As("grant", "alice", {"--to", "oscar"});
  EXPECT_EQ(by_engineer.code, kExitInvalid);
  EXPECT_EQ(by_engineer.err,
            "error: alice may not grant audit access: only principals who read the whole log "
            "without a grant may\n");
  Outcome needless = As("grant", "erin", {"--to", "ivan"});
  EXPECT_EQ(needless.code, kExitInvalid);
  EXPECT_EQ(needless.err, "error: ivan reads the audit log by role and needs no grant\n");

  Outcome granted = As("grant", "erin", {"--to", "oscar"});
  EXPECT_EQ(granted.code, kExitOk) << granted.err;
  json grant = json::parse(granted.out);
  EXPECT_EQ(grant["granted_to"], "oscar");
  EXPECT_EQ(grant["granted_by"], "erin");
  EXPECT_EQ(grant["duration_days"], 30);

  Outcome allowed = As("query", "oscar", {"--type", "deploy"});
  EXPECT_EQ(allowed.code, kExitOk) << allowed.err;
  std::vector<json> lines = JsonLines(allowed.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["event"]["actor"]["id"], "dave");

  // Both reads were logged, the refused one as denied.
  lines = JsonLines(As("query", "erin", {"--type", "audit_read", "--actor", "oscar"}).out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event"]["outcome"]["status"], "denied");
  EXPECT_EQ(lines[1]["event"]["outcome"]["status"], "success");
}

TEST_F(AuditCliTest, ProofsVerifyWithTheLibrary) {
  std::string events;
  for (int i = 0; i < 11; ++i) events += Event("alice", i) + "\n";
  std::vector<json> appended = MustAppend(events);
  ASSERT_EQ(appended.size(), 11u);

  for (uint64_t index : {0u, 6u, 10u}) {
    Outcome o = Audit("prove", {"--index", std::to_string(index)});
    ASSERT_EQ(o.code, kExitOk) << o.err;
    json p = json::parse(o.out);
    EXPECT_EQ(p["index"], index);
    EXPECT_EQ(p["tree_size"], 11);
    EXPECT_EQ(p["leaf_hash"], appended[index]["leaf_hash"]);
    auto included = audit::VerifyInclusion(index, 11, MustHash(p["leaf_hash"]),
                                           MustHashes(p["proof"]), MustHash(p["root_hash"]));
    EXPECT_TRUE(included.has_value()) << included.error().message();
  }
  json p7 = json::parse(Audit("prove", {"--index", "3", "--size", "7"}).out);
  EXPECT_EQ(p7["tree_size"], 7);

  Outcome o = Audit("consistency", {"--from", "7"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  json c = json::parse(o.out);
  EXPECT_EQ(c["from"], 7);
  EXPECT_EQ(c["to"], 11);
  EXPECT_EQ(c["from_root"], p7["root_hash"]);
  auto consistent = audit::VerifyConsistency(7, 11, MustHash(c["from_root"]),
                                             MustHash(c["to_root"]), MustHashes(c["proof"]));
  EXPECT_TRUE(consistent.has_value()) << consistent.error().message();
  EXPECT_EQ(c["to_root"], MustVerify()["root_hash"]);

  Outcome beyond = Audit("prove", {"--index", "11"});
  EXPECT_EQ(beyond.code, kExitInvalid);
  EXPECT_EQ(beyond.err, "error: index 11 is not in a tree of 11 entries\n");
}

TEST_F(AuditCliTest, ExportedBundleVerifiesOfflineAndAnEditedLeafIsNamed) {
  std::string events;
  for (int i = 0; i < 6; ++i) events += Event(i % 2 ? "alice" : "dave", i) + "\n";
  MustAppend(events);
  Outcome key = Audit("public-key");
  ASSERT_EQ(key.code, kExitOk) << key.err;
  std::string verifier_key = key.out.substr(0, key.out.find('\n'));

  Outcome exported = As("export", "erin", {"--bundle"});
  ASSERT_EQ(exported.code, kExitOk) << exported.err;
  json bundle = json::parse(exported.out);
  EXPECT_EQ(bundle["format"], "interlock-audit-bundle/v1");
  EXPECT_EQ(bundle["verifier_key"], verifier_key);
  EXPECT_EQ(bundle["tree_size"], 6);
  ASSERT_EQ(bundle["records"].size(), 6u);
  dir_.Write("bundle.json", bundle.dump());

  Outcome ok =
      Cli({"audit", "verify", "--bundle", dir_.path() + "/bundle.json", "--key", verifier_key});
  EXPECT_EQ(ok.code, kExitOk) << ok.out << ok.err;
  EXPECT_EQ(json::parse(ok.out), (json{{"ok", true}, {"tree_size", 6}, {"records", 6}}));
  EXPECT_EQ(ok.err, "");

  // One changed byte in the event of leaf 4.
  auto leaf = Base64Decode(bundle["records"][4]["leaf"].get<std::string>());
  ASSERT_TRUE(leaf.has_value());
  size_t version = leaf->find("1.4");
  ASSERT_NE(version, std::string::npos);
  FlipBits(*leaf, version + 2);  // 1.4 becomes 1.5
  bundle["records"][4]["leaf"] = Base64Encode(*leaf);
  dir_.Write("edited.json", bundle.dump());
  Outcome edited =
      Cli({"audit", "verify", "--bundle", dir_.path() + "/edited.json", "--key", verifier_key});
  EXPECT_EQ(edited.code, kExitFailure);
  json report = json::parse(edited.out);
  EXPECT_EQ(report["ok"], false);
  EXPECT_EQ(report["first_bad_index"], 4);
  EXPECT_EQ(report["problem"], "record 4: its leaf bytes do not hash to leaf_hash");

  // Checks an edited copy of the bundle; returns the exit code and the report.
  auto check_edited = [&](const std::function<void(json&)>& edit) {
    json edited = json::parse(dir_.Read("bundle.json"));
    edit(edited);
    dir_.Write("edited.json", edited.dump());
    Outcome o =
        Cli({"audit", "verify", "--bundle", dir_.path() + "/edited.json", "--key", verifier_key});
    return std::make_pair(o.code, json::parse(o.out, nullptr, false));
  };

  // A pruned entry (no leaf, no event) still proves its leaf hash.
  auto [pruned_code, pruned] = check_edited([](json& b) {
    b["records"][5]["leaf"] = nullptr;
    b["records"][5]["event"] = nullptr;
  });
  EXPECT_EQ(pruned_code, kExitOk) << pruned;

  // A leaf hash swapped for another record's: no longer included.
  auto [moved_code, moved] = check_edited([](json& b) {
    b["records"][2]["leaf_hash"] = b["records"][3]["leaf_hash"];
    b["records"][2]["leaf"] = nullptr;
    b["records"][2]["event"] = nullptr;
  });
  EXPECT_EQ(moved_code, kExitFailure);
  EXPECT_EQ(moved["first_bad_index"], 2);
  EXPECT_TRUE(
      moved["problem"].get<std::string>().starts_with("record 2: not included in the checkpoint: "))
      << moved["problem"];

  // The event shown beside a leaf must be the one the leaf holds.
  auto [relabeled_code, relabeled] =
      check_edited([](json& b) { b["records"][1]["event"]["actor"]["id"] = "mallory"; });
  EXPECT_EQ(relabeled_code, kExitFailure);
  EXPECT_EQ(relabeled["first_bad_index"], 1);
  EXPECT_EQ(relabeled["problem"], "record 1: its event is not the one in its leaf bytes");

  auto [unbacked_code, unbacked] = check_edited([](json& b) { b["records"][0]["leaf"] = nullptr; });
  EXPECT_EQ(unbacked_code, kExitFailure);
  EXPECT_EQ(unbacked["first_bad_index"], 0);
  EXPECT_EQ(unbacked["problem"], "record 0: its event comes without the leaf bytes that prove it");
}

// `token create` and `token revoke` record the account the process runs as,
// not $USER, which anyone sets.
TEST_F(AuditCliTest, TokenCommandsRecordTheProcessAccountNotUser) {
  env_["USER"] = "mallory";
  env_["LOGNAME"] = "mallory";
  const std::vector<std::string> flags = {"--data", data_, "--governance", governance_};
  std::vector<std::string> create = {"token", "create", "--principal", "alice"};
  create.insert(create.end(), flags.begin(), flags.end());
  Outcome created = Cli(create, "", "ops-admin");
  ASSERT_EQ(created.code, kExitOk) << created.err;
  const std::string id = created.out.substr(6, created.out.find(' ', 6) - 6);  // "token ID for"
  std::vector<std::string> revoke = {"token", "revoke", id};
  revoke.insert(revoke.end(), flags.begin(), flags.end());
  Outcome revoked = Cli(revoke, "", "ops-admin");
  ASSERT_EQ(revoked.code, kExitOk) << revoked.err;

  std::vector<json> lines = JsonLines(As("query", "erin").out);
  std::vector<std::string> actors;
  for (const json& line : lines) {
    const std::string type = line["event"]["event_type"];
    if (type.starts_with("token_"))
      actors.push_back(type + " " + line["event"]["actor"]["id"].get<std::string>());
  }
  EXPECT_EQ(actors, (std::vector<std::string>{"token_create local:ops-admin",
                                              "token_revoke local:ops-admin"}));
}

TEST_F(AuditCliTest, VerifyExitsOneNamingTheFirstBadIndex) {
  std::string events;
  for (int i = 0; i < 8; ++i) events += Event("alice", i) + "\n";
  MustAppend(events);
  json ok = MustVerify({"--quiet"});
  EXPECT_EQ(ok["ok"], true);
  EXPECT_EQ(ok["tree_size"], 8);

  FlipPayloadByte(5, 20);
  Outcome o = Audit("verify");
  EXPECT_EQ(o.code, kExitFailure);
  json report = json::parse(o.out);
  EXPECT_EQ(report["ok"], false);
  EXPECT_EQ(report["first_bad_index"], 5);
  EXPECT_EQ(report["problem"],
            "record 5: the payload fails authentication (changed, or moved from another index)");
  EXPECT_EQ(o.err,
            "audit log verification failed: record 5: the payload fails authentication (changed, "
            "or moved from another index)\n");
}

TEST_F(AuditCliTest, VerifyAgainstASavedCheckpoint) {
  MustAppend(Event("alice", 0) + "\n" + Event("alice", 1) + "\n" + Event("alice", 2) + "\n");
  Outcome checkpoint = Audit("checkpoint");
  ASSERT_EQ(checkpoint.code, kExitOk) << checkpoint.err;
  EXPECT_TRUE(checkpoint.out.find("\n3\n") != std::string::npos) << checkpoint.out;
  dir_.Write("checkpoint.txt", checkpoint.out);
  MustAppend(Event("alice", 3) + "\n" + Event("alice", 4) + "\n");

  std::string saved = dir_.path() + "/checkpoint.txt";
  EXPECT_EQ(MustVerify({"--checkpoint", saved})["ok"], true);

  // Shortened below the saved checkpoint, with the later stored ones gone.
  Tamper("DELETE FROM records WHERE idx = 4");
  Tamper("DELETE FROM records WHERE idx = 3");
  Tamper("DELETE FROM records WHERE idx = 2");
  Tamper("UPDATE log SET size = 2");
  {
    auto db = store::Database::Open(data_ + "/audit.db", false, nullptr);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->Exec("DELETE FROM checkpoints WHERE size > 2").has_value());
  }
  EXPECT_EQ(MustVerify()["tree_size"], 2);  // self-consistent without the saved checkpoint
  Outcome o = Audit("verify", {"--checkpoint", saved});
  EXPECT_EQ(o.code, kExitFailure);
  json report = json::parse(o.out);
  EXPECT_EQ(report["first_bad_index"], 2);
  EXPECT_EQ(report["problem"],
            "the log is truncated: it has 2 entries, but the checkpoint given covers 3");

  Outcome missing = Audit("verify", {"--checkpoint", dir_.path() + "/nope.txt"});
  EXPECT_EQ(missing.code, kExitInvalid);
}

TEST_F(AuditCliTest, BackupWritesACopy) {
  MustAppend(Event("alice", 0) + "\n" + Event("alice", 1) + "\n");
  std::string copy = dir_.path() + "/backup.db";
  Outcome o = Audit("backup", {"--to", copy});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  json result = json::parse(o.out);
  EXPECT_EQ(result["backup"], copy);
  EXPECT_EQ(result["tree_size"], 2);
  ASSERT_TRUE(std::filesystem::exists(copy));
  EXPECT_GT(std::filesystem::file_size(copy), 0u);

  Outcome again = Audit("backup", {"--to", copy});
  EXPECT_EQ(again.code, kExitInvalid);
  EXPECT_EQ(again.err, "error: " + copy + ": already exists\n");

  // The copy with the keys beside it is the same log.
  std::string restored = dir_.path() + "/restored";
  std::filesystem::create_directories(restored);
  std::filesystem::copy_file(copy, restored + "/audit.db");
  std::filesystem::copy_file(data_ + "/master.key", restored + "/master.key");
  std::filesystem::copy_file(data_ + "/audit-signing.key", restored + "/audit-signing.key");
  Outcome verified = Cli({"audit", "verify", "--data", restored});
  EXPECT_EQ(verified.code, kExitOk) << verified.out << verified.err;
  EXPECT_EQ(json::parse(verified.out)["root_hash"], MustVerify()["root_hash"]);
}

TEST_F(AuditCliTest, PruneAsTheSecurityLeadPrintsJson) {
  MustAppend(Event("alice", 0, "dev") + "\n" + Event("alice", 1) + "\n");
  Outcome o = As("prune", "erin");
  ASSERT_EQ(o.code, kExitOk) << o.err;
  json report = json::parse(o.out);
  EXPECT_EQ(report["pruned_payloads"], 0);  // nothing has expired yet
  EXPECT_EQ(report["shredded_keys"], json::array());
  EXPECT_EQ(report["audit_index"], 2);

  Outcome refused = As("prune", "alice");
  EXPECT_EQ(refused.code, kExitInvalid);
  EXPECT_EQ(refused.err,
            "error: alice may not prune the audit log: only principals who read all of it "
            "without a grant may\n");
  Outcome auditor = As("prune", "oscar");
  EXPECT_EQ(auditor.code, kExitInvalid);

  std::vector<json> lines = JsonLines(As("query", "erin", {"--type", "audit_prune"}).out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["event"]["actor"]["id"], "erin");
}

TEST_F(AuditCliTest, AnotherMasterKeyIsRefused) {
  env_["INTERLOCK_MASTER_KEY"] = std::string(64, 'a');
  MustAppend(Event("alice", 0));
  env_["INTERLOCK_MASTER_KEY"] = std::string(64, 'b');
  Outcome o = Audit("verify");
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.out, "");
  audit::Key256 a, b;
  a.fill(0xaa);
  b.fill(0xbb);
  // The data key is named for the current month.
  EXPECT_TRUE(o.err.starts_with("error: " + data_ + "/audit.db: data key production-")) << o.err;
  EXPECT_TRUE(o.err.ends_with(fmt::format(
      " is wrapped by master key {}, but the master key loaded (INTERLOCK_MASTER_KEY) is {}\n",
      audit::KeyFingerprint(a), audit::KeyFingerprint(b))))
      << o.err;
  env_["INTERLOCK_MASTER_KEY"] = std::string(64, 'a');
  EXPECT_EQ(MustVerify()["tree_size"], 1);
}

// A malformed master key is refused before anything is created: no empty
// database is left in the data directory.
TEST_F(AuditCliTest, AMalformedMasterKeyLeavesNoDatabaseBehind) {
  env_["INTERLOCK_MASTER_KEY"] = "not a key";
  Outcome o = Audit("verify");
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_TRUE(o.err.starts_with("error: INTERLOCK_MASTER_KEY")) << o.err;
  EXPECT_FALSE(std::filesystem::exists(data_ + "/audit.db"));
}

TEST_F(AuditCliTest, CheckpointSignatureVerifiesWithOpenssl) {
  MustAppend(Event("alice", 0) + "\n" + Event("bob", 1) + "\n");
  Outcome checkpoint = Audit("checkpoint");
  ASSERT_EQ(checkpoint.code, kExitOk) << checkpoint.err;
  const std::string& note = checkpoint.out;
  std::string verifier_key = Audit("public-key").out;
  verifier_key.pop_back();

  // Verifier key: <name>+<key id>+<base64(0x01 || public key)>.
  size_t plus = verifier_key.find('+', verifier_key.find('+') + 1);
  auto key = Base64Decode(verifier_key.substr(plus + 1));
  ASSERT_TRUE(key.has_value());
  ASSERT_EQ(key->size(), 33u);
  ASSERT_EQ((*key)[0], '\x01');
  // SubjectPublicKeyInfo for Ed25519 (RFC 8410): a fixed 12-byte prefix.
  auto prefix = HexDecode("302a300506032b6570032100");
  ASSERT_TRUE(prefix.has_value());
  std::string der = *prefix + key->substr(1);
  std::string base64 = Base64Encode(der);
  dir_.Write("pub.pem", "-----BEGIN PUBLIC KEY-----\n" + base64 + "\n-----END PUBLIC KEY-----\n");

  // The signed text ends at the blank line; the signature line follows it.
  size_t blank = note.find("\n\n");
  ASSERT_NE(blank, std::string::npos);
  std::string text = note.substr(0, blank + 1);
  std::string signature_line = note.substr(blank + 2);
  std::string name = verifier_key.substr(0, verifier_key.find('+'));
  ASSERT_TRUE(signature_line.starts_with("\xE2\x80\x94 " + name + " ")) << signature_line;
  std::string encoded = signature_line.substr(signature_line.rfind(' ') + 1);
  encoded.pop_back();  // the final newline
  auto blob = Base64Decode(encoded);
  ASSERT_TRUE(blob.has_value());
  ASSERT_EQ(blob->size(), 68u);  // key id + Ed25519 signature
  dir_.Write("text.bin", text);
  dir_.Write("sig.bin", blob->substr(4));

  std::string verify = "cd '" + dir_.path() +
                       "' && openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in text.bin "
                       "-sigfile sig.bin 2>&1";
  Outcome good = Shell(verify);
  EXPECT_EQ(good.code, 0) << good.out;
  EXPECT_NE(good.out.find("Signature Verified Successfully"), std::string::npos) << good.out;

  std::string changed = text;
  FlipBits(changed, changed.find('\n') + 1);  // another tree size
  dir_.Write("text.bin", changed);
  Outcome bad = Shell(verify);
  EXPECT_NE(bad.code, 0) << bad.out;
  EXPECT_EQ(bad.out.find("Signature Verified Successfully"), std::string::npos) << bad.out;
}

// The real binary, as a user runs it from a shell.
TEST_F(AuditCliTest, RealBinaryAppendsVerifiesAndFindsTampering) {
  std::string events;
  for (int i = 0; i < 4; ++i) events += Event("alice", i) + "\n";
  dir_.Write("events.jsonl", events);
  std::string binary = "env -u INTERLOCK_MASTER_KEY -u INTERLOCK_MASTER_KEY_FILE " +
                       std::string(INTERLOCK_BINARY) + " audit ";
  std::string data = " --data '" + data_ + "'";

  Outcome appended =
      Shell(binary + "append" + data + " < '" + dir_.path() + "/events.jsonl' 2>/dev/null");
  EXPECT_EQ(appended.code, kExitOk) << appended.out;
  std::vector<json> lines = JsonLines(appended.out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3]["index"], 3);

  Outcome verified = Shell(binary + "verify" + data);
  EXPECT_EQ(verified.code, kExitOk) << verified.out;
  EXPECT_EQ(json::parse(verified.out)["tree_size"], 4);

  Tamper("DELETE FROM records WHERE idx = 1");
  Outcome tampered = Shell(binary + "verify" + data + " 2>/dev/null");
  EXPECT_EQ(tampered.code, kExitFailure) << tampered.out;
  json report = json::parse(tampered.out);
  EXPECT_EQ(report["first_bad_index"], 1);
  EXPECT_EQ(report["problem"], "record 1 is missing");

  Outcome malformed = Shell("echo '{\"event_type\": 5}' | " + binary + "append" + data + " 2>&1");
  EXPECT_EQ(malformed.code, kExitInvalid) << malformed.out;
  EXPECT_EQ(malformed.out,
            "error: /event_type: expected 1 to 64 characters from a-z, 0-9, _ . -, got 5\n");
}

}  // namespace
}  // namespace interlock::cli
