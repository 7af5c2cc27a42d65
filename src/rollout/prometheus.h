// The Prometheus HTTP API as a metric source: the reading of one instant
// query's answer, and the source that sends the query (its queries are
// templates of canary.yml, filled in by governance/query_template.h).
//
// ---------------------------------------------------------------------------
// Reading an instant query's answer (ParseInstantQuery)
//
// The answer of GET /api/v1/query is one JSON object (read by core/json.h):
//   {"status": "success", "data": {"resultType": T, "result": R}, ...}
//   {"status": "error", "errorType": E, "error": TEXT, ...}
// Members not named here ("warnings", "infos", a sample's "metric") are
// ignored. A sample is {"value": [TIME, "NUMBER"]}; a scalar result is
// [TIME, "NUMBER"]. NUMBER is a decimal float, or "NaN", "+Inf", "-Inf".
//
//   Answer                                     Reading
//   T "vector", one sample, finite             Value
//   T "scalar", finite                         Value
//   T "vector", no sample                      NoData "the query returned no series"
//   NUMBER NaN, +Inf or -Inf                   NoData "the query returned NaN" (+Inf, -Inf)
//   T "vector", N > 1 samples                  Error "the query must aggregate to one
//                                                series but returned N"
//   T "matrix"                                 Error "the query returned a range vector;
//                                                it must return an instant vector or a scalar"
//   T "string"                                 Error "the query returned a string; it must
//                                                return an instant vector or a scalar"
//   a sample with "histogram", no "value"      Error "the query returned a native histogram;
//                                                it must return a number"
//   NUMBER not a number                        Error "the sample value "X" is not a number"
//   status "error"                             Error "Prometheus answered with an error
//                                                (E): TEXT"
//   HTTP status S other than 200               Error "Prometheus answered HTTP S (E): TEXT",
//                                                or "Prometheus answered HTTP S" when the
//                                                body is not a Prometheus error
//   not JSON                                   Error "malformed answer: " + core/json.h's
//                                                message, subject "body"
//   JSON of another shape                      Error "malformed answer: PATH: required",
//                                                "malformed answer: PATH: expected WHAT,
//                                                found T2", or
//                                                "malformed answer: unknown resultType "X""
//
// " (E)" is left out when the body has no "errorType", ": TEXT" when it has
// no "error". Text taken from the answer (E, TEXT, X) is cut to 200 bytes (with "...")
// and its control characters become spaces, so a detail never echoes more
// than a few hundred bytes of the body.
// ---------------------------------------------------------------------------
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http_client.h"
#include "rollout/reading.h"

namespace interlock::rollout {

// The Reading for an answer of GET /api/v1/query with HTTP status
// `http_status` and body `body` (see "Reading an instant query's answer").
// Never fails: every failure is Reading::Error.
Reading ParseInstantQuery(int http_status, std::string_view body);

struct PrometheusConfig {
  // The base URL, "http(s)://host[:port]", with an optional path prefix
  // ("https://metrics.example.com/prometheus"); a trailing "/" is ignored.
  // Required.
  std::string url;
  // Sent as "Authorization: Bearer TOKEN" when not empty. Default: empty,
  // no Authorization header.
  std::string bearer_token;
  // A PEM file of the certificate authorities to trust for https. Default:
  // empty, the system's trust store.
  std::string ca_file;
  // The whole exchange of one query. Must be positive. Default: 5 s.
  std::chrono::milliseconds timeout{5000};
};

// Instant queries against one Prometheus server.
//
// Thread safety: Query may be called from any number of threads at once
// (HttpClient::Send may).
class PrometheusSource {
 public:
  // `client` must outlive the source.
  PrometheusSource(net::HttpClient& client, PrometheusConfig config);

  // Evaluates `promql` at `at_ms` (Unix time in milliseconds): sends
  //   GET URL/api/v1/query?query=PROMQL&time=SECONDS
  // with PROMQL percent-encoded (every byte but A-Z a-z 0-9 - . _ ~) and
  // SECONDS the time in seconds with three decimals ("1700000000.250"), and
  // reads the answer with ParseInstantQuery. Never fails: a failure is
  // Reading::Error. When the call itself fails (Prometheus unreachable, the
  // timeout passing, a URL the client refuses), the detail is the client's
  // message, which names only the URL's origin; no detail holds the token
  // or the query.
  Reading Query(std::string_view promql, int64_t at_ms) const;

 private:
  net::HttpClient& client_;
  PrometheusConfig config_;
};

}  // namespace interlock::rollout
