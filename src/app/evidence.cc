#include "app/evidence.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "audit/event.h"
#include "audit/json.h"
#include "core/digest.h"
#include "core/json.h"

namespace interlock::app {
namespace {

using njson = nlohmann::ordered_json;

constexpr int64_t kEvidenceFormat = 1;

}  // namespace

njson AttestationJson(const Attestation& a) {
  njson j = {{"format", kEvidenceFormat},    {"control", a.control},
             {"attested_by", a.attested_by}, {"text", a.text},
             {"digests", a.digests},         {"at", FormatTimestamp(a.at)}};
  if (a.expires != 0) j["expires"] = FormatTimestamp(a.expires);
  return j;
}

Result<Attestation> AttestationFromJson(std::string_view text) {
  auto corrupt = [](const Error& e) { return std::unexpected(Error::Corruption(e.message())); };
  auto doc = json::Parse(text, {.subject = "evidence"});
  if (!doc) return corrupt(doc.error());
  static constexpr std::string_view kKeys[] = {"format",  "control", "attested_by", "text",
                                               "digests", "at",      "expires"};
  auto o = json::ObjectReader::Make(doc->root(), "", "evidence", kKeys);
  if (!o) return corrupt(o.error());
  Attestation a;
  auto format = o->OptionalNumber("format", 0, 1e6);
  if (!format) return corrupt(format.error());
  if (format->value_or(0) != kEvidenceFormat) {
    return std::unexpected(Error::Corruption(
        fmt::format("evidence: format: this Interlock reads evidence of format {}, found {}",
                    kEvidenceFormat, format->value_or(0))));
  }
  for (auto [key, out] : {std::pair{"control", &a.control},
                          std::pair{"attested_by", &a.attested_by}, std::pair{"text", &a.text}}) {
    auto v = o->String(key);
    if (!v) return corrupt(v.error());
    *out = std::string(*v);
  }
  auto digests = o->OptionalStringArray("digests");
  if (!digests) return corrupt(digests.error());
  if (*digests) a.digests = std::move(**digests);
  auto at = o->String("at");
  if (!at) return corrupt(at.error());
  auto at_time = ParseTimestamp(*at);
  if (!at_time) return corrupt(at_time.error());
  a.at = *at_time;
  auto expires = o->OptionalString("expires");
  if (!expires) return corrupt(expires.error());
  if (*expires) {
    auto t = ParseTimestamp(**expires);
    if (!t) return corrupt(t.error());
    a.expires = *t;
  }
  return a;
}

Result<Attested> Attest(audit::AuditLog& log, const governance::Governance& g,
                        const governance::Principal& actor, const AttestRequest& request,
                        UnixMillis now) {
  const governance::Control* c = g.compliance.FindControl(request.control);
  if (c == nullptr) {
    return std::unexpected(Error::NotFound(
        fmt::format("control: no control {} in compliance/controls.yml", request.control)));
  }
  if (c->check != governance::ControlCheck::kAttested) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("control: {} is checked by Interlock itself ({}), not attested", c->id,
                    governance::kControlCheckNames[static_cast<size_t>(c->check)])));
  }
  if (actor.type != ActorType::kHuman || (actor.roles & c->attesters).none()) {
    return std::unexpected(Error::PermissionDenied(
        fmt::format("{} may not attest {}: it takes a human holding one of: {}", actor.id, c->id,
                    g.RoleNames(c->attesters))));
  }
  if (request.text.empty() || request.text.size() > kMaxEvidenceText) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("text: expected 1 to {} bytes saying what the evidence is, found {}",
                    kMaxEvidenceText, request.text.size())));
  }
  if (request.digests.size() > kMaxEvidenceDigests) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("digests: at most {}, found {}", kMaxEvidenceDigests, request.digests.size())));
  }
  for (size_t i = 0; i < request.digests.size(); ++i) {
    if (!IsSha256Digest(request.digests[i])) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("digests[{}]: expected \"sha256:\" and 64 lowercase hex digits", i)));
    }
  }
  if (request.expires && *request.expires <= now) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("expires: {} is not in the future", FormatTimestamp(*request.expires))));
  }
  Attestation a{c->id, actor.id, request.text, request.digests, now, request.expires.value_or(0)};
  auto parsed = ControlEvent("evidence_attested", actor, *c, "evidence", request.text, "evidence",
                             AttestationJson(a), now);
  if (!parsed) return std::unexpected(parsed.error());
  auto appended = log.Commit(
      std::move(*parsed), {{std::string(kEvidenceKind), c->id, audit::Dump(AttestationJson(a))}});
  if (!appended) {
    return std::unexpected(Error::NotRecorded("the evidence was not recorded", appended.error()));
  }
  return Attested{std::move(a), appended->index};
}

Result<audit::Event> ControlEvent(std::string_view event_type, const governance::Principal& actor,
                                  const governance::Control& c, std::string_view action,
                                  std::string_view reason, std::string_view member, njson body,
                                  UnixMillis now) {
  njson event = {{"event_type", event_type},
                 {"actor", {{"id", actor.id}, {"type", Name(actor.type)}}},
                 {"action", {{"type", action}, {"target", c.id}}},
                 {"compliance", {{"frameworks", njson::array()}}},
                 {"reason", reason},
                 {member, std::move(body)}};
  for (const std::string& m : c.maps) {
    const std::string framework = m.substr(0, m.find(':'));
    auto& list = event["compliance"]["frameworks"];
    if (std::find(list.begin(), list.end(), framework) == list.end()) list.push_back(framework);
  }
  auto parsed = audit::ParseEvent(audit::Dump(event), now);
  if (!parsed) return std::unexpected(Error::Internal(parsed.error().message()));
  return parsed;
}

Result<std::vector<Attestation>> LoadAttestations(audit::AuditLog& log) {
  auto rows = log.LoadState(std::string(kEvidenceKind));
  if (!rows) return std::unexpected(rows.error());
  std::vector<Attestation> out;
  for (const auto& [id, value] : *rows) {
    auto a = AttestationFromJson(value);
    if (!a) {
      return std::unexpected(
          Error::Corruption(fmt::format("evidence row {}: {}", id, a.error().message())));
    }
    out.push_back(std::move(*a));
  }
  return out;
}

}  // namespace interlock::app
