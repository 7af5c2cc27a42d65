#include "core/clock.h"

#include <fmt/format.h>

#include <cctype>

namespace interlock {
namespace {

using namespace std::chrono;

// Reads exactly `width` digits at text[*pos].
bool Digits(std::string_view text, size_t* pos, size_t width, int* out) {
  if (*pos + width > text.size()) return false;
  int v = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += width;
  *out = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || std::toupper(static_cast<unsigned char>(text[*pos])) != c)
    return false;
  ++*pos;
  return true;
}

}  // namespace

std::string FormatTimestamp(UnixMillis t) {
  sys_time<milliseconds> tp{milliseconds{t}};
  sys_days day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{tp - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

Result<UnixMillis> ParseTimestamp(std::string_view text) {
  auto bad = [&] {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "\"{}\" is not an RFC 3339 timestamp (expected e.g. 2024-01-15T10:30:00Z)", text)));
  };
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!Digits(text, &pos, 4, &y) || !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &mo) ||
      !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &d) || !Expect(text, &pos, 'T') ||
      !Digits(text, &pos, 2, &h) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &mi) ||
      !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &s)) {
    return bad();
  }
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad();
  }
  int64_t offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '+' ? 1 : -1;
    ++pos;
    int oh = 0, om = 0;
    if (!Digits(text, &pos, 2, &oh) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &om) ||
        oh > 23 || om > 59) {
      return bad();
    }
    offset_minutes = static_cast<int64_t>(sign) * (oh * 60 + om);
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return bad();
  if (s == 60) s = 59;  // a leap second is read as the second before it
  sys_days days_since = ymd;
  int64_t seconds = days_since.time_since_epoch().count() * 86400LL + h * 3600LL + mi * 60LL + s -
                    offset_minutes * 60;
  return seconds * 1000 + millis;
}

}  // namespace interlock
