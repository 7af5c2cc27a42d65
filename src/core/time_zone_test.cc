#include "core/time_zone.h"

#include <gtest/gtest.h>

#include "core/cron.h"
#include "core/memory_fs.h"

namespace interlock {
namespace {

constexpr int64_t kHour = 3600;

// Unix seconds of a UTC date and time.
int64_t Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

std::shared_ptr<const TimeZone> Real(std::string_view name) {
  RealFileSystem fs;
  auto z = TimeZone::Load(fs, kZoneinfoDir, name);
  EXPECT_TRUE(z.has_value()) << (z ? "" : z.error().message());
  return z ? *z : TimeZone::Utc();
}

// A version 2 TZif file with no transitions, one local time type and
// `footer` as its POSIX TZ rule: a zone that runs on the rule alone.
std::string RuleOnly(std::string_view footer, int32_t offset) {
  auto header = [](uint32_t typecnt, uint32_t charcnt) {
    std::string h = "TZif2";
    h.append(15, '\0');
    for (uint32_t c : {0u, 0u, 0u, 0u, typecnt, charcnt}) {
      for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((c >> shift) & 0xff);
    }
    return h;
  };
  auto type = [](int32_t off) {
    std::string t;
    for (int shift = 24; shift >= 0; shift -= 8) {
      t += static_cast<char>((static_cast<uint32_t>(off) >> shift) & 0xff);
    }
    t += '\0';  // isdst
    t += '\0';  // desigidx
    return t;
  };
  std::string out = header(1, 4) + type(offset) + std::string("CET\0", 4);
  out += header(1, 4) + type(offset) + std::string("CET\0", 4);
  out += "\n" + std::string(footer) + "\n";
  return out;
}

TEST(CivilTest, DaysRoundTripAndWeekdays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  CivilTime c = CivilFromDays(DaysFromCivil(2026, 12, 7));
  EXPECT_EQ(c.year, 2026);
  EXPECT_EQ(c.month, 12);
  EXPECT_EQ(c.day, 7);
  EXPECT_EQ(c.weekday, 1);  // a Monday
  EXPECT_EQ(CivilFromDays(DaysFromCivil(2024, 2, 29)).day, 29);
  EXPECT_EQ(CivilFromDays(-1).weekday, 3);  // 1969-12-31, a Wednesday
  for (int64_t d = -800000; d < 800000; d += 997) {
    CivilTime x = CivilFromDays(d);
    ASSERT_EQ(DaysFromCivil(x.year, x.month, x.day), d);
  }
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(2100, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
}

TEST(TimeZoneTest, BerlinSwitchesAtTheEuropeanUnionHours) {
  auto z = Real("Europe/Berlin");
  // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
  EXPECT_EQ(z->OffsetAt(Utc(2026, 3, 29, 0, 59, 59)), kHour);
  EXPECT_EQ(z->OffsetAt(Utc(2026, 3, 29, 1)), 2 * kHour);
  EXPECT_EQ(z->OffsetAt(Utc(2026, 10, 25, 0, 59, 59)), 2 * kHour);
  EXPECT_EQ(z->OffsetAt(Utc(2026, 10, 25, 1)), kHour);
  CivilTime c = z->ToCivil(Utc(2026, 12, 4, 15) * 1000);  // a Friday
  EXPECT_EQ(c.hour, 16);
  EXPECT_EQ(c.weekday, 5);
  // Before the first transition, the first local time type (local mean time).
  EXPECT_EQ(z->OffsetAt(Utc(1850, 1, 1)), 3208);
}

TEST(TimeZoneTest, SouthernHemisphereAndHalfHours) {
  auto sydney = Real("Australia/Sydney");
  EXPECT_EQ(sydney->OffsetAt(Utc(2026, 1, 15)), 11 * kHour);
  EXPECT_EQ(sydney->OffsetAt(Utc(2026, 7, 15)), 10 * kHour);
  auto kolkata = Real("Asia/Kolkata");
  EXPECT_EQ(kolkata->OffsetAt(Utc(2026, 7, 15)), 5 * kHour + 1800);
  EXPECT_EQ(TimeZone::Utc()->OffsetAt(Utc(2026, 7, 15)), 0);
}

TEST(TimeZoneTest, FooterRuleAgreesWithTheTransitions) {
  // The same zones run on their rule alone must give the offsets the
  // compiled transitions give, hour by hour over years with both.
  struct Case {
    std::string_view name, rule;
    int32_t standard;
  };
  for (const Case& c : {Case{"Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3", 3600},
                        Case{"America/New_York", "EST5EDT,M3.2.0,M11.1.0", -5 * 3600},
                        Case{"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3", 10 * 3600}}) {
    auto real = Real(c.name);
    auto rule = TimeZone::Parse(c.name, RuleOnly(c.rule, c.standard));
    ASSERT_TRUE(rule.has_value()) << rule.error().message();
    for (int64_t t = Utc(2025, 1, 1); t < Utc(2030, 1, 1); t += kHour) {
      ASSERT_EQ((*rule)->OffsetAt(t), real->OffsetAt(t)) << c.name << " at " << t;
    }
  }
}

TEST(TimeZoneTest, RefusesBadNamesAndBadFiles) {
  RealFileSystem fs;
  for (std::string_view name :
       {"../etc/passwd", "/etc/localtime", "Europe//Berlin", "", "Europe/Berlin/", "Eu rope"}) {
    auto z = TimeZone::Load(fs, kZoneinfoDir, name);
    ASSERT_FALSE(z.has_value()) << name;
    EXPECT_EQ(z.error().kind(), ErrorKind::kInvalidArgument) << name;
  }
  auto missing = TimeZone::Load(fs, kZoneinfoDir, "Mars/Olympus_Mons");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("no time zone Mars/Olympus_Mons"), std::string::npos);

  EXPECT_FALSE(TimeZone::Parse("x", "").has_value());
  EXPECT_FALSE(TimeZone::Parse("x", "TZif2").has_value());
  std::string good = RuleOnly("CET-1CEST,M3.5.0,M10.5.0/3", 3600);
  ASSERT_TRUE(TimeZone::Parse("x", good).has_value());
  // Every truncation fails cleanly.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(TimeZone::Parse("x", good.substr(0, n)).has_value()) << n;
  }
  for (std::string_view rule : {"CET", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.5.0",
                                "CET-1CEST,M3.5.0,M10.5.0/x", "CET-1CEST,J0,J365"}) {
    auto z = TimeZone::Parse("x", RuleOnly(rule, 3600));
    EXPECT_FALSE(z.has_value()) << rule;
  }
}

TEST(CronTest, ParsesTheCrontabForms) {
  auto s = ParseCron("0 16 * * fri");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_TRUE(s->minutes[0]);
  EXPECT_EQ(s->minutes.count(), 1u);
  EXPECT_TRUE(s->hours[16]);
  EXPECT_TRUE(s->weekdays[5]);
  EXPECT_EQ(s->weekdays.count(), 1u);

  auto steps = ParseCron("*/15 9-17/4 1,15 Jan-Mar 7");
  ASSERT_TRUE(steps.has_value()) << steps.error().message();
  EXPECT_EQ(steps->minutes.count(), 4u);
  EXPECT_TRUE(steps->hours[9] && steps->hours[13] && steps->hours[17]);
  EXPECT_EQ(steps->hours.count(), 3u);
  EXPECT_EQ(steps->months.count(), 3u);
  EXPECT_TRUE(steps->weekdays[0]);  // 7 is Sunday

  auto bad = ParseCron("0 25 * * *");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "cron hour \"25\": a value out of range (expected 0-23, *, a-b, */n or a list)");
  EXPECT_EQ(ParseCron("0 16 * *").error().message(),
            "cron \"0 16 * *\": expected 5 fields (minute hour day-of-month month day-of-week), "
            "found 4");
  for (std::string_view text : {"5-1 * * * *", "*/0 * * * *", "1, * * * *", "* * 0 * *",
                                "* * * * funday", "a b c d e", "* * * * * *"}) {
    EXPECT_FALSE(ParseCron(text).has_value()) << text;
  }
}

TEST(CronTest, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  auto s = ParseCron("0 0 13 * 5");  // the 13th, and every Friday
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->MatchesDay(1, 13, 2));
  EXPECT_TRUE(s->MatchesDay(1, 9, 5));
  EXPECT_FALSE(s->MatchesDay(1, 9, 4));
  auto only_days = ParseCron("0 0 13 * *");
  EXPECT_FALSE(only_days->MatchesDay(1, 9, 5));
}

TEST(CronTest, LatestFireLooksBackNoFurtherThanAsked) {
  auto s = ParseCron("0 16 * * 5");
  ASSERT_TRUE(s.has_value());
  int64_t friday_16 = Utc(2026, 12, 4, 16);
  EXPECT_EQ(LatestFire(*s, friday_16, 3600), friday_16);
  EXPECT_EQ(LatestFire(*s, friday_16 + 1, 3600), friday_16);
  EXPECT_EQ(LatestFire(*s, friday_16 - 1, 7 * 86400), friday_16 - 7 * 86400);
  EXPECT_FALSE(LatestFire(*s, friday_16 - 1, 3600).has_value());
  EXPECT_FALSE(LatestFire(*s, friday_16 + 3600, 3600).has_value());  // the end is outside
  EXPECT_EQ(LatestFire(*s, friday_16 + 3599, 3600), friday_16);
}

TEST(CronTest, WeekTimes) {
  EXPECT_EQ(ParseWeekTime("Fri 16:00"), 5 * 1440 + 960);
  EXPECT_EQ(ParseWeekTime("monday 08:30"), 1440 + 510);
  EXPECT_EQ(ParseWeekTime("SUN 00:00"), 0);
  for (std::string_view bad : {"Fri", "Fri 24:00", "Fri 9:00", "Fry 10:00", "Fri 10:60", ""}) {
    EXPECT_FALSE(ParseWeekTime(bad).has_value()) << bad;
  }
  EXPECT_EQ(WeekTimeText(5 * 1440 + 960), "Fri 16:00");
  EXPECT_EQ(WeekTimeText(1440 + 480), "Mon 08:00");
}

}  // namespace
}  // namespace interlock
