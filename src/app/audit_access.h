// The governance's audit policy as the audit layer's plain values: retention
// periods per class, and a reader's rights (audit/retention.yml).
#pragma once

#include <string>

#include "audit/log.h"
#include "core/status.h"
#include "governance/model.h"

namespace interlock::app {

audit::RetentionPeriods RetentionOf(const governance::Governance& g);

// The rights of principal `id` to read the audit log. kNotFound if the
// governance has no such principal; kInvalidArgument if `id` is empty.
Result<audit::Reader> ReaderFor(const governance::Governance& g, const std::string& id);

}  // namespace interlock::app
