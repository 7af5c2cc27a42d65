// Kubernetes' ValidatingAdmissionWebhook: POST
// /v1/integrations/kubernetes/admission takes an AdmissionReview v1 and
// answers one with the same uid, `allowed`, `status` {code, message} and
// `warnings`. It refuses an object when
//   - its namespace maps to no environment (integrations/kubernetes.yml),
//   - a user that acts for an AI agent makes it while a stop covers the
//     agent, or before the agents are enabled again after one,
//   - an emergency stop covers its service and environment,
//   - a freeze window is in force for it, unless the window names a
//     break-glass workflow and the object's annotation
//     interlock.dev/approval names an approved request of that workflow
//     for the same service and environment.
// Every review is recorded in the audit log before it is answered; one
// whose record cannot be made is refused (fail closed).
//
// Only the fields read are checked: the review carries the whole object,
// whose schema is Kubernetes'.
#include <fmt/format.h>

#include "app/stop_board.h"
#include "audit/event.h"
#include "core/json.h"
#include "core/text.h"
#include "safety/freeze.h"
#include "server/service_impl.h"

namespace interlock::server {
namespace {

namespace js = ::interlock::json;

constexpr std::string_view kApprovalAnnotation = "interlock.dev/approval";

// Member `key` of object `v` (at `path`), or nullopt when absent or null.
std::optional<js::Value> Member(js::Value v, std::string_view key) {
  auto m = v.Find(key);
  if (!m || m->is_null()) return std::nullopt;
  return m;
}

// The string at `key` of `v`; "" when absent or null.
Result<std::string_view> StringAt(js::Value v, std::string_view key, std::string_view path) {
  auto m = Member(v, key);
  if (!m) return std::string_view();
  if (!m->is_string()) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("{}.{}: expected a string, found {}", path, key, js::TypeName(m->type()))));
  }
  return m->AsString();
}

// The object at `key` of `v`; nullopt when absent or null.
Result<std::optional<js::Value>> ObjectAt(js::Value v, std::string_view key,
                                          std::string_view path) {
  auto m = Member(v, key);
  if (!m) return std::optional<js::Value>();
  if (!m->is_object()) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("{}.{}: expected an object, found {}", path, key, js::TypeName(m->type()))));
  }
  return m;
}

// What the webhook reads of a review.
struct Review {
  std::string uid;
  std::string operation;
  std::string kind;
  std::string ns;
  std::string name;
  std::string username;
  bool dry_run = false;
  std::map<std::string, std::string> labels;
  std::string approval;  // the interlock.dev/approval annotation
};

// The labels or annotations of `metadata`, each a string.
Result<std::map<std::string, std::string>> StringMap(js::Value metadata, std::string_view key,
                                                     std::string_view path) {
  std::map<std::string, std::string> out;
  auto m = ObjectAt(metadata, key, path);
  if (!m) return std::unexpected(m.error());
  if (!*m) return out;
  for (const js::Member& member : (*m)->members()) {
    js::Value v = member.value();
    if (!v.is_string()) {
      return std::unexpected(
          Error::InvalidArgument(fmt::format("{}.{}[\"{}\"]: expected a string, found {}", path,
                                             key, member.key, js::TypeName(v.type()))));
    }
    out.emplace(std::string(member.key), std::string(v.AsString()));
  }
  return out;
}

// Reads the review; `uid` is filled as soon as it is known, so that an
// error can still be answered in an AdmissionReview.
Result<Review> ReadReview(std::string_view body, std::string* uid) {
  auto doc = js::Parse(body, {.subject = "AdmissionReview"});
  if (!doc) return std::unexpected(doc.error());
  js::Value root = doc->root();
  auto api = StringAt(root, "apiVersion", "AdmissionReview");
  if (!api) return std::unexpected(api.error());
  auto kind = StringAt(root, "kind", "AdmissionReview");
  if (!kind) return std::unexpected(kind.error());
  if (*api != "admission.k8s.io/v1" || *kind != "AdmissionReview") {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "AdmissionReview: expected apiVersion admission.k8s.io/v1 and kind AdmissionReview, "
        "found \"{}\" and \"{}\"",
        *api, *kind)));
  }
  auto request = ObjectAt(root, "request", "AdmissionReview");
  if (!request) return std::unexpected(request.error());
  if (!*request)
    return std::unexpected(Error::InvalidArgument("AdmissionReview.request: required"));
  js::Value req = **request;
  constexpr std::string_view kReq = "request";
  Review r;
  auto id = StringAt(req, "uid", kReq);
  if (!id) return std::unexpected(id.error());
  if (id->empty()) return std::unexpected(Error::InvalidArgument("request.uid: required"));
  r.uid = *uid = std::string(*id);
  for (auto [key, out] :
       {std::pair{"operation", &r.operation}, {"namespace", &r.ns}, {"name", &r.name}}) {
    auto v = StringAt(req, key, kReq);
    if (!v) return std::unexpected(v.error());
    *out = std::string(*v);
  }
  if (auto k = ObjectAt(req, "kind", kReq); !k) {
    return std::unexpected(k.error());
  } else if (*k) {
    auto v = StringAt(**k, "kind", "request.kind");
    if (!v) return std::unexpected(v.error());
    r.kind = std::string(*v);
  }
  if (auto user = ObjectAt(req, "userInfo", kReq); !user) {
    return std::unexpected(user.error());
  } else if (*user) {
    auto v = StringAt(**user, "username", "request.userInfo");
    if (!v) return std::unexpected(v.error());
    r.username = std::string(*v);
  }
  if (auto dry = Member(req, "dryRun")) {
    if (!dry->is_bool()) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("request.dryRun: expected a boolean, found {}", js::TypeName(dry->type()))));
    }
    r.dry_run = dry->AsBool();
  }
  // The object as it will be, or as it was for a DELETE.
  for (std::string_view which : {"object", "oldObject"}) {
    std::string path = fmt::format("request.{}", which);
    auto object = ObjectAt(req, which, kReq);
    if (!object) return std::unexpected(object.error());
    if (!*object) continue;
    auto metadata = ObjectAt(**object, "metadata", path);
    if (!metadata) return std::unexpected(metadata.error());
    if (!*metadata) break;
    path += ".metadata";
    auto labels = StringMap(**metadata, "labels", path);
    if (!labels) return std::unexpected(labels.error());
    auto annotations = StringMap(**metadata, "annotations", path);
    if (!annotations) return std::unexpected(annotations.error());
    r.labels = std::move(*labels);
    if (auto a = annotations->find(std::string(kApprovalAnnotation)); a != annotations->end()) {
      r.approval = a->second;
    }
    if (r.name.empty()) {
      auto name = StringAt(**metadata, "name", path);
      if (!name) return std::unexpected(name.error());
      r.name = std::string(*name);
    }
    break;
  }
  return r;
}

json AdmissionAnswer(const std::string& uid, bool allowed, int code, const std::string& message,
                     const std::vector<std::string>& warnings) {
  json response = {
      {"uid", uid}, {"allowed", allowed}, {"status", {{"code", code}, {"message", message}}}};
  if (!warnings.empty()) response["warnings"] = warnings;
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"response", std::move(response)}};
}

}  // namespace

void Service::Impl::KubernetesAdmission(Call& c) {
  const Governance& g = *c.g;
  std::string uid;
  auto review = ReadReview(c.request.body, &uid);
  if (!review) {
    if (uid.empty()) {
      c.respond(ErrorResponse(400, "invalid_request", review.error().message()));
    } else {
      c.respond(JsonResponse(200, AdmissionAnswer(uid, false, 400, review.error().message(), {})));
    }
    return;
  }
  const Review& r = *review;
  // Who and what.
  const governance::KubernetesAgent* agent = g.kubernetes.FindAgent(r.username);
  const governance::KubernetesNamespace* mapped = g.kubernetes.FindNamespace(r.ns);
  std::string service;
  if (mapped && !mapped->service.empty()) {
    service = mapped->service;
  } else {
    std::string named = r.name;
    for (const std::string& label : g.kubernetes.service_labels) {
      if (auto it = r.labels.find(label); it != r.labels.end()) {
        named = it->second;
        break;
      }
    }
    service = CanonicalService(named).value_or(named);
  }
  std::string actor = agent ? agent->principal : r.username;

  bool allowed = true;
  int code = 200;
  std::string message;
  std::vector<std::string> warnings;
  auto refuse = [&](std::string why) {
    allowed = false;
    code = 403;
    message = std::move(why);
  };
  if (!mapped) {
    refuse(
        fmt::format("namespace \"{}\" is not mapped to an environment in "
                    "integrations/kubernetes.yml, so Interlock cannot tell what it changes",
                    r.ns));
  } else if (auto refusal =
                 agent ? AiRefusal(agent->principal, mapped->environment, service) : std::nullopt) {
    refuse(fmt::format("{} acts for AI agent {}: {}", r.username, agent->principal, *refusal));
  } else if (const safety::StopState* stop =
                 app::Covering(*stops->Snapshot(), mapped->environment, service, actor)) {
    refuse(
        fmt::format("the emergency stop ({}) is active: {}", stop->scope.Describe(), stop->reason));
  } else {
    safety::FrozenChange change{mapped->environment, &service, ChangeType::kCode};
    if (auto frozen = state->freezes().FrozenFor(g, change, options.clock->Now())) {
      const governance::FreezeWindow& w = g.freeze_windows[frozen->window];
      std::string why = safety::Describe(g, *frozen);
      if (!w.break_glass) {
        refuse(why);
      } else if (r.approval.empty()) {
        refuse(
            fmt::format("{}; to break the glass, annotate the object with {}: the id of an "
                        "approved request of workflow {} for {} in {}",
                        why, kApprovalAnnotation, g.workflows[*w.break_glass].id, service,
                        Name(mapped->environment)));
      } else {
        auto found = state->approvals().Find(r.approval);
        const workflow::ApprovalRequest* a = found && *found ? &**found : nullptr;
        auto canonical = a && a->change.service ? CanonicalService(*a->change.service)
                                                : Result<std::string>(std::string());
        if (a == nullptr || a->state != workflow::ApprovalState::kApproved ||
            a->workflow != g.workflows[*w.break_glass].id || !canonical || *canonical != service ||
            a->change.environment != mapped->environment) {
          refuse(fmt::format("{}; {} {} is not an approved request of workflow {} for {} in {}",
                             why, kApprovalAnnotation, r.approval, g.workflows[*w.break_glass].id,
                             service, Name(mapped->environment)));
        } else {
          warnings.push_back(
              fmt::format("{}; let through by approved request {}", why, r.approval));
        }
      }
    }
  }
  if (allowed) {
    message = fmt::format("nothing holds {} in {}", service, Name(mapped->environment));
  }

  // Recorded before it is answered.
  nlohmann::json event = {{"event_type", "kubernetes_admission"},
                          {"actor",
                           {{"type", agent                                              ? "ai_agent"
                                     : r.username.starts_with("system:serviceaccount:") ? "service"
                                                                                        : "human"},
                            {"id", actor.empty() ? std::string("kubernetes") : actor}}},
                          {"kubernetes",
                           {{"uid", r.uid},
                            {"operation", r.operation},
                            {"kind", r.kind},
                            {"namespace", r.ns},
                            {"name", r.name},
                            {"username", r.username},
                            {"dry_run", r.dry_run}}},
                          {"change", {{"service", service}}},
                          {"decision", {{"allowed", allowed}, {"rationale", message}}}};
  if (mapped) event["change"]["environment"] = Name(mapped->environment);
  auto made = audit::MakeEvent(std::move(event), options.clock->Now());
  if (!made) {
    c.respond(JsonResponse(200, AdmissionAnswer(r.uid, false, 400, made.error().message(), {})));
    return;
  }
  std::vector<audit::Event> events;
  events.push_back(std::move(*made));
  json answer = AdmissionAnswer(r.uid, allowed, code, message, warnings);
  log->CommitAsync(
      std::move(events), {},
      [respond = c.respond, answer = std::move(answer),
       uid = r.uid](Result<std::vector<audit::Appended>> appended) {
        if (!appended) {
          respond(JsonResponse(200, AdmissionAnswer(uid, false, 503,
                                                    "the review could not be recorded, so it is "
                                                    "refused: " +
                                                        appended.error().message(),
                                                    {})));
          return;
        }
        respond(JsonResponse(200, answer));
      });
}

}  // namespace interlock::server
