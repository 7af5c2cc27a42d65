// Parses arbitrary bytes as YAML, with the default limits and with tight ones,
// and walks every tree that comes back, checking the Node contracts.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/yaml.h"

namespace {

using interlock::yaml::Limits;
using interlock::yaml::Mark;
using interlock::yaml::Node;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckMark(Mark mark) { Check(mark.line >= 1 && mark.column >= 1); }

// Visits every node without recursion; returns how many nodes, keys included.
size_t Walk(const Node& root, const Limits& limits) {
  struct Pending {
    const Node* node;
    int depth;  // collections enclosing the node
  };
  std::vector<Pending> stack = {{&root, 0}};
  size_t nodes = 0;
  while (!stack.empty()) {
    const auto [node, depth] = stack.back();
    stack.pop_back();
    ++nodes;
    CheckMark(node->mark());
    Check(!node->TypeName().empty());
    Check(node->IsScalar() || node->scalar().empty());
    Check(node->IsSequence() || node->items().empty());
    Check(node->IsMapping() || node->entries().empty());
    if (node->IsSequence() || node->IsMapping()) Check(depth < limits.max_depth);
    for (const Node& item : node->items()) stack.push_back({&item, depth + 1});
    for (const auto& entry : node->entries()) {
      ++nodes;
      CheckMark(entry.key_mark);
      Check(node->Find(entry.key) == &entry.value);  // keys are distinct
      stack.push_back({&entry.value, depth + 1});
    }
  }
  return nodes;
}

void ParseAndWalk(std::string_view text, const Limits& limits) {
  const auto parsed = interlock::yaml::Parse(text, limits);
  if (!parsed) {
    CheckMark(parsed.error().mark);
    Check(!parsed.error().message.empty());
    return;
  }
  Check(Walk(*parsed, limits) <= limits.max_nodes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseAndWalk(text, {});
  ParseAndWalk(text, {.max_depth = 3, .max_nodes = 20, .max_bytes = 256});
  return 0;
}
