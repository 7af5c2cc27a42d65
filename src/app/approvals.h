// The approval requests, owned in one place.
//
// Every request, open or finished, is a state row beside the audit log,
// committed with the audit record of each change; reads of one request or
// of a page of them come from there. Memory holds only what is still open
// (pending, escalated, blocked, changes requested), for the actions,
// timeouts and the emergency stop's announcements that need them at once,
// plus a short summary of the requests that finished in the last week, for
// the dashboard's latency chart. A request that finishes leaves memory.
//
// Thread safety: every method from any thread. Change and Timeouts hold the
// lock while their `commit` runs, so changes to requests are serial; reads
// of the open requests and PendingRoles take no other component's lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "audit/log.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/status.h"
#include "workflow/approval.h"

namespace interlock::app {

// The kind of the approvals' state rows.
constexpr std::string_view kApprovalKind = "approval";

// A request that finished: how long it took.
struct FinishedApproval {
  std::string id;
  workflow::ApprovalState state = workflow::ApprovalState::kApproved;
  UnixMillis opened_at = 0;
  UnixMillis finished_at = 0;
};

// One page of requests, by id, and the cursor of the next page (the last
// id of this one) when there may be more.
struct ApprovalPage {
  std::vector<workflow::ApprovalRequest> items;
  std::optional<std::string> next_cursor;
};

// The approval request `id` as its state row holds it, read from `log`
// without an Approvals (for the compliance facts); nullopt if there is no
// such row, kCorruption naming the request if it does not read.
Result<std::optional<workflow::ApprovalRequest>> LoadApproval(audit::AuditLog& log,
                                                              const std::string& id);

// Every state row of `kind`, read by `read` (value -> Result<T>, T with an
// `approval_id`), each with the approval request it names (nullopt if that
// row is missing), as S{T, optional<ApprovalRequest>}, by id. kCorruption
// naming the row that does not read.
template <class S, class T, class Read>
Result<std::vector<S>> LoadWithApprovals(audit::AuditLog& log, std::string_view kind,
                                         const Read& read) {
  auto rows = log.LoadState(std::string(kind));
  if (!rows) return std::unexpected(rows.error());
  std::vector<S> out;
  for (const auto& [id, value] : *rows) {
    Result<T> row = read(value);
    if (!row) {
      return std::unexpected(
          Error::Corruption(std::string(kind) + " row " + id + ": " + row.error().message()));
    }
    auto approval = LoadApproval(log, row->approval_id);
    if (!approval) return std::unexpected(approval.error());
    out.push_back(S{std::move(*row), std::move(*approval)});
  }
  return out;
}

class Approvals {
 public:
  // Makes a request's durable form: its state row, its record and its
  // messages, committed together; returns the record's index.
  using Commit = std::function<Result<audit::Appended>(const workflow::Transition&)>;

  // How long finished requests stay in the latency summary.
  static constexpr UnixMillis kFinishedWindowMs = UnixMillis{7} * 24 * 3'600'000;

  explicit Approvals(audit::AuditLog& log);
  Approvals(const Approvals&) = delete;
  Approvals& operator=(const Approvals&) = delete;

  // The state row of `request`.
  static audit::StateChange Row(const workflow::ApprovalRequest& request);

  // Reads the open requests and the recently finished ones (since `now`
  // minus the window) from the state rows.
  Result<void> Load(UnixMillis now) EXCLUDES(mu_);

  // Takes in a request whose row was just committed (opened with its
  // decision).
  void Opened(workflow::ApprovalRequest request) EXCLUDES(mu_);
  // Changes the open request `id`: `next` gives its transition, `commit`
  // makes that durable, then memory follows. kNotFound if `id` is not open.
  Result<std::pair<workflow::Transition, audit::Appended>> Change(
      const std::string& id,
      const std::function<Result<workflow::Transition>(const workflow::ApprovalRequest&)>& next,
      const Commit& commit) EXCLUDES(mu_);
  // Times out every open request past its deadline at `now`. One whose
  // commit fails stays as it was and is due again at the next call.
  void Timeouts(UnixMillis now, const Commit& commit) EXCLUDES(mu_);

  // The request `id`, open or finished; nullopt if there is none.
  Result<std::optional<workflow::ApprovalRequest>> Find(const std::string& id);
  // Up to `limit` requests after id `cursor` for which `keep` holds, by id.
  Result<ApprovalPage> List(const std::string& cursor, size_t limit,
                            const std::function<bool(const workflow::ApprovalRequest&)>& keep);

  // The requests open now.
  size_t OpenCount() const EXCLUDES(mu_);
  // The roles that may approve an open request: what a change of the
  // emergency stop notifies. Lock-free.
  std::shared_ptr<const std::vector<std::string>> PendingRoles() const {
    return pending_roles_.load();
  }
  // The requests that finished after `since`, by when they finished.
  std::vector<FinishedApproval> FinishedSince(UnixMillis since) const EXCLUDES(mu_);

 private:
  // Memory after `request` was stored: open ones kept, finished ones
  // summarised.
  void Keep(workflow::ApprovalRequest request) REQUIRES(mu_);
  void PublishPendingRoles() REQUIRES(mu_);
  // Calls `each` on every request with an id after `after`, by id, read
  // from the state rows a batch at a time (the first of `first_batch`
  // rows), until it returns false.
  Result<void> Scan(const std::string& after, size_t first_batch,
                    const std::function<bool(workflow::ApprovalRequest)>& each);

  // The request a state row holds: parsed once, then taken from parsed_
  // while the row's value stays the same. The value is the row's version,
  // so a row another writer changed is parsed again.
  Result<workflow::ApprovalRequest> Parsed(const std::string& id, const std::string& value)
      EXCLUDES(parsed_mu_);

  struct ParsedRow {
    std::string value;
    workflow::ApprovalRequest request;
  };

  audit::AuditLog& log_;
  // Guards only the cache of parsed rows; held for no other call.
  Mutex parsed_mu_;
  std::unordered_map<std::string, ParsedRow> parsed_ GUARDED_BY(parsed_mu_);  // by id
  mutable Mutex mu_;
  std::map<std::string, workflow::ApprovalRequest> open_ GUARDED_BY(mu_);  // by id
  std::deque<FinishedApproval> finished_ GUARDED_BY(mu_);                  // by finished_at
  std::atomic<std::shared_ptr<const std::vector<std::string>>> pending_roles_;
};

}  // namespace interlock::app
