#include "app/decision_event.h"

namespace interlock::app {

Result<audit::Event> DecisionEvent(const governance::Governance& g,
                                   const decision::Request& request, const decision::Decision& d,
                                   std::string_view why,
                                   std::optional<std::string_view> approval_id, UnixMillis now) {
  bool ai = request.actor_type == ActorType::kAiAgent;
  // Members in canonical (byte) order of their keys, as the writer needs.
  audit::EventWriter w(now);
  w.BeginObject("action");
  if (request.service) w.String("service", *request.service);
  w.String("type", Name(request.change_type));
  if (request.version) w.String("version", *request.version);
  w.EndObject();
  w.BeginObject("actor");
  w.String("id", request.actor_id);
  w.String("type", Name(request.actor_type));
  w.EndObject();
  w.BeginObject("ai_agent");
  w.Bool("involved", ai);
  w.EndObject();
  if (approval_id) {
    w.BeginObject("approval");
    w.String("id", *approval_id);
    w.Bool("required", true);
    w.EndObject();
  }
  w.BeginObject("decision");
  if (request.ai_confidence) w.Number("confidence_score", *request.ai_confidence);
  w.String("outcome", Name(d.kind));
  if (request.ai_rationale) {
    w.String("rationale", *request.ai_rationale);
  } else if (ai) {
    w.String("rationale", why);
  }
  w.String("risk_level", Name(d.risk));
  w.EndObject();
  w.String("environment", Name(request.environment));
  w.String("event_type", "decision");
  w.String("governance_version", g.version);
  w.String("reason", why);
  // The scans the request brought: counts and fingerprints, never values.
  if (request.secret_scan || request.pii_scan) {
    w.BeginObject("scans");
    if (const auto& pii = request.pii_scan) {
      w.BeginObject("pii");
      w.Count("findings", pii->findings);
      if (!pii->kinds.empty()) {
        w.BeginObject("kinds");
        for (const auto& [kind, count] : pii->kinds) w.Count(kind, count);
        w.EndObject();
      }
      w.EndObject();
    }
    if (const auto& secrets = request.secret_scan) {
      w.BeginObject("secrets");
      w.Count("findings", secrets->findings);
      w.StringArray("fingerprints", secrets->fingerprints);
      w.StringArray("rules", secrets->rules);
      w.EndObject();
    }
    w.EndObject();
  }
  if (request.summary) w.String("summary", *request.summary);
  return w.Finish();
}

}  // namespace interlock::app
