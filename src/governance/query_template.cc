#include "governance/query_template.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "core/text.h"

namespace interlock::governance {
namespace {

// ---------------------------------------------------------------------------
// Query templates

enum class Slot : uint8_t { kService, kVersion, kBaselineVersion, kEnvironment, kWindow };
constexpr std::array<std::string_view, 5> kSlotNames = {"service", "version", "baseline_version",
                                                        "environment", "window"};

// Where the template's reader stands, as PromQL's lexer would.
enum class Lex : uint8_t { kCode, kDoubleQuoted, kSingleQuoted, kBacktick, kComment };

// One piece of a template, in order: text to copy, a placeholder to
// replace, or something CheckQueryTemplate refuses (copied as written).
struct Piece {
  enum class Kind : uint8_t { kText, kPlaceholder, kRefused };
  Kind kind;
  std::string_view text;  // as written
  Slot slot = Slot::kWindow;
  Lex lex = Lex::kCode;  // kPlaceholder: where it stands
  std::string problem;   // kRefused: the message
};

bool IsNameByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// "column C", or "line L, column C" when the template has several lines.
std::string Where(std::string_view tmpl, size_t offset) {
  if (tmpl.find('\n') == std::string_view::npos) return fmt::format("column {}", offset + 1);
  return TextPosition(tmpl, offset);
}

// Reads `tmpl` piece by piece (prometheus.h, "Query templates"), handing
// each piece to `emit`; stops early when `emit` returns false.
template <class Emit>
void ScanTemplate(std::string_view tmpl, Emit emit) {
  Lex lex = Lex::kCode;
  size_t text_start = 0;
  size_t at = 0;
  // Hands on the text from text_start to `end`, if any.
  auto flush = [&](size_t end) {
    if (end <= text_start) return true;
    return emit(Piece{Piece::Kind::kText, tmpl.substr(text_start, end - text_start)});
  };
  auto refuse = [&](size_t begin, size_t end, std::string problem) {
    text_start = end;
    at = end;
    return emit(Piece{Piece::Kind::kRefused, tmpl.substr(begin, end - begin), Slot::kWindow, lex,
                      fmt::format("query template: {}", problem)});
  };
  while (at < tmpl.size()) {
    if (tmpl.substr(at).starts_with("{{")) {
      if (!flush(at)) return;
      size_t begin = at;
      size_t cursor = at + 2;
      auto skip_blanks = [&] {
        while (cursor < tmpl.size() && (tmpl[cursor] == ' ' || tmpl[cursor] == '\t')) ++cursor;
      };
      skip_blanks();
      size_t name_begin = cursor;
      while (cursor < tmpl.size() && IsNameByte(tmpl[cursor])) ++cursor;
      std::string_view name = tmpl.substr(name_begin, cursor - name_begin);
      skip_blanks();
      if (name.empty() || !tmpl.substr(cursor).starts_with("}}")) {
        if (!refuse(begin, begin + 2, fmt::format("unclosed \"{{{{\" at {}", Where(tmpl, begin)))) {
          return;
        }
        continue;
      }
      size_t end = cursor + 2;
      auto known = std::find(kSlotNames.begin(), kSlotNames.end(), name);
      if (known == kSlotNames.end()) {
        std::string_view shown = name.substr(0, 64);
        if (!refuse(begin, end,
                    fmt::format("unknown placeholder {{{{{}{}}}}} at {} (known: {})", shown,
                                shown.size() < name.size() ? "..." : "", Where(tmpl, begin),
                                fmt::join(kSlotNames, ", ")))) {
          return;
        }
        continue;
      }
      auto slot = static_cast<Slot>(known - kSlotNames.begin());
      if (slot != Slot::kWindow && lex != Lex::kDoubleQuoted && lex != Lex::kSingleQuoted) {
        if (!refuse(begin, end,
                    fmt::format("{{{{{}}}}} at {} must be inside a \"...\" or '...' string", name,
                                Where(tmpl, begin)))) {
          return;
        }
        continue;
      }
      text_start = end;
      at = end;
      if (!emit(Piece{Piece::Kind::kPlaceholder, tmpl.substr(begin, end - begin), slot, lex})) {
        return;
      }
      continue;
    }
    char c = tmpl[at];
    switch (lex) {
      case Lex::kCode:
        if (c == '"') lex = Lex::kDoubleQuoted;
        if (c == '\'') lex = Lex::kSingleQuoted;
        if (c == '`') lex = Lex::kBacktick;
        if (c == '#') lex = Lex::kComment;
        ++at;
        break;
      case Lex::kDoubleQuoted:
      case Lex::kSingleQuoted:
        if (c == '\\') {
          if (at + 1 < tmpl.size() && tmpl[at + 1] == '{') {
            if (!flush(at)) return;
            // Both bytes go as written: PromQL refuses the escape, and the
            // "{" can no longer open a placeholder behind a backslash.
            if (!refuse(
                    at, at + 2,
                    fmt::format("\"\\{{\" at {} is not a PromQL string escape", Where(tmpl, at)))) {
              return;
            }
            continue;
          }
          at = std::min(at + 2, tmpl.size());
          break;
        }
        if (c == (lex == Lex::kDoubleQuoted ? '"' : '\'')) lex = Lex::kCode;
        ++at;
        break;
      case Lex::kBacktick:
        if (c == '`') lex = Lex::kCode;
        ++at;
        break;
      case Lex::kComment:
        if (c == '\n') lex = Lex::kCode;
        ++at;
        break;
    }
  }
  flush(tmpl.size());
}

// `value` escaped for a PromQL string literal opened by `quote`.
void AppendEscaped(std::string* out, std::string_view value, char quote) {
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\\' || c == quote) {
      *out += '\\';
      *out += c;
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '\r') {
      *out += "\\r";
    } else if (c == '\t') {
      *out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      fmt::format_to(std::back_inserter(*out), "\\x{:02x}", byte);
    } else {
      *out += c;
    }
  }
}

std::string PromQlDuration(int64_t ms) {
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

}  // namespace

Result<void> CheckQueryTemplate(std::string_view tmpl) {
  if (tmpl.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return std::unexpected(Error::InvalidArgument("query template: empty"));
  }
  std::optional<std::string> problem;
  ScanTemplate(tmpl, [&](Piece piece) {
    if (piece.kind != Piece::Kind::kRefused) return true;
    problem = std::move(piece.problem);
    return false;
  });
  if (problem) return std::unexpected(Error::InvalidArgument(std::move(*problem)));
  return Ok();
}

std::string ExpandQuery(std::string_view tmpl, const QueryContext& ctx) {
  std::string out;
  out.reserve(tmpl.size());
  ScanTemplate(tmpl, [&](const Piece& piece) {
    if (piece.kind != Piece::Kind::kPlaceholder) {
      out += piece.text;
      return true;
    }
    char quote = piece.lex == Lex::kSingleQuoted ? '\'' : '"';
    switch (piece.slot) {
      case Slot::kService:
        AppendEscaped(&out, ctx.service, quote);
        break;
      case Slot::kVersion:
        AppendEscaped(&out, ctx.version, quote);
        break;
      case Slot::kBaselineVersion:
        AppendEscaped(&out, ctx.baseline_version, quote);
        break;
      case Slot::kEnvironment:
        AppendEscaped(&out, ctx.environment, quote);
        break;
      case Slot::kWindow:
        out += PromQlDuration(ctx.window_ms);
        break;
    }
    return true;
  });
  return out;
}

}  // namespace interlock::governance
