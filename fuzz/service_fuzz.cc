// Fuzzes the HTTP API behind the HTTP parser: method, route, query and body
// chosen by the input, sent to a real Service (governance directory and audit
// log in a temporary directory) as three principals. The service must answer
// every request exactly once, with a status it documents and a JSON body, and
// never with a 500.
//
// Input: byte 0 picks the route, byte 1 the principal; the rest is
// "<query or path suffix>\n<body>".
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "app/tokens.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/random.h"
#include "governance/defaults.h"
#include "server/http.h"
#include "server/service.h"

namespace {

using interlock::server::HttpRequest;
using interlock::server::HttpResponse;

struct World {
  interlock::RealFileSystem fs;
  interlock::ManualClock clock{1'790'000'000'000};
  interlock::SeededRandom random{11};
  std::unique_ptr<interlock::server::Service> service;
  std::map<int, std::string> tokens;  // by principal selector
};

World& TheWorld() {
  static World* w = [] {
    auto* world = new World();
    char pattern[] = "/tmp/interlock-service-fuzz-XXXXXX";
    if (!mkdtemp(pattern)) __builtin_trap();
    std::string root = pattern;
    if (!interlock::governance::Scaffold(world->fs, root + "/governance", false)) __builtin_trap();
    interlock::server::ServiceOptions o;
    o.governance_dir = root + "/governance";
    o.data_dir = root + "/data";
    o.fs = &world->fs;
    o.clock = &world->clock;
    o.random = &world->random;
    o.master_key_env = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    auto service = interlock::server::Service::Open(o);
    if (!service) __builtin_trap();
    world->service = std::move(*service);
    const char* principals[] = {"alice", "carol", "deployment-agent-01"};
    for (int i = 0; i < 3; ++i) {
      auto t = world->service->tokens().Create(principals[i], std::nullopt, "fuzz");
      if (!t) __builtin_trap();
      world->tokens[i + 1] = t->token;
    }
    return world;
  }();
  return *w;
}

struct Route {
  const char* method;
  const char* path;
};
constexpr Route kRoutes[] = {
    {"POST", "/v1/decisions"},
    {"POST", "/api/emergency-stop"},
    {"GET", "/api/emergency-stop"},
    {"GET", "/v1/audit/entries"},
    {"GET", "/v1/audit/proof"},
    {"GET", "/v1/audit/consistency"},
    {"GET", "/v1/approvals"},
    {"POST", "/v1/approvals/"},
    {"GET", "/v1/approvals/"},
    {"GET", "/metrics"},
    {"DELETE", "/v1/decisions"},
    {"GET", "/healthz"},
    {"POST", "/v1/integrations/kubernetes/admission"},
    {"POST", "/v1/integrations/flagger/"},
    {"GET", "/v1/freeze-windows"},
    {"POST", "/v1/decisions/simulate"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  World& w = TheWorld();
  const Route& route = kRoutes[data[0] % std::size(kRoutes)];
  int principal = data[1] % 4;
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  size_t newline = rest.find('\n');
  std::string_view head = rest.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? "" : rest.substr(newline + 1);

  HttpRequest r;
  r.method = route.method;
  r.path = route.path;
  if (r.path.back() == '/') {
    r.path += head;  // an approval id and action, or a Flagger hook
  } else {
    // name=value&name=value, as the HTTP layer hands them over (decoded)
    for (size_t start = 0; start <= head.size() && !head.empty();) {
      size_t amp = head.find('&', start);
      std::string_view pair = head.substr(start, amp == std::string_view::npos ? amp : amp - start);
      size_t eq = pair.find('=');
      r.query.emplace_back(std::string(pair.substr(0, eq)),
                           eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      start = amp + 1;
    }
  }
  r.target = r.path;
  r.body = std::string(body);
  if (principal > 0) r.headers.emplace_back("authorization", "Bearer " + w.tokens[principal]);

  std::mutex m;
  std::condition_variable cv;
  int answers = 0;
  HttpResponse answer;
  w.service->Handle(std::move(r), [&](HttpResponse response) {
    std::lock_guard lock(m);
    ++answers;
    answer = std::move(response);
    cv.notify_all();
  });
  std::unique_lock lock(m);
  if (!cv.wait_for(lock, std::chrono::seconds(30), [&] { return answers > 0; })) __builtin_trap();
  if (answer.status < 200 || answer.status > 599 || answer.status == 500) __builtin_trap();
  if (answer.content_type == "application/json" &&
      nlohmann::json::parse(answer.body, nullptr, false).is_discarded()) {
    __builtin_trap();
  }
  // Keep the time moving, so that approvals time out now and then.
  w.clock.Advance(60'000);
  w.service->Tick();
  return 0;
}
