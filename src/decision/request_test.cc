#include "decision/request.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

namespace interlock::decision {
namespace {

constexpr std::string_view kRequest = R"({
  "actor": {"type": "ai_agent", "id": "agent-1", "roles": ["engineer"], "team": "payments"},
  "change": {"type": "code", "environment": "dev", "service": "api", "bump": "patch"},
  "ai": {"confidence": 0.9, "rationale": "tests passed"},
  "checks": {"tests_passed": true, "security_scan": {"passed": true, "max_severity": "none"}},
  "metadata": {"change_id": "C-1", "risk_level": "low", "deep": {"n": 3}}})";

std::string ErrorOf(std::string_view text) {
  auto request = ParseRequest(text);
  if (request) return "parsed without error";
  EXPECT_EQ(request.error().kind(), ErrorKind::kInvalidArgument);
  return request.error().message();
}

TEST(RequestTest, ReadsEveryField) {
  auto r = ParseRequest(kRequest);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->actor_given);
  EXPECT_EQ(r->actor_type, ActorType::kAiAgent);
  EXPECT_EQ(r->actor_id, "agent-1");
  EXPECT_EQ(r->actor_roles, std::vector<std::string>{"engineer"});
  EXPECT_EQ(r->actor_team, "payments");
  EXPECT_EQ(r->environment, Environment::kDev);
  EXPECT_EQ(r->service, "api");
  EXPECT_TRUE(r->bump_given);
  EXPECT_EQ(r->ai_confidence, 0.9);
  EXPECT_EQ(r->tests_passed, true);
  EXPECT_EQ(r->scan_max_severity, Severity::kNone);
  expr::Value n = LookupMetadata(*r, {"deep", "n"});
  EXPECT_EQ(n.type, expr::Type::kNumber);
  EXPECT_EQ(n.number, 3);
  EXPECT_EQ(LookupMetadata(*r, {"change_id"}).string, "C-1");
  EXPECT_EQ(LookupMetadata(*r, {"deep", "missing"}).type, expr::Type::kUnknown);
}

// A proxy or log that reads the first key must not see a different change
// from the one Interlock decides.
TEST(RequestTest, DuplicateEnvironmentIsRefused) {
  auto r = ParseRequest(
      R"({"actor": {"type": "human", "id": "a"},
          "change": {"type": "code", "environment": "production", "environment": "dev",
                     "bump": "patch"}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(r.error().message(), R"(change: duplicate key "environment" at line 2, column 67)");
}

TEST(RequestTest, ActorIsOptionalAndRecordedAsAbsent) {
  auto r = ParseRequest(R"({"change": {"type": "code", "environment": "dev", "bump": "patch"}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->actor_given);
  EXPECT_EQ(r->actor_id, "");
  EXPECT_TRUE(r->actor_roles.empty());
}

TEST(RequestTest, RefusalsUseTheSharedWordings) {
  EXPECT_EQ(ErrorOf(R"({"change": {}, "x": 1})"),
            R"(request: unknown field "x" (expected one of: actor, change, ai, checks, metadata))");
  EXPECT_EQ(ErrorOf(R"({"actor": {"type": "human"}, "change": {}})"), "actor.id: required");
  EXPECT_EQ(ErrorOf(R"({"actor": {"type": "human", "id": ""}})"), "actor.id: must not be empty");
  EXPECT_EQ(ErrorOf(R"({"actor": "alice"})"), "actor: expected an object, found a string");
  EXPECT_EQ(ErrorOf(R"({"actor": {"type": "human", "id": "a", "roles": "engineer"}})"),
            "actor.roles: expected an array of strings, found a string");
  EXPECT_EQ(ErrorOf(R"({"actor": {"type": "human", "id": "a", "roles": ["x", 1]}})"),
            "actor.roles[1]: expected a string, found a number");
  EXPECT_EQ(ErrorOf(R"({"change": {"type": "code", "environment": "dev", "bump": "patch"},
                        "ai": {"confidence": 1.5}})"),
            "ai.confidence: expected a number from 0 to 1, found 1.5");
  EXPECT_EQ(ErrorOf(R"({"change": {"type": "code", "environment": "dev", "bump": "patch"},
                        "checks": {"tests_passed": "yes"}})"),
            "checks.tests_passed: expected a boolean, found a string");
  EXPECT_EQ(ErrorOf(R"({"change": {"type": "code", "environment": "dev", "bump": "patch"},
                        "checks": {"security_scan": {"passed": true, "max_severity": "huge"}}})"),
            "checks.security_scan.max_severity: expected one of none, low, medium, high, "
            "critical, found \"huge\"");
  EXPECT_EQ(ErrorOf(R"({"change": {"type": "code", "environment": "dev", "bump": "patch"},
                        "metadata": {"risk_level": "severe"}})"),
            "metadata.risk_level: expected one of low, medium, high, critical, found \"severe\"");
  EXPECT_EQ(ErrorOf(R"({"change": {"type": "code", "environment": "dev", "bump": "patch"},
                        "metadata": {"owner": 5}})"),
            "metadata.owner: expected a string, found a number");
  EXPECT_EQ(ErrorOf(R"({"change": {"type": "code", "environment": "dev", "bump": "patch"},
                        "metadata": {"x": 1, "x": 2}})"),
            R"(metadata: duplicate key "x" at line 2, column 46)");
}

TEST(RequestTest, ReadsTheScansOfSecretsAndPersonalData) {
  std::string fp(64, 'c');
  auto r = ParseRequest(
      fmt::format(R"({{"change": {{"type": "code", "environment": "dev", "bump": "patch"}},
      "checks": {{"secret_scan": {{"findings": 1, "fingerprints": ["{}"], "rules": ["gitlab-pat"]}},
                 "pii_scan": {{"findings": 4, "kinds": {{"us_ssn": 1, "email": 3, "iban": 0}}}}}}}})",
                  fp));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->secret_scan.has_value());
  EXPECT_EQ(r->secret_scan->findings, 1u);
  EXPECT_EQ(r->secret_scan->fingerprints, std::vector<std::string>{fp});
  EXPECT_EQ(r->secret_scan->rules, std::vector<std::string>{"gitlab-pat"});
  ASSERT_TRUE(r->pii_scan.has_value());
  EXPECT_EQ(r->pii_scan->findings, 4u);
  // In kPiiKinds order, the zero left out.
  using Kinds = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(r->pii_scan->kinds, (Kinds{{"email", 3}, {"us_ssn", 1}}));

  auto bad = [](std::string_view checks) {
    return ErrorOf(
        fmt::format(R"({{"change": {{"type": "code", "environment": "dev", "bump": "patch"}},
                                   "checks": {}}})",
                    checks));
  };
  EXPECT_EQ(bad(R"({"secret_scan": {}})"), "checks.secret_scan.findings: required");
  EXPECT_EQ(bad(R"({"secret_scan": {"findings": -1}})"),
            "checks.secret_scan.findings: expected a whole number from 0 to 2^53 - 1, found -1");
  EXPECT_EQ(bad(R"({"secret_scan": {"findings": 1.5}})"),
            "checks.secret_scan.findings: expected a whole number from 0 to 2^53 - 1, found 1.5");
  EXPECT_EQ(bad(R"({"secret_scan": {"findings": "0"}})"),
            "checks.secret_scan.findings: expected a whole number from 0 to 2^53 - 1, found a "
            "string");
  EXPECT_EQ(bad(R"({"secret_scan": {"findings": 0, "fingerprints": ["AKIAIOSFODNN7EXAMPLE"]}})"),
            "checks.secret_scan.fingerprints[0]: expected 64 lowercase hexadecimal digits, found "
            "\"AKIAIOSFODNN7EXAMPLE\"");
  EXPECT_EQ(bad(R"({"secret_scan": {"findings": 0, "rules": ["a b"]}})"),
            "checks.secret_scan.rules[0]: expected a rule id (letters, digits, '-', '_' and '.'), "
            "found \"a b\"");
  EXPECT_EQ(bad(R"({"secret_scan": {"findings": 0, "secrets": ["x"]}})"),
            "checks.secret_scan: unknown field \"secrets\" (expected one of: findings, "
            "fingerprints, rules)");
  EXPECT_EQ(bad(R"({"pii_scan": {"findings": 1, "kinds": {"passport": 1}}})"),
            "checks.pii_scan.kinds: unknown field \"passport\" (expected one of: card, email, "
            "iban, ipv4, ipv6, phone, us_ssn)");
  EXPECT_EQ(bad(R"({"pii_scan": {"findings": 1, "findings": 0}})"),
            "checks.pii_scan: duplicate key \"findings\" at line 2, column 75");
}

TEST(RequestTest, LimitsStillApply) {
  EXPECT_EQ(ParseRequest(kRequest, {.max_bytes = 10}).error().message(),
            "request: larger than the limit of 10 bytes");
  EXPECT_EQ(ParseRequest(kRequest, {.max_depth = 2}).error().message(),
            "actor.roles: nesting deeper than 2 levels at line 2, column 59");
}

}  // namespace
}  // namespace interlock::decision
