#include "governance/model.h"

#include <fmt/format.h>

namespace interlock::governance {

std::optional<size_t> Governance::FindRole(std::string_view id) const {
  for (size_t index = 0; index < roles.size(); ++index) {
    if (roles[index].id == id) return index;
  }
  return std::nullopt;
}

std::optional<size_t> Governance::FindWorkflow(std::string_view id) const {
  for (size_t index = 0; index < workflows.size(); ++index) {
    if (workflows[index].id == id) return index;
  }
  return std::nullopt;
}

std::string Governance::RoleNames(const RoleSet& set) const {
  std::string out;
  for (size_t index = 0; index < roles.size(); ++index) {
    if (!set[index]) continue;
    if (!out.empty()) out += ", ";
    out += roles[index].id;
  }
  return out;
}

}  // namespace interlock::governance
