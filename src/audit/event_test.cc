#include "audit/event.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "../../tests/test_util.h"

namespace interlock::audit {
namespace {

constexpr UnixMillis kNow = 1705314600000;  // 2024-01-15T10:30:00Z

// Seed 000, section 5.2, verbatim.
constexpr std::string_view kSeedDeployment = R"({
  "timestamp": "2024-01-15T10:30:00Z",
  "event_type": "deployment",
  "actor": {
    "type": "human",
    "id": "user123",
    "name": "John Doe",
    "role": "engineer"
  },
  "action": {
    "type": "deploy",
    "target": "production",
    "version": "v2.5.4",
    "service": "api-gateway"
  },
  "approval": {
    "required": true,
    "approvers": ["team-lead", "on-call"],
    "approved_at": "2024-01-15T10:25:00Z"
  },
  "outcome": {
    "status": "success",
    "duration": "45s",
    "rollback_available": true
  },
  "compliance": {
    "frameworks": ["SOC2", "HIPAA"],
    "controls_verified": true
  },
  "ai_agent": {
    "involved": false
  }
})";

// Seed 000, section 5.3, verbatim.
constexpr std::string_view kSeedAiDecision = R"({
  "timestamp": "2024-01-15T10:30:00Z",
  "event_type": "ai_agent_decision",
  "actor": {
    "type": "ai_agent",
    "id": "deployment-agent-01",
    "version": "1.0.0"
  },
  "action": {
    "type": "recommend_deploy",
    "target": "staging",
    "version": "v2.5.4",
    "service": "api-gateway"
  },
  "decision": {
    "confidence_score": 0.85,
    "risk_level": "low",
    "rationale": "PATCH version, tests passed, security scan passed, no anomalies detected"
  },
  "human_review": {
    "required": true,
    "reviewer": "team-lead",
    "decision": "approved",
    "reviewed_at": "2024-01-15T10:35:00Z"
  },
  "outcome": {
    "status": "success",
    "duration": "45s"
  }
})";

// Seed 003, "Audit Log Format", with the "success|failure" placeholder filled.
constexpr std::string_view kSeedOperation = R"({
  "timestamp": "2025-01-08T10:00:00Z",
  "operation": "compose_section",
  "section_spec": {
    "name": "Intro",
    "bars": 32
  },
  "modules_loaded": [
    {
      "name": "kick",
      "version": "1.0.0",
      "interface_schema": "contracts/kick.json"
    }
  ],
  "manifest_version": "1.2.0",
  "seed_used": 12345,
  "result": "success",
  "duration_ms": 123,
  "metadata": {}
})";

UnixMillis Millis(std::string_view rfc3339) { return *ParseTimestamp(rfc3339); }

uint8_t Bits(std::initializer_list<RetentionClass> classes) {
  uint8_t bits = 0;
  for (RetentionClass c : classes) bits |= ClassBit(c);
  return bits;
}

// Parses an event that must be valid; fails the test otherwise.
Event MustParse(std::string_view json, UnixMillis now = kNow) {
  auto event = ParseEvent(json, now);
  EXPECT_TRUE(event.has_value()) << event.error().message();
  return event ? *event : Event{};
}

// The error message of an event that must be invalid.
std::string ErrorOf(std::string_view json) {
  auto event = ParseEvent(json, kNow);
  if (event) return "parsed: " + event->canonical;
  EXPECT_EQ(event.error().kind(), ErrorKind::kInvalidArgument);
  return event.error().message();
}

// Parsing the canonical text again must give it back, byte for byte, and the
// same fields.
void ExpectRoundTrip(const Event& event) {
  auto again = ParseEvent(event.canonical, kNow + 12345);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(again->canonical, event.canonical);
  EXPECT_EQ(again->timestamp, event.timestamp);
  EXPECT_EQ(again->event_type, event.event_type);
  EXPECT_EQ(again->actor_id, event.actor_id);
  EXPECT_EQ(again->actor_type, event.actor_type);
  EXPECT_EQ(again->environment, event.environment);
  EXPECT_EQ(again->classes, event.classes);
}

TEST(EventTest, SeedDeploymentParses) {
  Event event = MustParse(kSeedDeployment);
  EXPECT_EQ(event.timestamp, Millis("2024-01-15T10:30:00Z"));
  EXPECT_EQ(event.event_type, "deployment");
  EXPECT_EQ(event.actor_id, "user123");
  EXPECT_EQ(event.actor_type, "human");
  EXPECT_EQ(event.environment, "production");
  EXPECT_EQ(event.classes, Bits({RetentionClass::kProduction}));
  ExpectRoundTrip(event);
}

TEST(EventTest, SeedAiAgentDecisionParses) {
  Event event = MustParse(kSeedAiDecision);
  EXPECT_EQ(event.timestamp, Millis("2024-01-15T10:30:00Z"));
  EXPECT_EQ(event.event_type, "ai_agent_decision");
  EXPECT_EQ(event.actor_id, "deployment-agent-01");
  EXPECT_EQ(event.actor_type, "ai_agent");
  EXPECT_EQ(event.environment, "staging");
  EXPECT_EQ(event.classes, Bits({RetentionClass::kAiAgentDecision, RetentionClass::kStaging}));
  EXPECT_EQ(
      event.canonical,
      R"({"action":{"service":"api-gateway","target":"staging","type":"recommend_deploy",)"
      R"("version":"v2.5.4"},"actor":{"id":"deployment-agent-01","type":"ai_agent",)"
      R"("version":"1.0.0"},"decision":{"confidence_score":0.85,"rationale":"PATCH version, )"
      R"(tests passed, security scan passed, no anomalies detected","risk_level":"low"},)"
      R"("event_type":"ai_agent_decision","human_review":{"decision":"approved","required":true,)"
      R"("reviewed_at":"2024-01-15T10:35:00Z","reviewer":"team-lead"},"outcome":{"duration":)"
      R"("45s","status":"success"},"timestamp":"2024-01-15T10:30:00Z"})");
  ExpectRoundTrip(event);
}

TEST(EventTest, SeedOperationRecordParsesAndKeepsItsExtraFields) {
  Event event = MustParse(kSeedOperation);
  EXPECT_EQ(event.timestamp, Millis("2025-01-08T10:00:00Z"));
  EXPECT_EQ(event.event_type, "compose_section");
  EXPECT_EQ(event.actor_id, "");
  EXPECT_EQ(event.actor_type, "");
  EXPECT_EQ(event.environment, "");
  EXPECT_EQ(event.classes, Bits({RetentionClass::kProduction}));
  EXPECT_EQ(event.canonical,
            R"({"duration_ms":123,"manifest_version":"1.2.0","metadata":{},"modules_loaded":)"
            R"([{"interface_schema":"contracts/kick.json","name":"kick","version":"1.0.0"}],)"
            R"("operation":"compose_section","result":"success","section_spec":{"bars":32,)"
            R"("name":"Intro"},"seed_used":12345,"timestamp":"2025-01-08T10:00:00Z"})");
  ExpectRoundTrip(event);
}

TEST(EventTest, EventTypeWinsOverOperation) {
  Event event = MustParse(R"({"operation":"compose_section","event_type":"deployment"})");
  EXPECT_EQ(event.event_type, "deployment");
}

TEST(EventTest, EventTypeOfSixtyFourAllowedCharactersIsAccepted) {
  std::string type = "abcdefghijklmnopqrstuvwxyz0123456789_.-";
  type += std::string(64 - type.size(), 'z');
  EXPECT_EQ(MustParse(R"({"event_type":")" + type + "\"}").event_type, type);
}

TEST(EventTest, MissingTimestampIsFilledWithNow) {
  Event event = MustParse(R"({"event_type":"deployment"})", kNow + 7);
  EXPECT_EQ(event.timestamp, kNow + 7);
  EXPECT_EQ(event.canonical,
            R"({"event_type":"deployment","timestamp":"2024-01-15T10:30:00.007Z"})");
  ExpectRoundTrip(event);
}

TEST(EventTest, GivenTimestampIsKeptVerbatim) {
  Event event =
      MustParse(R"({"event_type":"deployment","timestamp":"2024-01-15T12:30:00.5+02:00"})");
  EXPECT_EQ(event.timestamp, Millis("2024-01-15T10:30:00.500Z"));
  EXPECT_EQ(event.canonical,
            R"({"event_type":"deployment","timestamp":"2024-01-15T12:30:00.5+02:00"})");
}

TEST(EventTest, NowOutsideTheYearsZeroToNineThousandNineHundredNinetyNineIsRefused) {
  UnixMillis year_10000 = Millis("9999-12-31T23:59:59.999Z") + 1;
  auto event = ParseEvent(R"({"event_type":"deployment"})", year_10000);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().message(), "now: 253402300800000 ms is outside the years 0000-9999");
  EXPECT_TRUE(ParseEvent(R"({"event_type":"deployment"})", year_10000 - 1));
  EXPECT_TRUE(ParseEvent(R"({"event_type":"deployment"})", Millis("0000-01-01T00:00:00Z")));
  // A given timestamp makes `now` irrelevant.
  EXPECT_TRUE(
      ParseEvent(R"({"event_type":"deployment","timestamp":"2024-01-15T10:30:00Z"})", year_10000));
}

TEST(EventTest, CanonicalFormSortsKeysAndDropsWhitespace) {
  Event event = MustParse(R"(
    { "timestamp" : "2024-01-15T10:30:00Z",
      "event_type" : "deployment",
      "actor" : { "type" : "human", "id" : "u1" },
      "tags" : [ "b", "a" ],
      "count" : 3, "ok" : true, "none" : null, "ratio" : 0.5 }
  )");
  EXPECT_EQ(event.canonical,
            R"({"actor":{"id":"u1","type":"human"},"count":3,"event_type":"deployment",)"
            R"("none":null,"ok":true,"ratio":0.5,"tags":["b","a"],)"
            R"("timestamp":"2024-01-15T10:30:00Z"})");
  ExpectRoundTrip(event);
}

TEST(EventTest, CanonicalKeysAreSortedByUtf8Bytes) {
  // U+00E9 (C3 A9) sorts after "z"; U+FF21 (EF BC A1) before U+1F600 (F0 9F 98 80),
  // though in UTF-16 the surrogate pair D83D DE00 would sort first.
  Event event = MustParse(
      "{\"z\":1,\"\xC3\xA9\":2,\"\xF0\x9F\x98\x80\":3,\"\xEF\xBC\xA1\":4,\"B\":5,\"_\":6,"
      "\"a\":7,\"event_type\":\"x\",\"timestamp\":\"2024-01-15T10:30:00Z\"}");
  EXPECT_EQ(event.canonical,
            "{\"B\":5,\"_\":6,\"a\":7,\"event_type\":\"x\",\"timestamp\":\"2024-01-15T10:30:00Z\","
            "\"z\":1,\"\xC3\xA9\":2,\"\xEF\xBC\xA1\":4,\"\xF0\x9F\x98\x80\":3}");
  ExpectRoundTrip(event);
}

TEST(EventTest, CanonicalStringEscapingIsAsDocumented) {
  // Every escape form in the input, raw non-ASCII, U+007F and U+2028.
  Event event = MustParse(R"({"event_type":"x","timestamp":"2024-01-15T10:30:00Z","s":")"
                          R"(\u0000\u0001\u001B\u001f\b\t\n\u000b\f\r\"\\\/\u007f\u00e9)"
                          "\xC3\xA9"
                          R"(\ud83d\ude00\u2028\u0041"})");
  EXPECT_EQ(event.canonical, R"({"event_type":"x","s":")"
                             R"(\u0000\u0001\u001b\u001f\b\t\n\u000b\f\r\"\\/)"
                             "\x7F\xC3\xA9\xC3\xA9\xF0\x9F\x98\x80\xE2\x80\xA8"
                             R"(A","timestamp":"2024-01-15T10:30:00Z"})");
  ExpectRoundTrip(event);
}

TEST(EventTest, CanonicalNumbersAreAsDocumented) {
  Event event = MustParse(
      R"({"event_type":"x","timestamp":"2024-01-15T10:30:00Z","n":[)"
      R"(0,-0,7,-42,18446744073709551615,-9223372036854775808,18446744073709551616,)"
      R"(0.0,-0.0,1e2,1.5e3,12.5,0.85,1e-4,1E15,1e-5,1.5e-7,5e-324,1.7976931348623157e308]})");
  EXPECT_EQ(event.canonical,
            R"({"event_type":"x","n":[)"
            R"(0,0,7,-42,18446744073709551615,-9223372036854775808,1.8446744073709552e+19,)"
            R"(0.0,-0.0,100.0,1500.0,12.5,0.85,0.0001,1e+15,1e-05,1.5e-07,5e-324,)"
            R"(1.7976931348623157e+308],"timestamp":"2024-01-15T10:30:00Z"})");
  ExpectRoundTrip(event);
}

TEST(EventTest, UnknownFieldsOfAnyTypeAreKept) {
  Event event =
      MustParse(R"({"event_type":"x","actor":{"id":"a","type":"service","roles":["ops"],"x":null},)"
                R"("metadata":null,"action":{"extra":{"deep":[1]}}})");
  EXPECT_EQ(event.canonical,
            R"({"action":{"extra":{"deep":[1]}},"actor":{"id":"a","roles":["ops"],)"
            R"("type":"service","x":null},"event_type":"x","metadata":null,)"
            R"("timestamp":"2024-01-15T10:30:00.000Z"})");
}

TEST(EventTest, LeadingByteOrderMarkIsSkipped) {
  Event event = MustParse("\xEF\xBB\xBF{\"event_type\":\"x\"}");
  EXPECT_EQ(event.canonical, R"({"event_type":"x","timestamp":"2024-01-15T10:30:00.000Z"})");
}

TEST(EventTest, EnvironmentFieldWinsOverActionTarget) {
  Event event =
      MustParse(R"({"event_type":"deployment","environment":"dev","action":{"target":"staging"}})");
  EXPECT_EQ(event.environment, "dev");
  EXPECT_EQ(event.classes, Bits({RetentionClass::kDev}));
}

TEST(EventTest, ActionTargetThatIsNotAnEnvironmentLeavesItUnknown) {
  Event event = MustParse(R"({"event_type":"deployment","action":{"target":"api-gateway"}})");
  EXPECT_EQ(event.environment, "");
  EXPECT_EQ(event.classes, Bits({RetentionClass::kProduction}));
}

TEST(EventTest, SecurityEventsAreSecurityIncidents) {
  EXPECT_EQ(MustParse(R"({"event_type":"security_incident","environment":"staging"})").classes,
            Bits({RetentionClass::kSecurityIncident, RetentionClass::kStaging}));
  EXPECT_EQ(MustParse(R"({"event_type":"security.scan_failed","environment":"dev"})").classes,
            Bits({RetentionClass::kSecurityIncident, RetentionClass::kDev}));
  EXPECT_EQ(MustParse(R"({"operation":"security_scan"})").classes,
            Bits({RetentionClass::kSecurityIncident, RetentionClass::kProduction}));
  EXPECT_EQ(MustParse(R"({"event_type":"insecurity","environment":"dev"})").classes,
            Bits({RetentionClass::kDev}));
}

TEST(EventTest, AiAgentActorsAndInvolvementAreAiAgentDecisions) {
  EXPECT_EQ(MustParse(R"({"event_type":"deployment","environment":"dev",)"
                      R"("actor":{"id":"bot","type":"ai_agent"},"decision":{"rationale":"r"}})")
                .classes,
            Bits({RetentionClass::kAiAgentDecision, RetentionClass::kDev}));
  EXPECT_EQ(MustParse(R"({"event_type":"deployment","environment":"dev",)"
                      R"("ai_agent":{"involved":true}})")
                .classes,
            Bits({RetentionClass::kAiAgentDecision, RetentionClass::kDev}));
  EXPECT_EQ(MustParse(R"({"event_type":"deployment","environment":"dev",)"
                      R"("ai_agent":{"involved":false}})")
                .classes,
            Bits({RetentionClass::kDev}));
}

TEST(EventTest, RetentionClassNamesMatchTheEnum) {
  EXPECT_EQ(Name(RetentionClass::kSecurityIncident), "security_incident");
  EXPECT_EQ(ParseEnum<RetentionClass>("ai_agent_decision"), RetentionClass::kAiAgentDecision);
  EXPECT_EQ(ClassBit(RetentionClass::kProduction), 1);
  EXPECT_EQ(ClassBit(RetentionClass::kAiAgentDecision), 16);
}

TEST(EventTest, InputOfExactlyTheSizeLimitIsAccepted) {
  std::string json = R"({"event_type":"x","pad":")";
  json += std::string(kMaxEventBytes - json.size() - 2, 'a') + "\"}";
  ASSERT_EQ(json.size(), kMaxEventBytes);
  EXPECT_TRUE(ParseEvent(json, kNow).has_value());
}

TEST(EventTest, OneByteOverTheSizeLimitIsRefused) {
  std::string json = R"({"event_type":"x","pad":")";
  json += std::string(kMaxEventBytes - json.size() - 1, 'a') + "\"}";
  ASSERT_EQ(json.size(), kMaxEventBytes + 1);
  EXPECT_EQ(ErrorOf(json), "event: larger than the limit of 262144 bytes");
}

// An event with `levels` nested containers, the event object included.
std::string Nested(int levels) {
  std::string json = R"({"event_type":"x","n":)";
  for (int level = 1; level < levels - 1; ++level) json += R"({"n":)";
  json += "[]";
  for (int level = 1; level < levels - 1; ++level) json += "}";
  return json + "}";
}

TEST(EventTest, NestingOfThirtyTwoLevelsIsAccepted) {
  EXPECT_TRUE(ParseEvent(Nested(32), kNow).has_value());
}

TEST(EventTest, NestingDeeperThanThirtyTwoLevelsIsRefusedWhereItHappens) {
  std::string path;
  for (int level = 1; level < 33; ++level) path += "/n";
  EXPECT_EQ(ErrorOf(Nested(33)), path + ": nesting deeper than 32 levels at line 1, column 178");
  // Deep arrays, and far deeper input, stop at the same level: "/a" is level 2.
  std::string indexes;
  for (int level = 3; level <= 33; ++level) indexes += "/0";
  EXPECT_EQ(ErrorOf(R"({"a":)" + std::string(100000, '[')),
            "/a" + indexes + ": nesting deeper than 32 levels at line 1, column 37");
}

// A reader of the log that keeps the first key must not see another event
// from the one stored and classified.
TEST(EventTest, DuplicateEnvironmentIsRefused) {
  auto event = ParseEvent(
      R"({"event_type":"deployment","environment":"production","environment":"dev"})", kNow);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(event.error().message(), R"(event: duplicate key "environment" at line 1, column 55)");
}

struct BadEvent {
  const char* name;
  std::string_view json;
  std::string_view message;
};

// Lets gtest name the case rather than dump its bytes.
void PrintTo(const BadEvent& bad, std::ostream* os) { *os << bad.name; }

class EventErrorTest : public ::testing::TestWithParam<BadEvent> {};

TEST_P(EventErrorTest, NamesThePathAndTheExpectation) {
  EXPECT_EQ(ErrorOf(GetParam().json), GetParam().message);
}

// clang-format off
const BadEvent kBadEvents[] = {
    // The input as a whole.
    {"InvalidUtf8Byte", "{\"event_type\":\"x\",\"s\":\"\xFF\"}",
     "/s: invalid UTF-8 at line 1, column 24"},
    {"OverlongUtf8", "{\"event_type\":\"x\",\"s\":\"\xC0\xAF\"}",
     "/s: invalid UTF-8 at line 1, column 24"},
    {"Utf8Surrogate", "{\"event_type\":\"x\",\"s\":\"\xED\xA0\x80\"}",
     "/s: invalid UTF-8 at line 1, column 24"},
    {"Utf8AboveMaximum", "{\"event_type\":\"x\",\"s\":\"\xF4\x90\x80\x80\"}",
     "/s: invalid UTF-8 at line 1, column 24"},
    {"TruncatedUtf8", "{\"event_type\":\"x\",\"s\":\"\xE2\x80",
     "/s: invalid UTF-8 at line 1, column 24"},
    {"LoneSurrogateEscape", R"({"event_type":"x","s":"\ud800"})",
     R"(/s: lone surrogate \ud800 at line 1, column 24)"},
    {"Empty", "",
     "event: malformed JSON at line 1, column 1: expected a value, found end of input"},
    {"Array", "[1]", "event: expected a JSON object, found an array"},
    {"String", R"("deployment")", "event: expected a JSON object, found a string"},
    {"Number", "5", "event: expected a JSON object, found a number"},
    {"Null", "null", "event: expected a JSON object, found null"},
    {"TrailingGarbage", R"({"event_type":"x"} x)", "event: trailing data at line 1, column 20"},
    {"SecondObject", "{\"event_type\":\"x\"}\n{}", "event: trailing data at line 2, column 1"},
    {"TrailingComma", R"({"event_type":"x",})",
     "event: malformed JSON at line 1, column 19: expected a string key, found '}'"},
    {"NumberTooLarge", R"({"event_type":"x","n":1e400})",
     "/n: number out of range at line 1, column 23"},
    {"NulByte", std::string_view("{\"event_type\":\"x\",\"s\":\"\0\"}", 27),
     "/s: NUL byte at line 1, column 24"},
    {"DuplicateTopLevelKey", R"({"event_type":"x","event_type":"y"})",
     R"(event: duplicate key "event_type" at line 1, column 19)"},
    {"DuplicateNestedKey", R"({"event_type":"x","actor":{"id":"a","type":"human","id":"b"}})",
     R"(/actor: duplicate key "id" at line 1, column 52)"},
    {"DuplicateKeyAfterUnescaping", R"({"event_type":"x","m":[{"a/b~":1,"a\/b\u007e":2}]})",
     R"(/m/0: duplicate key "a/b~" at line 1, column 34)"},

    // event_type and operation.
    {"EventTypeMissing", R"({"timestamp":"2024-01-15T10:30:00Z"})",
     "/event_type: missing (an event needs event_type or operation)"},
    {"EventTypeNotAString", R"({"event_type":7})",
     "/event_type: expected 1 to 64 characters from a-z, 0-9, _ . -, got 7"},
    {"EventTypeEmpty", R"({"event_type":""})",
     "/event_type: expected 1 to 64 characters from a-z, 0-9, _ . -, got \"\""},
    {"EventTypeUpperCase", R"({"event_type":"Deploy"})",
     "/event_type: expected 1 to 64 characters from a-z, 0-9, _ . -, got \"Deploy\""},
    {"EventTypeTooLong",
     R"({"event_type":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})",
     "/event_type: expected 1 to 64 characters from a-z, 0-9, _ . -, got a string of 65 bytes"},
    {"OperationInvalid", R"({"operation":"compose section"})",
     "/operation: expected 1 to 64 characters from a-z, 0-9, _ . -, got \"compose section\""},
    {"OperationInvalidBesideEventType", R"({"event_type":"x","operation":null})",
     "/operation: expected 1 to 64 characters from a-z, 0-9, _ . -, got null"},

    // timestamp.
    {"TimestampNotRfc3339", R"({"event_type":"x","timestamp":"2024-01-15 10:30:00"})",
     "/timestamp: expected an RFC 3339 timestamp such as \"2024-01-15T10:30:00Z\", got "
     "\"2024-01-15 10:30:00\""},
    {"TimestampNotAString", R"({"event_type":"x","timestamp":1705314600})",
     "/timestamp: expected an RFC 3339 timestamp such as \"2024-01-15T10:30:00Z\", got 1705314600"},

    // actor.
    {"ActorNotAnObject", R"({"event_type":"x","actor":"user123"})",
     "/actor: expected an object, got \"user123\""},
    {"ActorIdMissing", R"({"event_type":"x","actor":{"type":"human"}})", "/actor/id: missing"},
    {"ActorIdEmpty", R"({"event_type":"x","actor":{"id":"","type":"human"}})",
     "/actor/id: expected a non-empty string of at most 256 bytes, got \"\""},
    {"ActorIdNotAString", R"({"event_type":"x","actor":{"id":123,"type":"human"}})",
     "/actor/id: expected a non-empty string of at most 256 bytes, got 123"},
    {"ActorTypeMissing", R"({"event_type":"x","actor":{"id":"u"}})", "/actor/type: missing"},
    {"ActorTypeUnknown", R"({"event_type":"x","actor":{"id":"u","type":"robot"}})",
     "/actor/type: expected one of human, ai_agent, service, got \"robot\""},
    {"ActorNameNotAString", R"({"event_type":"x","actor":{"id":"u","type":"human","name":1}})",
     "/actor/name: expected a string, got 1"},
    {"ActorRoleNotAString",
     R"({"event_type":"x","actor":{"id":"u","type":"human","role":["engineer"]}})",
     "/actor/role: expected a string, got an array"},
    {"ActorVersionNotAString",
     R"({"event_type":"x","actor":{"id":"u","type":"human","version":1.0}})",
     "/actor/version: expected a string, got 1.0"},
    {"ActorTeamNotAString", R"({"event_type":"x","actor":{"id":"u","type":"human","team":{}}})",
     "/actor/team: expected a string, got an object"},

    // action.
    {"ActionNotAnObject", R"({"event_type":"x","action":["deploy"]})",
     "/action: expected an object, got an array"},
    {"ActionTypeNotAString", R"({"event_type":"x","action":{"type":true}})",
     "/action/type: expected a string, got true"},
    {"ActionTargetNotAString", R"({"event_type":"x","action":{"target":null}})",
     "/action/target: expected a string, got null"},
    {"ActionVersionNotAString", R"({"event_type":"x","action":{"version":2}})",
     "/action/version: expected a string, got 2"},
    {"ActionServiceNotAString", R"({"event_type":"x","action":{"service":false}})",
     "/action/service: expected a string, got false"},

    // approval.
    {"ApprovalNotAnObject", R"({"event_type":"x","approval":true})",
     "/approval: expected an object, got true"},
    {"ApprovalRequiredNotABoolean", R"({"event_type":"x","approval":{"required":"yes"}})",
     "/approval/required: expected true or false, got \"yes\""},
    {"ApprovalApproversNotAnArray", R"({"event_type":"x","approval":{"approvers":"team-lead"}})",
     "/approval/approvers: expected an array of strings, got \"team-lead\""},
    {"ApprovalApproverNotAString",
     R"({"event_type":"x","approval":{"approvers":["team-lead",{"id":"on-call"}]}})",
     "/approval/approvers/1: expected a string, got an object"},
    {"ApprovalApprovedAtInvalid",
     R"({"event_type":"x","approval":{"approved_at":"2024-02-30T10:25:00Z"}})",
     "/approval/approved_at: expected an RFC 3339 timestamp such as \"2024-01-15T10:30:00Z\", got "
     "\"2024-02-30T10:25:00Z\""},

    // outcome.
    {"OutcomeNotAnObject", R"({"event_type":"x","outcome":"success"})",
     "/outcome: expected an object, got \"success\""},
    {"OutcomeStatusNotAString", R"({"event_type":"x","outcome":{"status":0}})",
     "/outcome/status: expected a string, got 0"},
    {"OutcomeDurationNotAString", R"({"event_type":"x","outcome":{"duration":45}})",
     "/outcome/duration: expected a string, got 45"},
    {"OutcomeRollbackAvailableNotABoolean",
     R"({"event_type":"x","outcome":{"rollback_available":1}})",
     "/outcome/rollback_available: expected true or false, got 1"},

    // compliance.
    {"ComplianceNotAnObject", R"({"event_type":"x","compliance":[]})",
     "/compliance: expected an object, got an array"},
    {"ComplianceFrameworksNotAnArray", R"({"event_type":"x","compliance":{"frameworks":"SOC2"}})",
     "/compliance/frameworks: expected an array of strings, got \"SOC2\""},
    {"ComplianceFrameworkNotAString",
     R"({"event_type":"x","compliance":{"frameworks":["SOC2",2]}})",
     "/compliance/frameworks/1: expected a string, got 2"},
    {"ComplianceControlsVerifiedNotABoolean",
     R"({"event_type":"x","compliance":{"controls_verified":"true"}})",
     "/compliance/controls_verified: expected true or false, got \"true\""},

    // ai_agent.
    {"AiAgentNotAnObject", R"({"event_type":"x","ai_agent":false})",
     "/ai_agent: expected an object, got false"},
    {"AiAgentInvolvedNotABoolean", R"({"event_type":"x","ai_agent":{"involved":"no"}})",
     "/ai_agent/involved: expected true or false, got \"no\""},

    // decision.
    {"DecisionNotAnObject", R"({"event_type":"x","decision":"approve"})",
     "/decision: expected an object, got \"approve\""},
    {"ConfidenceAboveOne", R"({"event_type":"x","decision":{"confidence_score":1.5}})",
     "/decision/confidence_score: expected a number between 0 and 1, got 1.5"},
    {"ConfidenceBelowZero", R"({"event_type":"x","decision":{"confidence_score":-0.1}})",
     "/decision/confidence_score: expected a number between 0 and 1, got -0.1"},
    {"ConfidenceAsPercent", R"({"event_type":"x","decision":{"confidence_score":85}})",
     "/decision/confidence_score: expected a number between 0 and 1, got 85"},
    {"ConfidenceNotANumber", R"({"event_type":"x","decision":{"confidence_score":"0.85"}})",
     "/decision/confidence_score: expected a number between 0 and 1, got \"0.85\""},
    {"RiskLevelUnknown", R"({"event_type":"x","decision":{"risk_level":"severe"}})",
     "/decision/risk_level: expected one of low, medium, high, critical, got \"severe\""},
    {"RationaleNotAString", R"({"event_type":"x","decision":{"rationale":["tests passed"]}})",
     "/decision/rationale: expected a string, got an array"},

    // human_review.
    {"HumanReviewNotAnObject", R"({"event_type":"x","human_review":null})",
     "/human_review: expected an object, got null"},
    {"HumanReviewRequiredNotABoolean", R"({"event_type":"x","human_review":{"required":null}})",
     "/human_review/required: expected true or false, got null"},
    {"HumanReviewReviewerNotAString", R"({"event_type":"x","human_review":{"reviewer":["a"]}})",
     "/human_review/reviewer: expected a string, got an array"},
    {"HumanReviewDecisionNotAString", R"({"event_type":"x","human_review":{"decision":true}})",
     "/human_review/decision: expected a string, got true"},
    {"HumanReviewReviewedAtInvalid",
     R"({"event_type":"x","human_review":{"reviewed_at":"yesterday"}})",
     "/human_review/reviewed_at: expected an RFC 3339 timestamp such as \"2024-01-15T10:30:00Z\", "
     "got \"yesterday\""},

    // Top-level scalars.
    {"EnvironmentUnknown", R"({"event_type":"x","environment":"prod"})",
     "/environment: expected one of dev, staging, production, got \"prod\""},
    {"ReasonNotAString", R"({"event_type":"x","reason":{"ticket":"CHG-1"}})",
     "/reason: expected a string, got an object"},
    {"ResultNotAString", R"({"event_type":"x","result":true})",
     "/result: expected a string, got true"},
    {"DurationMsNegative", R"({"event_type":"x","duration_ms":-1})",
     "/duration_ms: expected a non-negative integer, got -1"},
    {"DurationMsFractional", R"({"event_type":"x","duration_ms":1.5})",
     "/duration_ms: expected a non-negative integer, got 1.5"},
    {"DurationMsWithExponent", R"({"event_type":"x","duration_ms":1e3})",
     "/duration_ms: expected a non-negative integer, got 1000.0"},
    {"DurationMsNotANumber", R"({"event_type":"x","duration_ms":"123"})",
     "/duration_ms: expected a non-negative integer, got \"123\""},

    // An AI agent's decision carries its rationale.
    {"AiAgentDecisionWithoutDecision", R"({"event_type":"ai_agent_decision"})",
     "/decision/rationale: missing (an AI agent's decision must carry its rationale)"},
    {"AiAgentDecisionOperationWithoutRationale", R"({"operation":"ai_agent_decision"})",
     "/decision/rationale: missing (an AI agent's decision must carry its rationale)"},
    {"AiAgentActorWithoutRationale",
     R"({"event_type":"deployment","actor":{"id":"bot","type":"ai_agent"},)"
     R"("decision":{"confidence_score":0.9}})",
     "/decision/rationale: missing (an AI agent's decision must carry its rationale)"},
    {"AiAgentActorWithEmptyRationale",
     R"({"event_type":"deployment","actor":{"id":"bot","type":"ai_agent"},)"
     R"("decision":{"rationale":""}})",
     "/decision/rationale: expected a non-empty string (an AI agent's decision must carry its "
     "rationale), got \"\""},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Rules, EventErrorTest, ::testing::ValuesIn(kBadEvents),
                         [](const ::testing::TestParamInfo<BadEvent>& info) {
                           return std::string(info.param.name);
                         });

TEST(EventTest, LongStringsAreNotEchoedInMessages) {
  std::string id(257, 'u');
  EXPECT_EQ(ErrorOf(R"({"event_type":"x","actor":{"type":"human","id":")" + id + "\"}}"),
            "/actor/id: expected a non-empty string of at most 256 bytes, got a string of 257 "
            "bytes");
  id.pop_back();
  EXPECT_TRUE(ParseEvent(R"({"event_type":"x","actor":{"type":"human","id":")" + id + "\"}}", kNow)
                  .has_value());
}

TEST(EventTest, EveryByteFlipOfACanonicalEventIsRefusedOrParsesToItsOwnCanonicalForm) {
  // The canonical text of whatever a corrupted event parses to must itself be
  // stable: no input yields a canonical form that re-canonicalizes differently.
  Event seed = MustParse(kSeedAiDecision);
  for (size_t index = 0; index < seed.canonical.size(); ++index) {
    for (unsigned char flip : {0x01, 0x20, 0x80}) {
      std::string mutated = seed.canonical;
      mutated[index] = static_cast<char>(mutated[index] ^ flip);
      auto event = ParseEvent(mutated, kNow);
      if (!event) continue;
      auto again = ParseEvent(event->canonical, kNow);
      ASSERT_TRUE(again.has_value()) << again.error().message();
      ASSERT_EQ(again->canonical, event->canonical);
    }
  }
}

TEST(EventTest, MakeEventGivesWhatParsingTheTextGives) {
  for (std::string_view text :
       {kSeedDeployment,
        std::string_view(R"({"event_type":"x","b":[1,2.5,"\u00e9"],"a":{"z":null}})")}) {
    auto parsed = ParseEvent(text, kNow);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
    interlock::testing::ExpectSameEvent(MakeEvent(nlohmann::json::parse(text), kNow), parsed);
  }
}

TEST(EventTest, MakeEventRefusesWhatParsingRefuses) {
  auto bad_type =
      MakeEvent({{"event_type", "x"}, {"actor", {{"id", "a"}, {"type", "robot"}}}}, kNow);
  ASSERT_FALSE(bad_type.has_value());
  EXPECT_EQ(bad_type.error().message(),
            "/actor/type: expected one of human, ai_agent, service, got \"robot\"");
  auto not_object = MakeEvent(nlohmann::json::array(), kNow);
  ASSERT_FALSE(not_object.has_value());
  EXPECT_EQ(not_object.error().kind(), ErrorKind::kInvalidArgument);
  auto bad_text = MakeEvent({{"event_type", "x"}, {"reason", std::string("\xff\xfe")}}, kNow);
  ASSERT_FALSE(bad_text.has_value());
  EXPECT_EQ(bad_text.error().kind(), ErrorKind::kInvalidArgument);
  auto huge = MakeEvent({{"event_type", "x"}, {"reason", std::string(kMaxEventBytes, 'a')}}, kNow);
  ASSERT_FALSE(huge.has_value());
  EXPECT_NE(huge.error().message().find("larger than the limit"), std::string::npos);
}

// The same members through the writer and through MakeEvent.
void ExpectWriterMatches(EventWriter& w, const nlohmann::json& members) {
  interlock::testing::ExpectSameEvent(w.Finish(), MakeEvent(members, kNow));
}

TEST(EventTest, WriterPutsTheTimestampInItsPlace) {
  EventWriter w(kNow);
  w.BeginObject("action");
  w.String("target", "staging");
  w.BeginObject("x");
  w.Bool("deep", true);
  w.EndObject();
  w.EndObject();
  w.String("operation", "deploy");
  w.String("user", "after the timestamp");
  ExpectWriterMatches(w, {{"action", {{"target", "staging"}, {"x", {{"deep", true}}}}},
                          {"operation", "deploy"},
                          {"user", "after the timestamp"}});
}

TEST(EventTest, WriterTakesAGivenTimestampAndTheAiAgentFlag) {
  EventWriter w(kNow);
  w.BeginObject("ai_agent");
  w.Bool("involved", true);
  w.EndObject();
  w.BeginObject("decision");
  w.String("rationale", "because");
  w.EndObject();
  w.String("event_type", "security.review");
  w.String("timestamp", "2024-01-15T10:25:00+01:00");
  ExpectWriterMatches(w, {{"ai_agent", {{"involved", true}}},
                          {"decision", {{"rationale", "because"}}},
                          {"event_type", "security.review"},
                          {"timestamp", "2024-01-15T10:25:00+01:00"}});
}

TEST(EventTest, WriterRefusesWhatMakeEventRefuses) {
  {
    EventWriter w(kNow);
    w.BeginObject("actor");
    w.String("id", "a");
    w.EndObject();
    w.String("event_type", "x");
    ExpectWriterMatches(w, {{"actor", {{"id", "a"}}}, {"event_type", "x"}});
  }
  {
    EventWriter w(kNow);
    w.String("actor", "alice");
    w.String("event_type", "x");
    ExpectWriterMatches(w, {{"actor", "alice"}, {"event_type", "x"}});
  }
  {
    EventWriter w(kNow);
    w.BeginObject("environment");
    w.EndObject();
    w.String("event_type", "x");
    ExpectWriterMatches(w, {{"environment", nlohmann::json::object()}, {"event_type", "x"}});
  }
  {
    EventWriter w(kNow);
    w.String("reason", "no type");
    ExpectWriterMatches(w, {{"reason", "no type"}});
  }
  {
    EventWriter w(kNow);
    w.String("event_type", "Bad Type");
    ExpectWriterMatches(w, {{"event_type", "Bad Type"}});
  }
  {
    EventWriter w(kNow);
    w.String("event_type", "x");
    w.String("reason", std::string(kMaxEventBytes, 'a'));
    ExpectWriterMatches(w, {{"event_type", "x"}, {"reason", std::string(kMaxEventBytes, 'a')}});
  }
}

TEST(EventTest, WriterMisuseIsAnInternalError) {
  EventWriter unordered(kNow);
  unordered.String("reason", "b");
  unordered.String("event_type", "a");
  auto got = unordered.Finish();
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind(), ErrorKind::kInternal);
  EXPECT_EQ(got.error().message(),
            "event writer: member \"/event_type\" is not in canonical order");

  EventWriter open(kNow);
  open.BeginObject("action");
  auto left_open = open.Finish();
  ASSERT_FALSE(left_open.has_value());
  EXPECT_EQ(left_open.error().kind(), ErrorKind::kInternal);

  EventWriter twice(kNow);
  twice.String("event_type", "x");
  EXPECT_TRUE(twice.Finish().has_value());
  auto again = twice.Finish();
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().kind(), ErrorKind::kInternal);
}

}  // namespace
}  // namespace interlock::audit
