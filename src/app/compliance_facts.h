// The facts of a compliance run (compliance/evaluate.h) that Interlock's
// own state holds: the audit log as a verification finds it, its keys, the
// incidents as violations, and the governance's policy documents. The entry
// point adds what only it knows (the server's routes and transport).
#pragma once

#include <string>

#include "audit/log.h"
#include "compliance/evaluate.h"
#include "core/fs.h"
#include "core/status.h"

namespace interlock::app {

// Verifies the whole of `log` (every record, tile and checkpoint), so it
// takes as long as `interlock audit verify`. The policy documents are the
// *.md files of `governance_dir`/policies, read through `fs`. Fails only
// when the state rows cannot be read.
Result<compliance::Facts> GatherComplianceFacts(audit::AuditLog& log, const FileSystem& fs,
                                                const std::string& governance_dir, UnixMillis now);

}  // namespace interlock::app
