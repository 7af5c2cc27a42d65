// Reads typed values out of one governance file's YAML tree, recording a
// located Diagnostic for every problem and carrying on, so that one `check`
// reports every error in a directory rather than the first.
//
// Private to governance/. Not thread safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.h"
#include "core/names.h"
#include "core/yaml.h"
#include "governance/diagnostic.h"
#include "governance/model.h"

namespace interlock::governance {

class Reader {
 public:
  // *diagnostics must outlive the reader.
  Reader(std::string file, std::vector<Diagnostic>* diagnostics)
      : file_(std::move(file)), diagnostics_(diagnostics) {}

  const std::string& file() const { return file_; }
  Origin OriginOf(const yaml::Node& node) const { return {file_, node.mark()}; }
  void Error(yaml::Mark mark, std::string message);

  // True if `node` is a mapping whose keys are all in `allowed`; reports a
  // non-mapping and each unknown key (with a suggestion) otherwise.
  bool Mapping(const yaml::Node& node, std::initializer_list<std::string_view> allowed,
               std::string_view what) {
    return Mapping(node, std::span(allowed.begin(), allowed.size()), {}, what);
  }
  // The same, for the keys of `allowed` and those of `more`.
  bool Mapping(const yaml::Node& node, std::span<const std::string_view> allowed,
               std::span<const std::string_view> more, std::string_view what);
  // The value of a key that must be present; reports its absence.
  const yaml::Node* Required(const yaml::Node& mapping, std::string_view key,
                             std::string_view what);

  // Typed scalars. Each returns nullopt after reporting a problem; a null
  // `node` (an absent optional key) returns nullopt silently.
  std::optional<std::string> String(const yaml::Node* node);
  std::optional<int64_t> Integer(const yaml::Node* node, int64_t min, int64_t max);
  std::optional<double> Number(const yaml::Node* node);
  std::optional<bool> Bool(const yaml::Node* node);
  std::optional<Millis> Duration(const yaml::Node* node);
  std::optional<std::vector<std::string>> StringList(const yaml::Node* node);
  // A fraction written "5%" or 0.05.
  std::optional<double> Fraction(const yaml::Node* node);

  template <class E>
  std::optional<E> Enum(const yaml::Node* node) {
    auto text = String(node);
    if (!text) return std::nullopt;
    if (auto value = ParseEnum<E>(*text)) return value;
    std::vector<std::string_view> names(EnumNames<E>::kNames.begin(), EnumNames<E>::kNames.end());
    UnknownName(*node, *text, names, "");
    return std::nullopt;
  }

  // The `version:` key, which must say 1 (or 1.0) where present; `required`
  // makes its absence an error.
  void Version(const yaml::Node& root, bool required);

  // The items of the list under `key` in `mapping`; empty (after reporting
  // any problem) if it is absent, or not a list. `what` names an item.
  const std::vector<yaml::Node>& List(const yaml::Node& mapping, std::string_view key,
                                      std::string_view what, bool required);
  // The index in `names` of a string that must be one of them.
  std::optional<size_t> OneOf(const yaml::Node* node, const std::vector<std::string_view>& names,
                              std::string_view kind);

  // Reports `found` as not one of `names`, with a suggestion.
  void UnknownName(const yaml::Node& node, std::string_view found,
                   const std::vector<std::string_view>& names, std::string_view kind);

 private:
  void WrongType(const yaml::Node& node, std::string_view expected);

  std::string file_;
  std::vector<Diagnostic>* diagnostics_;
};

// Records `id` (of a `kind`, for the message) as defined at `mark`; false
// after reporting when it already was, naming where first.
bool Unique(Reader& r, std::map<std::string, yaml::Mark>* seen, const std::string& id,
            yaml::Mark mark, std::string_view kind);

// The index of the role `node` names, one of g's; reports an unknown one
// (with a suggestion).
std::optional<size_t> ReadRole(Reader& r, const Governance& g, const yaml::Node* node);
// A list of g's roles; nullopt (after reporting) if `node` is absent, not a
// list, or names an unknown role.
std::optional<RoleSet> ReadRoles(Reader& r, const Governance& g, const yaml::Node* node);

}  // namespace interlock::governance
