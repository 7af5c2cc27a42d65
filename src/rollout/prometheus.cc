#include "rollout/prometheus.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <iterator>
#include <optional>
#include <system_error>
#include <utility>

#include "core/json.h"
#include "core/text.h"
#include "core/url.h"

namespace interlock::rollout {
namespace {

// ---------------------------------------------------------------------------
// Answers

// The largest answer read. One aggregated sample is some hundred bytes;
// this leaves room to count the series of a query that forgot to aggregate.
constexpr size_t kAnswerLimit = size_t{8} << 20;
// The most bytes of any one text from the answer that a detail repeats.
constexpr size_t kShownBytes = 200;

// `text` (valid UTF-8) cut to kShownBytes on a character boundary, with
// "..." when cut, and control characters as spaces.
std::string Shown(std::string_view text) {
  bool cut = text.size() > kShownBytes;
  if (cut) {
    size_t end = kShownBytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
  }
  std::string out(text);
  for (char& c : out) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = ' ';
  }
  if (cut) out += "...";
  return out;
}

Reading Malformed(std::string_view path, std::string_view problem) {
  return Reading::Error(fmt::format("malformed answer: {}: {}", path, problem));
}

Reading WrongType(std::string_view path, std::string_view expected, json::Value found) {
  return Malformed(path,
                   fmt::format("expected {}, found {}", expected, json::TypeName(found.type())));
}

// " (E): TEXT" for a body that holds a Prometheus error, each part only
// when given; nullopt when the body has no "error" string.
std::optional<std::string> ErrorSuffix(json::Value root) {
  auto text = root.Find("error");
  if (!text || !text->is_string()) return std::nullopt;
  std::string out;
  auto type = root.Find("errorType");
  if (type && type->is_string()) out += fmt::format(" ({})", Shown(type->AsString()));
  out += fmt::format(": {}", Shown(text->AsString()));
  return out;
}

// The reading of one [time, "number"] pair at `path`.
Reading SampleReading(std::string_view path, json::Value pair) {
  if (!pair.is_array()) return WrongType(path, "an array", pair);
  if (pair.size() != 2) {
    return Malformed(path,
                     fmt::format("expected [time, \"value\"], found an array of {}", pair.size()));
  }
  auto element = pair.elements().begin();
  json::Value time = *element;
  json::Value number = *++element;
  if (!time.is_number()) return WrongType(fmt::format("{}[0]", path), "a number", time);
  if (!number.is_string()) return WrongType(fmt::format("{}[1]", path), "a string", number);
  std::string_view text = number.AsString();
  std::string_view digits = text;
  if (digits.starts_with('+') && !digits.substr(1).starts_with('-')) digits.remove_prefix(1);
  double value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return Reading::Error(fmt::format("the sample value \"{}\" is not a number", Shown(text)));
  }
  if (std::isnan(value)) return Reading::NoData("the query returned NaN");
  if (std::isinf(value))
    return Reading::NoData(value > 0 ? "the query returned +Inf" : "the query returned -Inf");
  return Reading::Value(value);
}

// Unix milliseconds as seconds with three decimals: "1700000000.250".
std::string UnixSeconds(int64_t ms) {
  uint64_t magnitude = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  return fmt::format("{}{}.{:03}", ms < 0 ? "-" : "", magnitude / 1000, magnitude % 1000);
}

}  // namespace

Reading ParseInstantQuery(int http_status, std::string_view body) {
  auto document = json::Parse(body, {.subject = "body", .max_bytes = kAnswerLimit});
  if (http_status != 200) {
    std::optional<std::string> suffix;
    if (document) suffix = ErrorSuffix(document->root());
    return Reading::Error(
        fmt::format("Prometheus answered HTTP {}{}", http_status, suffix.value_or("")));
  }
  if (!document) return Reading::Error("malformed answer: " + document.error().message());
  json::Value root = document->root();

  auto status = root.Find("status");
  if (!status) return Malformed("status", "required");
  if (!status->is_string()) return WrongType("status", "a string", *status);
  if (status->AsString() == "error") {
    return Reading::Error(
        fmt::format("Prometheus answered with an error{}", ErrorSuffix(root).value_or("")));
  }
  if (status->AsString() != "success") {
    return Malformed("status", fmt::format("expected \"success\" or \"error\", found \"{}\"",
                                           Shown(status->AsString())));
  }

  auto data = root.Find("data");
  if (!data) return Malformed("data", "required");
  if (!data->is_object()) return WrongType("data", "an object", *data);
  auto type = data->Find("resultType");
  if (!type) return Malformed("data.resultType", "required");
  if (!type->is_string()) return WrongType("data.resultType", "a string", *type);
  auto result = data->Find("result");
  if (!result) return Malformed("data.result", "required");

  std::string_view result_type = type->AsString();
  if (result_type == "vector") {
    if (!result->is_array()) return WrongType("data.result", "an array", *result);
    if (result->size() == 0) return Reading::NoData("the query returned no series");
    if (result->size() > 1) {
      return Reading::Error(
          fmt::format("the query must aggregate to one series but returned {}", result->size()));
    }
    json::Value sample = *result->elements().begin();
    if (!sample.is_object()) return WrongType("data.result[0]", "an object", sample);
    auto value = sample.Find("value");
    if (!value) {
      if (sample.Find("histogram")) {
        return Reading::Error("the query returned a native histogram; it must return a number");
      }
      return Malformed("data.result[0].value", "required");
    }
    return SampleReading("data.result[0].value", *value);
  }
  if (result_type == "scalar") return SampleReading("data.result", *result);
  if (result_type == "matrix") {
    return Reading::Error(
        "the query returned a range vector; it must return an instant vector or a scalar");
  }
  if (result_type == "string") {
    return Reading::Error(
        "the query returned a string; it must return an instant vector or a scalar");
  }
  return Reading::Error(
      fmt::format("malformed answer: unknown resultType \"{}\"", Shown(result_type)));
}

PrometheusSource::PrometheusSource(net::HttpClient& client, PrometheusConfig config)
    : client_(client), config_(std::move(config)) {}

Reading PrometheusSource::Query(std::string_view promql, int64_t at_ms) const {
  std::string_view base = config_.url;
  while (base.ends_with('/')) base.remove_suffix(1);
  net::HttpCall call;
  call.url = fmt::format("{}/api/v1/query?query={}&time={}", base, PercentEncode(promql),
                         UnixSeconds(at_ms));
  if (!config_.bearer_token.empty()) {
    call.headers.emplace_back("Authorization", "Bearer " + config_.bearer_token);
  }
  call.ca_file = config_.ca_file;
  call.timeout = config_.timeout;
  call.connect_timeout = std::min(call.connect_timeout, config_.timeout);
  call.body_limit = kAnswerLimit;
  auto reply = client_.Send(call);
  if (!reply) return Reading::Unreachable(reply.error().message());
  return ParseInstantQuery(reply->status, reply->body);
}

}  // namespace interlock::rollout
