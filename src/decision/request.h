// A decision request: who wants to change what, with what evidence.
// JSON format: README.md, "interlock decide".
//
// Thread safety: immutable after ParseRequest; share freely.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/names.h"
#include "core/status.h"
#include "expr/expr.h"
#include "governance/model.h"

namespace interlock::decision {

struct Metadata;  // the request's free-form change metadata (opaque JSON)

// checks.secret_scan: what a secret scan (`interlock scan secrets`) found,
// without the secrets.
struct SecretScanCheck {
  uint64_t findings = 0;                  // not suppressed by a baseline or allowed inline
  std::vector<std::string> fingerprints;  // the findings', 64 lowercase hex digits each
  std::vector<std::string> rules;         // the ids of the rules that found them
};

// checks.pii_scan: what a PII scan (`interlock scan pii`) found, by kind
// (kPiiKinds).
struct PiiScanCheck {
  uint64_t findings = 0;
  std::vector<std::pair<std::string, uint64_t>> kinds;  // in kPiiKinds order, non-zero only
};

// The most fingerprints, and rule ids, checks.secret_scan may carry.
inline constexpr size_t kMaxScanItems = 10'000;

// The kinds of personal data checks.pii_scan.kinds may count.
inline constexpr std::string_view kPiiKinds[] = {"card", "email", "iban",  "ipv4",
                                                 "ipv6", "phone", "us_ssn"};

struct Request {
  // "actor" is optional in the JSON, so that a caller who knows the actor
  // another way (the server, from the bearer token) need not repeat it. When
  // it is absent, actor_given is false, actor_id is "", actor_roles empty,
  // actor_team absent and actor_type kHuman: the caller must fill them in or
  // refuse the request before deciding.
  bool actor_given = false;
  ActorType actor_type = ActorType::kHuman;
  std::string actor_id;
  std::vector<std::string> actor_roles;
  std::optional<std::string> actor_team;

  ChangeType change_type = ChangeType::kCode;
  Environment environment = Environment::kDev;
  std::optional<std::string> service;
  std::optional<std::string> version;
  std::optional<std::string> previous_version;
  std::optional<std::string> summary;
  Bump bump = Bump::kPatch;
  bool bump_given = false;  // true: change.bump; false: derived from the versions

  std::optional<double> ai_confidence;
  std::optional<std::string> ai_rationale;

  std::optional<bool> tests_passed;
  std::optional<bool> scan_passed;
  std::optional<Severity> scan_max_severity;
  std::optional<SecretScanCheck> secret_scan;
  std::optional<PiiScanCheck> pii_scan;

  std::shared_ptr<const Metadata> metadata;  // null when absent
};

struct RequestLimits {
  size_t max_bytes = 1u << 20;  // Default: 1 MiB.
  int max_depth = 32;           // Default: 32 nested objects/arrays.
};

// Parses and validates a request with the one JSON reader (core/json.h):
// malformed JSON, duplicate keys, invalid UTF-8, deep nesting, oversized
// input, unknown fields and wrong types are refused with its wordings
// (subject "request"), e.g.
//   change: duplicate key "environment" at line 3, column 40
//   change.environment: expected one of dev, staging, production, found "prod"
//   request: unknown field "x" (expected one of: actor, change, ai, checks, metadata)
// Errors are kInvalidArgument. Never throws.
Result<Request> ParseRequest(std::string_view json, const RequestLimits& limits = {});

// Checks the request against a governance: the actor's roles must exist.
Result<void> CheckRequest(const governance::Governance& g, const Request& request);

// The value at a metadata path, or unknown. Never allocates.
expr::Value LookupMetadata(const Request& request, const std::vector<std::string>& path);

// The request as conditions see it (governance/fields.h). Never allocates.
class RequestEnv final : public expr::Env {
 public:
  // Both must outlive the env.
  RequestEnv(const governance::Governance& g, const Request& r) : g_(g), r_(r) {}
  expr::Value Lookup(uint32_t slot) const override;

 private:
  const governance::Governance& g_;
  const Request& r_;
};

}  // namespace interlock::decision
