#include "decision/request.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/assign.h"
#include "core/json.h"
#include "core/semver.h"
#include "core/text.h"
#include "decision/metadata.h"
#include "governance/fields.h"

namespace interlock::decision {

struct Metadata {
  json::Document document;  // the whole request
  json::Value value;        // its "metadata" member, an object
};

namespace {

Error Invalid(std::string message) { return Error::InvalidArgument(std::move(message)); }

std::optional<std::string> Copy(std::optional<std::string_view> text) {
  return text ? std::optional<std::string>(*text) : std::nullopt;
}

constexpr std::string_view kTopFields[] = {"actor", "change", "ai", "checks", "metadata"};
constexpr std::string_view kActorFields[] = {"type", "id", "roles", "team", "name", "version"};
constexpr std::string_view kChangeFields[] = {
    "type", "environment", "service", "version", "previous_version", "summary", "bump"};
constexpr std::string_view kAiFields[] = {"confidence", "rationale", "recommendation"};
constexpr std::string_view kChecksFields[] = {"tests_passed", "security_scan", "secret_scan",
                                              "pii_scan"};
constexpr std::string_view kScanFields[] = {"passed", "max_severity"};
constexpr std::string_view kSecretScanFields[] = {"findings", "fingerprints", "rules"};
constexpr std::string_view kPiiScanFields[] = {"findings", "kinds"};
constexpr double kMaxCount = 9007199254740991.0;  // 2^53 - 1

// A count: a whole number from 0 to 2^53 - 1.
Result<uint64_t> Count(const json::ObjectReader& o, std::string_view key) {
  auto value = o.Find(key);
  if (!value) return std::unexpected(Invalid(fmt::format("{}: required", o.Path(key))));
  constexpr std::string_view kWhat = "a whole number from 0 to 2^53 - 1";
  if (!value->is_number()) return std::unexpected(o.WrongType(key, kWhat, *value));
  auto n = value->AsUint64();
  if (!n || static_cast<double>(*n) > kMaxCount) {
    return std::unexpected(
        Invalid(fmt::format("{}: expected {}, found {}", o.Path(key), kWhat, value->NumberText())));
  }
  return *n;
}

// An optional array of strings, at most kMaxScanItems, each passing `valid`
// (which says what a valid one is).
Result<std::vector<std::string>> Items(const json::ObjectReader& o, std::string_view key,
                                       bool (*valid)(std::string_view), std::string_view what) {
  std::optional<std::vector<std::string>> items;
  INTERLOCK_ASSIGN(items, o.OptionalStringArray(key));
  if (!items) return std::vector<std::string>();
  if (items->size() > kMaxScanItems) {
    return std::unexpected(Invalid(
        fmt::format("{}: at most {} items, found {}", o.Path(key), kMaxScanItems, items->size())));
  }
  for (size_t i = 0; i < items->size(); ++i) {
    if (!valid((*items)[i])) {
      std::string shown;
      json::AppendQuoted(&shown, (*items)[i]);
      return std::unexpected(
          Invalid(fmt::format("{}[{}]: expected {}, found {}", o.Path(key), i, what, shown)));
    }
  }
  return std::move(*items);
}

bool IsFingerprint(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsRuleId(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

Result<void> ReadSecretScan(const json::ObjectReader& checks, Request* r) {
  std::optional<json::ObjectReader> scan;
  INTERLOCK_ASSIGN(scan, checks.OptionalObject("secret_scan", kSecretScanFields));
  if (!scan) return Ok();
  SecretScanCheck s;
  INTERLOCK_ASSIGN(s.findings, Count(*scan, "findings"));
  INTERLOCK_ASSIGN(s.fingerprints,
                   Items(*scan, "fingerprints", IsFingerprint, "64 lowercase hexadecimal digits"));
  INTERLOCK_ASSIGN(
      s.rules, Items(*scan, "rules", IsRuleId, "a rule id (letters, digits, '-', '_' and '.')"));
  r->secret_scan = std::move(s);
  return Ok();
}

Result<void> ReadPiiScan(const json::ObjectReader& checks, Request* r) {
  std::optional<json::ObjectReader> scan;
  INTERLOCK_ASSIGN(scan, checks.OptionalObject("pii_scan", kPiiScanFields));
  if (!scan) return Ok();
  PiiScanCheck s;
  INTERLOCK_ASSIGN(s.findings, Count(*scan, "findings"));
  std::optional<json::ObjectReader> kinds;
  INTERLOCK_ASSIGN(kinds, scan->OptionalObject("kinds", kPiiKinds));
  if (kinds) {
    for (std::string_view kind : kPiiKinds) {
      if (!kinds->Find(kind)) continue;
      uint64_t n = 0;
      INTERLOCK_ASSIGN(n, Count(*kinds, kind));
      if (n > 0) s.kinds.emplace_back(kind, n);
    }
  }
  r->pii_scan = std::move(s);
  return Ok();
}

Result<void> ReadActor(const json::ObjectReader& top, Request* r) {
  std::optional<json::ObjectReader> actor;
  INTERLOCK_ASSIGN(actor, top.OptionalObject("actor", kActorFields));
  if (!actor) return Ok();
  r->actor_given = true;
  INTERLOCK_ASSIGN(r->actor_type, actor->Enum<ActorType>("type"));
  std::string_view id;
  INTERLOCK_ASSIGN(id, actor->String("id"));
  if (id.empty()) return std::unexpected(Invalid("actor.id: must not be empty"));
  r->actor_id = std::string(id);
  std::optional<std::string_view> team;
  INTERLOCK_ASSIGN(team, actor->OptionalString("team"));
  r->actor_team = Copy(team);
  std::optional<std::vector<std::string>> roles;
  INTERLOCK_ASSIGN(roles, actor->OptionalStringArray("roles"));
  if (roles) r->actor_roles = std::move(*roles);
  // Accepted for the audit trail's benefit; they do not affect the decision.
  std::optional<std::string_view> ignored;
  INTERLOCK_ASSIGN(ignored, actor->OptionalString("name"));
  INTERLOCK_ASSIGN(ignored, actor->OptionalString("version"));
  return Ok();
}

Result<void> ReadChange(const json::ObjectReader& top, Request* r) {
  std::optional<json::ObjectReader> change;
  {
    auto object = top.Object("change", kChangeFields);
    if (!object) return std::unexpected(object.error());
    change.emplace(std::move(*object));
  }
  INTERLOCK_ASSIGN(r->change_type, change->Enum<ChangeType>("type"));
  INTERLOCK_ASSIGN(r->environment, change->Enum<Environment>("environment"));
  std::optional<std::string_view> text;
  INTERLOCK_ASSIGN(text, change->OptionalString("service"));
  r->service = Copy(text);
  INTERLOCK_ASSIGN(text, change->OptionalString("version"));
  r->version = Copy(text);
  INTERLOCK_ASSIGN(text, change->OptionalString("previous_version"));
  r->previous_version = Copy(text);
  INTERLOCK_ASSIGN(text, change->OptionalString("summary"));
  r->summary = Copy(text);
  std::optional<Bump> bump;
  INTERLOCK_ASSIGN(bump, change->OptionalEnum<Bump>("bump"));

  std::optional<SemVer> to, from;
  for (auto [key, text, parsed] : {std::tuple{"version", &r->version, &to},
                                   std::tuple{"previous_version", &r->previous_version, &from}}) {
    if (!*text) continue;
    *parsed = ParseSemVer(**text);
    if (!*parsed) {
      return std::unexpected(Invalid(
          fmt::format("change.{}: expected a semantic version such as 2.5.4 or v2.5.4, found '{}'",
                      key, **text)));
    }
  }
  if (bump) {
    r->bump = *bump;
    r->bump_given = true;
    if (to && from && BumpBetween(*from, *to) != *bump) {
      return std::unexpected(Invalid(fmt::format(
          "change.bump: '{}' contradicts the versions ({} -> {} is a {} change)", Name(*bump),
          *r->previous_version, *r->version, Name(BumpBetween(*from, *to)))));
    }
  } else if (to && from) {
    r->bump = BumpBetween(*from, *to);
  } else {
    return std::unexpected(
        Invalid("change.bump: required; give change.bump, or both change.version and "
                "change.previous_version"));
  }
  return Ok();
}

Result<void> ReadAi(const json::ObjectReader& top, Request* r) {
  std::optional<json::ObjectReader> ai;
  INTERLOCK_ASSIGN(ai, top.OptionalObject("ai", kAiFields));
  if (!ai) return Ok();
  INTERLOCK_ASSIGN(r->ai_confidence, ai->OptionalNumber("confidence", 0, 1));
  std::optional<std::string_view> text;
  INTERLOCK_ASSIGN(text, ai->OptionalString("rationale"));
  r->ai_rationale = Copy(text);
  INTERLOCK_ASSIGN(text, ai->OptionalString("recommendation"));
  return Ok();
}

Result<void> ReadChecks(const json::ObjectReader& top, Request* r) {
  std::optional<json::ObjectReader> checks;
  INTERLOCK_ASSIGN(checks, top.OptionalObject("checks", kChecksFields));
  if (!checks) return Ok();
  INTERLOCK_ASSIGN(r->tests_passed, checks->OptionalBool("tests_passed"));
  std::optional<json::ObjectReader> scan;
  INTERLOCK_ASSIGN(scan, checks->OptionalObject("security_scan", kScanFields));
  if (scan) {
    INTERLOCK_ASSIGN(r->scan_passed, scan->OptionalBool("passed"));
    INTERLOCK_ASSIGN(r->scan_max_severity, scan->OptionalEnum<Severity>("max_severity"));
  }
  if (auto read = ReadSecretScan(*checks, r); !read) return read;
  return ReadPiiScan(*checks, r);
}

// Checks the fields of a change_metadata.json whose meaning Interlock relies
// on; every other field is free-form. Returns the metadata object, if any.
Result<std::optional<json::Value>> ReadMetadata(const json::ObjectReader& top) {
  auto value = top.Find("metadata");
  if (!value) return std::nullopt;
  if (!value->is_object()) return std::unexpected(top.WrongType("metadata", "an object", *value));
  constexpr std::string_view kText[] = {"change_id", "author", "owner",        "timestamp",
                                        "rationale", "impact", "rollback_plan"};
  for (json::Member member : value->members()) {
    std::string_view key = member.key;
    json::Value field = member.value();
    if (field.is_null()) continue;
    if (key == "risk_level") {
      if (!field.is_string()) {
        return std::unexpected(Invalid(fmt::format(
            "metadata.risk_level: expected a string, found {}", json::TypeName(field.type()))));
      }
      if (!ParseEnum<RiskLevel>(field.AsString())) {
        std::string shown;
        json::AppendQuoted(&shown, field.AsString());
        return std::unexpected(
            Invalid(fmt::format("metadata.risk_level: expected one of {}, found {}",
                                fmt::join(kRiskLevelNames, ", "), shown)));
      }
      continue;
    }
    for (std::string_view text : kText) {
      if (key == text && !field.is_string()) {
        return std::unexpected(Invalid(fmt::format("metadata.{}: expected a string, found {}", key,
                                                   json::TypeName(field.type()))));
      }
    }
  }
  return *value;
}

}  // namespace

Result<Request> ParseRequest(std::string_view text, const RequestLimits& limits) {
  auto document = json::Parse(
      text, {.subject = "request", .max_bytes = limits.max_bytes, .max_depth = limits.max_depth});
  if (!document) return std::unexpected(document.error());
  Request request;
  std::optional<json::ObjectReader> top;
  INTERLOCK_ASSIGN(top, json::ObjectReader::Make(document->root(), "", "request", kTopFields));
  for (auto read : {ReadActor, ReadChange, ReadAi, ReadChecks}) {
    if (auto ok = read(*top, &request); !ok) return std::unexpected(ok.error());
  }
  std::optional<json::Value> metadata;
  INTERLOCK_ASSIGN(metadata, ReadMetadata(*top));
  if (metadata) {
    // Values stay valid when their document moves.
    request.metadata = std::make_shared<const Metadata>(Metadata{std::move(*document), *metadata});
  }
  return request;
}

Result<void> CheckRequest(const governance::Governance& g, const Request& request) {
  for (size_t index = 0; index < request.actor_roles.size(); ++index) {
    const std::string& role = request.actor_roles[index];
    if (!g.FindRole(role)) {
      return std::unexpected(Invalid(
          fmt::format("actor.roles[{}]: unknown role '{}' (roles are defined in interlock.yaml)",
                      index, role)));
    }
  }
  // The known services and environments, when the governance lists them.
  if (!g.environments.empty() && std::find(g.environments.begin(), g.environments.end(),
                                           request.environment) == g.environments.end()) {
    std::vector<std::string_view> names;
    for (Environment e : g.environments) names.push_back(Name(e));
    return std::unexpected(Invalid(
        fmt::format("change.environment: \"{}\" is not an environment of interlock.yaml ({})",
                    Name(request.environment), fmt::join(names, ", "))));
  }
  if (!g.services.empty() && request.service) {
    auto canonical = CanonicalService(*request.service);
    if (!canonical)
      return std::unexpected(Invalid("change.service: " + canonical.error().message()));
    if (std::find(g.services.begin(), g.services.end(), *canonical) == g.services.end()) {
      return std::unexpected(
          Invalid(fmt::format("change.service: \"{}\" is not a service of interlock.yaml ({})",
                              *request.service, fmt::join(g.services, ", "))));
    }
  }
  return Ok();
}

std::optional<json::Value> MetadataObject(const Request& request) {
  if (!request.metadata) return std::nullopt;
  return request.metadata->value;
}

expr::Value LookupMetadata(const Request& request, const std::vector<std::string>& path) {
  if (!request.metadata) return expr::Value::Unknown();
  json::Value node = request.metadata->value;
  for (const std::string& segment : path) {
    if (!node.is_object()) return expr::Value::Unknown();
    auto member = node.Find(segment);
    if (!member) return expr::Value::Unknown();
    node = *member;
  }
  switch (node.type()) {
    case json::Type::kBool:
      return expr::Value::Bool(node.AsBool());
    case json::Type::kString:
      return expr::Value::String(node.AsString());
    case json::Type::kNumber:
      return expr::Value::Number(node.AsNumber());
    default:
      return expr::Value::Unknown();
  }
}

expr::Value RequestEnv::Lookup(uint32_t slot) const {
  using governance::RequestField;
  auto text = [](const std::optional<std::string>& s) {
    return s ? expr::Value::String(*s) : expr::Value::Unknown();
  };
  switch (static_cast<RequestField>(slot)) {
    case RequestField::kActorType:
      return expr::Value::String(Name(r_.actor_type));
    case RequestField::kActorId:
      return expr::Value::String(r_.actor_id);
    case RequestField::kActorTeam:
      return text(r_.actor_team);
    case RequestField::kChangeType:
      return expr::Value::String(Name(r_.change_type));
    case RequestField::kEnvironment:
      return expr::Value::String(Name(r_.environment));
    case RequestField::kService:
      return text(r_.service);
    case RequestField::kVersion:
      return text(r_.version);
    case RequestField::kPreviousVersion:
      return text(r_.previous_version);
    case RequestField::kBump:
      return expr::Value::String(Name(r_.bump));
    case RequestField::kSummary:
      return text(r_.summary);
    case RequestField::kAiConfidence:
      return r_.ai_confidence ? expr::Value::Number(*r_.ai_confidence) : expr::Value::Unknown();
    case RequestField::kAiRationale:
      return text(r_.ai_rationale);
    case RequestField::kTestsPassed:
      return r_.tests_passed ? expr::Value::Bool(*r_.tests_passed) : expr::Value::Unknown();
    case RequestField::kScanPassed:
      return r_.scan_passed ? expr::Value::Bool(*r_.scan_passed) : expr::Value::Unknown();
    case RequestField::kScanMaxSeverity:
      return r_.scan_max_severity ? expr::Value::String(Name(*r_.scan_max_severity))
                                  : expr::Value::Unknown();
    case RequestField::kSecretScanFindings:
      return r_.secret_scan ? expr::Value::Number(static_cast<double>(r_.secret_scan->findings))
                            : expr::Value::Unknown();
    case RequestField::kPiiScanFindings:
      return r_.pii_scan ? expr::Value::Number(static_cast<double>(r_.pii_scan->findings))
                         : expr::Value::Unknown();
    case RequestField::kCount:
      break;
  }
  if (slot >= governance::kMetadataSlotBase) {
    size_t index = slot - governance::kMetadataSlotBase;
    if (index < g_.metadata_paths.size()) return LookupMetadata(r_, g_.metadata_paths[index]);
  }
  return expr::Value::Unknown();
}

}  // namespace interlock::decision
