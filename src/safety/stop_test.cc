#include "safety/stop.h"

#include <gtest/gtest.h>

#include "../../tests/test_util.h"
#include "audit/event.h"

namespace interlock::safety {
namespace {

using governance::Governance;
using governance::Principal;

constexpr UnixMillis kT0 = 1705314600000;

const Governance& G() { return interlock::testing::DefaultGovernance(); }

const Principal& P(const Governance& g, std::string_view id) {
  const Principal* p = g.FindPrincipal(id);
  EXPECT_NE(p, nullptr) << id;
  return *p;
}

std::map<std::string, std::string> Fields() {
  return {{"post_incident_review", "PIR-1"},
          {"root_cause", "a bad flag"},
          {"prevention_measures", "flag review"}};
}

// The next state; a failed step fails the test with its message. The
// event must be one the audit log accepts.
StopState Must(Result<StopChange> change) {
  EXPECT_TRUE(change.has_value()) << change.error().message();
  if (!change) return {};
  auto event = audit::ParseEvent(change->event.dump(), 0);
  EXPECT_TRUE(event.has_value()) << event.error().message();
  return change->next;
}

TEST(EmergencyStop, ActivationNeedsAnActivationRoleAndAReason) {
  auto by_alice = Activate(G(), {}, P(G(), "alice"), "db on fire", kT0);
  ASSERT_FALSE(by_alice);
  EXPECT_EQ(by_alice.error().kind(), ErrorKind::kPermissionDenied);
  auto no_reason = Activate(G(), {}, P(G(), "carol"), "  ", kT0);
  ASSERT_FALSE(no_reason);
  EXPECT_EQ(no_reason.error().kind(), ErrorKind::kInvalidArgument);
  StopState on = Must(Activate(G(), {}, P(G(), "carol"), "db on fire", kT0));
  EXPECT_TRUE(on.active);
  EXPECT_TRUE(on.ai_disabled);
  EXPECT_EQ(on.activated_by, "carol");
}

TEST(EmergencyStop, DeactivationNeedsOneDistinctPersonPerRole) {
  StopState on = Must(Activate(G(), {}, P(G(), "carol"), "db on fire", kT0));
  StopState half = Must(Deactivate(G(), on, P(G(), "dave"), Fields(), kT0 + 1));
  EXPECT_TRUE(half.active);
  EXPECT_EQ(PendingRoles(G(), half), std::vector<std::string>{"security-lead"});
  auto again = Deactivate(G(), half, P(G(), "dave"), Fields(), kT0 + 2);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message(),
            "dave has already signed the deactivation (as engineering-lead); another person must "
            "sign");
  auto missing = Deactivate(G(), half, P(G(), "erin"), {}, kT0 + 2);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(),
            "post_incident_review: required to deactivate the emergency stop");
  StopState off = Must(Deactivate(G(), half, P(G(), "erin"), Fields(), kT0 + 3));
  EXPECT_FALSE(off.active);
  EXPECT_TRUE(off.ai_disabled);
  EXPECT_EQ(off.last_deactivation.size(), 2u);
}

// required_roles [security-lead] with distinct_people 2: the second
// security lead completes the deactivation (it used to be refused with 403,
// leaving the stop on for good).
TEST(EmergencyStop, OneRoleTwoPeopleCanEndTheStop) {
  Governance g = interlock::testing::FreshDefaultGovernance();
  g.emergency_stop.deactivate_roles.reset();
  g.emergency_stop.deactivate_roles.set(*g.FindRole("security-lead"));
  g.emergency_stop.deactivate_distinct_people = 2;
  for (Principal& p : g.principals) {
    if (p.id == "mallory") p.roles.set(*g.FindRole("security-lead"));
  }
  StopState on = Must(Activate(g, {}, P(g, "carol"), "db on fire", kT0));
  StopState half = Must(Deactivate(g, on, P(g, "erin"), Fields(), kT0 + 1));
  EXPECT_TRUE(half.active);
  EXPECT_EQ(PendingRoles(g, half), std::vector<std::string>{"security-lead"});
  StopState off = Must(Deactivate(g, half, P(g, "mallory"), Fields(), kT0 + 2));
  EXPECT_FALSE(off.active);
}

TEST(EmergencyStop, APersonSignsOnceWhateverTheirIdentities) {
  Governance g = interlock::testing::FreshDefaultGovernance();
  for (Principal& p : g.principals) {
    if (p.id == "dave" || p.id == "erin") p.email = "same@example.com";
  }
  StopState on = Must(Activate(g, {}, P(g, "carol"), "db on fire", kT0));
  StopState half = Must(Deactivate(g, on, P(g, "dave"), Fields(), kT0 + 1));
  auto second = Deactivate(g, half, P(g, "erin"), Fields(), kT0 + 2);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message(),
            "erin has already signed the deactivation (as engineering-lead, through dave); "
            "another person must sign");
}

TEST(EmergencyStop, ServiceScopesAreCanonicalAndCoverRequestsThatNameNoService) {
  auto scope = Scope::FromJson(G(), {{"service", "Payments"}});
  ASSERT_TRUE(scope.has_value()) << scope.error().message();
  EXPECT_EQ(scope->Key(), "service:payments");
  EXPECT_TRUE(scope->Covers(Environment::kDev, std::string("PAYMENTS"), "alice"));
  EXPECT_TRUE(scope->Covers(Environment::kDev, std::nullopt, "alice"));
  EXPECT_FALSE(scope->Covers(Environment::kDev, std::string("billing"), "alice"));
  auto bad = Scope::FromJson(G(), {{"service", "pay ments"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "scope.service: \"pay ments\" is not a service name (1-128 of a-z A-Z 0-9 . _ -)");
  Governance known = interlock::testing::FreshDefaultGovernance();
  known.services = {"payments", "api"};
  auto unknown = Scope::FromJson(known, {{"service", "billing"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(),
            "scope.service: \"billing\" is not a service of interlock.yaml (payments, api)");
}

TEST(EmergencyStop, AiAgentsAreReenabledOnlyAfterTheStopAndByTheirRole) {
  StopState on = Must(Activate(G(), {}, P(G(), "carol"), "db on fire", kT0));
  auto early = ReenableAiAgents(G(), on, P(G(), "dave"), "fixed");
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().message(),
            "AI agents cannot be re-enabled while the emergency stop is active");
  StopState off = Must(Deactivate(G(), Must(Deactivate(G(), on, P(G(), "dave"), Fields(), kT0)),
                                  P(G(), "erin"), Fields(), kT0));
  auto by_alice = ReenableAiAgents(G(), off, P(G(), "alice"), "fixed");
  ASSERT_FALSE(by_alice);
  EXPECT_EQ(by_alice.error().kind(), ErrorKind::kPermissionDenied);
}

}  // namespace
}  // namespace interlock::safety
