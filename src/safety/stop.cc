#include "safety/stop.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "core/text.h"

namespace interlock::safety {
namespace {

using json = nlohmann::ordered_json;
using governance::Governance;
using governance::Principal;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Result<void> MustBeHuman(const Principal& actor, std::string_view what) {
  if (actor.type != ActorType::kHuman) {
    return std::unexpected(Error::PermissionDenied(
        fmt::format("{} is an {} and cannot {}", actor.id, Name(actor.type), what)));
  }
  return Ok();
}

// " (environment production)" for a scoped stop, "" for the global one.
std::string Qualifier(const Scope& scope) {
  return scope.kind == ScopeKind::kAll ? "" : fmt::format(" ({})", scope.Describe());
}

json Actor(const Principal& p) { return {{"type", Name(p.type)}, {"id", p.id}}; }

json SignaturesJson(const std::vector<Signature>& signatures) {
  json out = json::array();
  for (const Signature& s : signatures) {
    json fields = json::object();
    for (const auto& [k, v] : s.fields) fields[k] = v;
    out.push_back({{"principal", s.principal}, {"role", s.role}, {"fields", fields}, {"at", s.at}});
  }
  return out;
}

Result<std::vector<Signature>> SignaturesFrom(const json& j, std::string_view where) {
  std::vector<Signature> out;
  if (!j.is_array()) {
    return std::unexpected(Error::Corruption(fmt::format("{}: expected an array", where)));
  }
  for (const json& s : j) {
    if (!s.is_object() || !s.contains("principal") || !s["principal"].is_string() ||
        !s.contains("role") || !s["role"].is_string() || !s.contains("at") ||
        !s["at"].is_number_integer() || !s.contains("fields") || !s["fields"].is_object()) {
      return std::unexpected(Error::Corruption(fmt::format("{}: a damaged signature", where)));
    }
    Signature sig{s["principal"].get<std::string>(),
                  s["role"].get<std::string>(),
                  {},
                  s["at"].get<UnixMillis>()};
    for (const auto& [k, v] : s["fields"].items()) {
      if (!v.is_string()) {
        return std::unexpected(
            Error::Corruption(fmt::format("{}: field {} is not text", where, k)));
      }
      sig.fields[k] = v.get<std::string>();
    }
    out.push_back(std::move(sig));
  }
  return out;
}

}  // namespace

// The name of each scope kind, as keys, descriptions and the API spell it.
constexpr std::array<std::string_view, 4> kScopeNames = {"all", "environment", "service", "agent"};

std::string Scope::Key() const {
  if (kind == ScopeKind::kAll) return "global";
  return fmt::format("{}:{}", kScopeNames[static_cast<size_t>(kind)], value);
}

Result<Scope> Scope::FromKey(std::string_view key) {
  if (key == "global") return Scope{};
  size_t colon = key.find(':');
  std::string_view kind = key.substr(0, colon);
  std::string value(colon == std::string_view::npos ? "" : key.substr(colon + 1));
  if (!value.empty()) {
    if (kind == "environment" && ParseEnum<Environment>(value)) {
      return Scope{ScopeKind::kEnvironment, value};
    }
    if (kind == "service") {
      if (auto canonical = CanonicalService(value)) return Scope{ScopeKind::kService, *canonical};
    }
    if (kind == "agent") return Scope{ScopeKind::kAgent, value};
  }
  return std::unexpected(
      Error::Corruption(fmt::format("emergency stop state: \"{}\" is not a scope", key)));
}

std::string Scope::Describe() const {
  if (kind == ScopeKind::kAll) return "all";
  return fmt::format("{} {}", kScopeNames[static_cast<size_t>(kind)], value);
}

json Scope::ToJson() const {
  if (kind == ScopeKind::kAll) return json::object();
  return {{std::string(kScopeNames[static_cast<size_t>(kind)]), value}};
}

Result<Scope> Scope::FromJson(const Governance& g, const json& j) {
  auto invalid = [](std::string m) {
    return std::unexpected(Error::InvalidArgument(std::move(m)));
  };
  if (!j.is_object())
    return invalid(fmt::format("scope: expected an object, found {}", j.type_name()));
  if (j.empty()) return Scope{};
  if (j.size() != 1) {
    return invalid("scope: name exactly one of environment, service or agent");
  }
  auto member = j.begin();
  const std::string& key = member.key();
  const json& value = member.value();
  if (!value.is_string()) {
    return invalid(fmt::format("scope.{}: expected a string, found {}", key, value.type_name()));
  }
  std::string text = value.get<std::string>();
  if (key == "environment") {
    if (!ParseEnum<Environment>(text)) {
      return invalid(
          fmt::format("scope.environment: expected dev, staging or production, got \"{}\"", text));
    }
    return Scope{ScopeKind::kEnvironment, text};
  }
  if (key == "service") {
    auto canonical = CanonicalService(text);
    if (!canonical) return invalid("scope.service: " + canonical.error().message());
    if (!g.services.empty() &&
        std::find(g.services.begin(), g.services.end(), *canonical) == g.services.end()) {
      return invalid(fmt::format("scope.service: \"{}\" is not a service of interlock.yaml ({})",
                                 text, fmt::join(g.services, ", ")));
    }
    return Scope{ScopeKind::kService, *canonical};
  }
  if (key == "agent") {
    for (const Principal& p : g.principals) {
      if (p.id == text && p.type == ActorType::kAiAgent) return Scope{ScopeKind::kAgent, text};
    }
    return invalid(fmt::format("scope.agent: \"{}\" is not an ai_agent of principals.yaml", text));
  }
  return invalid(
      fmt::format("scope: unknown field \"{}\" (expected environment, service or agent)", key));
}

bool Scope::Covers(Environment environment, const std::optional<std::string>& service,
                   std::string_view actor) const {
  switch (kind) {
    case ScopeKind::kAll:
      return true;
    case ScopeKind::kEnvironment:
      return Name(environment) == value;
    case ScopeKind::kService: {
      // A request that does not say which service it changes might change
      // this one: covered.
      if (!service) return true;
      auto canonical = CanonicalService(*service);
      return !canonical || *canonical == value;
    }
    case ScopeKind::kAgent:
      return actor == value;
  }
  return true;
}

json StopState::ToJson() const {
  json j = {{"scope", scope.Key()},
            {"active", active},
            {"reason", reason},
            {"activated_by", activated_by},
            {"activated_at", activated_at},
            {"incident", incident},
            {"signatures", SignaturesJson(signatures)},
            {"ai_disabled", ai_disabled},
            {"last_deactivation", SignaturesJson(last_deactivation)}};
  if (deactivated_at) j["deactivated_at"] = *deactivated_at;
  return j;
}

Result<StopState> StopState::FromJson(const json& j) {
  auto bad = [](std::string_view field) {
    return std::unexpected(
        Error::Corruption(fmt::format("emergency stop state: {} is missing or damaged", field)));
  };
  if (!j.is_object()) return bad("the state");
  StopState s;
  if (j.contains("scope")) {
    if (!j["scope"].is_string()) return bad("scope");
    auto scope = Scope::FromKey(j["scope"].get<std::string>());
    if (!scope) return std::unexpected(scope.error());
    s.scope = std::move(*scope);
  }
  for (const char* f : {"active", "ai_disabled"}) {
    if (!j.contains(f) || !j[f].is_boolean()) return bad(f);
  }
  for (const char* f : {"reason", "activated_by", "incident"}) {
    if (!j.contains(f) || !j[f].is_string()) return bad(f);
  }
  if (!j.contains("activated_at") || !j["activated_at"].is_number_integer()) {
    return bad("activated_at");
  }
  s.active = j["active"].get<bool>();
  s.ai_disabled = j["ai_disabled"].get<bool>();
  s.reason = j["reason"].get<std::string>();
  s.activated_by = j["activated_by"].get<std::string>();
  s.incident = j["incident"].get<std::string>();
  s.activated_at = j["activated_at"].get<UnixMillis>();
  if (j.contains("deactivated_at")) {
    if (!j["deactivated_at"].is_number_integer()) return bad("deactivated_at");
    s.deactivated_at = j["deactivated_at"].get<UnixMillis>();
  }
  for (auto [field, into] : {std::pair{"signatures", &s.signatures},
                             std::pair{"last_deactivation", &s.last_deactivation}}) {
    if (!j.contains(field)) return bad(field);
    auto sigs = SignaturesFrom(j[field], fmt::format("emergency stop state: {}", field));
    if (!sigs) return std::unexpected(sigs.error());
    *into = std::move(*sigs);
  }
  return s;
}

Result<StopChange> Activate(const Governance& g, const StopState& state, const Principal& actor,
                            std::string_view reason, UnixMillis now) {
  if (auto ok = MustBeHuman(actor, "activate the emergency stop"); !ok) {
    return std::unexpected(ok.error());
  }
  const auto& policy = g.emergency_stop;
  if ((actor.roles & policy.activate_roles).none()) {
    return std::unexpected(Error::PermissionDenied(
        fmt::format("{} holds none of the roles that may activate the emergency stop ({})",
                    actor.id, g.RoleNames(policy.activate_roles))));
  }
  reason = Trim(reason);
  if (reason.empty()) {
    return std::unexpected(Error::InvalidArgument("reason: the emergency stop needs a reason"));
  }
  if (state.active) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "the emergency stop{} is already active, since {} by {}: {}", Qualifier(state.scope),
        FormatTimestamp(state.activated_at), state.activated_by, state.reason)));
  }
  StopChange c;
  StopState& n = c.next;
  n = state;
  n.active = true;
  n.reason = std::string(reason);
  n.activated_by = actor.id;
  n.activated_at = now;
  n.incident = fmt::format(
      "{}-{}", policy.incident_severity.empty() ? "SEV-1" : policy.incident_severity, now);
  n.signatures.clear();
  n.ai_disabled = true;
  n.deactivated_at.reset();
  c.event = {{"event_type", "emergency_stop_activated"},
             {"actor", Actor(actor)},
             {"action", {{"type", "emergency_stop"}, {"target", state.scope.Describe()}}},
             {"scope", state.scope.ToJson()},
             {"reason", n.reason},
             {"incident", {{"id", n.incident}, {"severity", policy.incident_severity}}},
             {"outcome", {{"status", "active"}}}};
  c.summary = fmt::format("EMERGENCY STOP{} activated by {}: {} (incident {})",
                          Qualifier(state.scope), actor.id, n.reason, n.incident);
  return c;
}

std::vector<std::string> PendingRoles(const Governance& g, const StopState& state) {
  const governance::EmergencyStopPolicy& policy = g.emergency_stop;
  std::vector<std::string> pending;
  for (size_t r = 0; r < g.roles.size(); ++r) {
    if (!policy.deactivate_roles.test(r)) continue;
    bool signed_for = false;
    for (const Signature& s : state.signatures) signed_for |= s.role == g.roles[r].id;
    if (!signed_for) pending.push_back(g.roles[r].id);
  }
  // Every role signed, and still too few people: one more from any role.
  if (pending.empty() &&
      static_cast<int>(state.signatures.size()) < policy.deactivate_distinct_people) {
    return g.RoleIds(policy.deactivate_roles);
  }
  return pending;
}

Result<StopChange> Deactivate(const Governance& g, const StopState& state, const Principal& actor,
                              const std::map<std::string, std::string>& fields, UnixMillis now) {
  if (auto ok = MustBeHuman(actor, "deactivate the emergency stop"); !ok) {
    return std::unexpected(ok.error());
  }
  const auto& policy = g.emergency_stop;
  if (!state.active) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("the emergency stop{} is not active", Qualifier(state.scope))));
  }
  for (const Signature& s : state.signatures) {
    const Principal* signer = g.FindPrincipal(s.principal);
    if (s.principal == actor.id || (signer && signer->Person() == actor.Person())) {
      return std::unexpected(Error::InvalidArgument(fmt::format(
          "{} has already signed the deactivation (as {}{}); another person must sign", actor.id,
          s.role, s.principal == actor.id ? "" : fmt::format(", through {}", s.principal))));
    }
  }
  // The first role still to sign that the actor holds.
  std::vector<std::string> pending = PendingRoles(g, state);
  std::optional<std::string> role;
  for (const std::string& name : pending) {
    auto index = g.FindRole(name);
    if (!role && index && actor.roles.test(*index)) role = name;
  }
  if (!role) {
    return std::unexpected(Error::PermissionDenied(
        fmt::format("{} holds none of the deactivation roles still to sign ({})", actor.id,
                    fmt::join(pending, ", "))));
  }
  Signature sig{actor.id, *role, {}, now};
  for (const std::string& name : policy.deactivate_requires) {
    auto it = fields.find(name);
    if (it == fields.end() || Trim(it->second).empty()) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("{}: required to deactivate the emergency stop", name)));
    }
    sig.fields[name] = std::string(Trim(it->second));
  }
  StopChange c;
  StopState& n = c.next;
  n = state;
  n.signatures.push_back(sig);
  std::vector<std::string> still = PendingRoles(g, n);
  json fields_json = json::object();
  for (const auto& [k, v] : sig.fields) fields_json[k] = v;
  c.event = {{"event_type", "emergency_stop_deactivation_signed"},
             {"actor", Actor(actor)},
             {"action", {{"type", "emergency_stop"}, {"target", state.scope.Describe()}}},
             {"scope", state.scope.ToJson()},
             {"role", *role},
             {"incident", {{"id", state.incident}}},
             {"deactivation", fields_json},
             {"pending_roles", still}};
  if (still.empty()) {
    n.active = false;
    n.deactivated_at = now;
    n.last_deactivation = std::move(n.signatures);
    n.signatures.clear();
    c.event["event_type"] = "emergency_stop_deactivated";
    c.event["outcome"] = {{"status", "inactive"}};
    c.summary = fmt::format(
        "Emergency stop{} deactivated ({} signed as {}); AI agents stay disabled until re-enabled",
        Qualifier(state.scope), actor.id, *role);
  } else {
    c.event["outcome"] = {{"status", "active"}};
    c.summary = fmt::format("{} signed the emergency stop{} deactivation as {}; still needed: {}",
                            actor.id, Qualifier(state.scope), *role, fmt::join(still, ", "));
  }
  return c;
}

Result<StopChange> ReenableAiAgents(const Governance& g, const StopState& state,
                                    const Principal& actor, std::string_view reason) {
  if (auto ok = MustBeHuman(actor, "re-enable AI agents"); !ok) return std::unexpected(ok.error());
  const auto& role = g.emergency_stop.ai_reenable_role;
  if (!role || !actor.roles.test(*role)) {
    return std::unexpected(Error::PermissionDenied(
        fmt::format("{} may not re-enable AI agents (needs the role {})", actor.id,
                    role ? g.roles[*role].id : std::string("named by ai_agents_reenabled_by"))));
  }
  if (state.active) {
    return std::unexpected(Error::InvalidArgument(
        "AI agents cannot be re-enabled while the emergency stop is active"));
  }
  if (!state.ai_disabled) {
    return std::unexpected(Error::InvalidArgument("AI agents are not disabled"));
  }
  reason = Trim(reason);
  if (reason.empty()) {
    return std::unexpected(Error::InvalidArgument("reason: re-enabling AI agents needs a reason"));
  }
  StopChange c;
  c.next = state;
  c.next.ai_disabled = false;
  c.event = {{"event_type", "ai_agents_reenabled"},
             {"actor", Actor(actor)},
             {"action", {{"type", "ai_agents_reenable"}, {"target", state.scope.Describe()}}},
             {"scope", state.scope.ToJson()},
             {"reason", std::string(reason)},
             {"incident", {{"id", state.incident}}}};
  c.summary =
      fmt::format("AI agents re-enabled{} by {}: {}", Qualifier(state.scope), actor.id, reason);
  return c;
}

}  // namespace interlock::safety
