// Fuzzes the readers of time: TZif files (core/time_zone.h), cron
// schedules and week times (core/cron.h). Any bytes are refused with a
// message or read into a value that answers sanely: a zone's offsets stay
// within a day at every instant, a schedule's latest firing is never after
// the time asked nor before its look-back, and a week time prints back to
// itself.
//
// Input: byte 0 picks the reader; the rest is its text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/cron.h"
#include "core/time_zone.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto zone = interlock::TimeZone::Parse("fuzz", text);
      if (!zone) {
        Check(!zone.error().message().empty());
        return 0;
      }
      for (int64_t t : {int64_t{-4'000'000'000}, int64_t{0}, int64_t{1'790'000'000},
                        int64_t{4'102'444'800}, int64_t{253'402'300'799}}) {
        int32_t offset = (*zone)->OffsetAt(t);
        Check(offset > -26 * 3600 && offset < 26 * 3600);
        interlock::CivilTime c = (*zone)->ToCivil(t * 1000);
        Check(c.month >= 1 && c.month <= 12 && c.hour >= 0 && c.hour < 24);
      }
      return 0;
    }
    case 1: {
      auto schedule = interlock::ParseCron(text);
      if (!schedule) {
        Check(!schedule.error().message().empty());
        return 0;
      }
      for (int64_t local : {int64_t{0}, int64_t{1'790'000'000}, int64_t{-86'400}}) {
        for (int64_t lookback : {int64_t{60}, int64_t{86'400}, int64_t{31 * 86'400}}) {
          auto fire = interlock::LatestFire(*schedule, local, lookback);
          if (fire) Check(*fire <= local && *fire > local - lookback && *fire % 60 == 0);
        }
      }
      return 0;
    }
    default: {
      auto minutes = interlock::ParseWeekTime(text);
      if (minutes) {
        Check(*minutes >= 0 && *minutes < 7 * 1440);
        Check(interlock::ParseWeekTime(interlock::WeekTimeText(*minutes)) == minutes);
      }
      return 0;
    }
  }
}
