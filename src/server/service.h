// The gate as a service: the routes of `interlock serve` (docs/api/openapi.yaml)
// over the decision engine, the audit log, tokens and the emergency stop.
//
// Every request but GET /healthz and the dashboard's files (server/web.h)
// carries a bearer token (app/tokens.h);
// the principal it stands for is the actor of whatever the request does,
// whatever the body claims, and every role check happens here. Every state
// change is committed in one transaction with its audit record before it is
// answered. Decisions take the asynchronous path of the audit log's group
// commit, so IO threads never wait for a disk; state changes run one at a
// time on the service's own thread, so concurrent actions on one thing see
// each other and exactly one wins.
//
// Thread safety: Handle may be called from any number of threads at once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/fs.h"
#include "core/random.h"
#include "core/status.h"
#include "notify/delivery.h"
#include "server/http.h"

namespace interlock::audit {
class AuditLog;
}
namespace interlock::store {
class AuditStore;
}
namespace interlock::governance {
struct Governance;
}
namespace interlock::notify {
class Notifier;
class Sender;
}  // namespace interlock::notify

namespace interlock::app {
class Tokens;
}  // namespace interlock::app

namespace interlock::server {

struct ServiceOptions {
  std::string governance_dir;
  std::string data_dir;
  FileSystem* fs = nullptr;
  const Clock* clock = nullptr;
  Random* random = nullptr;
  std::string master_key_env;       // INTERLOCK_MASTER_KEY
  std::string master_key_file_env;  // INTERLOCK_MASTER_KEY_FILE
  // Opens the audit store kept in `data_dir`. Default: the SQLite store
  // (store/sqlite_audit_store.h); tests wrap it (store/fault_store.h).
  std::function<Result<std::unique_ptr<store::AuditStore>>(const std::string& data_dir)>
      open_audit_store;
  // The delivery settings (notify/delivery.h); empty: DATA/delivery.yaml if
  // it exists, else nothing is delivered. Read again on every Reload.
  std::string delivery_file;
  notify::EnvReader env;             // for the settings' *_env secrets
  notify::Sender* sender = nullptr;  // default: the network
  // Set when the server listens with plain HTTP on a non-loopback address:
  // /healthz then says so. Default: false.
  bool insecure_transport = false;
  // Set when the server itself serves TLS 1.3 (--tls-cert): the compliance
  // check tls_in_transit. Default: false.
  bool tls = false;
};

// The audit log of a service with `options`, with the retention of `g`
// (none when null). Also opened alone, for commands that read or write the
// log without starting a service (audit, token create and revoke), so that
// no second notifier or timer runs beside a live server.
Result<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const ServiceOptions& options,
                                                      const governance::Governance* g);

// A route of the service, as docs/api/openapi.yaml writes it.
struct RouteInfo {
  std::string method;   // "GET", "POST"; HEAD is taken wherever GET is
  std::string pattern;  // "/v1/approvals/{id}"
  bool token = false;   // whether it takes a bearer token
  // How it authenticates its caller ("bearer token", "Slack request
  // signature", ...); "" when it does not.
  std::string authentication;
};

// Every route Service::Handle answers, in the order it tries them. A path
// that matches none is answered 404, a method its pattern does not take 405
// with an Allow header.
std::vector<RouteInfo> Routes();

class Service {
 public:
  // Loads and validates the governance directory, opens the audit log and
  // the stored state. Fails if either is invalid, naming what and where.
  static Result<std::unique_ptr<Service>> Open(const ServiceOptions& options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // The server's Handler.
  void Handle(HttpRequest request, Respond respond);

  // Whether the request's headers carry a bearer token the service knows,
  // for ServerOptions::authenticated: the body of a request without one is
  // held to the pre-authentication limit. Never blocks; it is no
  // authentication (Handle still checks everything).
  bool Recognises(const HttpRequest& headers) const;

  // Reloads the governance directory and the delivery settings: both
  // validated first; if either is invalid, both in force stay and the
  // answer lists every error. Both outcomes are audited. Returns the new
  // governance version.
  Result<std::string> Reload(const std::string& by);

  // Escalates or blocks the approvals whose deadline has passed on the
  // service's clock, and stores the dashboard's hourly decision counts once
  // a minute when they changed. `interlock serve` calls it every second.
  void Tick();

  // Waits for work already accepted (state changes, pending decisions'
  // audit records) to finish, and stores the hourly decision counts;
  // called on SIGTERM after the HTTP server has drained.
  void Drain();

  // Counters of the HTTP layer, for /metrics.
  void SetHttpStats(std::function<HttpStats()> stats);

  audit::AuditLog& log();
  app::Tokens& tokens();
  notify::Notifier& notifier();
  const std::vector<std::string>& warnings() const;

  // The service's state, shared by the files of server/ that answer its
  // routes (server/service_impl.h); of no use outside them.
  struct Impl;

 private:
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace interlock::server
