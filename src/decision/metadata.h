// A request's metadata as the JSON it was given in, for readers that check
// it as a document of their own (a change record, a compatibility report);
// rules read single values through LookupMetadata (decision/request.h).
#pragma once

#include <optional>

#include "core/json.h"
#include "decision/request.h"

namespace interlock::decision {

// The metadata object; nullopt when the request has none. Valid while the
// request (or a copy sharing its metadata) lives.
std::optional<json::Value> MetadataObject(const Request& request);

}  // namespace interlock::decision
