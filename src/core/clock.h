// Time as a value passed in. Everything that reads the clock takes a Clock&,
// so tests drive time (timeouts, retention, grants) with a ManualClock.
//
// Thread safety: implementations are safe to call from several threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace interlock {

// Milliseconds since the Unix epoch, UTC.
using UnixMillis = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixMillis Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixMillis Now() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixMillis start) : now_(start) {}
  UnixMillis Now() const override { return now_.load(std::memory_order_relaxed); }
  void Set(UnixMillis t) { now_.store(t, std::memory_order_relaxed); }
  void Advance(int64_t millis) { now_.fetch_add(millis, std::memory_order_relaxed); }

 private:
  std::atomic<UnixMillis> now_;
};

// RFC 3339 in UTC with millisecond precision: "2024-01-15T10:30:00.000Z".
std::string FormatTimestamp(UnixMillis t);
// Accepts RFC 3339 date-times ("2024-01-15T10:30:00Z", fractional seconds
// and numeric offsets allowed) and returns them as UTC milliseconds.
Result<UnixMillis> ParseTimestamp(std::string_view text);

}  // namespace interlock
