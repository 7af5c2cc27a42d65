// `interlock serve` and `interlock token create|revoke`.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "app/tokens.h"
#include "audit/log.h"
#include "cli/cli.h"
#include "cli/command.h"
#include "core/duration.h"
#include "core/fs.h"
#include "core/url.h"
#include "governance/loader.h"
#include "notify/notifier.h"
#include "server/http.h"
#include "server/service.h"

namespace interlock::cli {
namespace {

struct ServeOptions {
  std::string data;
  std::string governance;
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert, tls_key;
  std::string delivery;
  size_t threads = 0;
  size_t body_limit = size_t{1} << 20;
  std::string principal;
  std::string expires;
  std::string token;
};

server::ServiceOptions ServiceOptionsFor(const ServeOptions& o, Io& io) {
  server::ServiceOptions so;
  so.governance_dir = GovernanceDir(o.governance, io);
  so.data_dir = DataDir(o.data, io);
  so.fs = &io.fs;
  so.clock = &io.clock;
  so.random = &io.random;
  so.master_key_env = io.env("INTERLOCK_MASTER_KEY").value_or("");
  so.master_key_file_env = io.env("INTERLOCK_MASTER_KEY_FILE").value_or("");
  so.delivery_file = o.delivery;
  so.env = [&io](const std::string& name) { return io.env(name.c_str()); };
  return so;
}

}  // namespace

Result<std::unique_ptr<audit::AuditLog>> OpenAuditLogAlone(const std::string& data,
                                                           const governance::Governance* g,
                                                           Io& io) {
  ServeOptions o;
  o.data = data;
  auto log = server::OpenAuditLog(ServiceOptionsFor(o, io), g);
  if (log) {
    for (const std::string& w : (*log)->warnings()) Print(io.err, "warning: {}\n", w);
  }
  return log;
}

namespace {

// Opens the service, telling the user what they should know (a master key
// file was just created...).
Result<std::unique_ptr<server::Service>> OpenService(const server::ServiceOptions& so, Io& io) {
  auto service = server::Service::Open(so);
  if (service) {
    for (const std::string& w : (*service)->warnings()) Print(io.err, "warning: {}\n", w);
  }
  return service;
}

// Whether a listen address ("host:port", "[v6]:port") is on loopback.
bool IsLoopbackListen(const std::string& listen) {
  auto url = ParseUrl("http://" + listen);
  return url && url->IsLoopbackHost();
}

// Who runs a local command, for its audit record.
std::string LocalOperator(const Io& io) { return "local:" + io.account; }

int RunServe(const ServeOptions& o, Io& io) {
  // Signals are taken by sigwait below: block them before any thread starts,
  // so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::ServiceOptions so = ServiceOptionsFor(o, io);
  so.tls = !o.tls_cert.empty();
  if (o.tls_cert.empty() && !IsLoopbackListen(o.listen)) {
    so.insecure_transport = true;
    Print(io.err,
          "WARNING: interlock serve listens on {} with plain HTTP: bearer tokens, decisions and "
          "approvals cross the network unencrypted. Use --tls-cert and --tls-key, or listen on "
          "a loopback address behind a TLS proxy.\n",
          o.listen);
  }
  auto service = OpenService(so, io);
  if (!service) return Fail(io, service.error());
  for (const std::string& channel : (*service)->notifier().delivery().undelivered) {
    Print(io.err, "warning: channel {} has no delivery settings; its notifications are not sent\n",
          channel);
  }

  server::ServerOptions http;
  http.listen = o.listen;
  http.tls_cert_file = o.tls_cert;
  http.tls_key_file = o.tls_key;
  http.threads = o.threads;
  http.body_limit = o.body_limit;
  http.log = [&io](std::string_view line) { Print(io.err, "interlock serve: {}\n", line); };
  server::Service* svc = service->get();
  // Until a request shows a token the service knows, its body may be small.
  http.authenticated = [svc](const server::HttpRequest& r) { return svc->Recognises(r); };
  auto started =
      server::HttpServer::Start(http, [svc](server::HttpRequest r, server::Respond respond) {
        svc->Handle(std::move(r), std::move(respond));
      });
  if (!started) return Fail(io, started.error());
  server::HttpServer& srv = **started;
  svc->SetHttpStats([&srv] { return srv.stats(); });
  std::string scheme = o.tls_cert.empty() ? "http" : "https";
  Print(io.out,
        "interlock serve: listening on {}://{}\n"
        "  governance {}, data {} (audit log of {} entries)\n"
        "  dashboard: {}://{}/ (sign in with a token)\n"
        "  health: curl {}://{}/healthz\n"
        "  a token: interlock token create --data {} --governance {} --principal ID\n",
        scheme, srv.address(), so.governance_dir, so.data_dir, svc->log().size(), scheme,
        srv.address(), scheme, srv.address(), so.data_dir, so.governance_dir);
  io.out.flush();

  const timespec second{1, 0};
  for (;;) {
    int sig = sigtimedwait(&signals, nullptr, &second);
    if (sig < 0) {  // a second passed (or EINTR): run the timers
      svc->Tick();
      continue;
    }
    if (sig == SIGHUP) {
      auto reloaded = svc->Reload("system:sighup");
      if (reloaded) {
        Print(io.err, "interlock serve: governance reloaded, version {}\n", *reloaded);
      } else {
        Print(io.err, "interlock serve: reload refused: {}\n", reloaded.error().message());
      }
      continue;
    }
    Print(io.err, "interlock serve: {} received; draining\n",
          sig == SIGTERM ? "SIGTERM" : "SIGINT");
    srv.Shutdown(std::chrono::seconds(10));
    svc->Drain();
    service->reset();  // signs the final checkpoint
    Print(io.err, "interlock serve: stopped\n");
    return kExitOk;
  }
}

// The token store of the data directory, on the audit log alone: creating
// or revoking a token writes its row and its record and starts nothing else,
// so a server running on the same directory keeps the only notifier.
struct TokenStore {
  std::unique_ptr<audit::AuditLog> log;
  std::unique_ptr<app::Tokens> tokens;
};
Result<TokenStore> OpenTokens(const server::ServiceOptions& so, const governance::Governance& g,
                              Io& io) {
  TokenStore t;
  auto log = OpenAuditLogAlone(so.data_dir, &g, io);
  if (!log) return std::unexpected(log.error());
  t.log = std::move(*log);
  t.tokens = std::make_unique<app::Tokens>(*t.log, *so.clock, *so.random);
  if (auto ok = t.tokens->Load(); !ok) return std::unexpected(ok.error());
  return t;
}

Result<governance::Governance> LoadGovernance(const server::ServiceOptions& so) {
  auto g = governance::Load(*so.fs, so.governance_dir);
  if (!g) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("governance directory {} is invalid (run: interlock check {})",
                    so.governance_dir, so.governance_dir)));
  }
  return std::move(*g);
}

int RunTokenCreate(const ServeOptions& o, Io& io) {
  server::ServiceOptions so = ServiceOptionsFor(o, io);
  auto g = LoadGovernance(so);
  if (!g) return Fail(io, g.error());
  if (!g->FindPrincipal(o.principal)) {
    return Fail(io, Error::NotFound(fmt::format("no principal {} in {}/principals.yaml",
                                                o.principal, so.governance_dir)));
  }
  std::optional<int64_t> lifetime;
  if (!o.expires.empty() && o.expires != "never") {
    auto d = ParseDuration(o.expires);
    if (!d || d->count() <= 0) {
      return Fail(io, Error::InvalidArgument(fmt::format(
                          "--expires: expected a duration such as 90d, 12h or never, got \"{}\"",
                          o.expires)));
    }
    lifetime = d->count();
  }
  auto store = OpenTokens(so, *g, io);
  if (!store) return Fail(io, store.error());
  auto created = store->tokens->Create(o.principal, lifetime, LocalOperator(io));
  if (!created) return Fail(io, created.error());
  Print(io.out, "token {} for {} ({}), audit index {}; shown once, keep it secret:\n{}\n",
        created->info.id, o.principal,
        created->info.expires_at ? "expires " + FormatTimestamp(*created->info.expires_at)
                                 : std::string("never expires"),
        created->record.index, created->token);
  return kExitOk;
}

int RunTokenRevoke(const ServeOptions& o, Io& io) {
  server::ServiceOptions so = ServiceOptionsFor(o, io);
  auto g = LoadGovernance(so);
  if (!g) return Fail(io, g.error());
  auto store = OpenTokens(so, *g, io);
  if (!store) return Fail(io, store.error());
  auto revoked = store->tokens->Revoke(o.token, LocalOperator(io));
  if (!revoked) return Fail(io, revoked.error());
  Print(io.out, "token {} of {} revoked at {}\n", revoked->id, revoked->principal,
        FormatTimestamp(*revoked->revoked_at));
  return kExitOk;
}

}  // namespace

std::vector<Command> ServeCommands() {
  auto o = std::make_shared<ServeOptions>();
  o->expires = "90d";
  auto dirs = [o](CLI::App* sub) {
    sub->add_option("--data", o->data,
                    "Data directory (default: $INTERLOCK_DATA, else ./.interlock)");
    sub->add_option("--governance", o->governance,
                    "Governance directory (default: $INTERLOCK_GOVERNANCE, else ./governance)");
  };
  auto run = [o](int (*f)(const ServeOptions&, Io&)) {
    return [o, f](Io& io) { return f(*o, io); };
  };
  return {
      {"serve", "Run the gate as an HTTP service (SIGHUP reloads the governance, SIGTERM drains)",
       [=](CLI::App* sub) {
         dirs(sub);
         sub->add_option("--listen", o->listen, "Address to listen on: host:port or [v6]:port")
             ->capture_default_str();
         sub->add_option("--tls-cert", o->tls_cert, "PEM certificate chain: serve TLS 1.3 only");
         sub->add_option("--tls-key", o->tls_key, "PEM private key of --tls-cert");
         sub->add_option("--delivery", o->delivery,
                         "Notification delivery settings (YAML; default: DATA/delivery.yaml if it "
                         "exists)");
         sub->add_option("--threads", o->threads, "IO threads (default: one per core)");
         sub->add_option("--body-limit", o->body_limit, "Largest request body in bytes")
             ->capture_default_str();
       },
       run(RunServe)},
      {"token", "Bearer tokens of principals", nullptr, nullptr},
      {"token create", "Create a token for a principal; it is printed once, as the last word",
       [=](CLI::App* sub) {
         dirs(sub);
         sub->add_option("--principal", o->principal, "A principal of principals.yaml")->required();
         sub->add_option("--expires", o->expires, "Lifetime, e.g. 90d, 12h, or never")
             ->default_str("90d");
       },
       run(RunTokenCreate)},
      {"token revoke", "Revoke a token by its id or the token itself",
       [=](CLI::App* sub) {
         dirs(sub);
         sub->add_option("TOKEN", o->token, "Token id or token")->required();
       },
       run(RunTokenRevoke)},
  };
}

}  // namespace interlock::cli
