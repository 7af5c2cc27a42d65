#include "app/stop_board.h"

#include <gtest/gtest.h>

namespace interlock::app {
namespace {

safety::StopState Active(safety::Scope scope, std::string reason) {
  safety::StopState s;
  s.scope = std::move(scope);
  s.active = true;
  s.ai_disabled = true;
  s.reason = std::move(reason);
  return s;
}

TEST(StopBoard, ASnapshotStaysAsItWasWhileTheNextIsPublished) {
  StopBoard board;
  std::shared_ptr<const StopMap> before = board.Snapshot();
  board.Put(Active({}, "db on fire"));
  EXPECT_FALSE(before->at("global").active);
  EXPECT_TRUE(board.Snapshot()->at("global").active);
}

TEST(StopBoard, CoveringFindsTheGlobalStopFirstThenScopes) {
  StopBoard board;
  board.Put(Active({safety::ScopeKind::kService, "payments"}, "double charging"));
  const StopMap& stops = *board.Snapshot();
  const safety::StopState* hit =
      Covering(stops, Environment::kDev, std::string("Payments"), "alice");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(CoveringReason(*hit, std::string("Payments")), "double charging (service payments)");
  hit = Covering(stops, Environment::kDev, std::nullopt, "alice");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(CoveringReason(*hit, std::nullopt),
            "double charging (service payments; the request names no service, so it counts as "
            "covered: name change.service)");
  EXPECT_EQ(Covering(stops, Environment::kDev, std::string("billing"), "alice"), nullptr);
  board.Put(Active({}, "db on fire"));
  hit = Covering(*board.Snapshot(), Environment::kDev, std::string("billing"), "alice");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(CoveringReason(*hit, std::string("billing")), "db on fire");
}

TEST(StopBoard, AgentsStayRefusedUntilReenabled) {
  StopBoard board;
  safety::StopState ended = Active({safety::ScopeKind::kEnvironment, "production"}, "x");
  ended.active = false;
  board.Put(ended);
  const StopMap& stops = *board.Snapshot();
  EXPECT_EQ(AiRefusal(stops, "agent-1", Environment::kProduction, std::nullopt),
            "AI agents stay disabled after the emergency stop (environment production) until "
            "they are re-enabled");
  EXPECT_EQ(AiRefusal(stops, "agent-1", Environment::kDev, std::nullopt), std::nullopt);
  EXPECT_EQ(AiRefusal(stops, "agent-1", std::nullopt, std::nullopt), std::nullopt);
}

}  // namespace
}  // namespace interlock::app
