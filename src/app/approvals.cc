#include "app/approvals.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "audit/json.h"

namespace interlock::app {
namespace {

// State rows read from the store at a time.
constexpr size_t kBatch = 256;
// Finished requests summarised at most, however many finished in the window.
constexpr size_t kMaxFinished = 10'000;
// Parsed rows kept at most: a page of any size the API allows, many times.
constexpr size_t kMaxParsed = 2048;

Result<workflow::ApprovalRequest> Parse(const std::string& id, const std::string& value) {
  auto a = workflow::FromJson(nlohmann::json::parse(value, nullptr, false));
  if (!a) {
    return std::unexpected(
        Error(a.error().kind(), fmt::format("approval {}: {}", id, a.error().message())));
  }
  return a;
}

std::optional<FinishedApproval> Summary(const workflow::ApprovalRequest& a) {
  if (!workflow::IsFinal(a.state) || a.history.empty()) return std::nullopt;
  return FinishedApproval{a.id, a.state, a.created_at, a.history.back().at};
}

}  // namespace

Approvals::Approvals(audit::AuditLog& log)
    : log_(log), pending_roles_(std::make_shared<const std::vector<std::string>>()) {}

audit::StateChange Approvals::Row(const workflow::ApprovalRequest& request) {
  return {std::string(kApprovalKind), request.id, audit::Dump(workflow::ToJson(request))};
}

Result<void> Approvals::Scan(const std::string& after, size_t first_batch,
                             const std::function<bool(workflow::ApprovalRequest)>& each) {
  store::StateQuery query{
      .kind = std::string(kApprovalKind), .after = after, .limit = std::min(first_batch, kBatch)};
  while (true) {
    auto rows = log_.LoadState(query);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& [id, value] : *rows) {
      auto a = Parsed(id, value);
      if (!a) return std::unexpected(a.error());
      if (!each(std::move(*a))) return Ok();
    }
    if (rows->size() < query.limit) return Ok();
    query.after = rows->back().first;
    query.limit = kBatch;
  }
}

Result<std::optional<workflow::ApprovalRequest>> LoadApproval(audit::AuditLog& log,
                                                              const std::string& id) {
  auto found = log.LoadState(store::StateQuery{.kind = std::string(kApprovalKind), .id = id});
  if (!found) return std::unexpected(found.error());
  if (found->empty()) return std::optional<workflow::ApprovalRequest>();
  auto a = Parse(id, found->front().second);
  if (!a) return std::unexpected(a.error());
  return std::optional(std::move(*a));
}

Result<workflow::ApprovalRequest> Approvals::Parsed(const std::string& id,
                                                    const std::string& value) {
  {
    MutexLock lock(&parsed_mu_);
    auto it = parsed_.find(id);
    if (it != parsed_.end() && it->second.value == value) return it->second.request;
  }
  auto a = Parse(id, value);
  if (!a) return a;
  MutexLock lock(&parsed_mu_);
  if (parsed_.size() >= kMaxParsed && !parsed_.contains(id)) parsed_.erase(parsed_.begin());
  parsed_.insert_or_assign(id, ParsedRow{value, *a});
  return a;
}

Result<void> Approvals::Load(UnixMillis now) {
  std::map<std::string, workflow::ApprovalRequest> open;
  std::vector<FinishedApproval> finished;
  auto scanned = Scan("", kBatch, [&](workflow::ApprovalRequest a) {
    if (!workflow::IsFinal(a.state)) {
      std::string id = a.id;
      open.emplace(std::move(id), std::move(a));
    } else if (auto f = Summary(a); f && f->finished_at > now - kFinishedWindowMs) {
      finished.push_back(std::move(*f));
    }
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  std::sort(finished.begin(), finished.end(),
            [](const FinishedApproval& a, const FinishedApproval& b) {
              return std::tie(a.finished_at, a.id) < std::tie(b.finished_at, b.id);
            });
  if (finished.size() > kMaxFinished) {
    finished.erase(finished.begin(), finished.end() - static_cast<ptrdiff_t>(kMaxFinished));
  }
  MutexLock lock(&mu_);
  open_ = std::move(open);
  finished_.assign(finished.begin(), finished.end());
  PublishPendingRoles();
  return {};
}

void Approvals::Opened(workflow::ApprovalRequest request) {
  MutexLock lock(&mu_);
  Keep(std::move(request));
}

Result<std::pair<workflow::Transition, audit::Appended>> Approvals::Change(
    const std::string& id,
    const std::function<Result<workflow::Transition>(const workflow::ApprovalRequest&)>& next,
    const Commit& commit) {
  MutexLock lock(&mu_);
  auto it = open_.find(id);
  if (it == open_.end()) {
    // A finished request takes no action; to the caller it is as absent as
    // one that never was, with a word on which.
    auto found = Find(id);
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::unexpected(Error::NotFound(fmt::format("no approval {}", id)));
    const workflow::ApprovalRequest& a = **found;
    auto t = next(a);
    if (!t) return std::unexpected(t.error());
    // Acting on a finished request is refused by the workflow; reaching
    // here means it allowed a step from a final state, which it never does.
    return std::unexpected(
        Error::Internal(fmt::format("approval {} is {} and takes no action", id, Name(a.state))));
  }
  auto t = next(it->second);
  if (!t) return std::unexpected(t.error());
  auto appended = commit(*t);
  if (!appended) return std::unexpected(appended.error());
  Keep(t->request);
  return std::pair{std::move(*t), *appended};
}

void Approvals::Timeouts(UnixMillis now, const Commit& commit) {
  MutexLock lock(&mu_);
  std::vector<workflow::Transition> due;
  for (const auto& [id, a] : open_) {
    if (auto t = workflow::OnTimeout(a, now)) due.push_back(std::move(*t));
  }
  for (workflow::Transition& t : due) {
    if (commit(t)) Keep(std::move(t.request));
  }
}

Result<std::optional<workflow::ApprovalRequest>> Approvals::Find(const std::string& id) {
  auto found = log_.LoadState(store::StateQuery{.kind = std::string(kApprovalKind), .id = id});
  if (!found) return std::unexpected(found.error());
  if (found->empty()) return std::optional<workflow::ApprovalRequest>();
  auto a = Parsed(id, found->front().second);
  if (!a) return std::unexpected(a.error());
  return std::optional(std::move(*a));
}

Result<ApprovalPage> Approvals::List(
    const std::string& cursor, size_t limit,
    const std::function<bool(const workflow::ApprovalRequest&)>& keep) {
  ApprovalPage page;
  // A page needs limit + 1 rows when every one is kept: read no more at
  // first.
  auto scanned = Scan(cursor, limit + 1, [&](workflow::ApprovalRequest a) {
    if (!keep(a)) return true;
    if (page.items.size() == limit) {
      page.next_cursor = page.items.back().id;
      return false;
    }
    page.items.push_back(std::move(a));
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  return page;
}

size_t Approvals::OpenCount() const {
  MutexLock lock(&mu_);
  return open_.size();
}

std::vector<FinishedApproval> Approvals::FinishedSince(UnixMillis since) const {
  MutexLock lock(&mu_);
  std::vector<FinishedApproval> out;
  for (const FinishedApproval& f : finished_) {
    if (f.finished_at > since) out.push_back(f);
  }
  // Stored in the order they finished, which a clock set back can disorder.
  std::sort(out.begin(), out.end(), [](const FinishedApproval& a, const FinishedApproval& b) {
    return std::tie(a.finished_at, a.id) < std::tie(b.finished_at, b.id);
  });
  return out;
}

void Approvals::Keep(workflow::ApprovalRequest request) {
  if (!workflow::IsFinal(request.state)) {
    open_.insert_or_assign(request.id, std::move(request));
  } else {
    open_.erase(request.id);
    if (auto f = Summary(request)) {
      while (!finished_.empty() &&
             (finished_.size() >= kMaxFinished ||
              finished_.front().finished_at <= f->finished_at - kFinishedWindowMs)) {
        finished_.pop_front();
      }
      finished_.push_back(std::move(*f));
    }
  }
  PublishPendingRoles();
}

void Approvals::PublishPendingRoles() {
  std::vector<std::string> roles;
  for (const auto& [id, a] : open_) {
    for (const std::string& role : a.eligible_roles) {
      if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
    }
  }
  pending_roles_.store(std::make_shared<const std::vector<std::string>>(std::move(roles)));
}

}  // namespace interlock::app
