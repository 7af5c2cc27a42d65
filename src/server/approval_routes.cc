// The approval routes: GET /v1/approvals and /v1/approvals/{id}, read under
// the audit trail's read rules, and POST /v1/approvals/{id}/{action}, taken
// on the state lane and committed with its audit record.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "app/audit_access.h"
#include "audit/event.h"
#include "audit/json.h"
#include "core/json.h"
#include "server/service_impl.h"

namespace interlock::server {
namespace {

// Approvals per page of GET /v1/approvals.
constexpr uint64_t kDefaultApprovalPage = 100;
constexpr uint64_t kMaxApprovalPage = 1000;

// Whether `actor` may read approval `a`: the audit trail's read rules (own,
// team, all, or all within a grant), plus every approval they review.
bool MayRead(const Governance& g, const audit::Reader& reader, bool granted,
             const workflow::ApprovalRequest& a, const Principal& actor) {
  bool own = a.requester == actor.id || std::find(a.on_behalf_of.begin(), a.on_behalf_of.end(),
                                                  actor.id) != a.on_behalf_of.end();
  if (own) return true;
  switch (reader.scope) {
    case audit::ReadScope::kAll:
      if (!reader.needs_grant || granted) return true;
      break;
    case audit::ReadScope::kTeam:
      if (std::find(reader.team.begin(), reader.team.end(), a.requester) != reader.team.end()) {
        return true;
      }
      break;
    case audit::ReadScope::kOwn:
    case audit::ReadScope::kNone:
      break;
  }
  if (actor.type != ActorType::kHuman) return false;
  for (const std::string& role : a.eligible_roles) {
    auto index = g.FindRole(role);
    if (index && actor.roles.test(*index)) return true;
  }
  return false;
}

}  // namespace

void Service::Impl::GetApprovals(Call& c) {
  const HttpRequest& r = c.request;
  const GovernancePtr& g = c.g;
  const Principal& actor = *c.actor;
  const std::string& id = c.Param("id");  // "" for the list
  std::optional<std::string_view> wanted = r.Query("state");
  if (wanted && !ParseEnum<workflow::ApprovalState>(*wanted)) {
    c.respond(ErrorResponse(400, "invalid",
                            fmt::format("state: expected one of {}, got \"{}\"",
                                        fmt::join(workflow::kApprovalStateNames, ", "), *wanted)));
    return;
  }
  auto limit = IndexParam(r, "limit", false);
  if (!limit || (*limit && (**limit < 1 || **limit > kMaxApprovalPage))) {
    c.respond(ErrorResponse(
        400, "invalid",
        fmt::format("query parameter limit: expected an integer from 1 to {}", kMaxApprovalPage)));
    return;
  }
  std::string cursor(r.Query("cursor").value_or(""));
  size_t page = static_cast<size_t>(limit->value_or(kDefaultApprovalPage));
  // Reads commit a record, so they run on the read lane, never on an IO
  // thread.
  Post(*read_lane, actor.id, c.respond,
       [this, g, actor, id, wanted = wanted ? std::optional<std::string>(*wanted) : std::nullopt,
        cursor, page, respond = c.respond]() mutable {
         ReadApprovals(*g, actor, id, wanted, cursor, page, respond);
       });
}

void Service::Impl::PostApprovalAction(Call& c) {
  const HttpRequest& r = c.request;
  const std::string& id = c.Param("id");
  const std::string& action = c.Param("action");
  auto act = ParseEnum<workflow::Action>(action);
  if (!act || *act == workflow::Action::kOpen || *act == workflow::Action::kTimeout) {
    c.respond(ErrorResponse(404, "not_found",
                            fmt::format("no approval action \"{}\" (expected approve, reject, "
                                        "request_changes, escalate, delegate or resubmit)",
                                        action)));
    return;
  }
  static constexpr std::string_view kFields[] = {"rationale", "to"};
  auto body = ::interlock::json::ReadObject(r.body, kFields);
  if (!body) {
    c.respond(ErrorResponse(body.error()));
    return;
  }
  auto rationale = body->fields.String("rationale");
  if (!rationale) {
    c.respond(ErrorResponse(rationale.error()));
    return;
  }
  auto to = body->fields.OptionalString("to");
  if (!to) {
    c.respond(ErrorResponse(to.error()));
    return;
  }
  if (*act == workflow::Action::kDelegate && !*to) {
    c.respond(ErrorResponse(400, "invalid", "to: required"));
    return;
  }
  if (*act != workflow::Action::kDelegate && *to) {
    c.respond(ErrorResponse(400, "invalid", "to: only a delegation names a person"));
    return;
  }
  ApprovalAction(c.g, *c.actor, id, *act, std::string(*rationale), std::string(to->value_or("")),
                 AnswerWith(std::move(c.respond)));
}

void Service::Impl::ReadApprovals(const Governance& g, const Principal& actor,
                                  const std::string& id, const std::optional<std::string>& wanted,
                                  const std::string& cursor, size_t page, const Respond& respond) {
  auto reader = app::ReaderFor(g, actor.id);
  if (!reader) {
    respond(ErrorResponse(reader.error()));
    return;
  }
  bool granted = false;
  if (reader->scope == audit::ReadScope::kAll && reader->needs_grant) {
    auto active = log->HasActiveGrant(actor.id);
    if (!active) {
      respond(ErrorResponse(active.error()));
      return;
    }
    granted = *active;
  }
  // Read from the state rows, where finished requests are too.
  std::vector<workflow::ApprovalRequest> chosen;
  std::optional<std::string> next_cursor;
  if (!id.empty()) {
    auto found = approvals->Find(id);
    if (!found) {
      respond(ErrorResponse(found.error()));
      return;
    }
    if (*found && MayRead(g, *reader, granted, **found, actor))
      chosen.push_back(std::move(**found));
    if (chosen.empty()) {
      // Not there, or not the reader's to see: the same answer, so that ids
      // cannot be probed.
      respond(ErrorResponse(404, "not_found", fmt::format("no approval {}", id)));
      return;
    }
  } else {
    auto listed = approvals->List(cursor, page, [&](const workflow::ApprovalRequest& a) {
      return (!wanted || Name(a.state) == *wanted) && MayRead(g, *reader, granted, a, actor);
    });
    if (!listed) {
      respond(ErrorResponse(listed.error()));
      return;
    }
    chosen = std::move(listed->items);
    next_cursor = std::move(listed->next_cursor);
  }
  // Other people's approvals read: one record for the whole answer.
  std::vector<std::string> others;
  for (const workflow::ApprovalRequest& a : chosen) {
    if (a.requester != actor.id) others.push_back(a.id);
  }
  std::shared_ptr<const app::StopMap> stops_now = stops->Snapshot();
  HttpResponse answer;
  if (!id.empty()) {
    answer = JsonResponse(200, ApprovalView(g, *stops_now, chosen.front(), actor, true));
  } else {
    json list = json::array();
    for (const workflow::ApprovalRequest& a : chosen) {
      list.push_back(ApprovalView(g, *stops_now, a, actor, false));
    }
    json out = {{"approvals", std::move(list)}};
    if (next_cursor) out["next_cursor"] = *next_cursor;
    answer = JsonResponse(200, out);
  }
  if (others.empty()) {
    respond(std::move(answer));
    return;
  }
  // The answer, built already, goes out once the record is durable; the
  // read lane does not wait for the commit meanwhile.
  state->RecordApprovalRead(actor, id.empty(), std::move(others),
                            [respond, answer = std::move(answer)](Result<void> recorded) mutable {
                              if (!recorded) return respond(ErrorResponse(recorded.error()));
                              respond(std::move(answer));
                            });
}

void Service::Impl::ApprovalAction(const GovernancePtr& g, const Principal& actor,
                                   const std::string& id, workflow::Action act,
                                   std::string rationale, std::string to,
                                   const std::function<void(Outcome)>& done) {
  auto task = [this, g, actor, id, act, rationale = std::move(rationale), to = std::move(to),
               done]() mutable {
    auto changed = state->ActOnApproval(*g, actor, id, act, rationale, to);
    if (!changed) {
      done(std::unexpected(ErrorResponse(changed.error())));
      return;
    }
    json out = ApprovalJson(changed->first.request);
    out["audit_index"] = changed->second.index;
    done(std::move(out));
  };
  Post(
      *state_lane, actor.id,
      [done](HttpResponse refused) { done(std::unexpected(std::move(refused))); }, std::move(task));
}

}  // namespace interlock::server
