// What a metric source says about one metric at one evaluation: a number,
// no data, or an error. Every source (the Prometheus HTTP API, values a
// caller pushes) answers in this one form, so that the analysis treats
// their values exactly alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace interlock::rollout {

enum class ReadingStatus : uint8_t {
  kValue,   // `value` holds a finite number
  kNoData,  // the source answered, with nothing usable: an empty result, NaN, Inf
  kError,  // the source failed: unreachable, an HTTP error, a timeout, an answer of the wrong shape
};

std::string_view ReadingStatusName(ReadingStatus s);  // "value", "no_data", "error"

struct Reading {
  ReadingStatus status = ReadingStatus::kNoData;
  double value = 0;
  // For kNoData and kError: why, in a few words ("the query returned no
  // series", "timed out after 5000 ms"). Never holds a secret.
  std::string detail;
  // kError only: the source could not be asked at all (unreachable, no
  // answer in time), as opposed to an answer that was an error.
  bool unreachable = false;

  static Reading Value(double v) { return {ReadingStatus::kValue, v, {}, false}; }
  static Reading NoData(std::string why) {
    return {ReadingStatus::kNoData, 0, std::move(why), false};
  }
  static Reading Error(std::string why) {
    return {ReadingStatus::kError, 0, std::move(why), false};
  }
  static Reading Unreachable(std::string why) {
    return {ReadingStatus::kError, 0, std::move(why), true};
  }
};

}  // namespace interlock::rollout
