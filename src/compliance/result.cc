#include "compliance/result.h"

#include <numeric>

namespace interlock::compliance {

int Counts::Total() const { return std::accumulate(by_outcome.begin(), by_outcome.end(), 0); }

}  // namespace interlock::compliance
