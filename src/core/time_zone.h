// Time zones of the IANA database, read from its compiled TZif files
// (RFC 8536) under /usr/share/zoneinfo, and civil (wall-clock) time in them.
// The C++ library at hand has no time zone database of its own.
//
// A zone answers its UTC offset at any instant: from its transitions, and
// past the last one from the POSIX TZ rule in the file's footer (a "slim"
// file has few transitions and relies on the rule). Leap seconds are
// ignored, as in Unix time.
//
// Thread safety: a TimeZone is immutable once made.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/fs.h"
#include "core/status.h"

namespace interlock {

// Where Debian's tzdata package puts the zones.
inline constexpr std::string_view kZoneinfoDir = "/usr/share/zoneinfo";

// A wall-clock time.
struct CivilTime {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int weekday = 4;  // 0 = Sunday .. 6 = Saturday
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int year, int month, int day);
CivilTime CivilFromDays(int64_t days);
int DaysInMonth(int year, int month);

class TimeZone {
 public:
  // UTC, which needs no file.
  static std::shared_ptr<const TimeZone> Utc();
  // The zone `name` ("Europe/Berlin", "UTC") from `dir`. kInvalidArgument
  // for a name that is not a zone name (it must not climb out of `dir`) or
  // a file that is not TZif; kNotFound for no such zone.
  static Result<std::shared_ptr<const TimeZone>> Load(const FileSystem& fs, std::string_view dir,
                                                      std::string_view name);
  // A zone from the bytes of a TZif file.
  static Result<std::shared_ptr<const TimeZone>> Parse(std::string_view name,
                                                       std::string_view tzif);

  const std::string& name() const { return name_; }
  // Seconds east of UTC at the instant `unix_seconds`.
  int32_t OffsetAt(int64_t unix_seconds) const;
  // The wall-clock time at `t`.
  CivilTime ToCivil(UnixMillis t) const;

 private:
  // A POSIX TZ rule (the footer): standard time, and daylight saving time
  // between two dates of each year.
  struct RuleDate {
    enum class Kind : uint8_t { kJulianNoLeap, kZeroBasedDay, kMonthWeekDay } kind;
    int month = 0, week = 0, day = 0;  // day: of the week, or of the year
    int32_t time = 7200;               // seconds after local midnight
  };
  struct Rule {
    int32_t std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    int32_t dst_offset = 0;
    RuleDate start, end;
  };
  static Result<Rule> ParseRule(std::string_view text);
  int32_t RuleOffsetAt(int64_t unix_seconds) const;
  static int64_t RuleInstant(const RuleDate& d, int year, int32_t offset);

  std::string name_;
  std::vector<int64_t> transitions_;  // ascending, Unix seconds
  std::vector<uint8_t> transition_type_;
  std::vector<int32_t> type_offsets_;  // seconds east of UTC, per local time type
  bool has_rule_ = false;
  Rule rule_;
};

}  // namespace interlock
