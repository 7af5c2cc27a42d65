// The application's state on a real audit log over a store that fails on
// purpose: every kind of row it writes is named, and a change whose record
// cannot be made durable is not made, with the kNotRecorded kind.
#include "app/state.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <future>
#include <set>
#include <stdexcept>

#include "../../tests/test_util.h"
#include "audit/event.h"
#include "core/fs.h"
#include "decision/engine.h"
#include "decision/request.h"
#include "store/fault_store.h"
#include "store/sqlite_audit_store.h"

namespace interlock::app {
namespace {

using nlohmann::json;

constexpr UnixMillis kT0 = 1705314600000;  // 2024-01-15T10:30:00.000Z

const governance::Governance& G() { return interlock::testing::DefaultGovernance(); }

const governance::Principal& P(std::string_view id) {
  for (const governance::Principal& p : G().principals) {
    if (p.id == id) return p;
  }
  throw std::invalid_argument(fmt::format("no principal {} in the defaults", id));
}

// Accepts everything; the tests never start delivery, so it is never called.
class NoSender final : public notify::Sender {
 public:
  Result<void> Send(const notify::Message&, const notify::ChannelDelivery&, UnixMillis) override {
    return Ok();
  }
};

// An audit log and its State over the SQLite store in `dir`, the store
// wrapped in a FaultStore when `faults` is given (set to it).
struct Opened {
  std::unique_ptr<audit::AuditLog> log;
  std::unique_ptr<State> state;
};
Opened OpenOn(const std::string& dir, FileSystem& fs, const Clock& clock, Random& random,
              notify::Sender& sender, store::FaultStore** faults) {
  audit::LogOptions o;
  o.data_dir = dir;
  o.fs = &fs;
  o.clock = &clock;
  o.random = &random;
  o.master_key_env = testing::kTestMasterKey;
  auto sqlite = store::SqliteAuditStore::OpenInDirectory(fs, dir);
  if (!sqlite) throw std::runtime_error(sqlite.error().message());
  std::unique_ptr<store::AuditStore> store = std::move(*sqlite);
  if (faults != nullptr) {
    auto fault = std::make_unique<store::FaultStore>(std::move(store));
    *faults = fault.get();
    store = std::move(fault);
  }
  Opened opened;
  auto log = audit::AuditLog::Open(o, std::move(store));
  if (!log) throw std::runtime_error(log.error().message());
  opened.log = std::move(*log);
  notify::DeliveryConfig delivery;
  delivery.channels["slack"] = {.id = "slack", .type = "slack", .url = "https://hooks.test/x"};
  auto state = State::Open({.log = opened.log.get(),
                            .clock = &clock,
                            .random = &random,
                            .sender = &sender,
                            .delivery = std::move(delivery)});
  if (!state) throw std::runtime_error(state.error().message());
  opened.state = std::move(*state);
  return opened;
}

class StateTest : public ::testing::Test {
 protected:
  StateTest() {
    Opened opened = OpenOn(dir_.path(), fs_, clock_, random_, sender_, &faults_);
    log_ = std::move(opened.log);
    state_ = std::move(opened.state);
  }

  // Opens alice's production patch as a decision does: its row, its record
  // and its announcements in one commit.
  std::string OpenPatch() {
    json request = {{"actor", {{"type", "human"}, {"id", "alice"}}},
                    {"change",
                     {{"type", "code"},
                      {"environment", "production"},
                      {"service", "api-gateway"},
                      {"version", "2.5.4"},
                      {"previous_version", "2.5.3"}}},
                    {"checks", {{"tests_passed", true}, {"security_scan", {{"passed", true}}}}}};
    auto parsed = decision::ParseRequest(request.dump());
    if (!parsed) throw std::runtime_error(parsed.error().message());
    decision::Decision d;
    decision::Decide(G(), *parsed, {}, &d);
    auto t = workflow::Open(G(), *parsed, d, "apr_1", kT0);
    if (!t) throw std::runtime_error(t.error().message());
    auto messages = state_->AnnounceApproval(G(), t->request, t->notifications);
    if (!messages) throw std::runtime_error(messages.error().message());
    std::vector<audit::StateChange> rows = {Approvals::Row(t->request)};
    for (const notify::Message& m : *messages) rows.push_back(notify::Notifier::Row(m));
    auto event = audit::MakeEvent(t->audit_event, kT0);
    if (!event || !log_->Commit(std::move(*event), std::move(rows))) {
      throw std::runtime_error("the approval could not be opened");
    }
    state_->approvals().Opened(t->request);
    return t->request.id;
  }

  bool StopActive() { return state_->stops().Snapshot()->at("global").active; }

  void FailCommits() {
    faults_->FailAfter(store::StoreOp::kCommit, 0, Error::Io("disk I/O error (fsync)"),
                       /*sticky=*/true);
  }

  testing::TempDir dir_;
  RealFileSystem fs_;
  ManualClock clock_{kT0};
  SeededRandom random_{11};
  NoSender sender_;
  store::FaultStore* faults_ = nullptr;  // owned by log_
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<State> state_;
};

TEST_F(StateTest, EveryKindOfRowWrittenIsNamedWithItsOwner) {
  std::set<std::string_view> named;
  for (const StateKind& k : kStateKinds) {
    EXPECT_TRUE(named.insert(k.kind).second) << k.kind << " is named twice";
    EXPECT_FALSE(k.owner.empty()) << k.kind;
  }

  ASSERT_TRUE(state_->tokens().Create("alice", std::nullopt, "local:test").has_value());
  std::string id = OpenPatch();
  ASSERT_TRUE(
      state_->ActOnApproval(G(), P("bob"), id, workflow::Action::kApprove, "fine", "").has_value());
  ASSERT_TRUE(
      state_->ChangeStop(G(), P("carol"), safety::Scope{}, "activate", {{"reason", "a drill"}})
          .has_value());
  state_->stats().Count(DecisionKind::kAllow, kT0);
  state_->stats().Save(kT0, true);

  // What is stored, read by another connection to the same file.
  auto reader = store::SqliteAuditStore::OpenInDirectory(fs_, dir_.path());
  ASSERT_TRUE(reader.has_value());
  auto rows = (*reader)->AllState();
  ASSERT_TRUE(rows.has_value());
  std::set<std::string> kinds;
  for (const store::StateRow& row : *rows) kinds.insert(row.kind);
  EXPECT_EQ(kinds,
            (std::set<std::string>{"approval", "dashboard", "emergency_stop", "outbox", "token"}));
  for (const std::string& kind : kinds) EXPECT_TRUE(named.contains(kind)) << kind;
}

// Another process or server on the same store: its stops and tokens are
// read again once their version changed, and only then.
TEST_F(StateTest, StopsAndTokensAnotherWriterChangedAreReadAgain) {
  SeededRandom other_random{12};
  Opened other = OpenOn(dir_.path(), fs_, clock_, other_random, sender_, nullptr);
  EXPECT_EQ(state_->RefreshStops(), false);  // nothing changed

  auto applied = other.state->ChangeStop(G(), P("carol"), safety::Scope{}, "activate",
                                         {{"reason", "from the other server"}});
  ASSERT_TRUE(applied.has_value()) << applied.error().message();
  EXPECT_FALSE(StopActive());
  EXPECT_EQ(state_->RefreshStops(), true);
  EXPECT_TRUE(StopActive());
  EXPECT_EQ(state_->stops().Snapshot()->at("global").reason, "from the other server");
  EXPECT_EQ(state_->RefreshStops(), false);

  // An action here starts from the stop as stored, not as this server last
  // read it: the other server's stop is not overwritten.
  const safety::Scope production{safety::ScopeKind::kEnvironment, "production"};
  ASSERT_TRUE(other.state
                  ->ChangeStop(G(), P("carol"), production, "activate",
                               {{"reason", "production, from the other server"}})
                  .has_value());
  auto overwrite =
      state_->ChangeStop(G(), P("carol"), production, "activate", {{"reason", "a drill"}});
  ASSERT_FALSE(overwrite.has_value());
  EXPECT_EQ(overwrite.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(overwrite.error().message().find("already active"), std::string::npos)
      << overwrite.error().message();
  EXPECT_EQ(state_->stops().Snapshot()->at("environment:production").reason,
            "production, from the other server");
  // Its own change needs no reading again.
  const safety::Scope staging{safety::ScopeKind::kEnvironment, "staging"};
  auto own = state_->ChangeStop(G(), P("carol"), staging, "activate", {{"reason", "staging"}});
  ASSERT_TRUE(own.has_value()) << own.error().message();
  EXPECT_EQ(state_->RefreshStops(), false);

  auto created = other.state->tokens().Create("alice", std::nullopt, "local:test");
  ASSERT_TRUE(created.has_value()) << created.error().message();
  auto before = state_->tokens().Authenticate(created->token);
  ASSERT_FALSE(before.has_value());
  EXPECT_EQ(before.error().message(), "the bearer token is not valid");
  clock_.Advance(1000);
  auto after = state_->tokens().Authenticate(created->token);
  ASSERT_TRUE(after.has_value()) << after.error().message();
  EXPECT_EQ(*after, "alice");

  ASSERT_TRUE(other.state->tokens().Revoke(created->info.id, "local:test").has_value());
  EXPECT_TRUE(state_->tokens().Authenticate(created->token).has_value());  // within the second
  clock_.Advance(1000);
  auto revoked = state_->tokens().Authenticate(created->token);
  ASSERT_FALSE(revoked.has_value());
  EXPECT_EQ(revoked.error().message(), fmt::format("token {} was revoked", created->info.id));
}

TEST_F(StateTest, AStopWhoseRecordCannotBeMadeDurableIsNotMade) {
  FailCommits();
  auto refused =
      state_->ChangeStop(G(), P("carol"), safety::Scope{}, "activate", {{"reason", "a drill"}});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kNotRecorded);
  EXPECT_EQ(refused.error().message(),
            "the change was not made: the audit record could not be made durable: disk I/O "
            "error (fsync)");
  EXPECT_FALSE(StopActive());
  EXPECT_TRUE(state_->notifier().Pending().empty());

  faults_->Clear();
  auto applied =
      state_->ChangeStop(G(), P("carol"), safety::Scope{}, "activate", {{"reason", "a drill"}});
  ASSERT_TRUE(applied.has_value()) << applied.error().message();
  EXPECT_TRUE(applied->next.active);
  EXPECT_TRUE(StopActive());
  EXPECT_FALSE(state_->notifier().Pending().empty());
}

TEST_F(StateTest, AStopTheRulesRefuseIsTheirErrorNotTheLogs) {
  auto refused =
      state_->ChangeStop(G(), P("alice"), safety::Scope{}, "activate", {{"reason", "a drill"}});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kPermissionDenied);
  EXPECT_FALSE(StopActive());
}

TEST_F(StateTest, AnApprovalActionWhoseRecordCannotBeMadeDurableIsNotTaken) {
  std::string id = OpenPatch();
  FailCommits();
  auto refused = state_->ActOnApproval(G(), P("bob"), id, workflow::Action::kReject, "no", "");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kNotRecorded);
  EXPECT_EQ(refused.error().message(),
            "the action was not taken: the audit record could not be made durable: disk I/O "
            "error (fsync)");
  EXPECT_EQ(state_->approvals().OpenCount(), 1u);
  EXPECT_EQ(state_->approvals_finished(), 0u);

  faults_->Clear();
  auto taken = state_->ActOnApproval(G(), P("bob"), id, workflow::Action::kReject, "no", "");
  ASSERT_TRUE(taken.has_value()) << taken.error().message();
  EXPECT_EQ(taken->first.request.state, workflow::ApprovalState::kRejected);
  EXPECT_EQ(state_->approvals().OpenCount(), 0u);
  EXPECT_EQ(state_->approvals_finished(), 1u);
}

TEST_F(StateTest, AnApprovalThatWouldCompleteARequestUnderAStopIsRefused) {
  std::string id = OpenPatch();
  ASSERT_TRUE(
      state_->ActOnApproval(G(), P("bob"), id, workflow::Action::kApprove, "ok", "").has_value());
  ASSERT_TRUE(
      state_->ChangeStop(G(), P("carol"), safety::Scope{}, "activate", {{"reason", "a drill"}})
          .has_value());
  auto refused = state_->ActOnApproval(G(), P("carol"), id, workflow::Action::kApprove, "ok", "");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kPermissionDenied);
  EXPECT_EQ(state_->approvals().OpenCount(), 1u);
}

// The result RecordApprovalRead gives its callback, waited for.
Result<void> ReadThrough(State& state, const governance::Principal& reader, bool listed,
                         std::vector<std::string> ids) {
  std::promise<Result<void>> result;
  state.RecordApprovalRead(reader, listed, std::move(ids),
                           [&result](Result<void> r) { result.set_value(std::move(r)); });
  return result.get_future().get();
}

TEST_F(StateTest, AReadOfOtherPeoplesApprovalsIsRecordedWithTheirIds) {
  std::string id = OpenPatch();
  uint64_t before = log_->size();
  ASSERT_TRUE(ReadThrough(*state_, P("bob"), true, {id}).has_value());
  ASSERT_EQ(log_->size(), before + 1);
  auto entries = log_->Query({.id = "auditor", .scope = audit::ReadScope::kAll},
                             {.event_type = "approval_read", .from_index = before});
  ASSERT_TRUE(entries.has_value()) << entries.error().message();
  ASSERT_EQ(entries->size(), 1u);
  json event = json::parse(entries->front().event);
  EXPECT_EQ(event["actor"]["id"], "bob");
  EXPECT_EQ(event["action"]["type"], "list");
  EXPECT_EQ(event["approvals"], json::array({id}));
}

TEST_F(StateTest, AReadWhoseRecordCannotBeMadeDurableIsRefused) {
  std::string id = OpenPatch();
  FailCommits();
  auto read = ReadThrough(*state_, P("bob"), false, {id});
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().kind(), ErrorKind::kNotRecorded);
  EXPECT_TRUE(
      read.error().message().starts_with("the read could not be recorded, so it is refused"))
      << read.error().message();
}

}  // namespace
}  // namespace interlock::app
