// `interlock stop ...` and `interlock approvals ...` as a user runs them:
// cli::Run against the real service on the real HTTP server on a loopback
// port, the server and token given through the environment.
#include "cli/cli.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "app/tokens.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/random.h"
#include "governance/defaults.h"
#include "http_receiver.h"
#include "net/http_client.h"
#include "server/http.h"
#include "server/service.h"
#include "test_util.h"

namespace interlock::cli {
namespace {

using json = nlohmann::json;
using testing::ClosedPort;
using testing::TempDir;

constexpr const char* kMasterKey =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
  json Json() const { return json::parse(out, nullptr, false); }
};

// A fresh P-256 key and a self-signed certificate naming `names` (an
// X509v3 subjectAltName value such as "DNS:localhost,IP:127.0.0.1"), written
// as PEM to dir/<prefix>.crt and dir/<prefix>.key; returns their paths.
std::pair<std::string, std::string> MakeCertificate(const TempDir& dir, const std::string& prefix,
                                                    const std::string& names) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  EXPECT_TRUE(key && cert);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("interlock test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, names.c_str()},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    EXPECT_NE(ext, nullptr);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  EXPECT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);

  auto pem = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    EXPECT_EQ(write(bio.get()), 1);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(size));
  };
  dir.Write(prefix + ".crt", pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); }));
  dir.Write(prefix + ".key", pem([&](BIO* b) {
              return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
            }));
  return {dir.path() + "/" + prefix + ".crt", dir.path() + "/" + prefix + ".key"};
}

class ClientCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(governance::Scaffold(fs_, governance_, false).has_value());
    server::ServiceOptions o;
    o.governance_dir = governance_;
    o.data_dir = data_;
    o.fs = &fs_;
    o.clock = &clock_;
    o.random = &random_;
    o.master_key_env = kMasterKey;
    auto service = server::Service::Open(o);
    ASSERT_TRUE(service.has_value()) << service.error().message();
    service_ = std::move(*service);
  }

  // Serves on a loopback port; over TLS when given a certificate and key.
  void Serve(const std::string& tls_cert = "", const std::string& tls_key = "") {
    server::ServerOptions http;
    http.listen = "127.0.0.1:0";
    http.threads = 2;
    http.tls_cert_file = tls_cert;
    http.tls_key_file = tls_key;
    server::Service* s = service_.get();
    auto started =
        server::HttpServer::Start(http, [s](server::HttpRequest r, server::Respond respond) {
          s->Handle(std::move(r), std::move(respond));
        });
    ASSERT_TRUE(started.has_value()) << started.error().message();
    server_ = std::move(*started);
    url_ = fmt::format("{}://127.0.0.1:{}", tls_cert.empty() ? "http" : "https", server_->port());
  }

  std::string Token(const std::string& principal) {
    auto it = tokens_.find(principal);
    if (it != tokens_.end()) return it->second;
    auto created = service_->tokens().Create(principal, 90 * 86'400'000LL, "test");
    EXPECT_TRUE(created.has_value()) << created.error().message();
    return tokens_[principal] = created ? created->token : "";
  }

  // Runs `interlock args...` with exactly the environment `env`.
  static Ran RunWith(const std::map<std::string, std::string>& env,
                     const std::vector<std::string>& args) {
    std::vector<std::string> argv{"interlock"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::istringstream in;
    std::ostringstream out, err;
    Ran ran;
    ran.code = cli::Run(argv, in, out, err, [&env](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    });
    ran.out = out.str();
    ran.err = err.str();
    return ran;
  }

  // Runs `interlock args...` as `principal` against the test server.
  Ran As(const std::string& principal, const std::vector<std::string>& args) {
    return RunWith({{"INTERLOCK_SERVER", url_}, {"INTERLOCK_TOKEN", Token(principal)}}, args);
  }

  // alice's production minor change, which two approvers must approve;
  // returns its approval id.
  std::string RaiseApproval() {
    json request = {{"actor", {{"type", "human"}, {"id", "alice"}}},
                    {"change",
                     {{"type", "code"},
                      {"environment", "production"},
                      {"service", "api"},
                      {"version", "1.3.0"},
                      {"previous_version", "1.2.0"}}},
                    {"checks", {{"tests_passed", true}, {"security_scan", {{"passed", true}}}}}};
    net::HttpCall call{.method = "POST",
                       .url = url_ + "/v1/decisions",
                       .headers = {{"Authorization", "Bearer " + Token("alice")},
                                   {"Content-Type", "application/json"}},
                       .body = request.dump()};
    auto answer = net::NewCurlHttpClient()->Send(call);
    EXPECT_TRUE(answer.has_value()) << answer.error().message();
    if (!answer) return "";
    EXPECT_EQ(answer->status, 200) << answer->body;
    json decision = json::parse(answer->body, nullptr, false);
    EXPECT_EQ(decision["decision"], "require_approval") << answer->body;
    return decision.value("approval_id", "");
  }

  // The command succeeded and printed the server's answer: one JSON object
  // on one line, and nothing on stderr.
  static void ExpectOneLine(const Ran& ran) {
    EXPECT_EQ(ran.code, 0) << ran.err;
    EXPECT_EQ(ran.err, "");
    EXPECT_EQ(std::count(ran.out.begin(), ran.out.end(), '\n'), 1) << ran.out;
    EXPECT_TRUE(ran.out.ends_with("}\n")) << ran.out;
    EXPECT_TRUE(ran.Json().is_object()) << ran.out;
  }

  TempDir dir_;
  std::string governance_ = dir_.path() + "/governance";
  std::string data_ = dir_.path() + "/data";
  RealFileSystem fs_;
  ManualClock clock_{1'790'000'000'000};
  SeededRandom random_{7};
  std::unique_ptr<server::Service> service_;
  std::unique_ptr<server::HttpServer> server_;
  std::string url_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(ClientCliTest, StopIsActivatedAndEndedByTwoPeople) {
  Serve();
  Ran on = As("carol", {"stop", "activate", "--reason", "payments outage"});
  ExpectOneLine(on);
  EXPECT_TRUE(on.Json()["active"].get<bool>());
  EXPECT_EQ(on.Json()["activated_by"], "carol");

  Ran status = As("alice", {"stop", "status"});
  ExpectOneLine(status);
  EXPECT_TRUE(status.Json()["active"].get<bool>());
  EXPECT_EQ(status.Json()["reason"], "payments outage");

  const std::vector<std::string> deactivate = {"stop",         "deactivate",   "--review",
                                               "PIR-7",        "--root-cause", "a bad flag",
                                               "--prevention", "flag review"};
  Ran first = As("dave", deactivate);
  ExpectOneLine(first);
  EXPECT_TRUE(first.Json()["active"].get<bool>());
  EXPECT_EQ(first.Json()["pending_deactivation"]["pending_roles"], json({"security-lead"}));
  Ran second = As("erin", deactivate);
  ExpectOneLine(second);
  EXPECT_FALSE(second.Json()["active"].get<bool>());
  EXPECT_TRUE(second.Json()["ai_agents_disabled"].get<bool>());

  Ran ai = As("dave", {"stop", "reenable-ai", "--reason", "flag fixed"});
  ExpectOneLine(ai);
  EXPECT_FALSE(ai.Json()["ai_agents_disabled"].get<bool>());
  EXPECT_FALSE(As("alice", {"stop", "status"}).Json()["active"].get<bool>());
}

TEST_F(ClientCliTest, AScopedStopIsNamedByItsFlag) {
  Serve();
  Ran on = As("carol", {"stop", "activate", "--reason", "db", "--environment", "production"});
  ExpectOneLine(on);
  EXPECT_EQ(on.Json()["scope"], json({{"environment", "production"}}));
  Ran status = As("alice", {"stop", "status"});
  EXPECT_FALSE(status.Json()["active"].get<bool>());
  EXPECT_TRUE(status.Json()["scoped"][0]["active"].get<bool>());
  Ran two = As("carol",
               {"stop", "activate", "--reason", "x", "--environment", "dev", "--service", "api"});
  EXPECT_EQ(two.code, kExitInvalid);
  EXPECT_NE(two.err.find("scope: name exactly one"), std::string::npos) << two.err;
}

TEST_F(ClientCliTest, AForbiddenActionExitsTwoWithTheServersMessage) {
  Serve();
  Ran ran = As("alice", {"stop", "activate", "--reason", "x"});
  EXPECT_EQ(ran.code, kExitInvalid);
  EXPECT_EQ(ran.out, "");
  EXPECT_EQ(ran.err,
            "error: alice holds none of the roles that may activate the emergency stop "
            "(on-call-engineer, engineering-lead, security-lead, cto, ciso)\n");
  EXPECT_FALSE(As("alice", {"stop", "status"}).Json()["active"].get<bool>());
}

TEST_F(ClientCliTest, ApprovalIsListedShownAndApprovedByTwo) {
  Serve();
  std::string id = RaiseApproval();
  ASSERT_FALSE(id.empty());

  Ran listed = As("bob", {"approvals", "list", "--state", "pending"});
  ExpectOneLine(listed);
  ASSERT_EQ(listed.Json()["approvals"].size(), 1u);
  EXPECT_EQ(listed.Json()["approvals"][0]["id"], id);
  EXPECT_TRUE(As("bob", {"approvals", "list", "--state", "approved"}).Json()["approvals"].empty());
  Ran bad_state = As("bob", {"approvals", "list", "--state", "done"});
  EXPECT_EQ(bad_state.code, kExitInvalid);
  EXPECT_EQ(bad_state.err,
            "error: state: expected one of pending, approved, rejected, changes_requested, "
            "escalated, blocked, got \"done\"\n");

  Ran shown = As("bob", {"approvals", "show", id});
  ExpectOneLine(shown);
  EXPECT_EQ(shown.Json()["state"], "pending");
  EXPECT_EQ(shown.Json()["requester"]["id"], "alice");

  Ran self = As("alice", {"approvals", "approve", id, "--rationale", "mine"});
  EXPECT_EQ(self.code, kExitInvalid);
  EXPECT_EQ(self.out, "");
  EXPECT_EQ(self.err, "error: alice requested this change and cannot approve it\n");

  Ran first = As("bob", {"approvals", "approve", id, "--rationale", "looks right"});
  ExpectOneLine(first);
  EXPECT_EQ(first.Json()["state"], "pending");
  Ran second = As("carol", {"approvals", "approve", id, "--rationale", "canary is green"});
  ExpectOneLine(second);
  EXPECT_EQ(second.Json()["state"], "approved");
  EXPECT_EQ(second.Json()["approvals"].size(), 2u);

  Ran missing = As("bob", {"approvals", "show", "apr_none"});
  EXPECT_EQ(missing.code, kExitInvalid);
  EXPECT_EQ(missing.err, "error: no approval apr_none\n");
}

TEST_F(ClientCliTest, RolloutsAreListedShownSteeredAndReviewed) {
  Serve();
  std::string approval = RaiseApproval();
  ExpectOneLine(As("bob", {"approvals", "approve", approval, "--rationale", "ok"}));
  ExpectOneLine(As("carol", {"approvals", "approve", approval, "--rationale", "ok"}));
  auto post = [&](const std::string& target, const json& body) {
    net::HttpCall call{.method = "POST",
                       .url = url_ + target,
                       .headers = {{"Authorization", "Bearer " + Token("alice")},
                                   {"Content-Type", "application/json"}},
                       .body = body.dump()};
    auto answer = net::NewCurlHttpClient()->Send(call);
    EXPECT_TRUE(answer.has_value());
    return answer ? json::parse(answer->body, nullptr, false) : json();
  };
  json opened = post("/v1/rollouts", {{"approval_id", approval}});
  std::string id = opened.value("id", "");
  ASSERT_FALSE(id.empty()) << opened.dump();

  Ran listed = As("bob", {"rollout", "list", "--state", "progressing"});
  ExpectOneLine(listed);
  ASSERT_EQ(listed.Json()["rollouts"].size(), 1u);
  EXPECT_EQ(listed.Json()["rollouts"][0]["id"], id);
  Ran shown = As("bob", {"rollout", "show", id});
  ExpectOneLine(shown);
  EXPECT_EQ(shown.Json()["change"]["approval_id"], approval);

  Ran denied = As("alice", {"rollout", "pause", id, "--rationale", "mine"});
  EXPECT_EQ(denied.code, kExitInvalid);
  EXPECT_EQ(denied.err,
            "error: alice may not pause a rollout: it takes a human holding one of: "
            "on-call-engineer, engineering-lead, security-lead\n");
  ExpectOneLine(As("carol", {"rollout", "pause", id, "--rationale", "a dashboard is red"}));
  Ran resumed = As("carol", {"rollout", "resume", id, "--rationale", "false alarm"});
  ExpectOneLine(resumed);
  EXPECT_EQ(resumed.Json()["state"], "progressing");

  // Health checks fail: the next evaluation rolls it back and opens an incident.
  post("/v1/rollouts/" + id + "/metrics", {{"metrics", {{"consecutive_failures", 9}}}});
  clock_.Advance(60'000);
  service_->Tick();
  service_->Drain();
  EXPECT_EQ(As("bob", {"rollout", "show", id}).Json()["state"], "rolled_back");
  Ran incidents = As("bob", {"rollout", "incidents"});
  ExpectOneLine(incidents);
  ASSERT_EQ(incidents.Json()["incidents"].size(), 1u);
  std::string incident = incidents.Json()["incidents"][0]["id"];
  Ran reviewed = As("dave", {"rollout", "review", incident, "--root-cause", "a slow query",
                             "--actions", "index added"});
  ExpectOneLine(reviewed);
  EXPECT_EQ(reviewed.Json()["state"], "reviewed");
  EXPECT_EQ(reviewed.Json()["reviewed_by"], "dave");
}

TEST_F(ClientCliTest, ChangesAreRequestedResubmittedDelegatedAndEscalated) {
  Serve();
  std::string id = RaiseApproval();
  Ran changes = As("carol", {"approvals", "request-changes", id, "--rationale", "add a rollback"});
  ExpectOneLine(changes);
  EXPECT_EQ(changes.Json()["state"], "changes_requested");
  Ran again = As("alice", {"approvals", "resubmit", id, "--rationale", "rollback added"});
  ExpectOneLine(again);
  EXPECT_EQ(again.Json()["state"], "pending");
  EXPECT_EQ(again.Json()["revision"], 2);
  Ran delegated =
      As("bob", {"approvals", "delegate", id, "--to", "peggy", "--rationale", "on leave"});
  ExpectOneLine(delegated);
  Ran escalated = As("carol", {"approvals", "escalate", id, "--rationale", "needs a lead"});
  ExpectOneLine(escalated);
  EXPECT_EQ(escalated.Json()["state"], "escalated");
  Ran rejected = As("peggy", {"approvals", "reject", id, "--rationale", "too risky"});
  ExpectOneLine(rejected);
  EXPECT_EQ(rejected.Json()["state"], "rejected");
}

TEST_F(ClientCliTest, AnIdIsSentPercentEncoded) {
  Serve();
  Ran ran = As("bob", {"approvals", "show", "apr x?state=pending"});
  EXPECT_EQ(ran.code, kExitInvalid);
  EXPECT_EQ(ran.err, "error: no approval apr x?state=pending\n");
}

TEST_F(ClientCliTest, AMissingTokenIsRefusedBeforeAnythingIsSent) {
  Serve();
  Ran ran = RunWith({{"INTERLOCK_SERVER", url_}}, {"stop", "status"});
  EXPECT_EQ(ran.code, kExitInvalid);
  EXPECT_EQ(ran.out, "");
  EXPECT_EQ(ran.err,
            "error: a token is required: pass --token or set INTERLOCK_TOKEN (interlock token "
            "create --principal ID makes one)\n");
  EXPECT_EQ(server_->stats().connections_accepted, 0u);
}

TEST_F(ClientCliTest, ATokenTheServerRefusesExitsTwo) {
  Serve();
  Ran ran = RunWith({{"INTERLOCK_SERVER", url_},
                     {"INTERLOCK_TOKEN", "itk_0000000000000000_" + std::string(64, '0')}},
                    {"stop", "status"});
  EXPECT_EQ(ran.code, kExitInvalid);
  EXPECT_EQ(ran.err, "error: the bearer token is not valid\n");
}

TEST_F(ClientCliTest, FlagsWinOverTheEnvironment) {
  Serve();
  Ran ran = RunWith({{"INTERLOCK_SERVER", fmt::format("http://127.0.0.1:{}", ClosedPort())},
                     {"INTERLOCK_TOKEN", "itk_bogus"}},
                    {"approvals", "list", "--server", url_, "--token", Token("bob")});
  ExpectOneLine(ran);
  EXPECT_TRUE(ran.Json()["approvals"].empty());
}

TEST_F(ClientCliTest, AnUnreachableServerExitsOneNamingIt) {
  std::string url = fmt::format("http://127.0.0.1:{}", ClosedPort());
  Ran ran =
      RunWith({{"INTERLOCK_SERVER", url}, {"INTERLOCK_TOKEN", "itk_x_y"}}, {"stop", "status"});
  EXPECT_EQ(ran.code, kExitFailure);
  EXPECT_EQ(ran.out, "");
  EXPECT_EQ(ran.err, fmt::format("error: cannot reach {}: Connection refused\n", url));
}

TEST_F(ClientCliTest, ABadServerUrlExitsTwo) {
  for (auto [url, why] :
       {std::pair{"127.0.0.1:8080", "expected http://host[:port] or https://..."},
        std::pair{"ftp://127.0.0.1", "the scheme must be http or https"},
        std::pair{"http://[::1:8080", "an IPv6 address needs its closing ]"},
        std::pair{"http://::1:8080", "an IPv6 address goes in brackets: [::1]:8080"},
        std::pair{"http://127.0.0.1:99999", "port \"99999\": expected 1 to 65535"},
        std::pair{"http://alice:pw@127.0.0.1",
                  "credentials do not go in the URL; the token is given apart"},
        std::pair{"http://127.0.0.1/x?y", "a query or fragment is not allowed"}}) {
    SCOPED_TRACE(url);
    Ran ran = RunWith({{"INTERLOCK_TOKEN", "itk_x_y"}}, {"stop", "status", "--server", url});
    EXPECT_EQ(ran.code, kExitInvalid);
    EXPECT_EQ(ran.err, fmt::format("error: server URL \"{}\": {}\n", url, why));
  }
}

TEST_F(ClientCliTest, HttpsVerifiesTheServersCertificateAndName) {
  auto [cert, key] = MakeCertificate(dir_, "server", "DNS:localhost,IP:127.0.0.1");
  Serve(cert, key);
  std::string token = Token("alice");
  for (const std::string& url : {url_, fmt::format("https://localhost:{}/", server_->port())}) {
    SCOPED_TRACE(url);
    ExpectOneLine(RunWith({{"INTERLOCK_TOKEN", token}},
                          {"stop", "status", "--server", url, "--ca-file", cert}));
  }

  // Not in the system's trust store.
  Ran untrusted =
      RunWith({{"INTERLOCK_SERVER", url_}, {"INTERLOCK_TOKEN", token}}, {"stop", "status"});
  EXPECT_EQ(untrusted.code, kExitFailure);
  EXPECT_EQ(untrusted.err,
            fmt::format("error: cannot reach {}: the server's certificate is not trusted: "
                        "self-signed certificate\n",
                        url_));

  Ran no_file = RunWith({{"INTERLOCK_SERVER", url_}, {"INTERLOCK_TOKEN", token}},
                        {"stop", "status", "--ca-file", dir_.path() + "/none.pem"});
  EXPECT_EQ(no_file.code, kExitInvalid);
  EXPECT_EQ(no_file.err,
            fmt::format("error: CA file {}/none.pem: cannot open: no such file\n", dir_.path()));
  dir_.Write("empty.pem", "not a certificate\n");
  Ran not_pem = RunWith({{"INTERLOCK_SERVER", url_}, {"INTERLOCK_TOKEN", token}},
                        {"stop", "status", "--ca-file", dir_.path() + "/empty.pem"});
  EXPECT_EQ(not_pem.code, kExitInvalid);
  EXPECT_TRUE(not_pem.err.starts_with(
      fmt::format("error: CA file {}/empty.pem: not a PEM file of certificates (", dir_.path())))
      << not_pem.err;
}

TEST_F(ClientCliTest, HttpsRefusesACertificateForAnotherName) {
  auto [cert, key] = MakeCertificate(dir_, "server", "DNS:localhost");
  Serve(cert, key);
  Ran ran = RunWith({{"INTERLOCK_SERVER", url_}, {"INTERLOCK_TOKEN", Token("alice")}},
                    {"stop", "status", "--ca-file", cert});
  EXPECT_EQ(ran.code, kExitFailure);
  EXPECT_EQ(ran.err, fmt::format("error: cannot reach {}: the server's certificate does not "
                                 "name 127.0.0.1\n",
                                 url_));
}

TEST_F(ClientCliTest, ATokenThatCannotGoIntoAHeaderIsRefusedBeforeAnythingIsSent) {
  Serve();
  Ran ran = RunWith({{"INTERLOCK_SERVER", url_}, {"INTERLOCK_TOKEN", "itk_a\r\nX-Evil: 1"}},
                    {"stop", "status"});
  EXPECT_EQ(ran.code, kExitInvalid);
  EXPECT_EQ(ran.err,
            "error: the token has spaces or control characters; a token is itk_<id>_<secret>\n");
  EXPECT_EQ(server_->stats().connections_accepted, 0u);
}

TEST_F(ClientCliTest, APathPrefixGoesBeforeEveryTarget) {
  Serve();
  Ran ran = As("alice", {"stop", "status", "--server", url_ + "/behind/a/proxy/"});
  EXPECT_EQ(ran.code, kExitInvalid);
  EXPECT_EQ(ran.err, "error: no route /behind/a/proxy/api/emergency-stop\n");
}

// `interlock drill` against the real server: the emergency stop's drill
// stops the drill scope, is refused decisions and agents, is ended by two
// signers and records itself; the record counts once an engineering lead
// signs it off.
TEST_F(ClientCliTest, TheEmergencyStopDrillRunsAndCountsOnceSignedOff) {
  Serve();
  Ran ran =
      As("carol", {"drill", "emergency-stop", "--signer-token", Token("dave"), "--signer-token",
                   Token("erin"), "--agent-token", Token("deployment-agent-01")});
  ASSERT_EQ(ran.code, 0) << ran.err << ran.out;
  json out = ran.Json();
  EXPECT_TRUE(out["passed"].get<bool>()) << ran.out;
  for (const json& step : out["steps"]) EXPECT_TRUE(step["ok"].get<bool>()) << step.dump();
  EXPECT_GE(out["steps"].size(), 6u) << ran.out;
  EXPECT_EQ(out["record"]["drill"], "emergency-stop");
  EXPECT_EQ(out["record"]["sign_off"], "pending");
  // The stop of the drill scope is over.
  json stop = As("alice", {"stop", "status"}).Json();
  for (const json& scoped : stop["scoped"]) EXPECT_FALSE(scoped["active"].get<bool>());

  auto control = [&](const std::string& id) {
    net::HttpCall call{.method = "GET",
                       .url = url_ + "/v1/compliance",
                       .headers = {{"Authorization", "Bearer " + Token("oscar")}}};
    auto answer = net::NewCurlHttpClient()->Send(call);
    EXPECT_TRUE(answer.has_value());
    json report = json::parse(answer ? answer->body : "{}", nullptr, false);
    for (const json& c : report["controls"]) {
      if (c["id"] == id) return c;
    }
    return json();
  };
  EXPECT_EQ(control("drill-emergency-stop")["outcome"], "fail");
  const std::string approval = out["record"]["approval_id"];
  Ran signed_off =
      As("dave", {"approvals", "approve", approval, "--rationale", "the drill's record holds"});
  ExpectOneLine(signed_off);
  EXPECT_EQ(control("drill-emergency-stop")["outcome"], "pass")
      << control("drill-emergency-stop").dump();

  Ran bypass =
      As("carol", {"drill", "approval-bypass", "--approver-token", Token("bob"), "--approver-token",
                   Token("peggy"), "--agent-token", Token("deployment-agent-01"), "--signer-token",
                   Token("dave"), "--signer-token", Token("erin")});
  ASSERT_EQ(bypass.code, 0) << bypass.err << bypass.out;
  const json bypassed = bypass.Json();
  for (const json& step : bypassed["steps"]) EXPECT_TRUE(step["ok"].get<bool>()) << step.dump();
  EXPECT_EQ(bypassed["record"]["drill"], "approval-bypass");

  Ran audit = As("carol", {"drill", "audit-verify"});
  ASSERT_EQ(audit.code, 0) << audit.err << audit.out;
  EXPECT_TRUE(audit.Json()["passed"].get<bool>());

  // One signer is not enough: the drill refuses before touching anything.
  Ran one = As("carol", {"drill", "emergency-stop", "--signer-token", Token("dave")});
  EXPECT_EQ(one.code, kExitInvalid);
  EXPECT_NE(one.err.find("--signer-token twice"), std::string::npos) << one.err;
}

}  // namespace
}  // namespace interlock::cli
