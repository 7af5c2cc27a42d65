#include "compliance/waiver.h"

#include <fmt/format.h>

#include "core/json.h"

namespace interlock::compliance {
namespace {

bool Blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

}  // namespace

Result<WaiverRequest> ParseWaiverRequest(const governance::Governance& g, std::string_view body,
                                         UnixMillis now) {
  static constexpr std::string_view kFields[] = {"control", "justification", "expires", "run"};
  auto object = json::ReadObject(body, kFields, {.subject = "waiver"});
  if (!object) return std::unexpected(object.error());
  const json::ObjectReader& f = object->fields;
  auto control = f.String("control");
  if (!control) return std::unexpected(control.error());
  auto justification = f.String("justification");
  if (!justification) return std::unexpected(justification.error());
  auto expires = f.String("expires");
  if (!expires) return std::unexpected(expires.error());
  auto run = f.OptionalBool("run");
  if (!run) return std::unexpected(run.error());
  if (!*run) {
    return std::unexpected(Error::InvalidArgument(
        "run: required: true evaluates the control and shows its outcome beside the waiver, "
        "false does not evaluate it"));
  }
  WaiverRequest w;
  const governance::Control* c = g.compliance.FindControl(*control);
  if (c == nullptr) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("control: no control \"{}\" in compliance/controls.yml", *control)));
  }
  w.control = c->id;
  if (Blank(*justification)) {
    return std::unexpected(
        Error::InvalidArgument("justification: required: say why the control may fail"));
  }
  if (justification->size() > kMaxJustificationBytes) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("justification: at most {} bytes, found {}",
                                           kMaxJustificationBytes, justification->size())));
  }
  w.justification = std::string(*justification);
  auto t = ParseTimestamp(*expires);
  if (!t) return std::unexpected(Error::InvalidArgument("expires: " + t.error().message()));
  if (*t <= now) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("expires: {} is not in the future", FormatTimestamp(*t))));
  }
  if (*t - now > kMaxWaiverMs) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "expires: {} is more than {} days after now ({}): a waiver is reviewed "
        "again at least once a year",
        FormatTimestamp(*t), kMaxWaiverMs / (UnixMillis{24} * 3'600'000), FormatTimestamp(now))));
  }
  w.expires = *t;
  w.run = **run;
  return w;
}

}  // namespace interlock::compliance
