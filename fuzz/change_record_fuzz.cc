// Fuzzes the change record reader and, for records it accepts, the
// cross-checks against a fixed set of facts; the same bytes also go to the
// readers of decision and approval events. Any bytes are refused with a
// message naming the record, or read into a record that keeps the format's
// promises (required text non-empty and within its bounds), and every
// finding names a member of the record.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "compliance/change_check.h"
#include "compliance/change_record.h"

namespace {

using namespace interlock;
using namespace interlock::compliance;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckText(const std::string& text, size_t max) { Check(!text.empty() && text.size() <= max); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const std::vector<Person> kPeople = {{"alice", "alice@example.com"}, {"bob", ""}};

  // The event readers take any text without failing loudly.
  (void)DecisionFromEvent(1, text);
  (void)ApprovalFromEvent(2, text, kPeople);
  (void)ApprovalIdOfEvent(text);

  auto record = ParseChangeRecord(text);
  if (!record) {
    Check(record.error().kind() == ErrorKind::kInvalidArgument);
    Check(record.error().message().starts_with("change_metadata"));
    return 0;
  }
  for (const std::string* id : {&record->change_id, &record->author, &record->owner}) {
    CheckText(*id, kMaxIdBytes);
  }
  for (const std::string* t : {&record->rationale, &record->impact, &record->rollback_plan}) {
    CheckText(*t, kMaxTextBytes);
  }
  Check(record->tests_run.size() <= kMaxItems && record->artifacts.size() <= kMaxItems);
  Check(record->approvals.size() <= kMaxApprovals);
  for (const RecordedApproval& a : record->approvals) CheckText(a.approver, kMaxIdBytes);
  if (record->compatibility_report) Check(record->compatibility_report->is_object());

  ChangeFacts facts;
  facts.log_read = true;
  facts.tied = true;
  facts.decisions.push_back({4, record->timestamp, Environment::kProduction, RiskLevel::kHigh,
                             DecisionKind::kAllow, "apr_1"});
  facts.approvals.push_back({5, "apr_1", "bob", "", record->timestamp, true});
  for (const ChangeFacts& f : {facts, ChangeFacts{}}) {
    ChangeReport report = CrossCheck(*record, f, kPeople);
    Check(report.checks.size() == kChangeCheckNames.size());
    for (const Finding& finding : report.findings) {
      Check(finding.path.starts_with("change_metadata."));
      Check(!finding.message.empty());
    }
  }
  return 0;
}
