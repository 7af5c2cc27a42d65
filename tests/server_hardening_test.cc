// The service under hostile use: a stop that must never wait, scopes that
// cannot be dodged, approvals that only the right people read, and bounded
// resources. Each test here failed on the service before the defect it
// names was fixed.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "app/audit_access.h"
#include "governance/loader.h"
#include "server_fixture.h"

namespace interlock::server {
namespace {

class HardeningTest : public ServerTest {
 protected:
  // Opens a production deployment by alice, which needs approval; returns
  // its id.
  std::string OpenApproval(const std::string& version = "1.0.1") {
    HttpAnswer a = Decide("alice", Request("alice", "human", "production", "1.0.0", version));
    EXPECT_EQ(a.status, 200) << a.body;
    json body = Body(a);
    EXPECT_EQ(body["decision"], "require_approval") << a.body;
    return body.value("approval_id", "");
  }
  std::vector<std::string> ListedIds(const std::string& principal, const std::string& query = "") {
    HttpAnswer a = Call("GET", "/v1/approvals" + query, principal);
    EXPECT_EQ(a.status, 200) << a.body;
    std::vector<std::string> ids;
    json body = Body(a);
    for (const json& item : body["approvals"]) ids.push_back(item["id"]);
    return ids;
  }
  // Records of `type` by `actor` (the count's own read is by "test").
  size_t CountEvents(const std::string& type, const std::string& actor) {
    auto reader = audit::Reader{"test", "human", audit::ReadScope::kAll, {}, false};
    audit::QueryFilter f;
    f.event_type = type;
    f.actor = actor;
    f.limit = 100000;
    auto entries = service_->log().Query(reader, f);
    EXPECT_TRUE(entries.has_value());
    return entries ? entries->size() : 0;
  }
};

// Runs `body` on another thread and fails the whole process if it has not
// finished within `limit`: a hang must fail, not stall the suite.
template <class F>
void WithinOrAbort(std::chrono::seconds limit, const char* what, F body) {
  auto done = std::async(std::launch::async, std::move(body));
  if (done.wait_for(limit) != std::future_status::ready) {
    fmt::print(stderr, "{} did not finish within {} s: the service is stuck\n", what,
               limit.count());
    std::abort();
  }
  done.get();
}

TEST_F(HardeningTest, TheStopNeverWaitsForReadersOfApprovals) {
  // Given 300 pending approvals and six clients listing them without pause,
  for (int i = 0; i < 300; ++i) OpenApproval(fmt::format("1.0.{}", i + 1));
  // Tokens first: the fixture's cache of them is not for threads.
  for (std::string name : {"bob", "erin", "dave", "carol", "alice"}) Token(name);
  std::atomic<bool> stop_listing{false};
  std::atomic<int> lists{0};
  std::vector<std::thread> listers;
  for (int c = 0; c < 6; ++c) {
    std::string token = Token(c % 2 == 0 ? "bob" : "erin");
    listers.emplace_back([&, token] {
      while (!stop_listing) {
        HttpClient client(port_);
        HttpAnswer a = client.Send("GET", "/v1/approvals?limit=1000", token, "");
        if (a.status == 200) lists.fetch_add(1);
      }
    });
  }
  // when the stop is activated and lifted three times,
  WithinOrAbort(std::chrono::seconds(120), "toggling the emergency stop", [&] {
    for (int round = 0; round < 3; ++round) {
      HttpAnswer on = StopAction("carol", {{"action", "activate"}, {"reason", "round"}});
      EXPECT_EQ(on.status, 200) << on.body;
      json off = Deactivation();
      EXPECT_EQ(StopAction("dave", off).status, 200);
      HttpAnswer last = StopAction("erin", off);
      EXPECT_EQ(last.status, 200) << last.body;
      EXPECT_FALSE(Body(last)["active"].get<bool>());
    }
  });
  stop_listing = true;
  for (std::thread& t : listers) t.join();
  // then every action took effect and the listers were served throughout.
  EXPECT_GT(lists.load(), 0);
  EXPECT_FALSE(Body(Call("GET", "/api/emergency-stop", "alice"))["active"].get<bool>());
}

// A proxy that reads the first key sees production; Interlock must not
// decide dev.
TEST_F(HardeningTest, DuplicateKeysAreRefusedNotResolved) {
  std::string request =
      R"({"change": {"type": "code", "environment": "production", "environment": "dev",)"
      R"( "service": "api", "version": "1.0.1", "previous_version": "1.0.0"}})";
  HttpAnswer a = Decide("alice", request);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(Body(a)["error"]["message"],
            "change: duplicate key \"environment\" at line 1, column 58");
  HttpAnswer stop = Call("POST", "/api/emergency-stop", "carol",
                         R"({"action": "activate", "reason": "a", "reason": "b"})");
  EXPECT_EQ(stop.status, 400);
  EXPECT_EQ(Body(stop)["error"]["message"], "body: duplicate key \"reason\" at line 1, column 39");
  EXPECT_FALSE(Body(Call("GET", "/api/emergency-stop", "alice"))["active"].get<bool>());
}

// The token names the actor; a body need not.
TEST_F(HardeningTest, ARequestWithoutActorIsTheTokensPrincipals) {
  json request = json::parse(Request("alice", "human", "dev", "1.0.0", "1.0.1"));
  request.erase("actor");
  HttpAnswer a = Decide("alice", request.dump());
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(Body(a)["decision"], "allow");
  auto entries = service_->log().Query({"test", "human", audit::ReadScope::kAll, {}, false},
                                       {.event_type = "decision"});
  ASSERT_TRUE(entries.has_value());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(json::parse(entries->front().event)["actor"]["id"], "alice");
  // One that names another is refused, as before.
  EXPECT_EQ(Decide("alice", Request("bob", "human", "dev", "1.0.0", "1.0.1")).status, 403);
}

TEST_F(HardeningTest, AServiceStopCannotBeDodgedByCaseOrSilence) {
  ASSERT_EQ(StopAction("carol", {{"action", "activate"},
                                 {"reason", "payments double-charging"},
                                 {"scope", {{"service", "Payments"}}}})
                .status,
            200);
  json state = Body(Call("GET", "/api/emergency-stop", "alice"));
  ASSERT_EQ(state["scoped"].size(), 1u);
  EXPECT_EQ(state["scoped"][0]["scope"], json({{"service", "payments"}}));

  json upper = json::parse(Request("alice", "human", "dev", "1.0.0", "1.0.1"));
  upper["change"]["service"] = "PAYMENTS";
  json decided = Body(Decide("alice", upper.dump()));
  EXPECT_EQ(decided["decision"], "deny") << decided.dump();

  json silent = json::parse(Request("alice", "human", "dev", "1.0.0", "1.0.1"));
  silent["change"].erase("service");
  decided = Body(Decide("alice", silent.dump()));
  EXPECT_EQ(decided["decision"], "deny") << decided.dump();
  EXPECT_NE(decided.dump().find("the request names no service, so it counts as covered"),
            std::string::npos)
      << decided.dump();

  json other = json::parse(Request("alice", "human", "dev", "1.0.0", "1.0.1"));
  other["change"]["service"] = "billing";
  EXPECT_EQ(Body(Decide("alice", other.dump()))["decision"], "allow");
}

TEST_F(HardeningTest, ApprovalsAreReadOnlyByThoseTheReadRulesAllowAndReadsAreRecorded) {
  std::string id = OpenApproval();
  // frank (product-owner) neither reviews production deployments nor may
  // read the audit trail: the approval does not exist for him.
  EXPECT_TRUE(ListedIds("frank").empty());
  HttpAnswer view = Call("GET", "/v1/approvals/" + id, "frank");
  EXPECT_EQ(view.status, 404);
  EXPECT_EQ(Body(view)["error"]["message"], "no approval " + id);
  // The auditor reads everything only within a grant; without one, nothing.
  EXPECT_TRUE(ListedIds("oscar").empty());
  // The requester, a reviewer and a reader of everything see it.
  EXPECT_EQ(ListedIds("alice"), std::vector<std::string>{id});
  EXPECT_EQ(ListedIds("bob"), std::vector<std::string>{id});
  EXPECT_EQ(CountEvents("approval_read", "erin"), 0u);
  EXPECT_EQ(ListedIds("erin"), std::vector<std::string>{id});
  EXPECT_EQ(Call("GET", "/v1/approvals/" + id, "erin").status, 200);
  // One record per list or view of other people's approvals; none for
  // alice reading her own.
  EXPECT_EQ(CountEvents("approval_read", "erin"), 2u);
  ListedIds("alice");
  EXPECT_EQ(CountEvents("approval_read", "alice"), 0u);
}

TEST_F(HardeningTest, ApprovalListsArePagedWithACursor) {
  std::vector<std::string> opened;
  for (int i = 0; i < 5; ++i) opened.push_back(OpenApproval(fmt::format("1.0.{}", i + 1)));
  std::sort(opened.begin(), opened.end());
  HttpAnswer first = Call("GET", "/v1/approvals?limit=2", "alice");
  ASSERT_EQ(first.status, 200);
  std::vector<std::string> seen;
  json page = Body(first);
  for (;;) {
    for (const json& item : page["approvals"]) seen.push_back(item["id"]);
    if (!page.contains("next_cursor")) break;
    page = Body(Call(
        "GET", "/v1/approvals?limit=2&cursor=" + page["next_cursor"].get<std::string>(), "alice"));
  }
  EXPECT_EQ(seen, opened);
  HttpAnswer bad = Call("GET", "/v1/approvals?limit=0", "alice");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["error"]["message"],
            "query parameter limit: expected an integer from 1 to 1000");
}

TEST_F(HardeningTest, AReaderOfTheCheckpointDoesNotSignANewOneEachTime) {
  HttpAnswer a = Call("GET", "/v1/audit/checkpoint", "erin");
  ASSERT_EQ(a.status, 200) << a.body;
  HttpAnswer b = Call("GET", "/v1/audit/checkpoint", "erin");
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(Body(a)["note"], Body(b)["note"]);
  EXPECT_EQ(Body(a)["size"], Body(b)["size"]);
}

TEST_F(HardeningTest, RefusedAuditReadsAreRecordedOncePerMinuteWithACount) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Call("GET", "/v1/audit/entries", "frank").status, 403);
  }
  EXPECT_EQ(CountEvents("audit_read", "frank"), 1u);
  clock_.Advance(61'000);
  EXPECT_EQ(Call("GET", "/v1/audit/entries", "frank").status, 403);
  auto reader = audit::Reader{"test", "human", audit::ReadScope::kAll, {}, false};
  audit::QueryFilter f;
  f.actor = "frank";
  auto entries = service_->log().Query(reader, f);
  ASSERT_TRUE(entries.has_value());
  ASSERT_EQ(entries->size(), 2u);
  json last = json::parse(entries->back().event);
  EXPECT_EQ(last["outcome"]["refused_before_unrecorded"], 4);
}

// The database file edited by someone who can write it, while the service
// is down.
void Sql(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << message;
}

// Opening the service on tampered state fails, naming the row.
void ExpectRefused(const ServiceOptions& o, const std::string& says) {
  auto service = Service::Open(o);
  ASSERT_FALSE(service.has_value()) << "opened on tampered state";
  EXPECT_EQ(service.error().kind(), ErrorKind::kCorruption);
  EXPECT_NE(service.error().message().find(says), std::string::npos) << service.error().message();
}

class StateTamperTest : public HardeningTest {
 protected:
  std::string Db() const { return data_ + "/audit.db"; }
};

TEST_F(StateTamperTest, DeletingTheStopsRowDoesNotLiftTheStop) {
  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "db on fire"}}).status, 200);
  Stop();
  Sql(Db(), "DELETE FROM state WHERE kind = 'emergency_stop'");
  ExpectRefused(Options(),
                "state row emergency_stop global is missing; the audit log commits "
                "to it at record");
}

TEST_F(StateTamperTest, ARestoredTokenRowIsCaught) {
  std::string token = Token("alice");
  Stop();
  Sql(Db(), "CREATE TABLE saved AS SELECT * FROM state WHERE kind = 'token'");
  Start();
  ASSERT_TRUE(service_->tokens().Revoke(token, "test").has_value());
  Stop();
  Sql(Db(),
      "UPDATE state SET value = (SELECT value FROM saved WHERE saved.id = state.id) "
      "WHERE kind = 'token'");
  ExpectRefused(Options(), "is not the version the audit log commits to (record");
}

TEST_F(StateTamperTest, AGrantWrittenIntoTheDatabaseGivesNothing) {
  Stop();
  Sql(Db(),
      "INSERT INTO grants (principal, granted_by, expires_at) VALUES ('oscar', 'erin', "
      "9999999999999)");
  Start();
  EXPECT_EQ(Call("GET", "/v1/audit/entries", "oscar").status, 403);
  // A grant given the proper way works, and is a bound state row.
  auto reader = app::ReaderFor(*governance::Load(fs_, governance_), "erin");
  ASSERT_TRUE(reader.has_value());
  ASSERT_TRUE(service_->log().Grant(*reader, "oscar", 3'600'000).has_value());
  EXPECT_EQ(Call("GET", "/v1/audit/entries", "oscar").status, 200);
  Stop();
  Sql(Db(), "DELETE FROM state WHERE kind = 'audit_grant'");
  ExpectRefused(Options(), "state row audit_grant oscar@");
}

TEST_F(StateTamperTest, UntouchedStateOpensAndVerifies) {
  OpenApproval();
  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "x"}}).status, 200);
  Stop();
  Start();
  auto report = service_->log().Verify({});
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(HardeningTest, HealthSaysNothingOfTransportOnLoopback) {
  json health = Body(Call("GET", "/healthz", ""));
  EXPECT_FALSE(health.contains("insecure_transport"));
}

// The look that sets the pre-authentication body limit takes only a bearer
// token, the scheme in any case: not another scheme's credentials that
// happen to end in a token.
TEST_F(HardeningTest, OnlyABearerTokenIsRecognisedBeforeAuthentication) {
  const std::string token = Token("alice");
  auto recognised = [&](const std::string& authorization) {
    HttpRequest r;
    r.headers.emplace_back("authorization", authorization);
    return service_->Recognises(r);
  };
  EXPECT_TRUE(recognised("Bearer " + token));
  EXPECT_TRUE(recognised("bEARER " + token));
  EXPECT_FALSE(recognised("Basic " + token));
  EXPECT_FALSE(recognised("Basic\t" + token));
  EXPECT_FALSE(recognised("Token  " + token));
  EXPECT_FALSE(recognised("Bearer "));
  EXPECT_FALSE(recognised(token));
  EXPECT_FALSE(service_->Recognises(HttpRequest{}));
}

}  // namespace
}  // namespace interlock::server
