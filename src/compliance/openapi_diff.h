// What changed between two OpenAPI 3.0 / 3.1 documents, as a consumer of the
// API would feel it (docs/contracts.md lists every rule).
//
// DiffOpenApi reads both documents (JSON when the first character after
// whitespace and an optional byte order mark is '{', YAML otherwise), checks
// that each is an OpenAPI 3 document whose structure it can follow, and
// compares them path by path, operation by operation, down into parameter,
// request body and response schemas, following local $refs ("#/..."; any
// JSON pointer into the same document, e.g. #/components/schemas/Item).
//
// Locations are dotted paths from the document's root, with every key
// written as it is (no escaping):
//   paths./v1/items/{id}.get.responses.200.content.application/json.schema.properties.name
// They are for people. Paths are matched by their shape, so a renamed
// template parameter ({id} -> {itemId}) is the same path, shown as the old
// document spells it; a parameter is named "in.name" ("query.limit", header
// names in lower case).
//
// Each finding has a class. The verdict is the worst class found (breaking >
// additive > non_breaking); a diff with no findings is non_breaking.
//
// Thread safety: pure functions over their arguments; call from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/names.h"
#include "core/status.h"

namespace interlock::compliance {

// Ordered from least to most severe, so the worst is the largest.
enum class ChangeClass : uint8_t { kNonBreaking, kAdditive, kBreaking };

inline constexpr std::array<std::string_view, 3> kChangeClassNames = {"non_breaking", "additive",
                                                                      "breaking"};

// What a finding is. Names (kFindingKindNames) are the snake_case of the
// enumerator without its k. "Narrowed" means fewer values are valid than
// before and "widened" more. In a request, narrowed is breaking and widened
// additive; in a response, widened is breaking (except new enum values,
// which are additive) and narrowed non_breaking (see docs/contracts.md).
enum class FindingKind : uint8_t {
  kPathRemoved,
  kPathAdded,
  kOperationRemoved,
  kOperationAdded,
  kParameterRemoved,
  kParameterAdded,
  kParameterRequired,
  kParameterOptional,
  kRequestBodyRemoved,
  kRequestBodyAdded,
  kRequestBodyRequired,
  kRequestBodyOptional,
  kMediaTypeRemoved,
  kMediaTypeAdded,
  kResponseStatusRemoved,
  kResponseStatusAdded,
  kRequestFieldRemoved,
  kRequestFieldAdded,
  kRequestFieldRequired,
  kRequestFieldOptional,
  kResponseFieldRemoved,
  kResponseFieldAdded,
  kResponseFieldOptional,
  kResponseFieldRequired,
  kTypeNarrowed,
  kTypeWidened,
  kEnumNarrowed,
  kEnumWidened,
  kConstraintNarrowed,
  kConstraintWidened,
  kConstraintChanged,
  kUnanalysedChange,
  kDocumentationChanged,
  kExtensionChanged,
};

inline constexpr std::array<std::string_view, 34> kFindingKindNames = {
    "path_removed",
    "path_added",
    "operation_removed",
    "operation_added",
    "parameter_removed",
    "parameter_added",
    "parameter_required",
    "parameter_optional",
    "request_body_removed",
    "request_body_added",
    "request_body_required",
    "request_body_optional",
    "media_type_removed",
    "media_type_added",
    "response_status_removed",
    "response_status_added",
    "request_field_removed",
    "request_field_added",
    "request_field_required",
    "request_field_optional",
    "response_field_removed",
    "response_field_added",
    "response_field_optional",
    "response_field_required",
    "type_narrowed",
    "type_widened",
    "enum_narrowed",
    "enum_widened",
    "constraint_narrowed",
    "constraint_widened",
    "constraint_changed",
    "unanalysed_change",
    "documentation_changed",
    "extension_changed",
};

struct ContractFinding {
  FindingKind kind;
  ChangeClass change_class;
  std::string location;  // dotted path, see the top of this file
  std::string message;   // one line, for people
};

struct ContractDiff {
  // In document order of the old document, then what only the new one has;
  // at most OpenApiLimits::max_findings of them.
  std::vector<ContractFinding> findings;
  // Findings found but not kept because of max_findings (they still count
  // in `counts` and `verdict`).
  size_t omitted = 0;
  // How many findings of each class, omitted ones included.
  std::array<size_t, 3> counts{};
  ChangeClass verdict = ChangeClass::kNonBreaking;

  size_t Count(ChangeClass c) const { return counts[static_cast<size_t>(c)]; }
};

// Bounds on what DiffOpenApi reads and does.
struct OpenApiLimits {
  size_t max_bytes = size_t{8} << 20;  // Default: 8 MiB per document.
  int max_depth = 64;                  // Default: 64 nested objects/arrays in the text.
  size_t max_nodes = 1'000'000;        // Default: one million YAML nodes per document.
  int max_schema_depth = 64;           // Default: schemas nested 64 deep once $refs are followed.
  size_t max_comparisons = 200'000;    // Default: schema pairs compared, $refs expanded.
  size_t max_findings = 1000;          // Default: findings kept (the rest are counted).
};

// One document: `name` names it in errors (a file name), `text` is its content.
struct OpenApiSource {
  std::string_view name;
  std::string_view text;
};

// The differences from `before` to `after`. Errors are kInvalidArgument and
// name the document and where in it: "NAME:LINE:COLUMN: LOCATION: what"
// (for example `old.yaml:4:3: paths: expected an object, found an array`),
// or the JSON/YAML reader's own message after "NAME: ". A document that
// cannot be compared within `limits` is an error too. Never throws.
Result<ContractDiff> DiffOpenApi(const OpenApiSource& before, const OpenApiSource& after,
                                 const OpenApiLimits& limits = {});

// The findings one a line ("breaking  path_removed  paths./v1/items: the path
// was removed"), then a verdict line. Ends with a newline.
std::string DiffText(const ContractDiff& diff);

}  // namespace interlock::compliance

namespace interlock {
template <>
struct EnumNames<compliance::ChangeClass> {
  static constexpr const auto& kNames = compliance::kChangeClassNames;
};
template <>
struct EnumNames<compliance::FindingKind> {
  static constexpr const auto& kNames = compliance::kFindingKindNames;
};
}  // namespace interlock
