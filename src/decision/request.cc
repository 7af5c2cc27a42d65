#include "decision/request.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/semver.h"
#include "core/text.h"
#include "governance/fields.h"

namespace interlock::decision {

struct Metadata {
  nlohmann::json value;
};

namespace {

using nlohmann::json;

Error Invalid(std::string message) { return Error::InvalidArgument(std::move(message)); }

// Rejects nesting deeper than max_depth before the parser sees it.
Result<void> CheckDepth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t index = 0; index < text.size(); ++index) {
    char c = text[index];
    if (in_string) {
      if (c == '\\') {
        ++index;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        return std::unexpected(Invalid(fmt::format("request: nesting deeper than {} levels at {}",
                                                   max_depth, TextPosition(text, index))));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return Ok();
}

std::string TypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    default:
      return "a number";
  }
}

// Walks one JSON object, checking field names and types.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  Result<void> Only(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : object_.items()) {
      bool known = false;
      for (std::string_view name : allowed) known = known || key == name;
      if (!known) {
        return std::unexpected(Invalid(fmt::format("{}: unknown field '{}' (expected one of {})",
                                                   Field(key), key, fmt::join(allowed, ", "))));
      }
    }
    return Ok();
  }

  std::string Field(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

  const json* Find(std::string_view key) const {
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  Result<const json*> Object(std::string_view key, bool required) const {
    const json* value = Find(key);
    if (value == nullptr) {
      if (required) return std::unexpected(Invalid(fmt::format("{}: missing", Field(key))));
      return nullptr;
    }
    if (!value->is_object()) return std::unexpected(WrongType(key, "an object", *value));
    return value;
  }

  Result<std::optional<std::string>> String(std::string_view key, bool required) const {
    const json* value = Find(key);
    if (value == nullptr) {
      if (required) return std::unexpected(Invalid(fmt::format("{}: missing", Field(key))));
      return std::nullopt;
    }
    if (!value->is_string()) return std::unexpected(WrongType(key, "a string", *value));
    return value->get<std::string>();
  }

  Result<std::optional<bool>> Bool(std::string_view key) const {
    const json* value = Find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) return std::unexpected(WrongType(key, "true or false", *value));
    return value->get<bool>();
  }

  Result<std::optional<double>> Number(std::string_view key, double min, double max) const {
    const json* value = Find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number()) return std::unexpected(WrongType(key, "a number", *value));
    double number = value->get<double>();
    if (!std::isfinite(number) || number < min || number > max) {
      return std::unexpected(Invalid(fmt::format("{}: expected a number from {} to {}, found {}",
                                                 Field(key), min, max, value->dump())));
    }
    return number;
  }

  template <class E>
  Result<std::optional<E>> Enum(std::string_view key, bool required) const {
    auto text = String(key, required);
    if (!text) return std::unexpected(text.error());
    if (!*text) return std::nullopt;
    if (auto value = ParseEnum<E>(**text)) return value;
    return std::unexpected(Invalid(fmt::format("{}: expected one of {}, found '{}'", Field(key),
                                               fmt::join(EnumNames<E>::kNames, ", "), **text)));
  }

 private:
  Error WrongType(std::string_view key, std::string_view expected, const json& found) const {
    return Invalid(fmt::format("{}: expected {}, found {}", Field(key), expected, TypeName(found)));
  }

  const json& object_;
  std::string path_;
};

#define INTERLOCK_ASSIGN(lhs, expression)                  \
  do {                                                     \
    auto result_ = (expression);                           \
    if (!result_) return std::unexpected(result_.error()); \
    lhs = std::move(*result_);                             \
  } while (0)

Result<void> ReadActor(const ObjectReader& top, Request* r) {
  const json* object = nullptr;
  INTERLOCK_ASSIGN(object, top.Object("actor", true));
  ObjectReader actor(*object, "actor");
  if (auto ok = actor.Only({"type", "id", "roles", "team", "name", "version"}); !ok) return ok;
  std::optional<ActorType> type;
  INTERLOCK_ASSIGN(type, actor.Enum<ActorType>("type", true));
  r->actor_type = *type;
  std::optional<std::string> id;
  INTERLOCK_ASSIGN(id, actor.String("id", true));
  if (id->empty()) return std::unexpected(Invalid("actor.id: must not be empty"));
  r->actor_id = std::move(*id);
  INTERLOCK_ASSIGN(r->actor_team, actor.String("team", false));
  if (const json* roles = actor.Find("roles")) {
    if (!roles->is_array()) {
      return std::unexpected(Invalid(
          fmt::format("actor.roles: expected an array of strings, found {}", TypeName(*roles))));
    }
    for (size_t index = 0; index < roles->size(); ++index) {
      const json& role = (*roles)[index];
      if (!role.is_string()) {
        return std::unexpected(Invalid(
            fmt::format("actor.roles[{}]: expected a string, found {}", index, TypeName(role))));
      }
      r->actor_roles.push_back(role.get<std::string>());
    }
  }
  // Accepted for the audit trail's benefit; they do not affect the decision.
  std::optional<std::string> ignored;
  INTERLOCK_ASSIGN(ignored, actor.String("name", false));
  INTERLOCK_ASSIGN(ignored, actor.String("version", false));
  return Ok();
}

Result<void> ReadChange(const ObjectReader& top, Request* r) {
  const json* object = nullptr;
  INTERLOCK_ASSIGN(object, top.Object("change", true));
  ObjectReader change(*object, "change");
  if (auto ok = change.Only(
          {"type", "environment", "service", "version", "previous_version", "summary", "bump"});
      !ok) {
    return ok;
  }
  std::optional<ChangeType> type;
  INTERLOCK_ASSIGN(type, change.Enum<ChangeType>("type", true));
  r->change_type = *type;
  std::optional<Environment> environment;
  INTERLOCK_ASSIGN(environment, change.Enum<Environment>("environment", true));
  r->environment = *environment;
  INTERLOCK_ASSIGN(r->service, change.String("service", false));
  INTERLOCK_ASSIGN(r->version, change.String("version", false));
  INTERLOCK_ASSIGN(r->previous_version, change.String("previous_version", false));
  INTERLOCK_ASSIGN(r->summary, change.String("summary", false));
  std::optional<Bump> bump;
  INTERLOCK_ASSIGN(bump, change.Enum<Bump>("bump", false));

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
        Invalid("change.bump: missing; give change.bump, or both change.version and "
                "change.previous_version"));
  }
  return Ok();
}

Result<void> ReadAi(const ObjectReader& top, Request* r) {
  const json* object = nullptr;
  INTERLOCK_ASSIGN(object, top.Object("ai", false));
  if (object == nullptr) return Ok();
  ObjectReader ai(*object, "ai");
  if (auto ok = ai.Only({"confidence", "rationale", "recommendation"}); !ok) return ok;
  INTERLOCK_ASSIGN(r->ai_confidence, ai.Number("confidence", 0, 1));
  INTERLOCK_ASSIGN(r->ai_rationale, ai.String("rationale", false));
  std::optional<std::string> recommendation;
  INTERLOCK_ASSIGN(recommendation, ai.String("recommendation", false));
  return Ok();
}

Result<void> ReadChecks(const ObjectReader& top, Request* r) {
  const json* object = nullptr;
  INTERLOCK_ASSIGN(object, top.Object("checks", false));
  if (object == nullptr) return Ok();
  ObjectReader checks(*object, "checks");
  if (auto ok = checks.Only({"tests_passed", "security_scan"}); !ok) return ok;
  INTERLOCK_ASSIGN(r->tests_passed, checks.Bool("tests_passed"));
  const json* scan_object = nullptr;
  INTERLOCK_ASSIGN(scan_object, checks.Object("security_scan", false));
  if (scan_object == nullptr) return Ok();
  ObjectReader scan(*scan_object, "checks.security_scan");
  if (auto ok = scan.Only({"passed", "max_severity"}); !ok) return ok;
  INTERLOCK_ASSIGN(r->scan_passed, scan.Bool("passed"));
  INTERLOCK_ASSIGN(r->scan_max_severity, scan.Enum<Severity>("max_severity", false));
  return Ok();
}

Result<void> ReadMetadata(const ObjectReader& top, Request* r) {
  const json* object = nullptr;
  INTERLOCK_ASSIGN(object, top.Object("metadata", false));
  if (object == nullptr) return Ok();
  ObjectReader metadata(*object, "metadata");
  // The fields of a change_metadata.json whose meaning Interlock relies on.
  std::optional<RiskLevel> risk;
  INTERLOCK_ASSIGN(risk, metadata.Enum<RiskLevel>("risk_level", false));
  for (std::string_view key :
       {"change_id", "author", "owner", "timestamp", "rationale", "impact", "rollback_plan"}) {
    std::optional<std::string> text;
    INTERLOCK_ASSIGN(text, metadata.String(key, false));
  }
  r->metadata = std::make_shared<const Metadata>(Metadata{*object});
  return Ok();
}

}  // namespace

Result<Request> ParseRequest(std::string_view text, const RequestLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return std::unexpected(
        Invalid(fmt::format("request: larger than the limit of {} bytes", limits.max_bytes)));
  }
  if (auto ok = CheckDepth(text, limits.max_depth); !ok) return std::unexpected(ok.error());
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    size_t start = what.find("] ");
    return std::unexpected(
        Invalid(fmt::format("request: malformed JSON: {}",
                            start == std::string::npos ? what : what.substr(start + 2))));
  } catch (const std::exception& e) {
    return std::unexpected(Invalid(fmt::format("request: {}", e.what())));
  }
  if (!document.is_object()) {
    return std::unexpected(
        Invalid(fmt::format("request: expected a JSON object, found {}", TypeName(document))));
  }
  Request request;
  ObjectReader top(document, "");
  if (auto ok = top.Only({"actor", "change", "ai", "checks", "metadata"}); !ok) {
    return std::unexpected(ok.error());
  }
  for (auto read : {ReadActor, ReadChange, ReadAi, ReadChecks, ReadMetadata}) {
    if (auto ok = read(top, &request); !ok) return std::unexpected(ok.error());
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
  return Ok();
}

expr::Value LookupMetadata(const Request& request, const std::vector<std::string>& path) {
  if (!request.metadata) return expr::Value::Unknown();
  const json* node = &request.metadata->value;
  for (const std::string& segment : path) {
    if (!node->is_object()) return expr::Value::Unknown();
    auto it = node->find(segment);
    if (it == node->end()) return expr::Value::Unknown();
    node = &*it;
  }
  switch (node->type()) {
    case json::value_t::boolean:
      return expr::Value::Bool(node->get<bool>());
    case json::value_t::string:
      return expr::Value::String(node->get_ref<const std::string&>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return expr::Value::Number(node->get<double>());
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
