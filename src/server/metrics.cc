// GET /metrics: the service's counters in Prometheus' text format.
#include <fmt/format.h>

#include "server/service_impl.h"

namespace interlock::server {

void Service::Impl::GetMetrics(Call& c) {
  audit::LogStats s = log->stats();
  safety::StopState st = Stop();
  std::string out;
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  metric("interlock_decisions_total", "counter", "Decisions answered, by outcome.");
  for (DecisionKind k :
       {DecisionKind::kAllow, DecisionKind::kRequireApproval, DecisionKind::kDeny}) {
    out += fmt::format("interlock_decisions_total{{outcome=\"{}\"}} {}\n", Name(k),
                       decisions[static_cast<size_t>(k)].load());
  }
  metric("interlock_decision_audit_failures_total", "counter",
         "Decisions answered deny because their audit record could not be made durable.");
  out += fmt::format("interlock_decision_audit_failures_total {}\n", decision_failures.load());
  metric("interlock_audit_size", "gauge", "Entries in the audit log.");
  out += fmt::format("interlock_audit_size {}\n", log->size());
  metric("interlock_audit_commits_total", "counter", "Group commits (transactions) since start.");
  out += fmt::format("interlock_audit_commits_total {}\n", s.batches);
  metric("interlock_audit_committed_records_total", "counter", "Records committed since start.");
  out += fmt::format("interlock_audit_committed_records_total {}\n", s.records);
  metric("interlock_audit_largest_commit", "gauge",
         "Most records in one group commit since start.");
  out += fmt::format("interlock_audit_largest_commit {}\n", s.largest_batch);
  size_t pending = approvals->OpenCount();
  metric("interlock_approvals_pending", "gauge",
         "Approval requests not yet approved, rejected or blocked.");
  out += fmt::format("interlock_approvals_pending {}\n", pending);
  metric("interlock_approval_latency_seconds", "summary",
         "Time from opening to approval, rejection or blocking.");
  out += fmt::format("interlock_approval_latency_seconds_sum {:.3f}\n",
                     static_cast<double>(state->approval_latency_ms()) / 1000);
  out += fmt::format("interlock_approval_latency_seconds_count {}\n", state->approvals_finished());
  metric("interlock_emergency_stop_active", "gauge", "1 while the emergency stop is active.");
  out += fmt::format("interlock_emergency_stop_active {}\n", st.active ? 1 : 0);
  notify::NotifierStats n = notifier->stats();
  metric(
      "interlock_notifications_total", "counter",
      "Notification deliveries since start, by result (retried: failed attempts to be retried).");
  out += fmt::format("interlock_notifications_total{{result=\"delivered\"}} {}\n", n.delivered);
  out += fmt::format("interlock_notifications_total{{result=\"failed\"}} {}\n", n.failed);
  out += fmt::format("interlock_notifications_total{{result=\"retried\"}} {}\n", n.retried);
  metric("interlock_notifications_pending", "gauge", "Notifications in the outbox.");
  out += fmt::format("interlock_notifications_pending {}\n", n.pending);
  if (http_stats) {
    HttpStats h = http_stats();
    metric("interlock_http_requests_total", "counter", "HTTP responses written.");
    out += fmt::format("interlock_http_requests_total {}\n", h.requests_served);
    metric("interlock_http_connections_open", "gauge", "HTTP connections open.");
    out += fmt::format("interlock_http_connections_open {}\n", h.connections_open);
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(out);
  c.respond(std::move(r));
}

}  // namespace interlock::server
