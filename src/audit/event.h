// One audit event: what was done, by whom, where, when and why (seed 000,
// section 5.2; AI agent decisions, section 5.3; per-operation records such as
// seed 003's "Audit Log Format"). ParseEvent validates the fields whose meaning
// Interlock relies on, keeps every other field, and produces the canonical
// bytes that the audit log stores and hashes.
//
// Thread safety: ParseEvent may be called from several threads at once; an
// Event is a plain value.
//
// ---------------------------------------------------------------------------
// Accepted input
//
// The text is read by the one JSON reader (core/json.h, "Accepted input")
// with these settings, and its errors are reported in its wordings with the
// subject "event" and JSON Pointer (RFC 6901) paths:
//   - At most kMaxEventBytes (256 KiB) of well-formed UTF-8 (RFC 3629: no
//     overlong forms, no surrogates, nothing above U+10FFFF). A leading byte
//     order mark is skipped.
//   - Exactly one JSON value (RFC 8259), which must be an object; only
//     whitespace may follow it.
//   - Objects and arrays nest at most kMaxEventDepth (32) deep; the event
//     object itself is level 1.
//   - No object, at any depth, has the same key twice (compared after
//     unescaping).
//   - Numbers must fit in an IEEE-754 double.
//
// Fields with a meaning (every other field, at any level, is allowed and kept):
//
//   event_type        string of 1-64 characters from a-z 0-9 _ . -
//   operation         same; seed 003's name for event_type. One of the two is
//                     required; event_type wins when both are given.
//   timestamp         RFC 3339 date-time ("2024-01-15T10:30:00Z"; fractional
//                     seconds and numeric offsets allowed)
//   actor             object; when present it needs
//     .id             string of 1-256 bytes
//     .type           "human" | "ai_agent" | "service"
//     .name .role .version .team          strings
//   action            object; .type .target .version .service: strings
//   approval          object; .required: boolean; .approvers: array of
//                     strings; .approved_at: RFC 3339
//   outcome           object; .status .duration: strings;
//                     .rollback_available: boolean
//   compliance        object; .frameworks: array of strings;
//                     .controls_verified: boolean
//   ai_agent          object; .involved: boolean
//   decision          object; .confidence_score: number from 0 to 1;
//                     .risk_level: "low" | "medium" | "high" | "critical";
//                     .rationale: string
//   human_review      object; .required: boolean; .reviewer .decision:
//                     strings; .reviewed_at: RFC 3339
//   environment       "dev" | "staging" | "production"
//   reason, result    strings
//   duration_ms       integer >= 0 (written without fraction or exponent)
//
// null is not "absent": a field above given as null is a type error.
// An event whose event_type is "ai_agent_decision", or whose actor.type is
// "ai_agent", must carry a non-empty decision.rationale.
//
// Errors are kInvalidArgument. A message starts with the JSON Pointer
// (RFC 6901) of the offending value, or with "event" when the whole input is
// at fault, and says what was expected:
//   /actor/type: expected one of human, ai_agent, service, got "robot"
//   /decision/confidence_score: expected a number between 0 and 1, got 1.5
//   /actor: duplicate key "id" at line 1, column 42
//   event: expected a JSON object, found an array
//
// ---------------------------------------------------------------------------
// Canonical form (Event::canonical)
//
// The canonical text depends only on the parsed JSON value, so two spellings
// of the same event have the same bytes, and canonicalizing a canonical text
// gives it back unchanged. The event is canonicalized with its "timestamp"
// member, added by ParseEvent when the input had none.
//
//   1. UTF-8, no byte order mark, no trailing newline, and no whitespace
//      outside strings.
//   2. Object: "{", members separated by ",", "}". A member is the key (a
//      string, rule 5), ":", the value. Members are sorted by key, comparing
//      the keys' UTF-8 bytes as unsigned numbers (equivalently, by Unicode
//      code point; this is not the UTF-16 order of RFC 8785). Keys are unique.
//   3. Array: "[", elements in input order separated by ",", "]".
//   4. Literals: true, false, null.
//   5. String: '"', the characters, '"'. Input escapes (\uXXXX, surrogate
//      pairs, \/ ...) are decoded first; then exactly these are escaped:
//        " (U+0022) -> \"    \ (U+005C) -> \\ (two characters each)
//        U+0008 -> \b    U+0009 -> \t    U+000A -> \n
//        U+000C -> \f    U+000D -> \r
//        every other code point U+0000-U+001F -> \u00XX with two lowercase
//        hex digits (U+0000 -> \u0000, U+001B -> \u001b, U+001F -> \u001f).
//      Every other character is written as its UTF-8 bytes, unescaped:
//      "/", U+007F, U+2028, U+2029, and all other non-ASCII characters.
//   6. Number written in the input with neither fraction nor exponent:
//      if it fits in int64 (negative) or uint64 (otherwise) it is an integer,
//      printed in decimal without sign for >= 0, "-" for < 0, no leading
//      zeros ("-0" prints "0", "007" is invalid JSON).
//   7. Any other number is the nearest IEEE-754 double (a number too large
//      for a double is rejected). It is printed as nlohmann::json 3.11 prints
//      a double:
//        - "-" when the sign bit is set; then, for zero, "0.0".
//        - Otherwise digits d1..dk (no leading or trailing zeros) and an
//          exponent n with value = 0.d1...dk x 10^n, from the Grisu2
//          algorithm: they always read back as the same double and are the
//          shortest such digits in nearly all cases (see the note below).
//        - k <= n <= 15:  d1..dk, then n-k zeros, then ".0"
//                         (1e2 -> 100.0, 1.5e3 -> 1500.0)
//        - 0 < n < k, n <= 15: d1..dn "." dn+1..dk            (12.5 -> 12.5)
//        - -4 < n <= 0:   "0." then -n zeros then d1..dk
//                         (0.85 -> 0.85, 1e-4 -> 0.0001)
//        - otherwise:     d1, then "." d2..dk when k > 1, then "e", "+" or
//                         "-", and |n-1| with at least two digits
//                         (1e15 -> 1e+15, 1e-5 -> 1e-05, 1.5e-7 -> 1.5e-07,
//                          18446744073709551616 -> 1.8446744073709552e+19,
//                          5e-324 -> 5e-324, 1.7976931348623157e308 ->
//                          1.7976931348623157e+308)
//
// Note for re-implementations: Grisu2 is not always shortest, so a shortest-
// digits algorithm (Ryu, ECMAScript) can spell a rare double differently.
// Verify the canonical bytes as stored rather than re-deriving them; an event
// whose canonical form must be reproduced elsewhere should carry integers or
// strings instead of fractional numbers.
// ---------------------------------------------------------------------------
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/names.h"
#include "core/status.h"

namespace interlock::audit {

inline constexpr size_t kMaxEventBytes = size_t{256} * 1024;
inline constexpr int kMaxEventDepth = 32;

// Retention periods (seed 000, section 5.1): production, security incidents
// and AI agent decisions 7 years, staging 1 year, development 90 days.
enum class RetentionClass : uint8_t {
  kProduction,
  kStaging,
  kDev,
  kSecurityIncident,
  kAiAgentDecision
};
inline constexpr std::array<std::string_view, 5> kRetentionClassNames = {
    "production", "staging", "dev", "security_incident", "ai_agent_decision"};

// The bit of `c` in Event::classes.
constexpr uint8_t ClassBit(RetentionClass c) {
  return static_cast<uint8_t>(1u << static_cast<unsigned>(c));
}

struct Event {
  // The whole event in canonical form (see above), "timestamp" included.
  std::string canonical;
  // The event's "timestamp", or `now` when it had none.
  UnixMillis timestamp = 0;
  // "event_type", or "operation" when event_type is absent.
  std::string event_type;
  // actor.id and actor.type; "" when the event has no actor.
  std::string actor_id;
  std::string actor_type;
  // "environment" when present, else action.target when it is dev, staging
  // or production; else "".
  std::string environment;
  // ClassBit of every retention class that applies, the event being kept for
  // the longest of their periods:
  //   security_incident  event_type starts with "security"
  //   ai_agent_decision  event_type "ai_agent_decision", actor.type
  //                      "ai_agent", or ai_agent.involved true
  //   dev/staging/production  the environment above; production when it is ""
  uint8_t classes = 0;
};

// Parses and validates one event (see "Accepted input"). When the event has
// no "timestamp", adds one: FormatTimestamp(now).
// REQUIRES: `now` is in the years 0000-9999 (an InvalidArgument otherwise).
// Never throws.
Result<Event> ParseEvent(std::string_view json, UnixMillis now);

// The same for an event built in memory rather than read from text: the
// checks of "Accepted input" that concern values (types, names, limits,
// valid UTF-8 in every string) apply; a JSON object cannot hold a key twice,
// and the nesting depth is the caller's to keep small.
// For the server's own events, which skip a serialise-and-parse round trip.
// Never throws.
Result<Event> MakeEvent(nlohmann::json document, UnixMillis now);

// Writes an event's canonical text directly, with no JSON tree in between:
// for the events Interlock records on its hot path (each decision's). The
// caller gives the members of every object in canonical order (rule 2), and
// Finish gives the Event that MakeEvent gives for the same members, the
// "timestamp" added in its place when none was written. The fields with a
// meaning are checked as "Accepted input" says, in the order written, so
// with several faults the one reported may differ from MakeEvent's.
// Objects, scalars and arrays of strings.
// A member out of order, a value outside an object or an object left open
// is the caller's mistake and makes Finish return kInternal.
class EventWriter {
 public:
  explicit EventWriter(UnixMillis now);

  void BeginObject(std::string_view key);
  void EndObject();
  void String(std::string_view key, std::string_view value);
  void Bool(std::string_view key, bool value);
  void Number(std::string_view key, double value);
  // A count, written as an integer (Number writes 3 as 3.0).
  void Count(std::string_view key, uint64_t value);
  // An array of strings, none of which may be a field with a meaning.
  void StringArray(std::string_view key, std::span<const std::string> values);

  // The event, or the first error met. Call once.
  Result<Event> Finish();

 private:
  struct Frame {
    std::string key;   // "" for the event itself
    std::string last;  // the last member's key
    bool empty = true;
    uint64_t seen = 0;  // bit i: kFields[i] was written
  };
  // Writes `key` and the separator before it; false after an error.
  bool Key(std::string_view key);
  // The index in the table of fields with a meaning of the member `key` of
  // the object being written, or -1.
  int Meaning(std::string_view key) const;
  // Checks a member with a meaning (index >= 0), its value given as JSON.
  void CheckMember(int index, const nlohmann::json& value);
  bool WriteTimestamp();
  void Fail(Error error);
  std::string PathOf(std::string_view key) const;

  UnixMillis now_;
  Event event_;
  std::vector<Frame> frames_;
  std::string operation_;
  std::string target_;
  std::optional<std::string> rationale_;
  bool ai_involved_ = false;
  bool has_timestamp_ = false;
  std::optional<Error> error_;
};

}  // namespace interlock::audit

namespace interlock {
template <>
struct EnumNames<audit::RetentionClass> {
  static constexpr const auto& kNames = audit::kRetentionClassNames;
};
}  // namespace interlock
