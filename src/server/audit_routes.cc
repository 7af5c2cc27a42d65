// The audit trail's routes: the latest signed checkpoint, inclusion and
// consistency proofs, and entries read under the reader's scope. Each is
// answered on the read lane: a read may commit a record of itself.
#include <fmt/format.h>

#include <algorithm>

#include "app/audit_access.h"
#include "audit/json.h"
#include "audit/note.h"
#include "server/service_impl.h"

namespace interlock::server {

void Service::Impl::ReadAudit(Call& c, std::function<Result<json>(const Call&)> read) {
  Post(*read_lane, c.actor->id, c.respond, [c, read = std::move(read)]() mutable {
    auto answer = read(c);
    c.respond(answer ? JsonResponse(200, *answer) : ErrorResponse(answer.error()));
  });
}

void Service::Impl::GetCheckpoint(Call& c) {
  ReadAudit(c, [this](const Call&) -> Result<json> {
    auto note = log->LatestCheckpoint();
    if (!note) return std::unexpected(note.error());
    // The size the note signs, which may be a little behind log->size().
    auto verifier = audit::NoteVerifier::Parse(log->VerifierKey());
    if (!verifier) return std::unexpected(verifier.error());
    auto text = verifier->Verify(*note);
    if (!text) return std::unexpected(text.error());
    auto checkpoint = audit::ParseCheckpoint(*text);
    if (!checkpoint) return std::unexpected(checkpoint.error());
    return json{{"size", checkpoint->size}, {"note", *note}, {"verifier_key", log->VerifierKey()}};
  });
}

void Service::Impl::GetProof(Call& c) {
  ReadAudit(c, [this](const Call& call) -> Result<json> {
    auto index = IndexParam(call.request, "index", true);
    if (!index) return std::unexpected(index.error());
    auto size = IndexParam(call.request, "size", false);
    if (!size) return std::unexpected(size.error());
    auto p = log->ProveInclusion(**index, *size);
    if (!p) return std::unexpected(p.error());
    return audit::InclusionJson(*p);
  });
}

void Service::Impl::GetConsistency(Call& c) {
  ReadAudit(c, [this](const Call& call) -> Result<json> {
    auto from = IndexParam(call.request, "from", true);
    if (!from) return std::unexpected(from.error());
    auto to = IndexParam(call.request, "to", false);
    if (!to) return std::unexpected(to.error());
    auto p = log->ProveConsistency(**from, *to);
    if (!p) return std::unexpected(p.error());
    return audit::ConsistencyJson(*p);
  });
}

void Service::Impl::GetEntries(Call& c) {
  ReadAudit(c, [this](const Call& call) -> Result<json> {
    const HttpRequest& r = call.request;
    auto reader = app::ReaderFor(*call.g, call.actor->id);
    if (!reader) return std::unexpected(reader.error());
    audit::QueryFilter f;
    if (auto v = r.Query("actor")) f.actor = std::string(*v);
    if (auto v = r.Query("event_type")) f.event_type = std::string(*v);
    if (auto v = r.Query("environment")) f.environment = std::string(*v);
    for (auto [name, into] : {std::pair{"since", &f.since}, std::pair{"until", &f.until}}) {
      if (auto v = r.Query(name)) {
        auto t = ParseTimestamp(*v);
        if (!t) {
          return std::unexpected(Error::InvalidArgument(
              fmt::format("query parameter {}: {}", name, t.error().message())));
        }
        *into = *t;
      }
    }
    auto from = IndexParam(r, "from", false);
    if (!from) return std::unexpected(from.error());
    if (*from) f.from_index = **from;
    auto limit = IndexParam(r, "limit", false);
    if (!limit) return std::unexpected(limit.error());
    if (*limit) f.limit = std::min<uint64_t>(**limit, 10'000);
    auto entries = log->Query(*reader, f);
    if (!entries) return std::unexpected(entries.error());
    json list = json::array();
    for (const audit::Entry& e : *entries) list.push_back(audit::EntryJson(e, true));
    return json{{"entries", list}};
  });
}

}  // namespace interlock::server
