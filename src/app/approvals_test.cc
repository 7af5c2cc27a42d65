// The approval requests' owner on a real audit log in a temporary
// directory: what stays in memory, what is read from the state rows.
#include "app/approvals.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

#include "../../tests/test_util.h"
#include "audit/event.h"
#include "core/fs.h"
#include "decision/engine.h"
#include "decision/request.h"

namespace interlock::app {
namespace {

using nlohmann::json;
using workflow::Action;
using workflow::ApprovalRequest;
using workflow::ApprovalState;
using workflow::Transition;

constexpr UnixMillis kT0 = 1705314600000;  // 2024-01-15T10:30:00.000Z
constexpr UnixMillis kMinute = 60'000;
constexpr UnixMillis kDay = 86'400'000;

const governance::Governance& G() { return interlock::testing::DefaultGovernance(); }

const governance::Principal& P(std::string_view id) {
  for (const governance::Principal& p : G().principals) {
    if (p.id == id) return p;
  }
  throw std::invalid_argument(fmt::format("no principal {} in the defaults", id));
}

// alice's production patch of api-gateway: two approvals from team-lead or
// on-call-engineer, 30 minutes, then escalation.
Transition OpenPatch(const std::string& id) {
  json request = {
      {"actor", {{"type", "human"}, {"id", "alice"}}},
      {"change",
       {{"type", "code"},
        {"environment", "production"},
        {"service", "api-gateway"},
        {"summary", "Fix the retry storm"},
        {"version", "2.5.4"},
        {"previous_version", "2.5.3"}}},
      {"checks",
       {{"tests_passed", true}, {"security_scan", {{"passed", true}, {"max_severity", "none"}}}}},
      {"metadata", {{"rollback_plan", "redeploy 2.5.3"}}}};
  auto parsed = decision::ParseRequest(request.dump());
  if (!parsed) throw std::runtime_error(parsed.error().message());
  decision::Decision d;
  decision::Decide(G(), *parsed, {}, &d);
  auto t = workflow::Open(G(), *parsed, d, id, kT0);
  if (!t) throw std::runtime_error(t.error().message());
  return std::move(*t);
}

class ApprovalsTest : public ::testing::Test {
 protected:
  ApprovalsTest()
      : log_(testing::OpenTestLog(dir_.path(), fs_, clock_, random_)), approvals_(*log_) {
    EXPECT_TRUE(approvals_.Load(kT0).has_value());
  }

  // What the service does: the request's row with its record.
  Result<audit::Appended> Commit(const Transition& t) {
    auto event = audit::MakeEvent(t.audit_event, clock_.Now());
    if (!event) return std::unexpected(event.error());
    return log_->Commit(std::move(*event), {Approvals::Row(t.request)});
  }

  // Opens `id`, committed as a decision commits it.
  void Open(const std::string& id) {
    Transition t = OpenPatch(id);
    ASSERT_TRUE(Commit(t).has_value());
    approvals_.Opened(t.request);
  }

  Result<std::pair<Transition, audit::Appended>> Act(const std::string& id, std::string_view actor,
                                                     Action action) {
    return approvals_.Change(
        id,
        [&](const ApprovalRequest& a) {
          return workflow::Act(G(), a, P(actor), action, "looks right", std::nullopt, kT0 + kMinute,
                               false);
        },
        [&](const Transition& t) { return Commit(t); });
  }

  ApprovalState StateOf(const std::string& id) {
    auto found = approvals_.Find(id);
    EXPECT_TRUE(found.has_value() && found->has_value()) << id;
    return found && *found ? (*found)->state : ApprovalState::kPending;
  }

  std::vector<std::string> Ids(const ApprovalPage& page) {
    std::vector<std::string> ids;
    for (const ApprovalRequest& a : page.items) ids.push_back(a.id);
    return ids;
  }

  testing::TempDir dir_;
  RealFileSystem fs_;
  ManualClock clock_{kT0};
  SeededRandom random_{7};
  std::unique_ptr<audit::AuditLog> log_;
  Approvals approvals_;
};

TEST_F(ApprovalsTest, AFinishedRequestLeavesMemoryAndIsStillReadFromTheLog) {
  Open("ap-1");
  Open("ap-2");
  EXPECT_EQ(approvals_.OpenCount(), 2u);
  EXPECT_EQ(*approvals_.PendingRoles(),
            (std::vector<std::string>{"team-lead", "on-call-engineer"}));

  ASSERT_TRUE(Act("ap-1", "carol", Action::kReject).has_value());
  EXPECT_EQ(approvals_.OpenCount(), 1u);
  EXPECT_EQ(StateOf("ap-1"), ApprovalState::kRejected);
  EXPECT_EQ(StateOf("ap-2"), ApprovalState::kPending);
  auto finished = approvals_.FinishedSince(kT0 - kDay);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].id, "ap-1");
  EXPECT_EQ(finished[0].state, ApprovalState::kRejected);
  EXPECT_EQ(finished[0].opened_at, kT0);
  EXPECT_EQ(finished[0].finished_at, kT0 + kMinute);

  ASSERT_TRUE(Act("ap-2", "bob", Action::kApprove).has_value());
  ASSERT_TRUE(Act("ap-2", "carol", Action::kApprove).has_value());
  EXPECT_EQ(approvals_.OpenCount(), 0u);
  EXPECT_TRUE(approvals_.PendingRoles()->empty());
  EXPECT_EQ(StateOf("ap-2"), ApprovalState::kApproved);
  EXPECT_EQ(approvals_.FinishedSince(kT0 - kDay).size(), 2u);
}

TEST_F(ApprovalsTest, ARowChangedByAnotherWriterIsReadAgainNotTakenFromTheParsedRows) {
  Open("ap-1");
  EXPECT_EQ(StateOf("ap-1"), ApprovalState::kPending);  // parsed, and kept

  // Another server (or anything that bypasses this owner) stores a new
  // version of the row: the reads follow the row, not what was parsed.
  Transition t = OpenPatch("ap-1");
  t.request.state = ApprovalState::kEscalated;
  ASSERT_TRUE(Commit(t).has_value());
  EXPECT_EQ(StateOf("ap-1"), ApprovalState::kEscalated);
  auto page = approvals_.List("", 10, [](const ApprovalRequest&) { return true; });
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].state, ApprovalState::kEscalated);
}

TEST_F(ApprovalsTest, LoadKeepsOnlyOpenRequestsAndTheLastWeeksFinishedOnes) {
  Open("ap-1");
  Open("ap-2");
  ASSERT_TRUE(Act("ap-1", "carol", Action::kReject).has_value());

  Approvals reloaded(*log_);
  ASSERT_TRUE(reloaded.Load(kT0 + kDay).has_value());
  EXPECT_EQ(reloaded.OpenCount(), 1u);
  EXPECT_EQ(*reloaded.PendingRoles(), (std::vector<std::string>{"team-lead", "on-call-engineer"}));
  ASSERT_EQ(reloaded.FinishedSince(0).size(), 1u);

  Approvals week_later(*log_);
  ASSERT_TRUE(week_later.Load(kT0 + 8 * kDay).has_value());
  EXPECT_EQ(week_later.OpenCount(), 1u);
  EXPECT_TRUE(week_later.FinishedSince(0).empty());
}

TEST_F(ApprovalsTest, AnActionOnAFinishedRequestGetsTheWorkflowsAnswerAndStoresNothing) {
  Open("ap-1");
  ASSERT_TRUE(Act("ap-1", "carol", Action::kReject).has_value());
  uint64_t size = log_->size();

  auto again = Act("ap-1", "bob", Action::kApprove);
  ASSERT_FALSE(again.has_value());
  auto direct = workflow::Act(G(), *approvals_.Find("ap-1").value(), P("bob"), Action::kApprove,
                              "looks right", std::nullopt, kT0 + kMinute, false);
  ASSERT_FALSE(direct.has_value());
  EXPECT_EQ(again.error().kind(), direct.error().kind());
  EXPECT_EQ(again.error().message(), direct.error().message());
  EXPECT_EQ(log_->size(), size);

  auto missing = Act("ap-9", "bob", Action::kApprove);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().message(), "no approval ap-9");
  EXPECT_FALSE(approvals_.Find("ap-9").value().has_value());
}

TEST_F(ApprovalsTest, AFailedCommitLeavesTheRequestAsItWas) {
  Open("ap-1");
  auto failed = approvals_.Change(
      "ap-1",
      [&](const ApprovalRequest& a) {
        return workflow::Act(G(), a, P("carol"), Action::kReject, "no", std::nullopt, kT0 + kMinute,
                             false);
      },
      [](const Transition&) -> Result<audit::Appended> {
        return std::unexpected(Error::Unavailable("the disk is full"));
      });
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message(), "the disk is full");
  EXPECT_EQ(approvals_.OpenCount(), 1u);
  EXPECT_EQ(StateOf("ap-1"), ApprovalState::kPending);
  EXPECT_TRUE(approvals_.FinishedSince(0).empty());
}

TEST_F(ApprovalsTest, TimeoutsMoveEveryDueRequestAndRetryOnesThatCouldNotBeStored) {
  Open("ap-1");
  Open("ap-2");
  int calls = 0;
  approvals_.Timeouts(kT0 + 31 * kMinute, [&](const Transition& t) -> Result<audit::Appended> {
    // The first one cannot be stored now.
    if (calls++ == 0) return std::unexpected(Error::Unavailable("the disk is full"));
    return Commit(t);
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(StateOf("ap-1"), ApprovalState::kPending);
  EXPECT_EQ(StateOf("ap-2"), ApprovalState::kEscalated);

  approvals_.Timeouts(kT0 + 31 * kMinute, [&](const Transition& t) { return Commit(t); });
  EXPECT_EQ(StateOf("ap-1"), ApprovalState::kEscalated);
  EXPECT_EQ(approvals_.OpenCount(), 2u);
}

TEST_F(ApprovalsTest, ListPagesByIdAcrossTheStoresBatches) {
  // 600 requests in one commit: more than two of the store's batches.
  Transition t = OpenPatch("template");
  std::vector<audit::StateChange> rows;
  for (int i = 0; i < 600; ++i) {
    t.request.id = fmt::format("ap-{:04}", i);
    rows.push_back(Approvals::Row(t.request));
  }
  ASSERT_TRUE(log_->Commit(std::vector<audit::Event>{}, std::move(rows)).has_value());
  auto all = [](const ApprovalRequest&) { return true; };

  auto first = approvals_.List("", 100, all);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->items.size(), 100u);
  EXPECT_EQ(first->items.front().id, "ap-0000");
  EXPECT_EQ(first->next_cursor, "ap-0099");

  // Every seventh one, 40 to a page, walked to the end.
  auto seventh = [](const ApprovalRequest& a) { return std::stoi(a.id.substr(3)) % 7 == 0; };
  std::vector<std::string> walked;
  std::string cursor;
  int pages = 0;
  while (true) {
    auto page = approvals_.List(cursor, 40, seventh);
    ASSERT_TRUE(page.has_value());
    ++pages;
    for (const std::string& id : Ids(*page)) walked.push_back(id);
    if (!page->next_cursor) break;
    cursor = *page->next_cursor;
  }
  EXPECT_EQ(pages, 3);  // 86 of them
  ASSERT_EQ(walked.size(), 86u);
  EXPECT_EQ(walked.front(), "ap-0000");
  EXPECT_EQ(walked[37], "ap-0259");
  EXPECT_EQ(walked.back(), "ap-0595");

  auto last = approvals_.List("ap-0599", 100, all);
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(last->items.empty());
  EXPECT_FALSE(last->next_cursor.has_value());
}

}  // namespace
}  // namespace interlock::app
