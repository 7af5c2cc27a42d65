// Query templates, the reading of instant-query answers (request in,
// reading out) and the requests the Prometheus source sends, against the
// fake HTTP client.
#include "rollout/prometheus.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "governance/query_template.h"
#include "net/fake_http_client.h"

namespace interlock::rollout {
namespace {

governance::QueryContext Context() {
  return {.service = "payments",
          .version = "1.4.0",
          .baseline_version = "1.3.2",
          .environment = "production",
          .window_ms = 300000};
}

// The message governance::CheckQueryTemplate refuses `tmpl` with, or "" when it accepts it.
std::string Refusal(std::string_view tmpl) {
  auto checked = governance::CheckQueryTemplate(tmpl);
  if (checked) return "";
  EXPECT_EQ(checked.error().kind(), ErrorKind::kInvalidArgument);
  return checked.error().message();
}

// ---------------------------------------------------------------------------
// Templates

TEST(QueryTemplateTest, ExpandsEveryPlaceholder) {
  constexpr std::string_view kTemplate =
      R"(sum(rate(errors{service="{{service}}",version="{{version}}",env="{{environment}}"}[{{window}}])))"
      R"( / sum(rate(requests{version='{{baseline_version}}'}[{{window}}])))";
  EXPECT_EQ(Refusal(kTemplate), "");
  EXPECT_EQ(governance::ExpandQuery(kTemplate, Context()),
            R"(sum(rate(errors{service="payments",version="1.4.0",env="production"}[300s])))"
            R"( / sum(rate(requests{version='1.3.2'}[300s])))");
}

TEST(QueryTemplateTest, AcceptsSpacesAndTabsAroundTheName) {
  constexpr std::string_view kTemplate = "up{service=\"{{ service }}\"}[{{\twindow\t}}]";
  EXPECT_EQ(Refusal(kTemplate), "");
  EXPECT_EQ(governance::ExpandQuery(kTemplate, Context()), "up{service=\"payments\"}[300s]");
}

TEST(QueryTemplateTest, WindowIsWholeSecondsOrMilliseconds) {
  governance::QueryContext ctx = Context();
  ctx.window_ms = 60000;
  EXPECT_EQ(governance::ExpandQuery("x[{{window}}]", ctx), "x[60s]");
  ctx.window_ms = 1500;
  EXPECT_EQ(governance::ExpandQuery("x[{{window}}]", ctx), "x[1500ms]");
  ctx.window_ms = 1;
  EXPECT_EQ(governance::ExpandQuery("x[{{window}}]", ctx), "x[1ms]");
}

TEST(QueryTemplateTest, AHostileVersionCannotLeaveItsDoubleQuotedString) {
  governance::QueryContext ctx = Context();
  ctx.version = R"(1.0"} or vector(1) #)";
  EXPECT_EQ(governance::ExpandQuery(R"(up{version="{{version}}"})", ctx),
            R"(up{version="1.0\"} or vector(1) #"})");
}

TEST(QueryTemplateTest, AHostileVersionCannotLeaveItsSingleQuotedString) {
  governance::QueryContext ctx = Context();
  ctx.version = R"(1.0'} or vector(1) # ")";
  EXPECT_EQ(governance::ExpandQuery("up{version='{{version}}'}", ctx),
            R"(up{version='1.0\'} or vector(1) # "'})");
}

TEST(QueryTemplateTest, EscapesBackslashesAndControlCharacters) {
  governance::QueryContext ctx = Context();
  ctx.service =
      "a\\\"b\nc\rd\te\x01"
      "f\x7f"
      "g'h";
  EXPECT_EQ(governance::ExpandQuery(R"(x{s="{{service}}"})", ctx),
            R"(x{s="a\\\"b\nc\rd\te\x01f\x7fg'h"})");
  // A value ending in a backslash cannot escape the closing quote.
  ctx.service = "trailing\\";
  EXPECT_EQ(governance::ExpandQuery(R"(x{s="{{service}}"})", ctx), R"(x{s="trailing\\"})");
}

TEST(QueryTemplateTest, CopiesNonAsciiAsIs) {
  governance::QueryContext ctx = Context();
  ctx.environment =
      "pr\xc3\xbc"
      "fung";
  EXPECT_EQ(governance::ExpandQuery(R"(x{e="{{environment}}"})", ctx),
            "x{e=\"pr\xc3\xbc"
            "fung\"}");
}

TEST(QueryTemplateTest, PlaceholdersAfterEscapedQuotesStayInTheString) {
  // \" does not end the string, so the placeholder is still inside it.
  constexpr std::string_view kTemplate = R"(x{s="a\"{{service}}"})";
  EXPECT_EQ(Refusal(kTemplate), "");
  EXPECT_EQ(governance::ExpandQuery(kTemplate, Context()), R"(x{s="a\"payments"})");
}

TEST(QueryTemplateTest, RefusesAnEmptyTemplate) {
  EXPECT_EQ(Refusal(""), "query template: empty");
  EXPECT_EQ(Refusal(" \n\t"), "query template: empty");
}

TEST(QueryTemplateTest, RefusesAnUnknownPlaceholder) {
  EXPECT_EQ(Refusal(R"(up{s="{{servce}}"})"),
            "query template: unknown placeholder {{servce}} at column 7 (known: service, version, "
            "baseline_version, environment, window)");
  EXPECT_EQ(Refusal(R"(up{s="{{ Service }}"})"),
            "query template: unknown placeholder {{Service}} at column 7 (known: service, "
            "version, baseline_version, environment, window)");
}

TEST(QueryTemplateTest, RefusesAnUnclosedPlaceholder) {
  EXPECT_EQ(Refusal(R"(up{s="{{service"})"), R"(query template: unclosed "{{" at column 7)");
  EXPECT_EQ(Refusal(R"(up{s="{{service}"})"), R"(query template: unclosed "{{" at column 7)");
  EXPECT_EQ(Refusal("up[{{}}]"), R"(query template: unclosed "{{" at column 4)");
  EXPECT_EQ(Refusal("up[{{window"), R"(query template: unclosed "{{" at column 4)");
  EXPECT_EQ(Refusal("up[{{"), R"(query template: unclosed "{{" at column 4)");
  EXPECT_EQ(Refusal("up[{{{window}}]"), R"(query template: unclosed "{{" at column 4)");
  EXPECT_EQ(Refusal("up[{{serv ice}}]"), R"(query template: unclosed "{{" at column 4)");
}

TEST(QueryTemplateTest, NamesLineAndColumnInATemplateOfSeveralLines) {
  EXPECT_EQ(Refusal("sum(\n  up{s=\"{{servce}}\"}\n)"),
            "query template: unknown placeholder {{servce}} at line 2, column 9 (known: service, "
            "version, baseline_version, environment, window)");
}

TEST(QueryTemplateTest, RefusesAStringPlaceholderOutsideAQuotedString) {
  EXPECT_EQ(Refusal("up{version={{version}}}"),
            R"(query template: {{version}} at column 12 must be inside a "..." or '...' string)");
  EXPECT_EQ(Refusal("up{version=`{{version}}`}"),
            R"(query template: {{version}} at column 13 must be inside a "..." or '...' string)");
  EXPECT_EQ(Refusal("up # {{ service }}"),
            R"(query template: {{service}} at column 6 must be inside a "..." or '...' string)");
  // After the string has closed.
  EXPECT_EQ(Refusal(R"(up{a="x"} + {{environment}})"),
            R"(query template: {{environment}} at column 13 must be inside a "..." or '...' )"
            "string");
}

TEST(QueryTemplateTest, AcceptsTheWindowAnywhere) {
  EXPECT_EQ(Refusal(R"(rate(x[{{window}}]) # over {{window}})"), "");
  EXPECT_EQ(Refusal(R"(label_replace(x, "w", "{{window}}", "", ""))"), "");
}

TEST(QueryTemplateTest, CommentsAndOtherQuotesDoNotOpenStrings) {
  // A " in a comment, and a " inside '...', open nothing.
  EXPECT_EQ(Refusal("up # say \"hi\n{{version}}"),
            R"(query template: {{version}} at line 2, column 1 must be inside a "..." or '...' )"
            "string");
  EXPECT_EQ(Refusal(R"(up{a='"'} + {{version}})"),
            R"(query template: {{version}} at column 13 must be inside a "..." or '...' string)");
  // A comment ends at the end of its line.
  EXPECT_EQ(Refusal("up # note\n+ x{v=\"{{version}}\"}"), "");
}

TEST(QueryTemplateTest, RefusesABackslashBeforeABrace) {
  EXPECT_EQ(Refusal(R"(up{v="\{{version}}"})"),
            R"(query template: "\{" at column 7 is not a PromQL string escape)");
}

TEST(QueryTemplateTest, ExpansionCopiesWhatTheCheckRefusesAsWritten) {
  governance::QueryContext ctx = Context();
  ctx.version = R"(" or vector(1) #)";
  EXPECT_EQ(governance::ExpandQuery("up{version={{version}}}[{{window}}]", ctx),
            "up{version={{version}}}[300s]");
  EXPECT_EQ(governance::ExpandQuery(R"(up{v="\{{version}}"})", ctx), R"(up{v="\{{version}}"})");
  EXPECT_EQ(governance::ExpandQuery(R"(up{v="{{nope}}{{version"})", ctx),
            R"(up{v="{{nope}}{{version"})");
}

// ---------------------------------------------------------------------------
// Answers

struct AnswerCase {
  const char* name;
  int http_status;
  std::string body;
  ReadingStatus status;
  double value;
  std::string detail;
};

std::string Vector(std::string_view samples) {
  return R"({"status":"success","data":{"resultType":"vector","result":[)" + std::string(samples) +
         "]}}";
}

std::string Sample(std::string_view value) {
  return R"({"metric":{"job":"api"},"value":[1700000000.25,")" + std::string(value) + R"("]})";
}

std::string Answer(std::string_view type, std::string_view result) {
  return R"({"status":"success","data":{"resultType":")" + std::string(type) + R"(","result":)" +
         std::string(result) + "}}";
}

// Request in, reading out.
std::vector<AnswerCase> Answers() {
  const std::string long_text(300, 'x');
  return {
      {"one sample", 200, Vector(Sample("0.125")), ReadingStatus::kValue, 0.125, ""},
      {"negative exponent", 200, Vector(Sample("-1.5e-3")), ReadingStatus::kValue, -0.0015, ""},
      {"scalar", 200, Answer("scalar", R"([1700000000,"42"])"), ReadingStatus::kValue, 42, ""},
      {"with warnings", 200,
       R"({"status":"success","warnings":["w"],"infos":["i"],"data":{"resultType":"vector",)"
       R"("result":[{"metric":{},"value":[1,"7"]}]}})",
       ReadingStatus::kValue, 7, ""},
      {"no series", 200, Vector(""), ReadingStatus::kNoData, 0, "the query returned no series"},
      {"NaN", 200, Vector(Sample("NaN")), ReadingStatus::kNoData, 0, "the query returned NaN"},
      {"plus Inf", 200, Vector(Sample("+Inf")), ReadingStatus::kNoData, 0,
       "the query returned +Inf"},
      {"minus Inf", 200, Vector(Sample("-Inf")), ReadingStatus::kNoData, 0,
       "the query returned -Inf"},
      {"scalar NaN", 200, Answer("scalar", R"([1,"NaN"])"), ReadingStatus::kNoData, 0,
       "the query returned NaN"},
      {"three series", 200, Vector(Sample("1") + "," + Sample("2") + "," + Sample("3")),
       ReadingStatus::kError, 0, "the query must aggregate to one series but returned 3"},
      {"matrix", 200, Answer("matrix", R"([{"metric":{},"values":[[1,"1"]]}])"),
       ReadingStatus::kError, 0,
       "the query returned a range vector; it must return an instant vector or a scalar"},
      {"string", 200, Answer("string", R"([1,"hello"])"), ReadingStatus::kError, 0,
       "the query returned a string; it must return an instant vector or a scalar"},
      {"native histogram", 200,
       Vector(R"({"metric":{},"histogram":[1,{"count":"1","sum":"1","buckets":[]}]})"),
       ReadingStatus::kError, 0, "the query returned a native histogram; it must return a number"},
      {"not a number", 200, Vector(Sample("fast")), ReadingStatus::kError, 0,
       R"(the sample value "fast" is not a number)"},
      {"trailing garbage in number", 200, Vector(Sample("1.5x")), ReadingStatus::kError, 0,
       R"(the sample value "1.5x" is not a number)"},
      {"empty number", 200, Vector(Sample("")), ReadingStatus::kError, 0,
       R"(the sample value "" is not a number)"},
      {"plus minus", 200, Vector(Sample("+-1")), ReadingStatus::kError, 0,
       R"(the sample value "+-1" is not a number)"},
      {"long number", 200, Vector(Sample(long_text)), ReadingStatus::kError, 0,
       "the sample value \"" + std::string(200, 'x') + "...\" is not a number"},
      {"error status", 200,
       R"({"status":"error","errorType":"execution","error":"query timed out in expression evaluation"})",
       ReadingStatus::kError, 0,
       "Prometheus answered with an error (execution): query timed out in expression evaluation"},
      {"error status, long text", 200,
       R"({"status":"error","errorType":"bad_data","error":")" + long_text + "\"}",
       ReadingStatus::kError, 0,
       "Prometheus answered with an error (bad_data): " + std::string(200, 'x') + "..."},
      {"error status, control characters", 200,
       R"({"status":"error","errorType":"bad_data","error":"line\nbreak"})", ReadingStatus::kError,
       0, "Prometheus answered with an error (bad_data): line break"},
      {"HTTP 400 with an error", 400,
       R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:4: parse error: unexpected <by>"})",
       ReadingStatus::kError, 0,
       R"(Prometheus answered HTTP 400 (bad_data): invalid parameter "query": 1:4: parse error: unexpected <by>)"},
      {"HTTP 422 with an error", 422,
       R"({"status":"error","errorType":"execution","error":"many-to-many matching not allowed"})",
       ReadingStatus::kError, 0,
       "Prometheus answered HTTP 422 (execution): many-to-many matching not allowed"},
      {"HTTP 503 with an error", 503,
       R"({"status":"error","errorType":"timeout","error":"query timed out"})",
       ReadingStatus::kError, 0, "Prometheus answered HTTP 503 (timeout): query timed out"},
      {"HTTP 502 from a proxy", 502, "<html><body>Bad Gateway</body></html>", ReadingStatus::kError,
       0, "Prometheus answered HTTP 502"},
      {"HTTP 404 empty", 404, "", ReadingStatus::kError, 0, "Prometheus answered HTTP 404"},
      {"HTTP 201 success body", 201, Vector(Sample("1")), ReadingStatus::kError, 0,
       "Prometheus answered HTTP 201"},
      {"not JSON", 200, "<html>", ReadingStatus::kError, 0,
       "malformed answer: body: malformed JSON at line 1, column 1: expected a value, found '<'"},
      {"empty body", 200, "", ReadingStatus::kError, 0,
       "malformed answer: body: malformed JSON at line 1, column 1: expected a value, found end "
       "of input"},
      {"duplicate key", 200, R"({"status":"success","status":"error"})", ReadingStatus::kError, 0,
       R"(malformed answer: body: duplicate key "status" at line 1, column 21)"},
      {"not an object", 200, "[1]", ReadingStatus::kError, 0,
       "malformed answer: body: expected a JSON object, found an array"},
      {"no status", 200, R"({"data":{}})", ReadingStatus::kError, 0,
       "malformed answer: status: required"},
      {"status not a string", 200, R"({"status":1})", ReadingStatus::kError, 0,
       "malformed answer: status: expected a string, found a number"},
      {"unknown status", 200, R"({"status":"maybe"})", ReadingStatus::kError, 0,
       R"(malformed answer: status: expected "success" or "error", found "maybe")"},
      {"no data", 200, R"({"status":"success"})", ReadingStatus::kError, 0,
       "malformed answer: data: required"},
      {"data not an object", 200, R"({"status":"success","data":[]})", ReadingStatus::kError, 0,
       "malformed answer: data: expected an object, found an array"},
      {"no resultType", 200, R"({"status":"success","data":{"result":[]}})", ReadingStatus::kError,
       0, "malformed answer: data.resultType: required"},
      {"no result", 200, R"({"status":"success","data":{"resultType":"vector"}})",
       ReadingStatus::kError, 0, "malformed answer: data.result: required"},
      {"unknown resultType", 200, Answer("histogram", "[]"), ReadingStatus::kError, 0,
       R"(malformed answer: unknown resultType "histogram")"},
      {"vector not an array", 200, Answer("vector", "{}"), ReadingStatus::kError, 0,
       "malformed answer: data.result: expected an array, found an object"},
      {"sample not an object", 200, Vector("1"), ReadingStatus::kError, 0,
       "malformed answer: data.result[0]: expected an object, found a number"},
      {"sample without value", 200, Vector(R"({"metric":{}})"), ReadingStatus::kError, 0,
       "malformed answer: data.result[0].value: required"},
      {"value of one element", 200, Vector(R"({"value":["1"]})"), ReadingStatus::kError, 0,
       R"(malformed answer: data.result[0].value: expected [time, "value"], found an array of 1)"},
      {"value as a number", 200, Vector(R"({"value":[1,1]})"), ReadingStatus::kError, 0,
       "malformed answer: data.result[0].value[1]: expected a string, found a number"},
      {"time as a string", 200, Vector(R"({"value":["1","1"]})"), ReadingStatus::kError, 0,
       "malformed answer: data.result[0].value[0]: expected a number, found a string"},
      {"scalar not an array", 200, Answer("scalar", R"("1")"), ReadingStatus::kError, 0,
       "malformed answer: data.result: expected an array, found a string"},
  };
}

class AnswerTest : public ::testing::TestWithParam<AnswerCase> {};

TEST_P(AnswerTest, ReadsAsSpecified) {
  const AnswerCase& c = GetParam();
  Reading reading = ParseInstantQuery(c.http_status, c.body);
  EXPECT_EQ(ReadingStatusName(reading.status), ReadingStatusName(c.status));
  EXPECT_EQ(reading.detail, c.detail);
  if (c.status == ReadingStatus::kValue) {
    EXPECT_DOUBLE_EQ(reading.value, c.value);
  }
}

INSTANTIATE_TEST_SUITE_P(Prometheus, AnswerTest, ::testing::ValuesIn(Answers()),
                         [](const ::testing::TestParamInfo<AnswerCase>& info) {
                           std::string name;
                           for (const char* p = info.param.name; *p; ++p) {
                             bool word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                         (*p >= '0' && *p <= '9');
                             name += word ? *p : '_';
                           }
                           return name;
                         });

TEST(AnswerDetailTest, NeverRepeatsMuchOfTheBody) {
  std::string huge(100000, 'y');
  Reading reading = ParseInstantQuery(
      500, R"({"status":"error","errorType":")" + huge + R"(","error":")" + huge + "\"}");
  EXPECT_EQ(reading.status, ReadingStatus::kError);
  EXPECT_LT(reading.detail.size(), 500u);
}

// ---------------------------------------------------------------------------
// The source

class PrometheusSourceTest : public ::testing::Test {
 protected:
  // The one call the client saw.
  net::HttpCall OnlyCall() {
    std::vector<net::HttpCall> calls = client_.calls();
    EXPECT_EQ(calls.size(), 1u);
    return calls.empty() ? net::HttpCall{} : calls[0];
  }

  net::FakeHttpClient client_;
};

TEST_F(PrometheusSourceTest, SendsAnInstantQueryAtTheGivenTime) {
  client_.Answer(200, Vector(Sample("0.02")));
  PrometheusSource source(client_, {.url = "http://127.0.0.1:9090"});

  Reading reading = source.Query(R"(sum(rate(errors{v="1.0"}[5m])) / 2)", 1700000000250);

  EXPECT_EQ(reading.status, ReadingStatus::kValue);
  EXPECT_DOUBLE_EQ(reading.value, 0.02);
  net::HttpCall call = OnlyCall();
  EXPECT_EQ(call.method, "GET");
  EXPECT_EQ(call.url,
            "http://127.0.0.1:9090/api/v1/query?query=sum%28rate%28errors%7Bv%3D%221.0%22%7D%5B5m"
            "%5D%29%29%20%2F%202&time=1700000000.250");
  EXPECT_TRUE(call.headers.empty());
  EXPECT_TRUE(call.body.empty());
  EXPECT_EQ(call.timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(call.connect_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(call.ca_file, "");
}

TEST_F(PrometheusSourceTest, EncodesEveryReservedAndNonAsciiByte) {
  PrometheusSource source(client_, {.url = "http://p:9090"});
  (void)source.Query("a+b&c=d#e?f%g h\n\xc3\xa9-._~Z9", 5);
  EXPECT_EQ(OnlyCall().url,
            "http://p:9090/api/v1/query?query=a%2Bb%26c%3Dd%23e%3Ff%25g%20h%0A%C3%A9-._~Z9"
            "&time=0.005");
}

TEST_F(PrometheusSourceTest, KeepsAPathPrefixAndDropsATrailingSlash) {
  PrometheusSource source(client_, {.url = "https://metrics.example.com/prometheus/"});
  (void)source.Query("up", 1000);
  EXPECT_EQ(OnlyCall().url,
            "https://metrics.example.com/prometheus/api/v1/query?query=up&time=1.000");
}

TEST_F(PrometheusSourceTest, WritesTimesBeforeTheEpochWithTheirSign) {
  PrometheusSource source(client_, {.url = "http://p"});
  (void)source.Query("up", -1500);
  EXPECT_EQ(OnlyCall().url, "http://p/api/v1/query?query=up&time=-1.500");
}

TEST_F(PrometheusSourceTest, SendsTheBearerTokenCaFileAndTimeout) {
  PrometheusSource source(client_, {.url = "https://p",
                                    .bearer_token = "s3cret",
                                    .ca_file = "/etc/interlock/ca.pem",
                                    .timeout = std::chrono::milliseconds(20000)});
  (void)source.Query("up", 0);
  net::HttpCall call = OnlyCall();
  EXPECT_EQ(call.headers, (net::HttpHeaders{{"Authorization", "Bearer s3cret"}}));
  EXPECT_EQ(call.ca_file, "/etc/interlock/ca.pem");
  EXPECT_EQ(call.timeout, std::chrono::milliseconds(20000));
  EXPECT_EQ(call.connect_timeout, std::chrono::milliseconds(10000));
}

TEST_F(PrometheusSourceTest, ATransportFailureIsAnErrorWithTheClientsMessage) {
  client_.Script(
      std::unexpected(Error::Unavailable("cannot reach http://p:9090: no connection within 5 s")));
  PrometheusSource source(client_, {.url = "http://p:9090", .bearer_token = "s3cret"});

  Reading reading = source.Query("secret_metric", 0);

  EXPECT_EQ(reading.status, ReadingStatus::kError);
  EXPECT_EQ(reading.detail, "cannot reach http://p:9090: no connection within 5 s");
}

TEST_F(PrometheusSourceTest, ATimeoutIsAnError) {
  client_.Script(
      std::unexpected(Error::Unavailable("no answer from http://p:9090: nothing within 5 s")));
  PrometheusSource source(client_, {.url = "http://p:9090"});
  Reading reading = source.Query("up", 0);
  EXPECT_EQ(reading.status, ReadingStatus::kError);
  EXPECT_EQ(reading.detail, "no answer from http://p:9090: nothing within 5 s");
}

TEST_F(PrometheusSourceTest, AnErrorAnswerIsAnError) {
  client_.Answer(422, R"({"status":"error","errorType":"execution","error":"out of memory"})");
  PrometheusSource source(client_, {.url = "http://p:9090"});
  Reading reading = source.Query("up", 0);
  EXPECT_EQ(reading.status, ReadingStatus::kError);
  EXPECT_EQ(reading.detail, "Prometheus answered HTTP 422 (execution): out of memory");
}

TEST_F(PrometheusSourceTest, AnEmptyResultIsNoData) {
  client_.Answer(200, Vector(""));
  PrometheusSource source(client_, {.url = "http://p:9090"});
  Reading reading = source.Query("up", 0);
  EXPECT_EQ(reading.status, ReadingStatus::kNoData);
  EXPECT_EQ(reading.detail, "the query returned no series");
}

}  // namespace
}  // namespace interlock::rollout
