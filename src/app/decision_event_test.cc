// The decision's audit event, written straight into canonical text, is the
// event the audit log's JSON path makes from the same members: same bytes,
// same fields, same errors.
#include "app/decision_event.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../../tests/test_util.h"

namespace interlock::app {
namespace {

using nlohmann::json;

constexpr UnixMillis kT0 = 1705314600000;  // 2024-01-15T10:30:00.000Z

const governance::Governance& G() { return interlock::testing::DefaultGovernance(); }

// The same event built as a JSON tree and made by audit::MakeEvent.
Result<audit::Event> Reference(const decision::Request& r, const decision::Decision& d,
                               const std::string& why, std::optional<std::string> approval_id) {
  bool ai = r.actor_type == ActorType::kAiAgent;
  json event = {{"event_type", "decision"},
                {"actor", {{"type", Name(r.actor_type)}, {"id", r.actor_id}}},
                {"environment", Name(r.environment)},
                {"action", {{"type", Name(r.change_type)}}},
                {"decision", {{"outcome", Name(d.kind)}, {"risk_level", Name(d.risk)}}},
                {"reason", why},
                {"ai_agent", {{"involved", ai}}},
                {"governance_version", G().version}};
  if (r.ai_rationale) {
    event["decision"]["rationale"] = *r.ai_rationale;
  } else if (ai) {
    event["decision"]["rationale"] = why;
  }
  if (r.service) event["action"]["service"] = *r.service;
  if (r.version) event["action"]["version"] = *r.version;
  if (r.ai_confidence) event["decision"]["confidence_score"] = *r.ai_confidence;
  if (r.summary) event["summary"] = *r.summary;
  if (approval_id) event["approval"] = {{"required", true}, {"id", *approval_id}};
  if (r.secret_scan) {
    event["scans"]["secrets"] = {{"findings", r.secret_scan->findings},
                                 {"fingerprints", r.secret_scan->fingerprints},
                                 {"rules", r.secret_scan->rules}};
  }
  if (r.pii_scan) {
    event["scans"]["pii"] = {{"findings", r.pii_scan->findings}};
    for (const auto& [kind, n] : r.pii_scan->kinds) event["scans"]["pii"]["kinds"][kind] = n;
  }
  return audit::MakeEvent(std::move(event), kT0);
}

void ExpectSame(const decision::Request& r, const std::string& why,
                std::optional<std::string> approval_id) {
  decision::Decision d;
  decision::Decide(G(), r, {}, &d);
  interlock::testing::ExpectSameEvent(DecisionEvent(G(), r, d, why, approval_id, kT0),
                                      Reference(r, d, why, approval_id));
}

decision::Request Base() {
  decision::Request r;
  r.actor_given = true;
  r.actor_id = "alice";
  r.change_type = ChangeType::kCode;
  r.environment = Environment::kProduction;
  return r;
}

TEST(DecisionEventTest, MatchesTheJsonPathForEveryShapeOfRequest) {
  const std::string whys[] = {"allowed by the matrix", "",
                              "quote \" backslash \\ slash / tab \t newline \n nul " +
                                  std::string(1, '\0') + " esc \x1b del \x7f",
                              "caf\xC3\xA9 \xE2\x80\xA8 \xF0\x9F\x9A\x80"};
  int cases = 0;
  for (ActorType actor : {ActorType::kHuman, ActorType::kAiAgent, ActorType::kService}) {
    for (Environment env : {Environment::kDev, Environment::kStaging, Environment::kProduction}) {
      for (int optional = 0; optional < 64; ++optional) {
        decision::Request r = Base();
        r.actor_type = actor;
        r.environment = env;
        r.change_type = (optional & 1) ? ChangeType::kInfrastructure : ChangeType::kCode;
        if (optional & 2) r.service = "api-gateway";
        if (optional & 4) r.version = "2.5.4";
        if (optional & 8) r.summary = "Add \"per-tenant\" limits\n";
        if (optional & 16) r.ai_confidence = (optional & 32) ? 0.92 : 1e-5;
        if (optional & 32) r.ai_rationale = "tests and canary are green";
        const std::string& why = whys[optional % std::size(whys)];
        std::optional<std::string> approval;
        if (optional & 1) approval = "apr_00112233aabbccdd";
        ExpectSame(r, why, approval);
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 3 * 3 * 64);
}

// The scans a request brings are recorded by their counts and
// fingerprints.
TEST(DecisionEventTest, RecordsTheScansTheGateUsed) {
  decision::Request secrets = Base();
  secrets.secret_scan = decision::SecretScanCheck{
      2, {std::string(64, 'a'), std::string(64, '0')}, {"aws-access-key-id", "github-pat"}};
  ExpectSame(secrets, "why", std::nullopt);
  decision::Request none = Base();
  none.secret_scan = decision::SecretScanCheck{};
  ExpectSame(none, "why", std::nullopt);
  decision::Request both = secrets;
  both.pii_scan = decision::PiiScanCheck{3, {{"email", 2}, {"us_ssn", 1}}};
  ExpectSame(both, "why", std::nullopt);
  decision::Request pii_only = Base();
  pii_only.pii_scan = decision::PiiScanCheck{};
  ExpectSame(pii_only, "why", std::nullopt);

  decision::Decision d;
  decision::Decide(G(), both, {}, &d);
  auto got = DecisionEvent(G(), both, d, "why", std::nullopt, kT0);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_NE(got->canonical.find(R"("scans":{"pii":{"findings":3,"kinds":{"email":2,"us_ssn":1}})"),
            std::string::npos)
      << got->canonical;
}

TEST(DecisionEventTest, NumbersAreWrittenAsTheJsonPathWritesThem) {
  for (double c : {0.0, 1.0, 0.5, 0.1, 0.92, 1e-4, 1e-5, 0.333333333333333314829616256247}) {
    decision::Request r = Base();
    r.ai_confidence = c;
    ExpectSame(r, "why", std::nullopt);
  }
}

TEST(DecisionEventTest, RefusesWhatTheJsonPathRefusesWithTheSameWords) {
  decision::Request empty_id = Base();
  empty_id.actor_id = "";
  ExpectSame(empty_id, "why", std::nullopt);

  decision::Request long_id = Base();
  long_id.actor_id = std::string(257, 'a');
  ExpectSame(long_id, "why", std::nullopt);

  decision::Request over_one = Base();
  over_one.ai_confidence = 1.5;
  ExpectSame(over_one, "why", std::nullopt);

  decision::Request silent_agent = Base();
  silent_agent.actor_type = ActorType::kAiAgent;
  silent_agent.ai_rationale = "";
  ExpectSame(silent_agent, "why", std::nullopt);

  decision::Request d = Base();
  decision::Decision decided;
  decision::Decide(G(), d, {}, &decided);
  auto got = DecisionEvent(G(), d, decided, "why", std::nullopt, kT0);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->canonical.find("rationale"), std::string::npos)
      << "a human's decision keeps its reason once: " << got->canonical;
}

TEST(DecisionEventTest, RefusesTextThatIsNotUtf8) {
  decision::Request r = Base();
  r.summary = "bad \xC3\x28 byte";
  decision::Decision d;
  decision::Decide(G(), r, {}, &d);
  auto got = DecisionEvent(G(), r, d, "why", std::nullopt, kT0);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(got.error().message(), "/summary: the string is not valid UTF-8");
}

}  // namespace
}  // namespace interlock::app
