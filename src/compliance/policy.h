// Reading a policy document's review facts (governance policies/*.md, seed
// 000's policy template): its "Next review date" and its owner.
#pragma once

#include <string_view>

#include "compliance/evaluate.h"

namespace interlock::compliance {

// The review facts of the Markdown policy `text`, named `file`. Finds the
// first line reading "Next review date: YYYY-MM-DD" and the first reading
// "Policy owner: NAME" or "Owner: NAME" (each possibly a list item or in
// bold, labels compared without case). A missing or malformed date leaves
// next_review empty and says why in `problem`, with its line number.
PolicyFact ReadPolicy(std::string_view file, std::string_view text);

}  // namespace interlock::compliance
