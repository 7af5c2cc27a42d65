// A compliance report as JSON (GET /v1/compliance, `interlock compliance
// check --format json`) and as the text `interlock compliance check` prints.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "compliance/evaluate.h"

namespace interlock::compliance {

// {at, framework, checkpoint, counts: {pass, fail, waived, error,
// not_applicable}, passed, controls: [{id, description, check, outcome,
// reason, evidence, evidence_at?, expires_at?, maps, covers}]};
// `checkpoint` is the signed checkpoint the run was built from ("" when none).
nlohmann::ordered_json ReportJson(const Report& report, const std::string& checkpoint);

// One line per control, then the counts and the verdict.
std::string ReportText(const Report& report);

}  // namespace interlock::compliance
