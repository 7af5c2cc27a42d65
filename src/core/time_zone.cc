#include "core/time_zone.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace interlock {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
// RFC 8536: a UT offset lies in (-2^31, 2^31); real ones lie within a day.
constexpr int32_t kMaxOffset = 26 * 3600;
constexpr size_t kMaxZoneBytes = 1 << 20;

Error Bad(std::string_view name, std::string_view what) {
  return Error::InvalidArgument(fmt::format("time zone {}: not a TZif file: {}", name, what));
}

// A big-endian reader over the file's bytes that fails instead of running
// past the end.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  bool Take(size_t n, std::string_view* out) {
    if (n > data_.size() - pos_) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(size_t n) {
    std::string_view ignored;
    return Take(n, &ignored);
  }
  template <class T>
  bool Int(T* out, size_t width) {
    std::string_view b;
    if (!Take(width, &b)) return false;
    uint64_t v = 0;
    for (unsigned char c : b) v = (v << 8) | c;
    if (width == 4) {
      *out = static_cast<T>(static_cast<int32_t>(static_cast<uint32_t>(v)));
    } else {
      *out = static_cast<T>(static_cast<int64_t>(v));
    }
    return true;
  }
  std::string_view Rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

struct Header {
  char version = 0;
  uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

bool ReadHeader(Bytes& in, Header* h) {
  std::string_view magic, version;
  if (!in.Take(4, &magic) || magic != "TZif" || !in.Take(1, &version) || !in.Skip(15)) {
    return false;
  }
  h->version = version[0];
  uint32_t* counts[] = {&h->isutcnt, &h->isstdcnt, &h->leapcnt,
                        &h->timecnt, &h->typecnt,  &h->charcnt};
  for (uint32_t* c : counts) {
    if (!in.Int(c, 4)) return false;
  }
  return true;
}

// The size of a data block after its header, for times of `width` bytes.
uint64_t BlockSize(const Header& h, size_t width) {
  return uint64_t{h.timecnt} * width + h.timecnt + uint64_t{h.typecnt} * 6 + h.charcnt +
         uint64_t{h.leapcnt} * (width + 4) + h.isstdcnt + h.isutcnt;
}

// POSIX TZ pieces: "<+03>" or "CET" names, "[+-]hh[:mm[:ss]]" times.
bool SkipZoneName(std::string_view& s) {
  if (!s.empty() && s[0] == '<') {
    size_t end = s.find('>');
    if (end == std::string_view::npos || end < 4) return false;
    s.remove_prefix(end + 1);
    return true;
  }
  size_t n = 0;
  while (n < s.size() && ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))) ++n;
  if (n < 3) return false;
  s.remove_prefix(n);
  return true;
}

bool ParseNumber(std::string_view& s, int max, int* out) {
  int v = 0;
  size_t n = 0;
  while (n < s.size() && n < 3 && s[n] >= '0' && s[n] <= '9') v = v * 10 + (s[n++] - '0');
  if (n == 0 || v > max) return false;
  s.remove_prefix(n);
  *out = v;
  return true;
}

// hh[:mm[:ss]] with an optional sign, hours up to `max_hours`.
bool ParseClock(std::string_view& s, int max_hours, int32_t* out) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    if (s[0] == '-') sign = -1;
    s.remove_prefix(1);
  }
  int h = 0, m = 0, sec = 0;
  if (!ParseNumber(s, max_hours, &h)) return false;
  if (!s.empty() && s[0] == ':') {
    s.remove_prefix(1);
    if (!ParseNumber(s, 59, &m)) return false;
    if (!s.empty() && s[0] == ':') {
      s.remove_prefix(1);
      if (!ParseNumber(s, 59, &sec)) return false;
    }
  }
  *out = sign * (h * 3600 + m * 60 + sec);
  return true;
}

bool IsLeap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

}  // namespace

int64_t DaysFromCivil(int year, int month, int day) {
  // The days-from-civil algorithm over 400-year eras.
  int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilTime CivilFromDays(int64_t days) {
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  CivilTime c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<int>(yoe + era * 400 + (c.month <= 2 ? 1 : 0));
  int64_t wd = (days + 4) % 7;  // 1970-01-01 was a Thursday
  c.weekday = static_cast<int>(wd < 0 ? wd + 7 : wd);
  return c;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const std::shared_ptr<const TimeZone> utc = [] {
    auto z = std::make_shared<TimeZone>(TimeZone());
    z->name_ = "UTC";
    z->type_offsets_ = {0};
    return z;
  }();
  return utc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(const FileSystem& fs, std::string_view dir,
                                                       std::string_view name) {
  if (name == "UTC" || name == "Etc/UTC") return Utc();
  bool ok = !name.empty() && name.size() <= 128 && name.front() != '/' && name.back() != '/';
  for (char c : name) {
    bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '/' || c == '_' || c == '-' || c == '+';
    ok = ok && allowed;
  }
  if (!ok || name.find("//") != std::string_view::npos || name.starts_with("..")) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("\"{}\" is not a time zone name (like Europe/Berlin or UTC)", name)));
  }
  std::string path = JoinPath(std::string(dir), std::string(name));
  auto bytes = fs.ReadFile(path, kMaxZoneBytes);
  if (!bytes) {
    if (bytes.error().kind() == ErrorKind::kNotFound) {
      return std::unexpected(Error::NotFound(fmt::format(
          "no time zone {} (no file {}; is the tzdata package installed?)", name, path)));
    }
    return std::unexpected(bytes.error());
  }
  return Parse(name, *bytes);
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Parse(std::string_view name,
                                                        std::string_view tzif) {
  Bytes in(tzif);
  Header h;
  if (!ReadHeader(in, &h)) return std::unexpected(Bad(name, "bad header"));
  size_t width = 4;
  if (h.version != 0) {
    if (h.version < '2') return std::unexpected(Bad(name, "unknown version"));
    // Version 2 and later repeat the data with 64-bit times after the
    // version 1 block; only that second block is read.
    if (!in.Skip(BlockSize(h, 4)) || !ReadHeader(in, &h)) {
      return std::unexpected(Bad(name, "truncated"));
    }
    width = 8;
  }
  if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0 ||
      (h.isutcnt != 0 && h.isutcnt != h.typecnt) || (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)) {
    return std::unexpected(Bad(name, "bad counts"));
  }
  if (BlockSize(h, width) > in.Rest().size()) return std::unexpected(Bad(name, "truncated"));
  auto zone = std::make_shared<TimeZone>(TimeZone());
  zone->name_ = std::string(name);
  zone->transitions_.resize(h.timecnt);
  zone->transition_type_.resize(h.timecnt);
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    in.Int(&zone->transitions_[i], width);
    if (i > 0 && zone->transitions_[i] <= zone->transitions_[i - 1]) {
      return std::unexpected(Bad(name, "transitions out of order"));
    }
  }
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    in.Int(&zone->transition_type_[i], 1);
    if (zone->transition_type_[i] >= h.typecnt) {
      return std::unexpected(Bad(name, "a transition names no local time type"));
    }
  }
  zone->type_offsets_.resize(h.typecnt);
  for (uint32_t i = 0; i < h.typecnt; ++i) {
    int32_t offset = 0;
    in.Int(&offset, 4);
    if (offset <= -kMaxOffset || offset >= kMaxOffset) {
      return std::unexpected(Bad(name, "a UTC offset beyond a day"));
    }
    zone->type_offsets_[i] = offset;
    in.Skip(2);  // isdst, desigidx
  }
  in.Skip(h.charcnt + uint64_t{h.leapcnt} * (width + 4) + h.isstdcnt + h.isutcnt);
  if (width == 8) {
    // The footer: a POSIX TZ rule between newlines, for times after the
    // last transition; empty when there is none.
    std::string_view footer = in.Rest();
    if (footer.size() < 2 || footer[0] != '\n') return std::unexpected(Bad(name, "no footer"));
    size_t end = footer.find('\n', 1);
    if (end == std::string_view::npos) return std::unexpected(Bad(name, "unterminated footer"));
    std::string_view rule = footer.substr(1, end - 1);
    if (!rule.empty()) {
      auto parsed = ParseRule(rule);
      if (!parsed) return std::unexpected(Bad(name, parsed.error().message()));
      zone->rule_ = *parsed;
      zone->has_rule_ = true;
    }
  }
  return zone;
}

Result<TimeZone::Rule> TimeZone::ParseRule(std::string_view s) {
  auto bad = [&] { return std::unexpected(Error::InvalidArgument("bad POSIX TZ rule")); };
  Rule rule;
  int32_t west = 0;
  if (!SkipZoneName(s) || !ParseClock(s, 24, &west)) return bad();
  rule.std_offset = -west;  // POSIX counts west of Greenwich
  if (s.empty()) return rule;
  if (!SkipZoneName(s)) return bad();
  rule.has_dst = true;
  rule.dst_offset = rule.std_offset + 3600;
  if (!s.empty() && s[0] != ',') {
    if (!ParseClock(s, 24, &west)) return bad();
    rule.dst_offset = -west;
  }
  for (RuleDate* d : {&rule.start, &rule.end}) {
    if (s.empty() || s[0] != ',') return bad();
    s.remove_prefix(1);
    int a = 0, b = 0, c = 0;
    if (!s.empty() && s[0] == 'M') {
      s.remove_prefix(1);
      if (!ParseNumber(s, 12, &a) || a < 1 || s.empty() || s[0] != '.') return bad();
      s.remove_prefix(1);
      if (!ParseNumber(s, 5, &b) || b < 1 || s.empty() || s[0] != '.') return bad();
      s.remove_prefix(1);
      if (!ParseNumber(s, 6, &c)) return bad();
      *d = {RuleDate::Kind::kMonthWeekDay, a, b, c, 7200};
    } else if (!s.empty() && s[0] == 'J') {
      s.remove_prefix(1);
      if (!ParseNumber(s, 365, &a) || a < 1) return bad();
      *d = {RuleDate::Kind::kJulianNoLeap, 0, 0, a, 7200};
    } else {
      if (!ParseNumber(s, 365, &a)) return bad();
      *d = {RuleDate::Kind::kZeroBasedDay, 0, 0, a, 7200};
    }
    if (!s.empty() && s[0] == '/') {
      s.remove_prefix(1);
      // RFC 8536 extends the hours to -167..167.
      if (!ParseClock(s, 167, &d->time)) return bad();
    }
  }
  if (!s.empty()) return bad();
  return rule;
}

// The instant (Unix seconds) of `d` in `year`, whose time is local time at
// UTC offset `offset`.
int64_t TimeZone::RuleInstant(const RuleDate& d, int year, int32_t offset) {
  int64_t jan1 = DaysFromCivil(year, 1, 1);
  int64_t day = 0;
  switch (d.kind) {
    case RuleDate::Kind::kJulianNoLeap:
      // Day 1..365, February 29th never counted.
      day = jan1 + d.day - 1 + (IsLeap(year) && d.day >= 60 ? 1 : 0);
      break;
    case RuleDate::Kind::kZeroBasedDay:
      day = jan1 + d.day;
      break;
    case RuleDate::Kind::kMonthWeekDay: {
      int64_t first = DaysFromCivil(year, d.month, 1);
      int first_weekday = CivilFromDays(first).weekday;
      int64_t day_of_month = (d.day - first_weekday + 7) % 7 + 7 * (d.week - 1);
      while (day_of_month >= DaysInMonth(year, d.month)) day_of_month -= 7;  // week 5: the last
      day = first + day_of_month;
      break;
    }
  }
  return day * kSecondsPerDay + d.time - offset;
}

int32_t TimeZone::RuleOffsetAt(int64_t t) const {
  if (!rule_.has_dst) return rule_.std_offset;
  int year = CivilFromDays((t + rule_.std_offset) / kSecondsPerDay -
                           ((t + rule_.std_offset) % kSecondsPerDay < 0 ? 1 : 0))
                 .year;
  // The start is given in standard time, the end in daylight saving time.
  int64_t start = RuleInstant(rule_.start, year, rule_.std_offset);
  int64_t end = RuleInstant(rule_.end, year, rule_.dst_offset);
  bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? rule_.dst_offset : rule_.std_offset;
}

int32_t TimeZone::OffsetAt(int64_t t) const {
  if (transitions_.empty() || t < transitions_.front()) {
    if (transitions_.empty() && has_rule_) return RuleOffsetAt(t);
    return type_offsets_[0];
  }
  if (t >= transitions_.back() && has_rule_) return RuleOffsetAt(t);
  size_t i = std::upper_bound(transitions_.begin(), transitions_.end(), t) - transitions_.begin();
  return type_offsets_[transition_type_[i - 1]];
}

CivilTime TimeZone::ToCivil(UnixMillis t) const {
  int64_t seconds = t / 1000 - (t % 1000 < 0 ? 1 : 0);
  int64_t local = seconds + OffsetAt(seconds);
  int64_t days = local / kSecondsPerDay - (local % kSecondsPerDay < 0 ? 1 : 0);
  int64_t rest = local - days * kSecondsPerDay;
  CivilTime c = CivilFromDays(days);
  c.hour = static_cast<int>(rest / 3600);
  c.minute = static_cast<int>(rest % 3600 / 60);
  c.second = static_cast<int>(rest % 60);
  return c;
}

}  // namespace interlock
