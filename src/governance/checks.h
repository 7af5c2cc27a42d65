// Reading the keys that say how a rollback trigger or a promotion criterion
// is evaluated (model.h, CheckSettings), shared by safety/auto-rollback.yml's
// triggers and safety/canary.yml's strategies.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/yaml.h"
#include "governance/model.h"
#include "governance/reader.h"

namespace interlock::governance {

// The keys ReadCheckSettings reads, for a caller's list of allowed keys.
inline constexpr std::string_view kCheckKeys[] = {"window",      "consecutive",  "m_of_n",
                                                  "on_no_data",  "on_error",     "dry_run",
                                                  "min_samples", "min_requests", "confidence"};

// The settings `map` gives, each key that is absent taken from `defaults`.
// `critical`: the settings of the critical flow, where `on_no_data: pass` is
// refused. Reports every problem through `r`; nullopt if there was one.
std::optional<CheckSettings> ReadCheckSettings(Reader& r, const yaml::Node& map,
                                               const CheckSettings& defaults, bool critical);

// Checks a metric's name (a-z, 0-9 and _, starting with a letter, at most
// 64 characters): empty if it is one, else what is wrong.
std::string CheckMetricName(std::string_view name);

}  // namespace interlock::governance
