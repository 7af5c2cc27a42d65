// Cron schedules ("0 16 * * 5": minute, hour, day of month, month, day of
// week), as crontab(5) writes them: numbers, `*`, ranges `a-b`, steps `/n`,
// lists `a,b`, month and day names (jan, fri), and 0 or 7 for Sunday. When
// both the day of the month and the day of the week are restricted, a day
// matching either matches, as in Vixie cron.
//
// Schedules are evaluated in wall-clock time: "local seconds", the seconds
// since 1970-01-01 00:00 of a wall clock (a zone's civil time read as if it
// were UTC; core/time_zone.h).
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace interlock {

struct CronSchedule {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;     // 1..31
  std::bitset<13> months;   // 1..12
  std::bitset<7> weekdays;  // 0 = Sunday
  bool days_restricted = false;
  bool weekdays_restricted = false;

  // True if the schedule fires on that day.
  bool MatchesDay(int month, int day, int weekday) const;
};

// kInvalidArgument naming the field and what is wrong with it.
Result<CronSchedule> ParseCron(std::string_view text);

// The latest time the schedule fires at or before `local` (local seconds),
// if it fires in (local - lookback, local].
std::optional<int64_t> LatestFire(const CronSchedule& s, int64_t local, int64_t lookback);

// A time of the week, "Fri 16:00" (a day's name, three letters or whole,
// and a 24-hour time), as minutes since Sunday 00:00, and back.
std::optional<int> ParseWeekTime(std::string_view text);
std::string WeekTimeText(int minutes);

}  // namespace interlock
