#include "safety/freeze.h"

#include <gtest/gtest.h>

#include "core/cron.h"
#include "core/fs.h"

namespace interlock::safety {
namespace {

using governance::FreezeKind;
using governance::FreezeWindow;

UnixMillis At(int y, int mo, int d, int h = 0, int mi = 0) {
  return (DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

std::shared_ptr<const TimeZone> Berlin() {
  RealFileSystem fs;
  auto z = TimeZone::Load(fs, kZoneinfoDir, "Europe/Berlin");
  EXPECT_TRUE(z.has_value());
  return *z;
}

FreezeWindow Weekend() {
  FreezeWindow w;
  w.name = "weekend";
  w.reason = "no production changes over the weekend";
  w.kind = FreezeKind::kWeekly;
  w.weekly_from = *ParseWeekTime("Fri 16:00");
  w.weekly_to = *ParseWeekTime("Mon 08:00");
  w.zone = Berlin();
  w.environments = {Environment::kProduction};
  return w;
}

FreezeWindow AfterRollback() {
  FreezeWindow w;
  w.name = "after-rollback";
  w.kind = FreezeKind::kAfterRollback;
  return w;
}

FreezeEvent PaymentsRolledBack(UnixMillis at) {
  return {FreezeKind::kAfterRollback, "payments", Environment::kProduction, at, "incident inc_1"};
}

TEST(FreezeTest, WeeklyWindowFollowsTheWallClockAcrossDaylightSavingTime) {
  governance::Governance g;
  g.freeze_windows = {Weekend()};
  const FreezeWindow& w = g.freeze_windows[0];
  // Winter: Berlin is UTC+1, so Friday 16:00 is 15:00 UTC.
  EXPECT_FALSE(ScheduledInForce(w, 0, At(2026, 12, 4, 14, 59)).has_value());
  auto f = ScheduledInForce(w, 0, At(2026, 12, 4, 15, 0));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->since, At(2026, 12, 4, 15, 0));
  EXPECT_EQ(f->until, At(2026, 12, 7, 7, 0));
  EXPECT_TRUE(ScheduledInForce(w, 0, At(2026, 12, 6, 12, 0)).has_value());
  EXPECT_TRUE(ScheduledInForce(w, 0, At(2026, 12, 7, 6, 59)).has_value());
  EXPECT_FALSE(ScheduledInForce(w, 0, At(2026, 12, 7, 7, 0)).has_value());
  EXPECT_FALSE(ScheduledInForce(w, 0, At(2026, 12, 9, 12, 0)).has_value());
  // Summer: UTC+2, so Friday 16:00 is 14:00 UTC.
  EXPECT_TRUE(ScheduledInForce(w, 0, At(2026, 7, 3, 14, 0)).has_value());
  EXPECT_FALSE(ScheduledInForce(w, 0, At(2026, 7, 3, 13, 59)).has_value());

  std::string production = "payments";
  FrozenChange change{Environment::kProduction, &production, ChangeType::kCode};
  auto frozen = Frozen(g, {}, change, At(2026, 12, 5, 10, 0));
  ASSERT_TRUE(frozen.has_value());
  EXPECT_EQ(Describe(g, *frozen),
            "freeze window 'weekend' (every Fri 16:00 to Mon 08:00, Europe/Berlin) is in force "
            "until 2026-12-07T07:00:00.000Z: no production changes over the weekend");
  change.environment = Environment::kStaging;
  EXPECT_FALSE(Frozen(g, {}, change, At(2026, 12, 5, 10, 0)).has_value());
}

TEST(FreezeTest, CronWindowLastsItsDurationFromEachFiring) {
  governance::Governance g;
  FreezeWindow w;
  w.name = "year-end";
  w.kind = FreezeKind::kCron;
  w.cron = *ParseCron("0 18 23 12 *");
  w.cron_text = "0 18 23 12 *";
  w.duration = Millis(10LL * 86'400'000);
  w.zone = TimeZone::Utc();
  g.freeze_windows = {w};
  EXPECT_FALSE(ScheduledInForce(g.freeze_windows[0], 0, At(2026, 12, 23, 17, 59)).has_value());
  auto f = ScheduledInForce(g.freeze_windows[0], 0, At(2027, 1, 1, 0, 0));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->since, At(2026, 12, 23, 18, 0));
  EXPECT_EQ(f->until, At(2027, 1, 2, 18, 0));
  EXPECT_FALSE(ScheduledInForce(g.freeze_windows[0], 0, At(2027, 1, 2, 18, 0)).has_value());
  EXPECT_EQ(ScheduleText(g.freeze_windows[0]), "for 10d from each \"0 18 23 12 *\", UTC");
}

TEST(FreezeTest, ModelUpdateFreezesItsServiceInItsEnvironmentForTheDuration) {
  governance::Governance g;
  FreezeWindow w;
  w.name = "model-observation";
  w.kind = FreezeKind::kAfterModelUpdate;
  w.duration = Millis(48LL * 3'600'000);
  w.change_types = {ChangeType::kModelUpdate};
  g.freeze_windows = {w};
  UnixMillis t0 = At(2026, 12, 1, 9, 0);
  std::vector<FreezeEvent> updates = {
      {FreezeKind::kAfterModelUpdate, "recommender", Environment::kProduction, t0, "model_update"}};
  FreezeEvents events{updates, {}};
  std::string recommender = "recommender", search = "search";
  FrozenChange change{Environment::kProduction, &recommender, ChangeType::kModelUpdate};
  auto f = Frozen(g, events, change, t0 + 3'600'000);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->until, t0 + 48 * 3'600'000LL);
  EXPECT_EQ(Describe(g, *f),
            "freeze window 'model-observation' (for 2d after a model_update to the same service) "
            "is in force for recommender (model_update) until 2026-12-03T09:00:00.000Z");
  EXPECT_FALSE(Frozen(g, events, change, t0 + 48 * 3'600'000LL).has_value());
  EXPECT_FALSE(Frozen(g, events, change, t0 - 1).has_value());
  // Another service, another environment, another kind of change: free.
  FrozenChange other = change;
  other.service = &search;
  EXPECT_FALSE(Frozen(g, events, other, t0 + 1).has_value());
  other = change;
  other.environment = Environment::kStaging;
  EXPECT_FALSE(Frozen(g, events, other, t0 + 1).has_value());
  other = change;
  other.change_type = ChangeType::kCode;
  EXPECT_FALSE(Frozen(g, events, other, t0 + 1).has_value());
  // A change that names no service might be the frozen one.
  other = change;
  other.service = nullptr;
  EXPECT_TRUE(Frozen(g, events, other, t0 + 1).has_value());

  auto listed = WindowsInForce(g, events, t0 + 1);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].service, "recommender");
  EXPECT_EQ(listed[0].environment, Environment::kProduction);
}

TEST(FreezeTest, RollbackFreezesUntilItsReviewIsIn) {
  governance::Governance g;
  g.freeze_windows = {AfterRollback()};
  UnixMillis t0 = At(2026, 12, 1, 9, 0);
  std::vector<FreezeEvent> open = {PaymentsRolledBack(t0)};
  std::string payments = "payments";
  FrozenChange change{Environment::kProduction, &payments, ChangeType::kCode};
  auto f = Frozen(g, FreezeEvents{{}, open}, change, t0 + 365LL * 86'400'000);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->until.has_value());
  EXPECT_EQ(Describe(g, *f),
            "freeze window 'after-rollback' (after a rollback of the same service, until its "
            "review is in) is in force for payments (incident inc_1) until the review is in");
  // Reviewed: the incident is no longer among the events.
  EXPECT_FALSE(Frozen(g, FreezeEvents{}, change, t0 + 1).has_value());
}

TEST(FreezeTest, ServicesListedCoverAChangeThatNamesNone) {
  FreezeWindow w = Weekend();
  w.services = {"payments"};
  std::string search = "search", payments = "payments";
  EXPECT_TRUE(Covers(w, {Environment::kProduction, &payments, ChangeType::kCode}));
  EXPECT_FALSE(Covers(w, {Environment::kProduction, &search, ChangeType::kCode}));
  EXPECT_TRUE(Covers(w, {Environment::kProduction, nullptr, ChangeType::kCode}));
}

TEST(FreezeTest, AChangeAsNamedIsCanonicalisedOnlyWhenAWindowCouldBeInForce) {
  governance::Governance g;
  g.freeze_windows = {AfterRollback()};
  UnixMillis t0 = At(2026, 12, 1, 9, 0);
  std::vector<FreezeEvent> open = {PaymentsRolledBack(t0)};
  // Event-driven windows with no events: nothing is frozen, whatever the
  // name.
  EXPECT_FALSE(FrozenAsNamed(g, FreezeEvents{}, Environment::kProduction, std::string("Payments"),
                             ChangeType::kCode, t0 + 1)
                   .has_value());
  // With the event, the name as written is taken in canonically, and one
  // that is not a service name counts as naming none (covered).
  FreezeEvents events{{}, open};
  for (const char* named : {"Payments", "payments", "not a service!"}) {
    EXPECT_TRUE(FrozenAsNamed(g, events, Environment::kProduction, std::string(named),
                              ChangeType::kCode, t0 + 1)
                    .has_value())
        << named;
  }
  EXPECT_TRUE(
      FrozenAsNamed(g, events, Environment::kProduction, std::nullopt, ChangeType::kCode, t0 + 1)
          .has_value());
  EXPECT_FALSE(FrozenAsNamed(g, events, Environment::kProduction, std::string("search"),
                             ChangeType::kCode, t0 + 1)
                   .has_value());
  // A scheduled window is looked at with no events at all.
  g.freeze_windows = {Weekend()};
  EXPECT_TRUE(FrozenAsNamed(g, FreezeEvents{}, Environment::kProduction, std::string("Search"),
                            ChangeType::kCode, At(2026, 12, 5, 12, 0))
                  .has_value());
}

}  // namespace
}  // namespace interlock::safety
