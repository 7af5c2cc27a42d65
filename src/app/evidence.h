// Attested evidence (POST /v1/evidence): what Interlock cannot see for
// itself, attested by a person with the right role for one control of the
// catalogue (compliance/controls.yml, check: attested). One state row per
// control holds its latest attestation; every attestation is an audit
// event, committed with its row. The compliance checks read the rows, so
// they need no pass over the audit log.
//
// Thread safety: the functions may be called from any thread; Attest
// commits through the audit log, which orders concurrent commits.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "audit/log.h"
#include "core/clock.h"
#include "core/status.h"
#include "governance/model.h"

namespace interlock::app {

constexpr std::string_view kEvidenceKind = "evidence";

// Bounds of an attestation.
inline constexpr size_t kMaxEvidenceText = 4096;
inline constexpr size_t kMaxEvidenceDigests = 32;

struct Attestation {
  std::string control;
  std::string attested_by;
  std::string text;
  std::vector<std::string> digests;  // "sha256:<64 lowercase hex>", of files kept elsewhere
  UnixMillis at = 0;
  UnixMillis expires = 0;  // 0: only the control's `within` limits it
};

nlohmann::ordered_json AttestationJson(const Attestation& a);
// The stored form read back; kCorruption naming the field otherwise.
Result<Attestation> AttestationFromJson(std::string_view text);

// What a caller asks to attest.
struct AttestRequest {
  std::string control;
  std::string text;
  std::vector<std::string> digests;
  std::optional<UnixMillis> expires;
};

struct Attested {
  Attestation attestation;
  uint64_t audit_index = 0;  // of its audit event
};

// Attests `request` as `actor` at `now`: the control must be one of g's with
// check: attested (kNotFound, kInvalidArgument otherwise); the actor a human
// holding one of its attesters' roles (kPermissionDenied); the text 1 to
// kMaxEvidenceText bytes; at most kMaxEvidenceDigests digests, each
// "sha256:" and 64 lowercase hex digits; `expires` after `now`. Commits the
// audit event and the row together; kNotRecorded if they could not be made
// durable, and then nothing is attested.
Result<Attested> Attest(audit::AuditLog& log, const governance::Governance& g,
                        const governance::Principal& actor, const AttestRequest& request,
                        UnixMillis now);

// The audit event of a compliance action on control `c` by `actor` at
// `now`: event_type `event_type`, action {type `action`, target c.id}, the
// frameworks c maps to, `reason`, and `body` as member `member`.
// kInternal if it does not validate.
Result<audit::Event> ControlEvent(std::string_view event_type, const governance::Principal& actor,
                                  const governance::Control& c, std::string_view action,
                                  std::string_view reason, std::string_view member,
                                  nlohmann::ordered_json body, UnixMillis now);

// The latest attestation of every control that has one.
Result<std::vector<Attestation>> LoadAttestations(audit::AuditLog& log);

}  // namespace interlock::app
