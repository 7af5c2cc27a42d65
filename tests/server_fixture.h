// The fixture of the server's integration tests: the real service on the
// real HTTP server on a loopback port, spoken to over TCP; time is a
// ManualClock. Shared by tests/server_*_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/tokens.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/random.h"
#include "governance/defaults.h"
#include "http_client.h"
#include "server/http.h"
#include "server/service.h"
#include "test_util.h"

namespace interlock::server {
namespace {

using json = nlohmann::json;
using testing::HttpAnswer;
using testing::HttpClient;
using testing::TempDir;

constexpr const char* kMasterKey =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

std::string Request(const std::string& actor, const std::string& type, const std::string& env,
                    const std::string& from, const std::string& to) {
  return json{{"actor", {{"type", type}, {"id", actor}}},
              {"change",
               {{"type", "code"},
                {"environment", env},
                {"service", "api"},
                {"version", to},
                {"previous_version", from}}},
              {"checks", {{"tests_passed", true}, {"security_scan", {{"passed", true}}}}},
              {"ai", {{"confidence", 0.9}, {"rationale", "tests and canary are green"}}}}
      .dump();
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(governance::Scaffold(fs_, governance_, false).has_value());
    Start();
  }

  // The service's options: this test's directories, clock and randomness.
  ServiceOptions Options() {
    ServiceOptions o;
    o.governance_dir = governance_;
    o.data_dir = data_;
    o.fs = &fs_;
    o.clock = &clock_;
    o.random = &random_;
    o.master_key_env = kMasterKey;
    return o;
  }

  // `open_audit_store`: as ServiceOptions says (empty: the SQLite store).
  void Start(decltype(ServiceOptions::open_audit_store) open_audit_store = {}) {
    ServiceOptions o = Options();
    o.open_audit_store = std::move(open_audit_store);
    o.env = [this](const std::string& name) {
      auto it = env_.find(name);
      return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    auto service = Service::Open(o);
    ASSERT_TRUE(service.has_value()) << service.error().message();
    service_ = std::move(*service);
    ServerOptions http;
    http.listen = "127.0.0.1:0";
    http.threads = 2;
    Service* s = service_.get();
    auto server = HttpServer::Start(
        http, [s](HttpRequest r, Respond respond) { s->Handle(std::move(r), std::move(respond)); });
    ASSERT_TRUE(server.has_value()) << server.error().message();
    server_ = std::move(*server);
    port_ = server_->port();
  }

  void Stop() {
    server_.reset();
    service_.reset();
  }

  std::string Token(const std::string& principal) {
    auto it = tokens_.find(principal);
    if (it != tokens_.end()) return it->second;
    auto created = service_->tokens().Create(principal, 90 * 86'400'000LL, "test");
    EXPECT_TRUE(created.has_value()) << created.error().message();
    return tokens_[principal] = created ? created->token : "";
  }

  HttpAnswer Call(const std::string& method, const std::string& target,
                  const std::string& principal, const std::string& body = "") {
    HttpClient client(port_);
    return client.Send(method, target, principal.empty() ? "" : Token(principal), body);
  }

  json Body(const HttpAnswer& a) { return json::parse(a.body, nullptr, false); }

  HttpAnswer Decide(const std::string& principal, const std::string& body) {
    return Call("POST", "/v1/decisions", principal, body);
  }

  HttpAnswer StopAction(const std::string& principal, const json& body) {
    return Call("POST", "/api/emergency-stop", principal, body.dump());
  }

  // A rollout of an allowed patch to api in staging, opened by alice; its
  // id, or "" if it could not be opened.
  std::string OpenStagingRollout() {
    HttpAnswer d = Decide("alice", Request("alice", "human", "staging", "1.0.0", "1.0.1"));
    json opened = Body(Call("POST", "/v1/rollouts", "alice",
                            json{{"audit_index", Body(d)["audit_index"]}}.dump()));
    return opened.value("id", "");
  }
  // Fails rollout `id`'s health checks (a push) and runs its next
  // evaluation, 30s later: a blue-green rollout is then rolled back.
  void FailHealthChecks(const std::string& id) {
    ASSERT_EQ(Call("POST", "/v1/rollouts/" + id + "/metrics", "alice",
                   R"({"metrics": {"consecutive_failures": 4}})")
                  .status,
              200);
    clock_.Advance(30'000);
    service_->Tick();
    service_->Drain();
  }

  static json Deactivation() {
    return {{"action", "deactivate"},
            {"post_incident_review", "PIR-7"},
            {"root_cause", "a bad flag"},
            {"prevention_measures", "flag review"}};
  }

  TempDir dir_;
  std::string governance_ = dir_.path() + "/governance";
  std::string data_ = dir_.path() + "/data";
  RealFileSystem fs_;
  ManualClock clock_{1'790'000'000'000};
  SeededRandom random_{7};
  std::unique_ptr<Service> service_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, std::string> env_;
};

}  // namespace
}  // namespace interlock::server
