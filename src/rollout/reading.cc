#include "rollout/reading.h"

namespace interlock::rollout {

std::string_view ReadingStatusName(ReadingStatus s) {
  switch (s) {
    case ReadingStatus::kValue:
      return "value";
    case ReadingStatus::kNoData:
      return "no_data";
    case ReadingStatus::kError:
      return "error";
  }
  return "error";
}

}  // namespace interlock::rollout
