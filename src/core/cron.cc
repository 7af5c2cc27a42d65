#include "core/cron.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "core/time_zone.h"

namespace interlock {
namespace {

struct Field {
  std::string_view name;
  int min, max;
  std::array<std::string_view, 12> names;  // for min, min + 1, ...
};

constexpr Field kFields[] = {
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day of month", 1, 31, {}},
    {"month",
     1,
     12,
     {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
    {"day of week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
};

// A number or a name of field `f`; nullopt if it is neither or out of range.
std::optional<int> Value(const Field& f, std::string_view text) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    int v = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      v = v * 10 + (c - '0');
    }
    if (v < f.min || v > f.max) return std::nullopt;
    return v;
  }
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (size_t i = 0; i < f.names.size(); ++i) {
    if (!f.names[i].empty() && f.names[i] == lower) return f.min + static_cast<int>(i);
  }
  return std::nullopt;
}

// The values field `f` takes in `text`, as a bit per value from 0.
Result<std::bitset<64>> ParseField(const Field& f, std::string_view text) {
  auto bad = [&](std::string_view what) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("cron {} \"{}\": {} (expected {}-{}, *, a-b, */n or a list)", f.name, text,
                    what, f.min, f.max)));
  };
  std::bitset<64> bits;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    int step = 1;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      std::string_view s = item.substr(slash + 1);
      int v = 0;
      if (s.empty() || s.size() > 2) return bad("bad step");
      for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return bad("bad step");
        v = v * 10 + (c - '0');
      }
      if (v < 1 || v > f.max) return bad("bad step");
      step = v;
      item = item.substr(0, slash);
    }
    int lo = f.min, hi = f.max;
    if (item == "*") {
      // every value
    } else if (size_t dash = item.find('-'); dash != std::string_view::npos) {
      auto a = Value(f, item.substr(0, dash));
      auto b = Value(f, item.substr(dash + 1));
      if (!a || !b) return bad("a value out of range");
      if (*a > *b) return bad("a range that runs backwards");
      lo = *a;
      hi = *b;
    } else {
      auto a = Value(f, item);
      if (!a) return bad(item.empty() ? "an empty item" : "a value out of range");
      lo = *a;
      if (step == 1) hi = *a;  // "a/n" runs from a to the end
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<size_t>(v));
  }
  return bits;
}

template <size_t N>
std::bitset<N> Narrow(const std::bitset<64>& bits) {
  std::bitset<N> out;
  for (size_t i = 0; i < N; ++i) out[i] = bits[i];
  return out;
}

}  // namespace

bool CronSchedule::MatchesDay(int month, int day, int weekday) const {
  if (!months[static_cast<size_t>(month)]) return false;
  bool d = days[static_cast<size_t>(day)];
  bool w = weekdays[static_cast<size_t>(weekday)];
  if (days_restricted && weekdays_restricted) return d || w;
  return d && w;
}

Result<CronSchedule> ParseCron(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  if (fields.size() != 5) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "cron \"{}\": expected 5 fields (minute hour day-of-month month day-of-week), found {}",
        text, fields.size())));
  }
  std::array<std::bitset<64>, 5> bits;
  for (size_t f = 0; f < 5; ++f) {
    auto parsed = ParseField(kFields[f], fields[f]);
    if (!parsed) return std::unexpected(parsed.error());
    bits[f] = *parsed;
  }
  if (bits[4][7]) bits[4].set(0);  // 7 is Sunday too
  CronSchedule s;
  s.minutes = Narrow<60>(bits[0]);
  s.hours = Narrow<24>(bits[1]);
  s.days = Narrow<32>(bits[2]);
  s.months = Narrow<13>(bits[3]);
  s.weekdays = Narrow<7>(bits[4]);
  s.days_restricted = !fields[2].starts_with('*');
  s.weekdays_restricted = !fields[4].starts_with('*');
  return s;
}

std::optional<int64_t> LatestFire(const CronSchedule& s, int64_t local, int64_t lookback) {
  constexpr int64_t kDay = 86400;
  auto floor_div = [](int64_t a, int64_t b) { return a / b - (a % b < 0 ? 1 : 0); };
  int64_t earliest = local - lookback;  // exclusive
  for (int64_t day = floor_div(local, kDay); day >= floor_div(earliest, kDay); --day) {
    CivilTime c = CivilFromDays(day);
    if (!s.MatchesDay(c.month, c.day, c.weekday)) continue;
    for (int h = 23; h >= 0; --h) {
      if (!s.hours[static_cast<size_t>(h)]) continue;
      for (int m = 59; m >= 0; --m) {
        if (!s.minutes[static_cast<size_t>(m)]) continue;
        int64_t fire = day * kDay + int64_t{h} * 3600 + int64_t{m} * 60;
        if (fire > local) continue;
        if (fire > earliest) return fire;
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

std::optional<int> ParseWeekTime(std::string_view text) {
  static constexpr std::string_view kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                               "thursday", "friday", "saturday"};
  size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string day;
  for (char c : text.substr(0, space)) {
    day += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::string_view clock = text.substr(space + 1);
  std::optional<int> weekday;
  for (size_t i = 0; i < 7; ++i) {
    if (day == kDays[i] || (day.size() == 3 && kDays[i].starts_with(day))) {
      weekday = static_cast<int>(i);
    }
  }
  auto digit = [&](size_t i) { return std::isdigit(static_cast<unsigned char>(clock[i])) != 0; };
  if (!weekday || clock.size() != 5 || clock[2] != ':' || !digit(0) || !digit(1) || !digit(3) ||
      !digit(4)) {
    return std::nullopt;
  }
  int hour = (clock[0] - '0') * 10 + (clock[1] - '0');
  int minute = (clock[3] - '0') * 10 + (clock[4] - '0');
  if (hour > 23 || minute > 59) return std::nullopt;
  return *weekday * 1440 + hour * 60 + minute;
}

std::string WeekTimeText(int minutes) {
  static constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  return fmt::format("{} {:02}:{:02}", kDays[(minutes / 1440) % 7], minutes % 1440 / 60,
                     minutes % 60);
}

}  // namespace interlock
