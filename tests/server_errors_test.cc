// The service's error answers, to the letter: status, headers and the whole
// body, code and message, as a client reads them.
#include <gtest/gtest.h>

#include <string>

#include "server_fixture.h"

namespace interlock::server {
namespace {

class ServerErrorsTest : public ServerTest {
 protected:
  // The body of an error answer of the service: one line of JSON.
  static std::string ErrorBody(const std::string& code, const std::string& message) {
    return json{{"error", {{"code", code}, {"message", message}}}}.dump() + "\n";
  }
};

TEST_F(ServerErrorsTest, AnUnknownRouteIsNotFoundBeforeAnyToken) {
  for (std::string who : {"", "alice"}) {
    HttpAnswer a = Call("GET", "/nowhere", who);
    EXPECT_EQ(a.status, 404);
    EXPECT_EQ(a.body, ErrorBody("not_found", "no route /nowhere"));
  }
  // A pattern's parameter is one segment, never empty.
  EXPECT_EQ(Call("GET", "/v1/approvals/a/b/c", "alice").body,
            ErrorBody("not_found", "no route /v1/approvals/a/b/c"));
  EXPECT_EQ(Call("POST", "/v1/approvals//approve", "alice").body,
            ErrorBody("not_found", "no route /v1/approvals//approve"));
}

TEST_F(ServerErrorsTest, AWrongMethodIsRefusedWithTheMethodsOfThePath) {
  HttpAnswer a = Call("DELETE", "/v1/decisions", "alice");
  EXPECT_EQ(a.status, 405);
  EXPECT_EQ(a.headers["allow"], "POST");
  EXPECT_EQ(a.body,
            ErrorBody("method_not_allowed", "/v1/decisions does not accept DELETE (only POST)"));

  HttpAnswer stop = Call("PUT", "/api/emergency-stop", "alice");
  EXPECT_EQ(stop.status, 405);
  EXPECT_EQ(stop.headers["allow"], "GET, POST");
  EXPECT_EQ(stop.body, ErrorBody("method_not_allowed",
                                 "/api/emergency-stop does not accept PUT (only GET, POST)"));

  HttpAnswer action = Call("GET", "/v1/approvals/apr_1/approve", "alice");
  EXPECT_EQ(action.headers["allow"], "POST");
  EXPECT_EQ(action.body, ErrorBody("method_not_allowed",
                                   "/v1/approvals/apr_1/approve does not accept GET (only POST)"));

  // The dashboard's files take no token, so the method is checked first.
  HttpAnswer page = Call("POST", "/assets/js/api.js", "", "{}");
  EXPECT_EQ(page.status, 405);
  EXPECT_EQ(page.headers["allow"], "GET");
  EXPECT_EQ(page.body,
            ErrorBody("method_not_allowed", "/assets/js/api.js does not accept POST (only GET)"));
  HttpAnswer health = Call("POST", "/healthz", "");
  EXPECT_EQ(health.body,
            ErrorBody("method_not_allowed", "/healthz does not accept POST (only GET)"));

  // On a route that takes a token, the token is checked first.
  EXPECT_EQ(Call("DELETE", "/v1/decisions", "").status, 401);
}

TEST_F(ServerErrorsTest, AMissingOrBadTokenIsUnauthorized) {
  HttpAnswer none = Call("GET", "/v1/me", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["www-authenticate"], "Bearer");
  EXPECT_EQ(none.body, ErrorBody("unauthorized", "a bearer token is required"));

  HttpClient client(port_);
  HttpAnswer basic = client.Send("GET", "/v1/me", "", "", {{"Authorization", "Basic YWxpY2U6"}});
  EXPECT_EQ(basic.status, 401);
  EXPECT_EQ(basic.headers["www-authenticate"], "Bearer");
  EXPECT_EQ(basic.body,
            ErrorBody("unauthorized", "the Authorization header must be \"Bearer <token>\""));

  HttpAnswer unknown = client.Send("GET", "/v1/me", "itk_0000000000000000_" + std::string(64, '0'));
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.headers["www-authenticate"], "Bearer");
  EXPECT_EQ(unknown.body, ErrorBody("unauthorized", "the bearer token is not valid"));
}

TEST_F(ServerErrorsTest, MalformedJsonSaysWhereAndWhat) {
  HttpAnswer decision = Decide("alice", "{\"change\": {\"type\": \"code\",\n \"environment\": }");
  EXPECT_EQ(decision.status, 400);
  EXPECT_EQ(decision.body,
            ErrorBody("invalid_request",
                      "change.environment: malformed JSON at line 2, column 17: expected a value, "
                      "found '}'"));

  HttpAnswer stop = Call("POST", "/api/emergency-stop", "carol", "{\"action\": ");
  EXPECT_EQ(stop.status, 400);
  EXPECT_EQ(stop.body, ErrorBody("invalid",
                                 "action: malformed JSON at line 1, column 12: expected a "
                                 "value, found end of input"));

  HttpAnswer action = Call("POST", "/v1/approvals/apr_1/approve", "bob", "{\"rationale\": \"ok\",");
  EXPECT_EQ(action.status, 400);
  EXPECT_EQ(action.body, ErrorBody("invalid",
                                   "body: malformed JSON at line 1, column 20: expected a string "
                                   "key, found end of input"));
  // A body that is not an object is refused as such before it is read
  // further.
  EXPECT_EQ(Call("POST", "/v1/approvals/apr_1/approve", "bob", "[1, 2").body,
            ErrorBody("invalid", "body: expected a JSON object, found an array"));
}

TEST_F(ServerErrorsTest, AnUnknownFieldIsNamedWithTheFieldsExpected) {
  HttpAnswer stop = StopAction("carol", {{"action", "activate"}, {"why", "x"}});
  EXPECT_EQ(stop.status, 400);
  EXPECT_EQ(stop.body,
            ErrorBody("invalid",
                      "body: unknown field \"why\" (expected one of: action, reason, scope, "
                      "post_incident_review, root_cause, prevention_measures)"));

  HttpAnswer action = Call("POST", "/v1/approvals/apr_1/approve", "bob",
                           json{{"rationale", "ok"}, {"colour", "blue"}}.dump());
  EXPECT_EQ(action.status, 400);
  EXPECT_EQ(
      action.body,
      ErrorBody("invalid", "body: unknown field \"colour\" (expected one of: rationale, to)"));
}

TEST_F(ServerErrorsTest, AnActorOtherThanTheTokensIsForbidden) {
  HttpAnswer a = Decide("alice", Request("bob", "human", "staging", "1.2.0", "1.2.1"));
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.body, ErrorBody("forbidden",
                              "the request names actor bob (human), but the token belongs to alice "
                              "(human)"));
}

TEST_F(ServerErrorsTest, ABodyOverTheLimitIsRefusedByTheServer) {
  HttpAnswer a = Decide("alice", std::string((1 << 20) + 1, ' '));
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(
      a.body,
      R"({"error":{"code":"payload_too_large","message":"the request body exceeds 1048576 bytes"}})");
}

TEST_F(ServerErrorsTest, NamedThingsThatAreNotThereAreNotFound) {
  EXPECT_EQ(Call("GET", "/v1/approvals/apr_none", "bob").body,
            ErrorBody("not_found", "no approval apr_none"));
  EXPECT_EQ(Call("POST", "/v1/approvals/apr_none/approve", "bob", R"({"rationale": "ok"})").body,
            ErrorBody("not_found", "no approval apr_none"));
  EXPECT_EQ(Call("POST", "/v1/approvals/apr_none/bless", "bob", R"({"rationale": "ok"})").body,
            ErrorBody("not_found",
                      "no approval action \"bless\" (expected approve, reject, request_changes, "
                      "escalate, delegate or resubmit)"));
  EXPECT_EQ(Call("GET", "/assets/no-such-file.js", "").body,
            ErrorBody("not_found", "no dashboard file /assets/no-such-file.js"));
  EXPECT_EQ(HttpClient(port_).Send("POST", "/slack/commands", "", "text=status").body,
            ErrorBody("not_found",
                      "Slack commands are off: the delivery settings name no "
                      "slack_commands.signing_secret"));
}

TEST_F(ServerErrorsTest, BadQueryParametersAreNamed) {
  EXPECT_EQ(Call("GET", "/v1/audit/proof", "erin").body,
            ErrorBody("invalid", "query parameter index: required"));
  EXPECT_EQ(
      Call("GET", "/v1/audit/proof?index=x", "erin").body,
      ErrorBody("invalid", "query parameter index: expected a non-negative integer, got \"x\""));
  EXPECT_EQ(Call("GET", "/v1/approvals?limit=0", "bob").body,
            ErrorBody("invalid", "query parameter limit: expected an integer from 1 to 1000"));
  EXPECT_EQ(Call("GET", "/v1/stats?hours=169", "alice").body,
            ErrorBody("invalid", "query parameter hours: expected 1 to 168, got 169"));
}

TEST_F(ServerErrorsTest, ActionsTheRulesRefuseAreForbiddenOrLocked) {
  HttpAnswer reload = Call("POST", "/v1/governance/reload", "alice");
  EXPECT_EQ(reload.status, 403);
  EXPECT_EQ(reload.body, ErrorBody("forbidden",
                                   "alice holds none of the roles that may reload the governance "
                                   "(engineering-lead, security-lead)"));

  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "payments outage"}}).status,
            200);
  HttpAnswer agent = Call("GET", "/v1/me", "deployment-agent-01");
  EXPECT_EQ(agent.status, 423);
  EXPECT_EQ(agent.body, ErrorBody("locked",
                                  "AI agents are refused while the emergency stop is active: "
                                  "payments outage"));
}

TEST_F(ServerErrorsTest, AnInvalidGovernanceIsUnprocessable) {
  dir_.Write("governance/interlock.yaml", "version: 1\nroles: [\n");
  HttpAnswer a = Call("POST", "/v1/governance/reload", "erin");
  EXPECT_EQ(a.status, 422);
  EXPECT_EQ(json::parse(a.body)["error"]["code"], "invalid_governance");
}

}  // namespace
}  // namespace interlock::server
