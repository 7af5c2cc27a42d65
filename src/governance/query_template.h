// The metric queries governance files write (canary.yml `metrics`): PromQL
// with placeholders, checked when the governance loads and filled in for
// each rollout.
//
// A template is PromQL with placeholders, each "{{" NAME "}}" with optional
// spaces or tabs around NAME:
//
//   {{service}} {{version}} {{baseline_version}} {{environment}}
//       the QueryContext's string of that name. Allowed only inside a "..."
//       or '...' string literal, where the value is escaped for that
//       literal (see ExpandQuery), so that no value can end the literal and
//       add PromQL of its own.
//   {{window}}
//       the window as a PromQL duration ("5m" is written "300s"). Allowed
//       anywhere.
//
// Every "{{" in a template begins a placeholder, inside string literals and
// comments too. To find the literals, the template is read as PromQL reads
// it: a string starts at ", ' or ` outside a comment; in "..." and '...' a
// backslash escapes the next byte; a ` string has no escapes; a comment runs
// from # outside a string to the end of the line.
//
// CheckQueryTemplate's messages are kInvalidArgument. WHERE is "column C"
// (from 1, in bytes) for a template of one line, "line L, column C" for one
// of several:
//
//   query template: empty
//   query template: unclosed "{{" at WHERE
//   query template: unknown placeholder {{NAME}} at WHERE (known: service,
//       version, baseline_version, environment, window)
//   query template: {{NAME}} at WHERE must be inside a "..." or '...' string
//   query template: "\{" at WHERE is not a PromQL string escape
//
// (the last, because a backslash before a placeholder would escape the
// first byte of its value).
//
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace interlock::governance {

// What a template's placeholders stand for in one evaluation.
struct QueryContext {
  std::string service;
  std::string version;           // the version rolling out
  std::string baseline_version;  // the version it is compared with
  std::string environment;
  int64_t window_ms = 0;  // the evaluation window; positive
};

// Whether `tmpl` is a query template of the form above. Never throws.
Result<void> CheckQueryTemplate(std::string_view tmpl);

// `tmpl` with its placeholders replaced by `ctx`'s values. In a "..." string
// a value's \ and " are escaped as \\ and \"; in a '...' string \ and ' as
// \\ and \'; in both, newline, carriage return and tab become \n, \r and \t,
// and every other byte below 0x20, and 0x7f, becomes \xNN. Other bytes are
// copied. {{window}} becomes "Ns" for a whole number N of seconds and "Nms"
// otherwise.
// REQUIRES: CheckQueryTemplate(tmpl) succeeds and ctx.window_ms > 0. For a
// template it refuses, each placeholder it refuses is copied as written, so
// the expansion is still never a value escaping its literal (and Prometheus
// refuses it); a window that is not positive is written all the same ("0s").
std::string ExpandQuery(std::string_view tmpl, const QueryContext& ctx);

}  // namespace interlock::governance
