// Over 600 lines on purpose: the event format's two writers (MakeEvent,
// from a JSON tree, and EventWriter, straight into canonical text) share
// its table of fields with a meaning and their checks, which must stay one
// so that both refuse and accept exactly the same events.
#include "audit/event.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "core/json.h"
#include "core/text.h"

namespace interlock::audit {
namespace {

using nlohmann::json;

Error Invalid(std::string message) { return Error::InvalidArgument(std::move(message)); }

// A value as a message shows it: scalars as JSON, containers by kind. Long
// strings are not echoed, so a message stays readable.
std::string Describe(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string: {
      size_t size = value.get_ref<const std::string&>().size();
      return size <= 64 ? value.dump() : fmt::format("a string of {} bytes", size);
    }
    default:
      return value.dump();
  }
}

// The reader's document as the audit log's JSON type. Numbers written
// without fraction or exponent become integers when they fit, as
// nlohmann::json's own parser makes them, so the canonical form is unchanged.
json ToJson(interlock::json::Value value) {
  using interlock::json::Type;
  switch (value.type()) {
    case Type::kNull:
      return nullptr;
    case Type::kBool:
      return value.AsBool();
    case Type::kNumber:
      if (auto u = value.AsUint64()) return *u;
      if (auto i = value.AsInt64()) return *i;
      return value.AsNumber();
    case Type::kString:
      return std::string(value.AsString());
    case Type::kArray: {
      json out = json::array();
      for (interlock::json::Value element : value.elements()) out.push_back(ToJson(element));
      return out;
    }
    case Type::kObject: {
      json out = json::object();
      for (interlock::json::Member member : value.members()) {
        out.emplace(std::string(member.key), ToJson(member.value()));
      }
      return out;
    }
  }
  return nullptr;
}

// How a field with a meaning is checked.
enum class Kind {
  kObject,
  kString,
  kBool,
  kStringArray,
  kTimestamp,
  kEventType,   // 1-64 of [a-z0-9_.-]
  kId,          // 1-256 bytes
  kOneOf,       // one of Field::names
  kUnit,        // a number from 0 to 1
  kNonNegative  // an integer >= 0
};

struct Field {
  std::string_view object;  // "" for a member of the event itself
  std::string_view key;
  Kind kind;
  bool required = false;  // when `object` is present
  std::span<const std::string_view> names = {};
};

// Checked in this order, so the first error in this list is the one reported;
// an object comes before its members.
constexpr Field kFields[] = {
    {"", "event_type", Kind::kEventType},
    {"", "operation", Kind::kEventType},
    {"", "timestamp", Kind::kTimestamp},
    {"", "actor", Kind::kObject},
    {"actor", "id", Kind::kId, true},
    {"actor", "type", Kind::kOneOf, true, kActorTypeNames},
    {"actor", "name", Kind::kString},
    {"actor", "role", Kind::kString},
    {"actor", "version", Kind::kString},
    {"actor", "team", Kind::kString},
    {"", "action", Kind::kObject},
    {"action", "type", Kind::kString},
    {"action", "target", Kind::kString},
    {"action", "version", Kind::kString},
    {"action", "service", Kind::kString},
    {"", "approval", Kind::kObject},
    {"approval", "required", Kind::kBool},
    {"approval", "approvers", Kind::kStringArray},
    {"approval", "approved_at", Kind::kTimestamp},
    {"", "outcome", Kind::kObject},
    {"outcome", "status", Kind::kString},
    {"outcome", "duration", Kind::kString},
    {"outcome", "rollback_available", Kind::kBool},
    {"", "compliance", Kind::kObject},
    {"compliance", "frameworks", Kind::kStringArray},
    {"compliance", "controls_verified", Kind::kBool},
    {"", "ai_agent", Kind::kObject},
    {"ai_agent", "involved", Kind::kBool},
    {"", "decision", Kind::kObject},
    {"decision", "confidence_score", Kind::kUnit},
    {"decision", "risk_level", Kind::kOneOf, false, kRiskLevelNames},
    {"decision", "rationale", Kind::kString},
    {"", "human_review", Kind::kObject},
    {"human_review", "required", Kind::kBool},
    {"human_review", "reviewer", Kind::kString},
    {"human_review", "decision", Kind::kString},
    {"human_review", "reviewed_at", Kind::kTimestamp},
    {"", "environment", Kind::kOneOf, false, kEnvironmentNames},
    {"", "reason", Kind::kString},
    {"", "result", Kind::kString},
    {"", "duration_ms", Kind::kNonNegative},
};

bool IsEventType(const json& value) {
  if (!value.is_string()) return false;
  const std::string& text = value.get_ref<const std::string&>();
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsOneOf(const json& value, std::span<const std::string_view> names) {
  if (!value.is_string()) return false;
  for (std::string_view name : names) {
    if (value.get_ref<const std::string&>() == name) return true;
  }
  return false;
}

// The field's JSON pointer, such as "/actor/id".
std::string PathOf(const Field& field) {
  return field.object.empty() ? fmt::format("/{}", field.key)
                              : fmt::format("/{}/{}", field.object, field.key);
}

// The path is formatted only for an error: most fields of kFields are absent
// from a given event, and this runs for every event recorded.
Result<void> Check(const json& value, const Field& field) {
  auto expected = [&](std::string_view what) {
    return std::unexpected(
        Invalid(fmt::format("{}: expected {}, got {}", PathOf(field), what, Describe(value))));
  };
  switch (field.kind) {
    case Kind::kObject:
      if (!value.is_object()) return expected("an object");
      break;
    case Kind::kString:
      if (!value.is_string()) return expected("a string");
      break;
    case Kind::kBool:
      if (!value.is_boolean()) return expected("true or false");
      break;
    case Kind::kStringArray:
      if (!value.is_array()) return expected("an array of strings");
      for (size_t index = 0; index < value.size(); ++index) {
        if (!value[index].is_string()) {
          return std::unexpected(Invalid(fmt::format(
              "{}/{}: expected a string, got {}", PathOf(field), index, Describe(value[index]))));
        }
      }
      break;
    case Kind::kTimestamp:
      if (!value.is_string() || !ParseTimestamp(value.get_ref<const std::string&>())) {
        return expected("an RFC 3339 timestamp such as \"2024-01-15T10:30:00Z\"");
      }
      break;
    case Kind::kEventType:
      if (!IsEventType(value)) return expected("1 to 64 characters from a-z, 0-9, _ . -");
      break;
    case Kind::kId:
      if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
          value.get_ref<const std::string&>().size() > 256) {
        return expected("a non-empty string of at most 256 bytes");
      }
      break;
    case Kind::kOneOf:
      if (!IsOneOf(value, field.names)) {
        return expected(fmt::format("one of {}", fmt::join(field.names, ", ")));
      }
      break;
    case Kind::kUnit:
      // A parsed JSON number is finite, so the comparisons are exact.
      if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1) {
        return expected("a number between 0 and 1");
      }
      break;
    case Kind::kNonNegative:
      // Non-negative integers parse as unsigned; "-0" parses as a signed 0.
      if (!value.is_number_unsigned() &&
          !(value.is_number_integer() && value.get<int64_t>() == 0)) {
        return expected("a non-negative integer");
      }
      break;
  }
  return Ok();
}

// The member `key` of `object`, or null when `object` is null, not an object,
// or has no such member.
const json* Member(const json* object, std::string_view key) {
  if (object == nullptr || !object->is_object()) return nullptr;
  auto it = object->find(key);
  return it == object->end() ? nullptr : &*it;
}

// The member's text, or "" when it is not a string.
std::string Text(const json* object, std::string_view key) {
  const json* value = Member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : "";
}

// "event_type", or seed 003's "operation" when there is none.
std::string EventType(const json& event) {
  std::string type = Text(&event, "event_type");
  return type.empty() ? Text(&event, "operation") : type;
}

// Seed 000, section 5.1: an AI agent's decision is audited with its
// rationale (null when the event has none).
Result<void> CheckRationale(std::string_view event_type, std::string_view actor_type,
                            const std::string* rationale) {
  if (event_type != "ai_agent_decision" && actor_type != "ai_agent") return Ok();
  constexpr std::string_view kWhy = "an AI agent's decision must carry its rationale";
  if (rationale == nullptr) {
    return std::unexpected(Invalid(fmt::format("/decision/rationale: missing ({})", kWhy)));
  }
  if (rationale->empty()) {
    return std::unexpected(Invalid(
        fmt::format("/decision/rationale: expected a non-empty string ({}), got \"\"", kWhy)));
  }
  return Ok();
}

Result<void> Validate(const json& event) {
  if (!Member(&event, "event_type") && !Member(&event, "operation")) {
    return std::unexpected(
        Invalid("/event_type: missing (an event needs event_type or operation)"));
  }
  for (const Field& field : kFields) {
    const json* object = field.object.empty() ? &event : Member(&event, field.object);
    if (object == nullptr) continue;
    const json* value = Member(object, field.key);
    if (value == nullptr) {
      if (field.required) return std::unexpected(Invalid(PathOf(field) + ": missing"));
      continue;
    }
    if (auto ok = Check(*value, field); !ok) return ok;
  }
  const json* rationale = Member(Member(&event, "decision"), "rationale");
  return CheckRationale(EventType(event), Text(Member(&event, "actor"), "type"),
                        rationale == nullptr ? nullptr : &rationale->get_ref<const std::string&>());
}

uint8_t Classes(const Event& fields, bool ai_involved) {
  uint8_t classes = 0;
  if (fields.event_type.starts_with("security")) {
    classes |= ClassBit(RetentionClass::kSecurityIncident);
  }
  if (fields.event_type == "ai_agent_decision" || fields.actor_type == "ai_agent" || ai_involved) {
    classes |= ClassBit(RetentionClass::kAiAgentDecision);
  }
  // Unknown environment: production, whose period is the longest.
  RetentionClass environment = RetentionClass::kProduction;
  switch (ParseEnum<Environment>(fields.environment).value_or(Environment::kProduction)) {
    case Environment::kDev:
      environment = RetentionClass::kDev;
      break;
    case Environment::kStaging:
      environment = RetentionClass::kStaging;
      break;
    case Environment::kProduction:
      break;
  }
  return classes | ClassBit(environment);
}

}  // namespace

namespace {

// The reader's name for the type of `value` (core/json.h, TypeName).
std::string_view TypeName(const json& value) {
  using interlock::json::Type;
  switch (value.type()) {
    case json::value_t::null:
      return interlock::json::TypeName(Type::kNull);
    case json::value_t::boolean:
      return interlock::json::TypeName(Type::kBool);
    case json::value_t::string:
      return interlock::json::TypeName(Type::kString);
    case json::value_t::array:
      return interlock::json::TypeName(Type::kArray);
    case json::value_t::object:
      return interlock::json::TypeName(Type::kObject);
    default:
      return interlock::json::TypeName(Type::kNumber);
  }
}

// The "timestamp" an event without one gets.
Result<std::string> TimestampOf(UnixMillis now) {
  // The canonical text must parse again to the same event.
  std::string formatted = FormatTimestamp(now);
  auto parsed = ParseTimestamp(formatted);
  if (!parsed || *parsed != now) {
    return std::unexpected(Invalid(fmt::format("now: {} ms is outside the years 0000-9999", now)));
  }
  return formatted;
}

Result<void> CheckSize(const Event& event) {
  if (event.canonical.size() <= kMaxEventBytes) return Ok();
  return std::unexpected(
      Invalid(fmt::format("event: larger than the limit of {} bytes", kMaxEventBytes)));
}

// Fills `event` from a parsed document: validates it, adds the timestamp
// when missing, and writes the canonical form.
Result<Event> Finish(json& document, UnixMillis now) {
  Event event;
  if (auto ok = Validate(document); !ok) return std::unexpected(ok.error());
  event.event_type = EventType(document);
  const json* actor = Member(&document, "actor");
  event.actor_id = Text(actor, "id");
  event.actor_type = Text(actor, "type");
  event.environment = Text(&document, "environment");
  if (event.environment.empty()) {
    std::string target = Text(Member(&document, "action"), "target");
    if (ParseEnum<Environment>(target)) event.environment = std::move(target);
  }
  const json* involved = Member(Member(&document, "ai_agent"), "involved");
  event.classes = Classes(event, involved != nullptr && involved->get<bool>());

  if (const json* timestamp = Member(&document, "timestamp")) {
    event.timestamp = *ParseTimestamp(timestamp->get_ref<const std::string&>());
  } else {
    auto formatted = TimestampOf(now);
    if (!formatted) return std::unexpected(formatted.error());
    event.timestamp = now;
    document["timestamp"] = std::move(*formatted);
  }
  event.canonical = document.dump();
  return event;
}

}  // namespace

Result<Event> ParseEvent(std::string_view text, UnixMillis now) {
  auto document =
      interlock::json::Parse(text, {.subject = "event",
                                    .max_bytes = kMaxEventBytes,
                                    .max_depth = kMaxEventDepth,
                                    .allow_bom = true,
                                    .path_style = interlock::json::PathStyle::kPointer});
  if (!document) return std::unexpected(document.error());
  try {
    json event = ToJson(document->root());
    // Input is valid UTF-8, so dump() cannot meet a string it must refuse.
    return Finish(event, now);
  } catch (const std::exception& e) {
    return std::unexpected(Error::Internal(fmt::format("event: {}", e.what())));
  }
}

Result<Event> MakeEvent(json document, UnixMillis now) {
  if (!document.is_object()) {
    return std::unexpected(
        Invalid(fmt::format("event: expected a JSON object, found {}", TypeName(document))));
  }
  try {
    auto event = Finish(document, now);
    if (event) {
      if (auto ok = CheckSize(*event); !ok) return std::unexpected(ok.error());
    }
    return event;
  } catch (const json::type_error& e) {
    // dump() refuses a string that is not UTF-8.
    return std::unexpected(Invalid(fmt::format("event: {}", e.what())));
  } catch (const std::exception& e) {
    return std::unexpected(Error::Internal(fmt::format("event: {}", e.what())));
  }
}

namespace {

// The index in kFields of the member `key` of the object `object` ("" for
// the event itself), or -1 when it has no meaning.
int FieldIndex(std::string_view object, std::string_view key) {
  if (key.empty()) return -1;
  for (size_t i = 0; i < std::size(kFields); ++i) {
    const Field& f = kFields[i];
    if (f.key.size() == key.size() && f.key[0] == key[0] && f.key == key && f.object == object) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace

EventWriter::EventWriter(UnixMillis now) : now_(now) {
  event_.canonical.reserve(1024);
  event_.canonical += '{';
  frames_.emplace_back();
}

void EventWriter::Fail(Error error) {
  if (!error_) error_ = std::move(error);
}

std::string EventWriter::PathOf(std::string_view key) const {
  std::string path;
  for (size_t i = 1; i < frames_.size(); ++i) path += "/" + frames_[i].key;
  return path + "/" + std::string(key);
}

bool EventWriter::Key(std::string_view key) {
  if (error_) return false;
  if (frames_.empty()) {
    Fail(Error::Internal(fmt::format("event writer: member \"{}\" after the event's end", key)));
    return false;
  }
  if (frames_.size() == 1 && !has_timestamp_ && key > "timestamp" && !WriteTimestamp()) {
    return false;
  }
  Frame& frame = frames_.back();
  if (!frame.empty && key <= frame.last) {
    Fail(Error::Internal(
        fmt::format("event writer: member \"{}\" is not in canonical order", PathOf(key))));
    return false;
  }
  if (FindInvalidUtf8(key) != std::string_view::npos) {
    Fail(Invalid(fmt::format("{}: the key is not valid UTF-8", PathOf(key))));
    return false;
  }
  if (!frame.empty) event_.canonical += ',';
  frame.empty = false;
  frame.last.assign(key);
  interlock::json::AppendQuoted(&event_.canonical, key);
  event_.canonical += ':';
  return true;
}

int EventWriter::Meaning(std::string_view key) const {
  if (frames_.size() > 2) return -1;
  return FieldIndex(frames_.size() == 1 ? "" : std::string_view(frames_.back().key), key);
}

void EventWriter::CheckMember(int index, const json& value) {
  if (index < 0) return;
  frames_.back().seen |= uint64_t{1} << index;
  if (auto ok = Check(value, kFields[index]); !ok) Fail(ok.error());
}

bool EventWriter::WriteTimestamp() {
  auto formatted = TimestampOf(now_);
  if (!formatted) {
    Fail(formatted.error());
    return false;
  }
  has_timestamp_ = true;  // before Key, which would write it again
  if (!Key("timestamp")) return false;
  interlock::json::AppendQuoted(&event_.canonical, *formatted);
  event_.timestamp = now_;
  return true;
}

void EventWriter::BeginObject(std::string_view key) {
  if (!Key(key)) return;
  if (int index = Meaning(key); index >= 0) CheckMember(index, json::object());
  event_.canonical += '{';
  frames_.push_back({.key = std::string(key)});
}

void EventWriter::EndObject() {
  if (error_) return;
  if (frames_.size() < 2) {
    Fail(Error::Internal("event writer: EndObject without BeginObject"));
    return;
  }
  const Frame& frame = frames_.back();
  if (frames_.size() == 2) {
    for (size_t i = 0; i < std::size(kFields); ++i) {
      const Field& field = kFields[i];
      if (field.required && field.object == frame.key && !(frame.seen & (uint64_t{1} << i))) {
        Fail(Invalid(interlock::audit::PathOf(field) + ": missing"));
        return;
      }
    }
  }
  frames_.pop_back();
  event_.canonical += '}';
}

void EventWriter::String(std::string_view key, std::string_view value) {
  if (!Key(key)) return;
  if (FindInvalidUtf8(value) != std::string_view::npos) {
    Fail(Invalid(fmt::format("{}: the string is not valid UTF-8", PathOf(key))));
    return;
  }
  if (int index = Meaning(key); index >= 0) {
    CheckMember(index, json(value));
    std::string_view object = frames_.size() == 1 ? "" : std::string_view(frames_.back().key);
    if (object.empty() && key == "event_type") event_.event_type = value;
    if (object.empty() && key == "operation") operation_ = value;
    if (object.empty() && key == "environment") event_.environment = value;
    if (object.empty() && key == "timestamp" && !error_) {
      has_timestamp_ = true;
      event_.timestamp = *ParseTimestamp(value);
    }
    if (object == "actor" && key == "id") event_.actor_id = value;
    if (object == "actor" && key == "type") event_.actor_type = value;
    if (object == "action" && key == "target") target_ = value;
    if (object == "decision" && key == "rationale") rationale_ = std::string(value);
  }
  interlock::json::AppendQuoted(&event_.canonical, value);
}

void EventWriter::Bool(std::string_view key, bool value) {
  if (!Key(key)) return;
  if (int index = Meaning(key); index >= 0) CheckMember(index, json(value));
  if (frames_.size() == 2 && frames_.back().key == "ai_agent" && key == "involved") {
    ai_involved_ = value;
  }
  event_.canonical += value ? "true" : "false";
}

void EventWriter::Number(std::string_view key, double value) {
  if (!Key(key)) return;
  json number = value;
  CheckMember(Meaning(key), number);
  // A JSON number is finite; nlohmann::json would write NaN as null.
  if (!std::isfinite(value)) {
    Fail(Invalid(fmt::format("{}: expected a finite number", PathOf(key))));
    return;
  }
  event_.canonical += number.dump();
}

void EventWriter::Count(std::string_view key, uint64_t value) {
  if (!Key(key)) return;
  json number = value;
  CheckMember(Meaning(key), number);
  event_.canonical += number.dump();
}

void EventWriter::StringArray(std::string_view key, std::span<const std::string> values) {
  if (!Key(key)) return;
  if (Meaning(key) >= 0) {
    Fail(Error::Internal(fmt::format("event writer: {} is not an array", PathOf(key))));
    return;
  }
  event_.canonical += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (FindInvalidUtf8(values[i]) != std::string_view::npos) {
      Fail(Invalid(fmt::format("{}[{}]: the string is not valid UTF-8", PathOf(key), i)));
      return;
    }
    if (i > 0) event_.canonical += ',';
    interlock::json::AppendQuoted(&event_.canonical, values[i]);
  }
  event_.canonical += ']';
}

Result<Event> EventWriter::Finish() {
  if (!error_ && frames_.size() != 1) {
    Fail(Error::Internal(frames_.empty() ? "event writer: Finish called twice"
                                         : "event writer: an object is open"));
  }
  if (!error_ && !has_timestamp_) WriteTimestamp();
  if (error_) return std::unexpected(*error_);
  frames_.clear();
  event_.canonical += '}';
  if (event_.event_type.empty()) event_.event_type = std::move(operation_);
  if (event_.event_type.empty()) {
    return std::unexpected(
        Invalid("/event_type: missing (an event needs event_type or operation)"));
  }
  const std::string* rationale = rationale_ ? &*rationale_ : nullptr;
  if (auto ok = CheckRationale(event_.event_type, event_.actor_type, rationale); !ok) {
    return std::unexpected(ok.error());
  }
  if (event_.environment.empty() && ParseEnum<Environment>(target_)) {
    event_.environment = std::move(target_);
  }
  event_.classes = Classes(event_, ai_involved_);
  if (auto ok = CheckSize(event_); !ok) return std::unexpected(ok.error());
  return std::move(event_);
}

}  // namespace interlock::audit
