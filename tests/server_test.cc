// `interlock serve` end to end: the real service on the real HTTP server on a
// loopback port, spoken to over TCP; time is a ManualClock.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "app/tokens.h"
#include "audit/log.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/fs.h"
#include "core/hmac.h"
#include "core/random.h"
#include "governance/defaults.h"
#include "http_client.h"
#include "http_receiver.h"
#include "notify/notifier.h"
#include "server/http.h"
#include "server/service.h"
#include "server/web.h"
#include "server_fixture.h"
#include "smtp_receiver.h"
#include "store/fault_store.h"
#include "store/sqlite_audit_store.h"
#include "test_util.h"

namespace interlock::server {
namespace {

TEST_F(ServerTest, HealthNeedsNoTokenAndEverythingElseDoes) {
  HttpAnswer health = Call("GET", "/healthz", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(Body(health)["status"], "ok");
  for (auto [method, path] :
       {std::pair{"GET", "/metrics"}, std::pair{"POST", "/v1/decisions"},
        std::pair{"GET", "/api/emergency-stop"}, std::pair{"GET", "/v1/audit/checkpoint"},
        std::pair{"GET", "/v1/audit/entries"}}) {
    SCOPED_TRACE(path);
    HttpAnswer a = Call(method, path, "");
    EXPECT_EQ(a.status, 401);
    EXPECT_EQ(a.headers["www-authenticate"], "Bearer");
    EXPECT_EQ(Body(a)["error"]["message"], "a bearer token is required");
  }
  HttpClient client(port_);
  HttpAnswer bad = client.Send("GET", "/metrics", "itk_0000000000000000_" + std::string(64, '0'));
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(Body(bad)["error"]["message"], "the bearer token is not valid");
  HttpAnswer malformed = client.Send("GET", "/metrics", "hunter2");
  EXPECT_EQ(malformed.status, 401);
  EXPECT_EQ(Body(malformed)["error"]["message"],
            "the bearer token is malformed (expected itk_<id>_<secret>)");
  EXPECT_EQ(Call("GET", "/nowhere", "alice").status, 404);
  HttpAnswer wrong = Call("DELETE", "/v1/decisions", "alice");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers["allow"], "POST");
  EXPECT_EQ(Call("PUT", "/v1/approvals", "alice").headers["allow"], "GET");
  HttpClient head(port_);
  HttpAnswer h = head.Send("HEAD", "/healthz", "");
  EXPECT_EQ(h.status, 200);
}

TEST_F(ServerTest, RevokedAndExpiredTokensAreRefused) {
  EXPECT_EQ(Call("GET", "/metrics", "alice").status, 200);
  auto revoked = service_->tokens().Revoke(Token("alice"), "test");
  ASSERT_TRUE(revoked.has_value()) << revoked.error().message();
  HttpAnswer a = Call("GET", "/metrics", "alice");
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(Body(a)["error"]["message"], fmt::format("token {} was revoked", revoked->id));

  EXPECT_EQ(Call("GET", "/metrics", "bob").status, 200);
  clock_.Advance(91 * 86'400'000LL);
  HttpAnswer expired = Call("GET", "/metrics", "bob");
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(Body(expired)["error"]["message"].get<std::string>().find("has expired"),
            std::string::npos);
}

TEST_F(ServerTest, DecisionIsAnsweredWithItsDurableAuditRecord) {
  HttpAnswer a = Decide("alice", Request("alice", "human", "staging", "1.2.0", "1.2.1"));
  ASSERT_EQ(a.status, 200) << a.body;
  json d = Body(a);
  EXPECT_EQ(d["decision"], "allow");
  ASSERT_TRUE(d["audit_index"].is_number_unsigned());
  uint64_t index = d["audit_index"];

  // The record is there, names the authenticated actor, and can be proved.
  HttpAnswer entries = Call("GET", "/v1/audit/entries?event_type=decision", "erin");
  ASSERT_EQ(entries.status, 200) << entries.body;
  json list = Body(entries)["entries"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["index"], index);
  EXPECT_EQ(list[0]["event"]["actor"]["id"], "alice");
  EXPECT_EQ(list[0]["event"]["decision"]["outcome"], "allow");
  HttpAnswer proof = Call("GET", fmt::format("/v1/audit/proof?index={}", index), "alice");
  ASSERT_EQ(proof.status, 200) << proof.body;
  EXPECT_EQ(Body(proof)["index"], index);
  EXPECT_EQ(Body(proof)["leaf_hash"], list[0]["leaf_hash"]);
  HttpAnswer checkpoint = Call("GET", "/v1/audit/checkpoint", "alice");
  ASSERT_EQ(checkpoint.status, 200);
  EXPECT_EQ(Body(checkpoint)["verifier_key"], service_->log().VerifierKey());

  HttpAnswer metrics = Call("GET", "/metrics", "alice");
  EXPECT_NE(metrics.body.find("interlock_decisions_total{outcome=\"allow\"} 1\n"),
            std::string::npos)
      << metrics.body;
}

TEST_F(ServerTest, TheActorIsTheTokensPrincipalNeverTheBodys) {
  // Alice claims to be dave; so does an agent claiming to be human.
  HttpAnswer a = Decide("alice", Request("dave", "human", "staging", "1.2.0", "1.2.1"));
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(Body(a)["error"]["message"],
            "the request names actor dave (human), but the token belongs to alice (human)");
  HttpAnswer agent = Decide("deployment-agent-01",
                            Request("deployment-agent-01", "human", "dev", "1.0.0", "1.0.1"));
  EXPECT_EQ(agent.status, 403);

  // Roles come from principals.yaml: alice claiming engineering-lead does
  // not make a production minor change hers to approve.
  json claimed = json::parse(Request("alice", "human", "production", "1.2.0", "1.3.0"));
  claimed["actor"]["roles"] = {"engineering-lead", "cto"};
  HttpAnswer d = Decide("alice", claimed.dump());
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(Body(d)["decision"], "require_approval");
}

TEST_F(ServerTest, BadBodiesAreRefusedSayingWhere) {
  HttpAnswer malformed = Decide("alice", "{\"actor\": {\"type\": \"human\",\n \"id\": }");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Body(malformed)["error"]["code"], "invalid_request");
  EXPECT_NE(Body(malformed)["error"]["message"].get<std::string>().find("line 2"),
            std::string::npos)
      << malformed.body;

  json unknown = json::parse(Request("alice", "human", "staging", "1.2.0", "1.2.1"));
  unknown["colour"] = "blue";
  HttpAnswer u = Decide("alice", unknown.dump());
  EXPECT_EQ(u.status, 400);
  EXPECT_NE(Body(u)["error"]["message"].get<std::string>().find("colour"), std::string::npos)
      << u.body;

  // Invalid UTF-8 echoed in an error message is replaced, not fatal.
  HttpAnswer bytes =
      Decide("alice", "{\"actor\": {\"type\": \"human\", \"id\": \"alice\"}, \"\xff\": 1}");
  EXPECT_EQ(bytes.status, 400) << bytes.body;
  EXPECT_FALSE(Body(bytes).is_discarded()) << bytes.body;

  HttpAnswer big = Decide("alice", std::string(2 << 20, ' '));
  EXPECT_EQ(big.status, 413);

  HttpAnswer stop = StopAction("carol", {{"action", "activate"}, {"reason", 7}});
  EXPECT_EQ(stop.status, 400);
  EXPECT_EQ(Body(stop)["error"]["message"], "reason: expected a string, found a number");
  HttpAnswer extra = StopAction("carol", {{"action", "activate"}, {"why", "x"}});
  EXPECT_EQ(extra.status, 400);
  HttpAnswer broken = Call("POST", "/api/emergency-stop", "carol", "{\"action\": ");
  EXPECT_EQ(broken.status, 400);
  EXPECT_EQ(Body(broken)["error"]["message"],
            "action: malformed JSON at line 1, column 12: expected a value, found end of input");
  // Nothing of it was recorded.
  EXPECT_EQ(service_->log().size(), tokens_.size());
}

TEST_F(ServerTest, EmergencyStopDeniesEverythingUntilTwoPeopleEndIt) {
  // Only the governance's roles may activate, and only humans.
  HttpAnswer engineer = StopAction("alice", {{"action", "activate"}, {"reason", "x"}});
  EXPECT_EQ(engineer.status, 403);
  EXPECT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "  "}}).status, 400);
  HttpAnswer on = StopAction("carol", {{"action", "activate"}, {"reason", "payments outage"}});
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_TRUE(Body(on)["active"].get<bool>());
  EXPECT_EQ(Body(on)["activated_by"], "carol");

  // Every decision is deny with the reason; AI agents are refused outright.
  HttpAnswer d = Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.1"));
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(Body(d)["decision"], "deny");
  EXPECT_NE(d.body.find("payments outage"), std::string::npos);
  HttpAnswer agent = Decide("deployment-agent-01",
                            Request("deployment-agent-01", "ai_agent", "dev", "1.0.0", "1.0.1"));
  EXPECT_EQ(agent.status, 423);
  EXPECT_EQ(Call("GET", "/v1/approvals", "deployment-agent-01").status, 423);  // any request

  // Deactivation: one engineering lead and one security lead, distinct.
  HttpAnswer first = StopAction("dave", Deactivation());
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_TRUE(Body(first)["active"].get<bool>());
  EXPECT_EQ(Body(first)["pending_deactivation"]["pending_roles"], json({"security-lead"}));
  EXPECT_EQ(StopAction("dave", Deactivation()).status, 400);  // the same person again
  json missing = Deactivation();
  missing.erase("root_cause");
  HttpAnswer incomplete = StopAction("erin", missing);
  EXPECT_EQ(incomplete.status, 400);
  EXPECT_EQ(Body(incomplete)["error"]["message"],
            "root_cause: required to deactivate the emergency stop");
  EXPECT_EQ(StopAction("trent", Deactivation()).status, 403);  // on-call: not a signer
  HttpAnswer second = StopAction("erin", Deactivation());
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_FALSE(Body(second)["active"].get<bool>());

  // Decisions flow again; AI agents stay disabled until an engineering lead
  // re-enables them.
  EXPECT_EQ(Body(Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.1")))["decision"],
            "allow");
  EXPECT_EQ(Decide("deployment-agent-01",
                   Request("deployment-agent-01", "ai_agent", "dev", "1.0.0", "1.0.1"))
                .status,
            423);
  EXPECT_EQ(StopAction("erin", {{"action", "reenable_ai_agents"}, {"reason", "fixed"}}).status,
            403);
  EXPECT_EQ(StopAction("dave", {{"action", "reenable_ai_agents"}, {"reason", "fixed"}}).status,
            200);
  HttpAnswer ai = Decide("deployment-agent-01",
                         Request("deployment-agent-01", "ai_agent", "dev", "1.0.0", "1.0.1"));
  EXPECT_EQ(ai.status, 200) << ai.body;

  // Every step is in the audit trail.
  HttpAnswer trail = Call("GET", "/v1/audit/entries?actor=dave", "erin");
  ASSERT_EQ(trail.status, 200) << trail.body;
  std::vector<std::string> types;
  json entries = Body(trail)["entries"];
  for (const json& e : entries) types.push_back(e["event"]["event_type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"emergency_stop_deactivation_signed",
                                             "ai_agents_reenabled"}));
}

TEST_F(ServerTest, EmergencyStopSurvivesARestart) {
  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "breach"}}).status, 200);
  ASSERT_EQ(StopAction("dave", Deactivation()).status, 200);
  Stop();
  Start();
  HttpAnswer state = Call("GET", "/api/emergency-stop", "alice");
  ASSERT_EQ(state.status, 200);
  json s = Body(state);
  EXPECT_TRUE(s["active"].get<bool>());
  EXPECT_EQ(s["reason"], "breach");
  EXPECT_EQ(s["pending_deactivation"]["signatures"][0]["principal"], "dave");
  EXPECT_EQ(Body(Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.1")))["decision"],
            "deny");
}

TEST_F(ServerTest, AuditReadsFollowTheReadersScope) {
  ASSERT_EQ(Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.1")).status, 200);
  ASSERT_EQ(Decide("bob", Request("bob", "human", "dev", "1.0.0", "1.0.1")).status, 200);
  // An engineer reads their own actions only.
  HttpAnswer own = Call("GET", "/v1/audit/entries?event_type=decision", "alice");
  ASSERT_EQ(own.status, 200) << own.body;
  ASSERT_EQ(Body(own)["entries"].size(), 1u);
  EXPECT_EQ(Body(own)["entries"][0]["event"]["actor"]["id"], "alice");
  EXPECT_EQ(Call("GET", "/v1/audit/entries?actor=bob", "alice").status, 403);
  // An auditor needs a grant.
  EXPECT_EQ(Call("GET", "/v1/audit/entries", "oscar").status, 403);
  EXPECT_EQ(Call("GET", "/v1/audit/proof?index=abc", "alice").status, 400);
  EXPECT_EQ(Call("GET", "/v1/audit/entries?since=yesterday", "erin").status, 400);
  // A filter of invalid UTF-8 is read and logged, not fatal.
  HttpAnswer bytes = Call("GET", "/v1/audit/entries?event_type=%D9%D9", "erin");
  EXPECT_EQ(bytes.status, 200) << bytes.body;
  EXPECT_TRUE(Body(bytes)["entries"].empty());
}

TEST_F(ServerTest, ConcurrentDecisionsAreEachRecordedOnce) {
  constexpr int kThreads = 8, kEach = 25;
  std::atomic<int> ok{0};
  std::string token = Token("alice");
  std::string body = Request("alice", "human", "dev", "1.0.0", "1.0.1");
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      HttpClient client(port_);
      for (int i = 0; i < kEach; ++i) {
        HttpAnswer a = client.Send("POST", "/v1/decisions", token, body);
        if (a.status == 200 && Body(a).contains("audit_index")) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(service_->log().size(), tokens_.size() + kThreads * kEach);
}

// ---------------------------------------------------------------------------
// Approvals

class ServerApprovalTest : public ServerTest {
 protected:
  // alice's production minor change: two approvers, one a team lead
  // (workflow production_deployment: team-lead or on-call-engineer, 30m).
  std::string Raise() {
    HttpAnswer a = Decide("alice", Request("alice", "human", "production", "1.2.0", "1.3.0"));
    EXPECT_EQ(a.status, 200) << a.body;
    json d = Body(a);
    EXPECT_EQ(d["decision"], "require_approval");
    return d.value("approval_id", "");
  }
  HttpAnswer Act(const std::string& id, const std::string& action, const std::string& who,
                 json body = {{"rationale", "looks right"}}) {
    return Call("POST", fmt::format("/v1/approvals/{}/{}", id, action), who, body.dump());
  }
  json Get(const std::string& id) { return Body(Call("GET", "/v1/approvals/" + id, "alice")); }
};

TEST_F(ServerApprovalTest, TwoDistinctHumansWithTheRightRolesComplete) {
  std::string id = Raise();
  ASSERT_FALSE(id.empty());
  json listed = Body(Call("GET", "/v1/approvals?state=pending", "bob"));
  ASSERT_EQ(listed["approvals"].size(), 1u);
  EXPECT_EQ(listed["approvals"][0]["id"], id);
  json a = Get(id);
  EXPECT_EQ(a["state"], "pending");
  EXPECT_EQ(a["requester"]["id"], "alice");
  EXPECT_EQ(a["workflow"], "production_deployment");

  HttpAnswer self = Act(id, "approve", "alice");
  EXPECT_EQ(self.status, 403) << self.body;
  EXPECT_EQ(Act(id, "approve", "deployment-agent-01").status, 403);
  EXPECT_EQ(Act(id, "approve", "frank").status, 403);                // product owner: not eligible
  EXPECT_EQ(Act(id, "approve", "bob", json::object()).status, 400);  // no rationale
  HttpAnswer first = Act(id, "approve", "bob");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Body(first)["state"], "pending");
  ASSERT_EQ(Act(id, "approve", "bob").status, 200);  // counts once
  EXPECT_EQ(Get(id)["approvals"].size(), 1u);
  HttpAnswer second = Act(id, "approve", "carol");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(Body(second)["state"], "approved");
  EXPECT_EQ(Act(id, "reject", "trent").status, 400);  // final
  EXPECT_EQ(Call("GET", "/v1/approvals/apr_none", "bob").status, 404);
  EXPECT_EQ(Act(id, "bless", "bob").status, 404);

  HttpAnswer trail = Call("GET", "/v1/audit/entries?event_type=approval_approve", "erin");
  ASSERT_EQ(trail.status, 200);
  EXPECT_EQ(Body(trail)["entries"].size(), 3u);
  HttpAnswer metrics = Call("GET", "/metrics", "alice");
  EXPECT_NE(metrics.body.find("interlock_approvals_pending 0\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("interlock_approval_latency_seconds_count 1\n"), std::string::npos);
}

TEST_F(ServerApprovalTest, RejectEscalateAndDelegateOverHttp) {
  std::string rejected = Raise();
  HttpAnswer no = Act(rejected, "reject", "bob", {{"rationale", "no rollback plan"}});
  ASSERT_EQ(no.status, 200) << no.body;
  EXPECT_EQ(Body(no)["state"], "rejected");

  std::string id = Raise();
  HttpAnswer up = Act(id, "escalate", "carol", {{"rationale", "needs a lead"}});
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(Body(up)["state"], "escalated");
  EXPECT_NE(Body(up)["missing_roles"].dump().find("engineering-lead"), std::string::npos);
  EXPECT_EQ(Act(id, "delegate", "bob", {{"rationale", "away"}}).status, 400);  // no "to"
  // Never to the requester.
  EXPECT_EQ(Act(id, "delegate", "bob", {{"rationale", "away"}, {"to", "alice"}}).status, 403);
  HttpAnswer handed = Act(id, "delegate", "bob", {{"rationale", "on leave"}, {"to", "peggy"}});
  ASSERT_EQ(handed.status, 200) << handed.body;
  EXPECT_EQ(Body(handed)["delegations"].size(), 1u);
  EXPECT_EQ(Body(handed)["delegations"][0]["to"], "peggy");
  ASSERT_EQ(Act(id, "approve", "peggy").status, 200);
  ASSERT_EQ(Act(id, "approve", "dave").status, 200);
  EXPECT_EQ(Get(id)["state"], "approved");
}

TEST_F(ServerApprovalTest, TimeoutsEscalateThenBlock) {
  std::string id = Raise();
  service_->Tick();
  EXPECT_EQ(Get(id)["state"], "pending");
  clock_.Advance(31 * 60'000);
  service_->Tick();
  json a = Get(id);
  EXPECT_EQ(a["state"], "escalated");
  EXPECT_NE(a["missing_roles"].dump().find("engineering-lead"), std::string::npos) << a.dump();
  clock_.Advance(31 * 60'000);
  service_->Tick();
  EXPECT_EQ(Get(id)["state"], "blocked");
  EXPECT_EQ(Act(id, "approve", "dave").status, 400);
}

TEST_F(ServerApprovalTest, APendingApprovalSurvivesARestart) {
  std::string id = Raise();
  ASSERT_EQ(Act(id, "approve", "bob").status, 200);
  Stop();
  Start();
  json a = Get(id);
  EXPECT_EQ(a["state"], "pending");
  EXPECT_EQ(a["approvals"].size(), 1u);
  HttpAnswer done = Act(id, "approve", "carol");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Body(done)["state"], "approved");
  // Its deadline was stored too.
  std::string other = Raise();
  Stop();
  clock_.Advance(31 * 60'000);
  Start();
  service_->Tick();
  EXPECT_EQ(Get(other)["state"], "escalated");
}

TEST_F(ServerApprovalTest, TheEmergencyStopKeepsApprovalsFromCompleting) {
  std::string id = Raise();
  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "incident"}}).status, 200);
  ASSERT_EQ(Act(id, "approve", "bob").status, 200);
  HttpAnswer refused = Act(id, "approve", "trent");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("emergency stop"), std::string::npos) << refused.body;
  EXPECT_EQ(Get(id)["state"], "pending");
}

TEST_F(ServerApprovalTest, OneOfManyConcurrentActionsWins) {
  std::string id = Raise();
  const char* approvers[] = {"bob", "carol", "peggy", "trent"};
  for (const char* who : approvers) Token(who);
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> threads;
  for (const char* who : approvers) {
    threads.emplace_back([&, who] {
      HttpAnswer a = Act(id, "reject", who);
      (a.status == 200 ? won : lost)++;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 3);
  EXPECT_EQ(Get(id)["state"], "rejected");
}

TEST_F(ServerApprovalTest, ChangesRequestedThenResubmittedStartsOver) {
  std::string id = Raise();
  ASSERT_EQ(Act(id, "approve", "bob").status, 200);
  HttpAnswer changes = Act(id, "request_changes", "carol");
  ASSERT_EQ(changes.status, 200) << changes.body;
  EXPECT_EQ(Body(changes)["state"], "changes_requested");
  EXPECT_EQ(Act(id, "resubmit", "bob").status, 403);  // only the requester
  HttpAnswer again = Act(id, "resubmit", "alice", {{"rationale", "fixed the migration"}});
  ASSERT_EQ(again.status, 200) << again.body;
  json a = Body(again);
  EXPECT_EQ(a["state"], "pending");
  EXPECT_EQ(a["revision"], 2);
  EXPECT_TRUE(a["approvals"].empty());
  HttpAnswer delegated = Act(id, "delegate", "bob", {{"rationale", "on leave"}, {"to", "peggy"}});
  EXPECT_EQ(delegated.status, 200) << delegated.body;
  EXPECT_EQ(Act(id, "delegate", "bob", {{"rationale", "x"}, {"to", "deployment-agent-01"}}).status,
            403);
}

class ServerFaultTest : public ServerTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(governance::Scaffold(fs_, governance_, false).has_value());
    Start([this](const std::string& data_dir) -> Result<std::unique_ptr<store::AuditStore>> {
      auto sqlite = store::SqliteAuditStore::OpenInDirectory(fs_, data_dir);
      if (!sqlite) return std::unexpected(sqlite.error());
      auto wrapped = std::make_unique<store::FaultStore>(std::move(*sqlite));
      faults_ = wrapped.get();
      return wrapped;
    });
    ASSERT_NE(faults_, nullptr);
  }
  store::FaultStore* faults_ = nullptr;  // owned by the service's audit log
};

TEST_F(ServerFaultTest, ADecisionWhoseRecordCannotBeWrittenIsDeny) {
  for (const char* p : {"alice", "carol"}) Token(p);
  faults_->FailAfter(store::StoreOp::kCommit, 0, Error::Io("disk I/O error (fsync)"),
                     /*sticky=*/true);
  HttpAnswer a = Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.1"));
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(Body(a)["decision"], "deny");
  EXPECT_EQ(Body(a)["error"]["code"], "audit_unavailable");
  HttpAnswer stop = StopAction("carol", {{"action", "activate"}, {"reason", "disk"}});
  EXPECT_EQ(stop.status, 503);
  faults_->Clear();
  EXPECT_FALSE(Body(Call("GET", "/api/emergency-stop", "alice"))["active"].get<bool>());
  HttpAnswer again = Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.1"));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Body(again)["decision"], "allow");
}

// Every route for every principal of the default governance: who gets in.
TEST_F(ServerApprovalTest, AuthorizationMatrix) {
  const std::set<std::string> approvers = {"bob", "carol", "peggy", "trent"};
  const std::set<std::string> stoppers = {"carol", "dave", "erin", "judy", "mallory", "trent"};
  const std::set<std::string> readers = {"alice",       "carol",   "deployment-agent-01",
                                         "ci-pipeline", "bob",     "peggy",
                                         "erin",        "mallory", "ivan"};
  const std::set<std::string> reloaders = {"dave", "erin"};
  // alice's approval: alice, its reviewers, and who reads alice's records
  // (her team's lead, and those who read everything).
  const std::set<std::string> approval_readers = {"alice", "bob",  "carol",   "peggy",
                                                  "trent", "erin", "mallory", "ivan"};
  std::vector<std::string> everyone;
  for (const governance::Principal& p : testing::DefaultGovernance().principals) {
    everyone.push_back(p.id);
  }
  ASSERT_EQ(everyone.size(), 16u);
  for (const std::string& who : everyone) {
    SCOPED_TRACE(who);
    auto expect = [&](int want, const HttpAnswer& a, const char* route) {
      EXPECT_EQ(a.status, want) << route << ": " << a.body;
    };
    bool agent = who == "deployment-agent-01";
    std::string type = agent ? "ai_agent" : who == "ci-pipeline" ? "service" : "human";
    expect(200, Call("GET", "/v1/me", who), "GET /v1/me");
    expect(200, Call("GET", "/metrics", who), "GET /metrics");
    expect(200, Decide(who, Request(who, type, "dev", "1.0.0", "1.0.1")), "POST /v1/decisions");
    std::string id = Raise();
    expect(200, Call("GET", "/v1/approvals", who), "GET /v1/approvals");
    HttpAnswer view = Call("GET", "/v1/approvals/" + id, who);
    expect(approval_readers.count(who) ? 200 : 404, view, "GET /v1/approvals/{id}");
    // What the dashboard offers agrees with what the server then allows.
    json offered = Body(view).value("your_actions", json::array());
    EXPECT_EQ(std::find(offered.begin(), offered.end(), "approve") != offered.end(),
              approvers.count(who) == 1)
        << offered;
    expect(approvers.count(who) ? 200 : 403, Act(id, "approve", who), "approve");
    expect(200, Call("GET", "/api/emergency-stop", who), "GET /api/emergency-stop");
    expect(stoppers.count(who) ? 200 : 403,
           StopAction(who, {{"action", "activate"},
                            {"reason", "matrix"},
                            {"scope", {{"service", "svc-" + who}}}}),
           "POST /api/emergency-stop");
    expect(readers.count(who) ? 200 : 403, Call("GET", "/v1/audit/entries?limit=5", who),
           "GET /v1/audit/entries");
    expect(200, Call("GET", "/v1/audit/checkpoint", who), "GET /v1/audit/checkpoint");
    expect(200, Call("GET", "/v1/audit/proof?index=0", who), "GET /v1/audit/proof");
    expect(200, Call("GET", "/v1/audit/consistency?from=1", who), "GET /v1/audit/consistency");
    expect(reloaders.count(who) ? 200 : 403, Call("POST", "/v1/governance/reload", who),
           "POST /v1/governance/reload");
    expect(
        200,
        Call("POST", "/v1/decisions/simulate", who, Request("x", "human", "dev", "1.0.0", "1.0.1")),
        "POST /v1/decisions/simulate");
    expect(200, Call("GET", "/v1/stats", who), "GET /v1/stats");
  }
}

TEST_F(ServerTest, AReloadByApiIsValidatedAndAudited) {
  HttpAnswer ok = Call("POST", "/v1/governance/reload", "dave");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["governance_version"],
            Body(Call("GET", "/v1/me", "dave"))["governance_version"]);
  dir_.Write("governance/interlock.yaml", "version: 1\nroles: [\n");
  HttpAnswer bad = Call("POST", "/v1/governance/reload", "erin");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("interlock.yaml"), std::string::npos) << bad.body;
  // The governance in force stays: erin still holds her role.
  EXPECT_EQ(Body(Call("GET", "/v1/me", "erin"))["roles"], json::array({"security-lead"}));
  HttpAnswer trail = Call("GET", "/v1/audit/entries?event_type=governance_reload_refused", "erin");
  EXPECT_EQ(Body(trail)["entries"].size(), 1u) << trail.body;
  // On SIGHUP the process itself is the actor.
  EXPECT_FALSE(service_->Reload("system:sighup").has_value());
  json refused = Body(
      Call("GET", "/v1/audit/entries?event_type=governance_reload_refused", "erin"))["entries"];
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0]["event"]["actor"], json({{"type", "human"}, {"id", "erin"}}));
  EXPECT_EQ(refused[1]["event"]["actor"], json({{"type", "service"}, {"id", "system:sighup"}}));
}

// ---------------------------------------------------------------------------
// The dashboard and the routes it uses

TEST_F(ServerTest, TheDashboardIsServedWithoutATokenUnderAStrictPolicy) {
  ASSERT_GT(kWebFilesCount, 0u);
  HttpAnswer page = Call("GET", "/", "");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(page.body, testing::ReadSourceFile("web/index.html"));
  EXPECT_EQ(page.headers["content-security-policy"], kWebContentSecurityPolicy);
  EXPECT_EQ(page.headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(page.headers["cache-control"], "no-cache");
  // Every file of web/ is served as it is in the source tree, so the binary
  // is never behind it.
  for (size_t i = 0; i < kWebFilesCount; ++i) {
    std::string path(kWebFiles[i].path);
    if (path == "index.html") continue;
    HttpAnswer a = Call("GET", "/assets/" + path, "");
    EXPECT_EQ(a.status, 200) << path;
    EXPECT_EQ(a.body, testing::ReadSourceFile("web/" + path)) << path;
    if (path.ends_with(".js")) {
      EXPECT_EQ(a.headers["content-type"], "text/javascript; charset=utf-8");
    }
  }
  // Revalidation: the same ETag is 304 without a body; another one is 200.
  std::string etag = page.headers["etag"];
  ASSERT_FALSE(etag.empty());
  HttpClient client(port_);
  HttpAnswer same = client.Send("GET", "/", "", "", {{"If-None-Match", "\"other\", " + etag}});
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(client.Send("GET", "/", "", "", {{"If-None-Match", "\"other\""}}).status, 200);

  HttpAnswer missing = Call("GET", "/assets/no-such-file.js", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Body(missing)["error"]["code"], "not_found");
  HttpAnswer post = Call("POST", "/", "", "{}");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET");
  // The API behind the pages still wants a token.
  EXPECT_EQ(Call("GET", "/v1/me", "").status, 401);
}

TEST_F(ServerTest, MeSaysWhatThePrincipalMayDo) {
  auto may = [&](const std::string& who) { return Body(Call("GET", "/v1/me", who))["may"]; };
  json alice = may("alice");
  EXPECT_FALSE(alice["activate_emergency_stop"].get<bool>());
  EXPECT_FALSE(alice["deactivate_emergency_stop"].get<bool>());
  EXPECT_FALSE(alice["reload_governance"].get<bool>());
  EXPECT_EQ(alice["read_audit"], "own");
  EXPECT_TRUE(may("carol")["activate_emergency_stop"].get<bool>());
  EXPECT_FALSE(may("deployment-agent-01")["activate_emergency_stop"].get<bool>());
  EXPECT_TRUE(may("dave")["reload_governance"].get<bool>());
  EXPECT_TRUE(may("erin")["deactivate_emergency_stop"].get<bool>());
  EXPECT_EQ(may("erin")["read_audit"], "all");
  // canary.yml rollout_overrides: the six actions, and those each may take
  // (carol is an on-call-engineer, dave an engineering-lead).
  auto overrides = [&](const std::string& who) {
    json actions = may(who)["rollout_overrides"];
    EXPECT_EQ(actions.size(), 6u) << actions.dump();
    std::string allowed;
    for (const auto& [action, yes] : actions.items()) {
      if (yes.get<bool>()) allowed += (allowed.empty() ? "" : " ") + action;
    }
    return allowed;
  };
  EXPECT_EQ(overrides("alice"), "");
  EXPECT_EQ(overrides("carol"), "abort pause resume");
  EXPECT_EQ(overrides("dave"), "abort pause promote resume review skip_step");
  EXPECT_EQ(overrides("deployment-agent-01"), "");

  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "incident"}}).status, 200);
  ASSERT_EQ(StopAction("erin", Deactivation()).status, 200);
  // erin has signed: she may not sign again; dave's signature is missing.
  EXPECT_FALSE(may("erin")["deactivate_emergency_stop"].get<bool>());
  EXPECT_TRUE(may("dave")["deactivate_emergency_stop"].get<bool>());
  EXPECT_FALSE(may("alice")["deactivate_emergency_stop"].get<bool>());
}

TEST_F(ServerTest, ASimulationDecidesExplainsAndRecordsNothing) {
  for (const char* p : {"alice", "carol"}) Token(p);
  uint64_t size = service_->log().size();
  // Any actor may be simulated, an AI agent included, with its governance roles.
  HttpAnswer a = Call("POST", "/v1/decisions/simulate", "alice",
                      Request("deployment-agent-01", "ai_agent", "staging", "1.2.0", "1.3.0"));
  ASSERT_EQ(a.status, 200) << a.body;
  json d = Body(a);
  EXPECT_EQ(d["decision"], "require_approval");
  EXPECT_EQ(d["ai_agent_role"], "recommend");
  EXPECT_TRUE(d["simulated"].get<bool>());
  EXPECT_FALSE(d["explain"].empty());
  EXPECT_FALSE(d.contains("approval_id"));
  EXPECT_EQ(service_->log().size(), size);
  EXPECT_TRUE(Body(Call("GET", "/v1/approvals", "alice"))["approvals"].empty());

  HttpAnswer bad = Call("POST", "/v1/decisions/simulate", "alice", R"({"actor": 1})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(Body(bad)["error"]["message"].get<std::string>().find("actor"), std::string::npos)
      << bad.body;
  EXPECT_EQ(Call("GET", "/v1/decisions/simulate", "alice").status, 405);

  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "db on fire"}}).status, 200);
  size = service_->log().size();
  json stopped = Body(Call("POST", "/v1/decisions/simulate", "alice",
                           Request("alice", "human", "dev", "1.0.0", "1.0.1")));
  EXPECT_EQ(stopped["decision"], "deny");
  EXPECT_NE(stopped.dump().find("db on fire"), std::string::npos) << stopped;
  EXPECT_EQ(service_->log().size(), size);
}

TEST_F(ServerTest, StatsCountDecisionsByHourAndSurviveARestart) {
  EXPECT_EQ(Call("GET", "/v1/stats?hours=0", "alice").status, 400);
  EXPECT_EQ(Call("GET", "/v1/stats?hours=169", "alice").status, 400);
  EXPECT_EQ(Call("GET", "/v1/stats?hours=x", "alice").status, 400);
  auto hours = [&](int n) {
    HttpAnswer a = Call("GET", fmt::format("/v1/stats?hours={}", n), "alice");
    EXPECT_EQ(a.status, 200) << a.body;
    json list = Body(a)["decisions_per_hour"];
    EXPECT_EQ(list.size(), static_cast<size_t>(n));
    return list;
  };
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.1")).status, 200);
  }
  ASSERT_EQ(Decide("alice", Request("alice", "human", "production", "1.2.0", "1.3.0")).status, 200);
  json now = hours(3).back();
  EXPECT_EQ(now["allow"], 2);
  EXPECT_EQ(now["require_approval"], 1);
  EXPECT_EQ(now["deny"], 0);
  EXPECT_EQ(now["hour"], FormatTimestamp(clock_.Now() / 3'600'000 * 3'600'000));

  // An hour later the counts are in the hour before.
  clock_.Advance(3'600'000);
  json later = hours(3);
  EXPECT_EQ(later[1]["allow"], 2);
  EXPECT_EQ(later[2]["allow"], 0);

  // Stored by the once-a-minute tick, they outlive a crash (no drain).
  service_->Tick();
  Stop();
  Start();
  EXPECT_EQ(hours(3)[1]["allow"], 2);
  // And those counted after the last tick are stored at a clean shutdown.
  ASSERT_EQ(Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.2")).status, 200);
  service_->Drain();
  Stop();
  Start();
  json kept = hours(2);
  EXPECT_EQ(kept[0]["allow"], 2);
  EXPECT_EQ(kept[1]["allow"], 1);
}

TEST_F(ServerApprovalTest, StatsGiveTheLatencyOfFinishedApprovals) {
  std::string id = Raise();
  json empty = Body(Call("GET", "/v1/stats", "alice"))["approval_latency"];
  EXPECT_TRUE(empty["finished"].empty());
  EXPECT_TRUE(empty["p50_seconds"].is_null());
  clock_.Advance(90'000);
  ASSERT_EQ(Act(id, "approve", "bob").status, 200);
  ASSERT_EQ(Act(id, "approve", "carol").status, 200);
  std::string rejected = Raise();
  clock_.Advance(30'000);
  ASSERT_EQ(Act(rejected, "reject", "bob").status, 200);
  json latency = Body(Call("GET", "/v1/stats", "alice"))["approval_latency"];
  ASSERT_EQ(latency["finished"].size(), 2u) << latency;
  EXPECT_EQ(latency["finished"][0]["id"], id);
  EXPECT_EQ(latency["finished"][0]["state"], "approved");
  EXPECT_EQ(latency["finished"][0]["seconds"], 90.0);
  EXPECT_EQ(latency["finished"][1]["seconds"], 30.0);
  EXPECT_EQ(latency["p50_seconds"], 30.0);
  EXPECT_EQ(latency["p90_seconds"], 90.0);
  // A day later they are outside the default window of 24 hours.
  clock_.Advance(25 * 3'600'000LL);
  EXPECT_TRUE(Body(Call("GET", "/v1/stats", "alice"))["approval_latency"]["finished"].empty());
}

TEST_F(ServerApprovalTest, EachPrincipalIsOfferedTheActionsTheRulesAllow) {
  std::string id = Raise();
  auto view = [&](const std::string& who) { return Body(Call("GET", "/v1/approvals/" + id, who)); };
  EXPECT_EQ(view("alice")["your_actions"], json::array());  // the requester
  // The agent neither reviews it nor reads alice's records.
  EXPECT_EQ(Call("GET", "/v1/approvals/" + id, "deployment-agent-01").status, 404);
  json bob = view("bob");
  EXPECT_EQ(bob["your_actions"],
            json::array({"approve", "reject", "request_changes", "escalate", "delegate"}));
  json candidates = bob["delegate_candidates"];
  EXPECT_NE(std::find(candidates.begin(), candidates.end(), "peggy"), candidates.end());
  for (const char* never : {"alice", "bob", "deployment-agent-01"}) {
    EXPECT_EQ(std::find(candidates.begin(), candidates.end(), never), candidates.end()) << never;
  }
  // Once bob approved, approving again is not offered; the list says the same.
  ASSERT_EQ(Act(id, "approve", "bob").status, 200);
  EXPECT_EQ(view("bob")["your_actions"],
            json::array({"reject", "request_changes", "escalate", "delegate"}));
  json listed = Body(Call("GET", "/v1/approvals", "bob"))["approvals"][0];
  EXPECT_EQ(listed["your_actions"], view("bob")["your_actions"]);
  EXPECT_FALSE(listed.contains("delegate_candidates"));
  ASSERT_EQ(Act(id, "request_changes", "carol").status, 200);
  EXPECT_EQ(view("alice")["your_actions"], json::array({"resubmit"}));
  EXPECT_EQ(view("bob")["your_actions"], json::array());
}

// ---------------------------------------------------------------------------
// Notifications and Slack

// Principals with e-mail addresses and Slack ids; delivery to local
// receivers: Slack and PagerDuty over HTTP, e-mail over SMTP.
class ServerNotifyTest : public ServerApprovalTest {
 protected:
  void SetUp() override {
    testing::ScaffoldWithContacts(governance_);
    env_["SLACK_SIGNING_SECRET"] = "8f742231b10e8888abcd99yyyzzz85a5";
    dir_.Write("data/delivery.yaml", fmt::format(R"(version: 1
channels:
  slack:
    url: {}
  pagerduty:
    url: {}
    routing_key: R0UT1NG
  email:
    smtp_url: {}
    starttls: false
    from: interlock@example.com
slack_commands:
  signing_secret_env: SLACK_SIGNING_SECRET
)",
                                                 slack_.Url("/services/T0/B0/X"),
                                                 pagerduty_.Url("/v2/enqueue"), smtp_.url()));
    Start();
  }

  // Posts a slash command signed as Slack signs it, `age` seconds ago.
  HttpAnswer Slash(const std::string& user, const std::string& command, const std::string& text,
                   int64_t age = 0, const std::string& secret = "") {
    std::string body = fmt::format(
        "token=x&team_id=T0&user_id={}&command={}&text={}&response_url=https%3A%2F%2Fhooks.slack."
        "com%2Fcommands%2F1",
        user, Encode(command), Encode(text));
    std::string timestamp = std::to_string(clock_.Now() / 1000 - age);
    return SignedSlash(body, timestamp, secret);
  }
  HttpAnswer SignedSlash(const std::string& body, const std::string& timestamp,
                         const std::string& secret = "") {
    std::string key = secret.empty() ? env_["SLACK_SIGNING_SECRET"] : secret;
    auto mac = HmacSha256({reinterpret_cast<const uint8_t*>(key.data()), key.size()},
                          "v0:" + timestamp + ":" + body);
    HttpClient client(port_);
    return client.Send("POST", "/slack/commands", "", body,
                       {{"Content-Type", "application/x-www-form-urlencoded"},
                        {"X-Slack-Request-Timestamp", timestamp},
                        {"X-Slack-Signature", "v0=" + ToHex(mac.data(), mac.size())}});
  }
  static std::string Encode(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
      if (std::isalnum(c)) {
        out += static_cast<char>(c);
      } else if (c == ' ') {
        out += '+';
      } else {
        out += fmt::format("%{:02X}", c);
      }
    }
    return out;
  }

  testing::HttpReceiver slack_;
  testing::HttpReceiver pagerduty_;
  testing::SmtpReceiver smtp_;
};

TEST_F(ServerNotifyTest, ApprovalsAndTheStopReachEveryConfiguredChannel) {
  // production_deployment notifies on slack and email.
  std::string id = Raise();
  auto posted = slack_.WaitFor(1);
  ASSERT_EQ(posted.size(), 1u);
  std::string text = json::parse(posted[0].body)["text"];
  EXPECT_NE(text.find("<@UBOB>"), std::string::npos) << text;    // team-lead: eligible
  EXPECT_NE(text.find("<@UCAROL>"), std::string::npos) << text;  // on-call: eligible
  EXPECT_NE(text.find(id), std::string::npos) << text;
  auto mails = smtp_.WaitFor(1, std::chrono::seconds(20));
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(std::find(mails[0].to.begin(), mails[0].to.end(), "bob@example.com"),
            mails[0].to.end());

  // The stop pages everyone the policy names (slack, email, pagerduty).
  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "db down"}}).status, 200);
  auto paged = pagerduty_.WaitFor(1);
  ASSERT_EQ(paged.size(), 1u);
  json event = json::parse(paged[0].body);
  EXPECT_EQ(event["routing_key"], "R0UT1NG");
  EXPECT_EQ(event["payload"]["severity"], "critical");
  EXPECT_NE(event["payload"]["summary"].get<std::string>().find("db down"), std::string::npos);
  posted = slack_.WaitFor(2);
  ASSERT_EQ(posted.size(), 2u);
  EXPECT_NE(posted[1].body.find("EMERGENCY STOP ACTIVATED"), std::string::npos);
  // Approvers of the pending request are told: bob holds team-lead only.
  EXPECT_NE(posted[1].body.find("<@UBOB>"), std::string::npos) << posted[1].body;

  for (int i = 0; i < 200 && service_->notifier().stats().pending > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  HttpAnswer trail = Call("GET", "/v1/audit/entries?event_type=notification_delivered", "erin");
  EXPECT_EQ(Body(trail)["entries"].size(), 5u) << trail.body;
  HttpAnswer metrics = Call("GET", "/metrics", "alice");
  EXPECT_NE(metrics.body.find("interlock_notifications_total{result=\"delivered\"} 5\n"),
            std::string::npos)
      << metrics.body;
}

TEST_F(ServerNotifyTest, TimeoutsTellTheStakeholdersEachTime) {
  std::string id = Raise();
  slack_.WaitFor(1);
  clock_.Advance(31 * 60'000);
  service_->Tick();
  auto posted = slack_.WaitFor(2);
  ASSERT_EQ(posted.size(), 2u);
  std::string text = json::parse(posted[1].body)["text"];
  EXPECT_NE(text.find("is escalated"), std::string::npos) << text;
  EXPECT_NE(text.find("<@UDAVE>"), std::string::npos) << text;  // the escalation role
  clock_.Advance(31 * 60'000);
  service_->Tick();
  posted = slack_.WaitFor(3);
  ASSERT_EQ(posted.size(), 3u);
  EXPECT_NE(posted[2].body.find("is blocked"), std::string::npos) << posted[2].body;
  EXPECT_NE(posted[2].body.find("<@UALICE>"), std::string::npos) << posted[2].body;  // requester
}

TEST_F(ServerNotifyTest, UndeliveredNotificationsSurviveARestart) {
  slack_.AnswerWith(503);
  std::string id = Raise();
  slack_.WaitFor(1);
  for (int i = 0; i < 200 && service_->notifier().stats().retried == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Stop();
  slack_.AnswerWith(200);
  clock_.Advance(60'000);
  Start();
  auto posted = slack_.WaitFor(2);
  ASSERT_EQ(posted.size(), 2u);
  EXPECT_EQ(posted[0].body, posted[1].body);
  EXPECT_NE(posted[1].body.find(id), std::string::npos);
}

TEST_F(ServerNotifyTest, SlackCommandsStopApproveAndReport) {
  HttpAnswer status = Slash("UALICE", "/emergency-stop", "status");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(Body(status)["text"], "The emergency stop is not active.");
  EXPECT_EQ(Body(status)["response_type"], "ephemeral");

  // alice is an engineer: refused, in words.
  HttpAnswer refused = Slash("UALICE", "/emergency-stop", "activate bad deploy");
  EXPECT_EQ(Body(refused)["response_type"], "ephemeral");
  EXPECT_NE(Body(refused)["text"].get<std::string>().find("Refused: alice holds none"),
            std::string::npos)
      << refused.body;
  HttpAnswer unknown = Slash("UNOBODY", "/emergency-stop", "activate x");
  EXPECT_NE(Body(unknown)["text"].get<std::string>().find("not linked to a principal"),
            std::string::npos);

  std::string id = Raise();
  HttpAnswer approved = Slash("UBOB", "/approve", id + " ship it");
  ASSERT_EQ(approved.status, 200);
  EXPECT_EQ(Body(approved)["response_type"], "in_channel");
  EXPECT_EQ(Body(approved)["text"], fmt::format("bob approved {}: it is now pending", id));
  json a = Get(id);
  ASSERT_EQ(a["approvals"].size(), 1u);
  EXPECT_EQ(a["approvals"][0]["principal"], "bob");
  EXPECT_EQ(a["approvals"][0]["rationale"], "ship it");

  HttpAnswer stop = Slash("UCAROL", "/emergency-stop", "activate payments are failing");
  EXPECT_EQ(Body(stop)["response_type"], "in_channel");
  EXPECT_NE(Body(stop)["text"].get<std::string>().find("EMERGENCY STOP activated by carol"),
            std::string::npos);
  json state = Body(Call("GET", "/api/emergency-stop", "alice"));
  EXPECT_TRUE(state["active"].get<bool>());
  EXPECT_EQ(state["reason"], "payments are failing");
  clock_.Advance(1000);  // the same request in the same second would be a replay
  HttpAnswer active = Slash("UALICE", "/emergency-stop", "status");
  EXPECT_NE(Body(active).value("text", "").find("ACTIVE"), std::string::npos) << active.body;
  HttpAnswer usage = Slash("UALICE", "/emergency-stop", "pause");
  EXPECT_NE(Body(usage)["text"].get<std::string>().find("Usage"), std::string::npos);
}

// A timestamp that would overflow the difference from now is refused like
// any stale one, before the signature is even looked at.
TEST_F(ServerNotifyTest, SlackCommandsSteerARollout) {
  HttpAnswer d = Decide("alice", Request("alice", "human", "staging", "1.0.0", "1.0.1"));
  json opened = Body(
      Call("POST", "/v1/rollouts", "alice", json{{"audit_index", Body(d)["audit_index"]}}.dump()));
  std::string id = opened.value("id", "");
  ASSERT_FALSE(id.empty()) << opened.dump();
  HttpAnswer paused = Slash("UCAROL", "/rollout", "pause " + id + " error budget is low");
  ASSERT_EQ(paused.status, 200);
  EXPECT_EQ(Body(paused)["response_type"], "in_channel");
  EXPECT_EQ(Body(paused)["text"], "carol took pause on rollout " + id +
                                      ": it is paused at step 1 of 1 (100% of traffic)");
  json r = Body(Call("GET", "/v1/rollouts/" + id, "alice"));
  EXPECT_EQ(r["state"], "paused");
  EXPECT_EQ(r["history"].back()["by"], "carol");
  EXPECT_EQ(r["history"].back()["why"], "error budget is low");
  // bob may not promote: refused, in words, to him alone.
  HttpAnswer refused = Slash("UBOB", "/rollout", "promote " + id + " looks fine");
  EXPECT_EQ(Body(refused)["response_type"], "ephemeral");
  EXPECT_NE(Body(refused)["text"].get<std::string>().find("Refused: "), std::string::npos);
  HttpAnswer usage = Slash("UCAROL", "/rollout", "resume " + id);
  EXPECT_EQ(Body(usage)["text"], "Usage: /rollout resume &lt;rollout id&gt; &lt;rationale&gt;");
  EXPECT_EQ(Body(Slash("UCAROL", "/rollout", "resume " + id + " budget restored"))["response_type"],
            "in_channel");
  EXPECT_EQ(Body(Call("GET", "/v1/rollouts/" + id, "alice"))["state"], "progressing");
}

TEST_F(ServerNotifyTest, AHostileSlackTimestampIsRefusedNotOverflowed) {
  for (std::string timestamp :
       {"-9223372036854775808", "9223372036854775807", "+1790000000", "1e9", ""}) {
    HttpAnswer a = SignedSlash("user_id=UALICE&command=%2Femergency-stop&text=status", timestamp);
    EXPECT_EQ(a.status, 401) << timestamp;
    EXPECT_EQ(Body(a)["error"]["message"],
              "X-Slack-Request-Timestamp is not within 5 minutes of now; the request is refused "
              "as a possible replay")
        << timestamp;
  }
}

TEST_F(ServerNotifyTest, SlackRepliesCarryNoMarkupFromUsers) {
  HttpAnswer stop =
      Slash("UCAROL", "/emergency-stop", "activate <!channel> see <https://evil.example|docs>");
  ASSERT_EQ(stop.status, 200);
  std::string text = Body(stop)["text"];
  EXPECT_EQ(text.find("<!channel>"), std::string::npos) << text;
  EXPECT_NE(text.find("&lt;!channel&gt; see &lt;https://evil.example|docs&gt;"), std::string::npos)
      << text;
}

TEST_F(ServerNotifyTest, SlackRequestsMustBeSignedFreshAndNew) {
  HttpAnswer wrong = Slash("UCAROL", "/emergency-stop", "activate x", 0, "not-the-secret");
  EXPECT_EQ(wrong.status, 401);
  HttpAnswer old = Slash("UCAROL", "/emergency-stop", "activate x", 301);
  EXPECT_EQ(old.status, 401);
  EXPECT_NE(old.body.find("5 minutes"), std::string::npos);
  EXPECT_EQ(Slash("UCAROL", "/emergency-stop", "activate x", -301).status, 401);
  HttpAnswer unsigned_request = HttpClient(port_).Send("POST", "/slack/commands", "", "text=x");
  EXPECT_EQ(unsigned_request.status, 401);
  EXPECT_FALSE(Body(Call("GET", "/api/emergency-stop", "alice"))["active"].get<bool>());

  // Signed and fresh: accepted once; the same bytes again are a replay.
  std::string timestamp = std::to_string(clock_.Now() / 1000 - 10);
  std::string body = "user_id=UALICE&command=%2Femergency-stop&text=status";
  EXPECT_EQ(SignedSlash(body, timestamp).status, 200);
  HttpAnswer replay = SignedSlash(body, timestamp);
  EXPECT_EQ(replay.status, 401);
  EXPECT_NE(replay.body.find("already received"), std::string::npos);
  // A body changed after signing.
  std::string tampered = body;
  HttpClient client(port_);
  auto mac = HmacSha256({reinterpret_cast<const uint8_t*>(env_["SLACK_SIGNING_SECRET"].data()),
                         env_["SLACK_SIGNING_SECRET"].size()},
                        "v0:" + timestamp + ":" + body);
  HttpAnswer changed = client.Send("POST", "/slack/commands", "",
                                   "user_id=UCAROL&command=%2Femergency-stop&text=activate+x",
                                   {{"X-Slack-Request-Timestamp", timestamp},
                                    {"X-Slack-Signature", "v0=" + ToHex(mac.data(), mac.size())}});
  EXPECT_EQ(changed.status, 401);
}

TEST_F(ServerTest, SlackCommandsAreOffWithoutASigningSecret) {
  HttpAnswer a = HttpClient(port_).Send("POST", "/slack/commands", "", "text=status");
  EXPECT_EQ(a.status, 404);
  EXPECT_NE(a.body.find("signing_secret"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Scoped stops

TEST_F(ServerTest, AnEnvironmentStopDeniesOnlyThatEnvironment) {
  json scope = {{"environment", "production"}};
  HttpAnswer on =
      StopAction("carol", {{"action", "activate"}, {"reason", "prod db"}, {"scope", scope}});
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_EQ(Body(on)["scope"], scope);
  HttpAnswer prod = Decide("alice", Request("alice", "human", "production", "1.2.0", "1.2.1"));
  EXPECT_EQ(Body(prod)["decision"], "deny") << prod.body;
  EXPECT_NE(prod.body.find("prod db"), std::string::npos);
  HttpAnswer staging = Decide("alice", Request("alice", "human", "staging", "1.2.0", "1.2.1"));
  EXPECT_NE(Body(staging)["decision"], "deny") << staging.body;
  // AI agents: refused in production only.
  HttpAnswer agent_prod = Decide("deployment-agent-01", Request("deployment-agent-01", "ai_agent",
                                                                "production", "1.2.0", "1.2.1"));
  EXPECT_EQ(agent_prod.status, 423) << agent_prod.body;
  HttpAnswer agent_dev = Decide(
      "deployment-agent-01", Request("deployment-agent-01", "ai_agent", "dev", "1.2.0", "1.2.1"));
  EXPECT_EQ(agent_dev.status, 200) << agent_dev.body;

  json state = Body(Call("GET", "/api/emergency-stop", "alice"));
  EXPECT_FALSE(state["active"].get<bool>());
  ASSERT_EQ(state["scoped"].size(), 1u);
  EXPECT_EQ(state["scoped"][0]["scope"], scope);
  EXPECT_TRUE(state["scoped"][0]["active"].get<bool>());

  // The same two-person rule ends it; the global stop is untouched.
  json off = Deactivation();
  off["scope"] = scope;
  EXPECT_EQ(StopAction("dave", off).status, 200);
  EXPECT_TRUE(Body(Call("GET", "/api/emergency-stop", "alice"))["scoped"][0]["active"].get<bool>());
  EXPECT_EQ(StopAction("dave", off).status, 400);  // the same person twice
  ASSERT_EQ(StopAction("erin", off).status, 200);
  EXPECT_NE(
      Body(Decide("alice", Request("alice", "human", "production", "1.2.0", "1.2.1")))["decision"],
      "deny");
  // AI agents in production stay disabled until re-enabled.
  EXPECT_EQ(Decide("deployment-agent-01",
                   Request("deployment-agent-01", "ai_agent", "production", "1.2.0", "1.2.1"))
                .status,
            423);
  ASSERT_EQ(
      StopAction("dave", {{"action", "reenable_ai_agents"}, {"reason", "fixed"}, {"scope", scope}})
          .status,
      200);
  EXPECT_EQ(Decide("deployment-agent-01",
                   Request("deployment-agent-01", "ai_agent", "production", "1.2.0", "1.2.1"))
                .status,
            200);
}

TEST_F(ServerTest, AnAgentStopLocksOutThatAgentAndSurvivesARestart) {
  json scope = {{"agent", "deployment-agent-01"}};
  ASSERT_EQ(
      StopAction("erin", {{"action", "activate"}, {"reason", "runaway"}, {"scope", scope}}).status,
      200);
  Token("deployment-agent-01");
  Stop();
  Start();
  EXPECT_EQ(Call("GET", "/v1/approvals", "deployment-agent-01").status, 423);
  HttpAnswer human = Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.1"));
  EXPECT_EQ(Body(human)["decision"], "allow");
  for (const json& bad :
       {json{{"agent", "alice"}}, json{{"environment", "prod"}}, json{{"service", "a b"}},
        json{{"team", "x"}}, json{{"environment", "dev"}, {"service", "api"}}, json("all")}) {
    HttpAnswer a = StopAction("erin", {{"action", "activate"}, {"reason", "x"}, {"scope", bad}});
    EXPECT_EQ(a.status, 400) << bad.dump();
    EXPECT_NE(a.body.find("scope"), std::string::npos) << a.body;
  }
}

TEST_F(ServerTest, AServiceStopDeniesThatServiceOnly) {
  ASSERT_EQ(StopAction("carol", {{"action", "activate"},
                                 {"reason", "api melting"},
                                 {"scope", {{"service", "api"}}}})
                .status,
            200);
  // Request() names service "api".
  EXPECT_EQ(Body(Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.1")))["decision"],
            "deny");
  json other = json::parse(Request("alice", "human", "dev", "1.0.0", "1.0.1"));
  other["change"]["service"] = "billing";
  EXPECT_EQ(Body(Decide("alice", other.dump()))["decision"], "allow");
}

}  // namespace
}  // namespace interlock::server
