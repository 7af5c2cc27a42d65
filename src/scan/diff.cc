#include "scan/diff.h"

#include <fmt/format.h>

#include <charconv>

namespace interlock::scan {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "+c,d" or "+c" (and the same with '-'): the start and the count.
bool ParseRange(std::string_view text, uint64_t* start, uint64_t* count) {
  size_t comma = text.find(',');
  std::string_view first = text.substr(0, comma);
  auto [p, ec] = std::from_chars(first.data(), first.data() + first.size(), *start);
  if (ec != std::errc() || p != first.data() + first.size() || first.empty()) return false;
  *count = 1;
  if (comma == std::string_view::npos) return true;
  std::string_view second = text.substr(comma + 1);
  auto [q, ec2] = std::from_chars(second.data(), second.data() + second.size(), *count);
  return ec2 == std::errc() && q == second.data() + second.size() && !second.empty();
}

}  // namespace

Result<std::string> UnquoteGitPath(std::string_view path) {
  if (path.size() < 2 || path.front() != '"' || path.back() != '"') return std::string(path);
  std::string out;
  std::string_view body = path.substr(1, path.size() - 2);
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= body.size())
      return std::unexpected(Error::InvalidArgument("a quoted path ends in \\"));
    char e = body[i];
    switch (e) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'v':
        out += '\v';
        break;
      case 'f':
        out += '\f';
        break;
      case 'r':
        out += '\r';
        break;
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      default: {
        if (e < '0' || e > '3' || i + 2 >= body.size() || body[i + 1] < '0' || body[i + 1] > '7' ||
            body[i + 2] < '0' || body[i + 2] > '7') {
          return std::unexpected(
              Error::InvalidArgument(fmt::format("a quoted path has a bad escape \\{}", e)));
        }
        out += static_cast<char>((e - '0') * 64 + (body[i + 1] - '0') * 8 + (body[i + 2] - '0'));
        i += 2;
      }
    }
  }
  return out;
}

Result<std::vector<AddedLines>> ParseUnifiedDiff(std::string_view diff) {
  std::vector<AddedLines> files;
  AddedLines* current = nullptr;
  uint64_t old_left = 0, new_left = 0, next_line = 0;
  uint64_t line_number = 0;
  auto fail = [&](std::string_view what) {
    return std::unexpected(Error::InvalidArgument(fmt::format("diff:{}: {}", line_number, what)));
  };
  size_t pos = 0;
  while (pos < diff.size()) {
    size_t newline = diff.find('\n', pos);
    std::string_view line = diff.substr(
        pos, newline == std::string_view::npos ? std::string_view::npos : newline - pos);
    pos = newline == std::string_view::npos ? diff.size() : newline + 1;
    ++line_number;
    if (old_left > 0 || new_left > 0) {  // inside a hunk
      if (line.empty()) return fail("an empty line inside a hunk");
      switch (line[0]) {
        case '+':
          if (new_left == 0) return fail("more added lines than the hunk header says");
          --new_left;
          current->text.append(line.substr(1));
          current->text += '\n';
          current->lines.push_back(next_line++);
          break;
        case '-':
          if (old_left == 0) return fail("more removed lines than the hunk header says");
          --old_left;
          break;
        case ' ':
          if (old_left == 0 || new_left == 0)
            return fail("more context lines than the hunk header says");
          --old_left;
          --new_left;
          ++next_line;
          break;
        case '\\':
          break;
        default:
          return fail("a hunk line must start with '+', '-', ' ' or '\\'");
      }
      continue;
    }
    if (StartsWith(line, "diff --git ")) {
      files.emplace_back();
      current = &files.back();
    } else if (StartsWith(line, "+++ ")) {
      if (current == nullptr) return fail("\"+++\" before \"diff --git\"");
      std::string_view name = line.substr(4);
      // git ends the name with a tab when it holds a space.
      if (name.ends_with('\t')) name.remove_suffix(1);
      if (name == "/dev/null") continue;
      auto unquoted = UnquoteGitPath(name);
      if (!unquoted) return fail(unquoted.error().message());
      if (!StartsWith(*unquoted, "b/"))
        return fail("expected the new file's path to start with b/");
      current->path = unquoted->substr(2);
    } else if (StartsWith(line, "Binary files ") && line.ends_with(" differ")) {
      if (current == nullptr) return fail("\"Binary files\" before \"diff --git\"");
      std::string_view names = line.substr(13, line.size() - 13 - 7);
      size_t at = names.rfind(" and \"b/");
      if (at == std::string_view::npos) at = names.rfind(" and b/");
      if (at == std::string_view::npos) return fail("cannot read the binary file's name");
      auto unquoted = UnquoteGitPath(names.substr(at + 5));
      if (!unquoted) return fail(unquoted.error().message());
      current->path = unquoted->substr(2);
      current->binary = true;
    } else if (StartsWith(line, "@@ ")) {
      if (current == nullptr || current->path.empty())
        return fail("a hunk before its file's \"+++\" line");
      size_t end = line.find(" @@", 3);
      if (end == std::string_view::npos) return fail("a hunk header without its closing @@");
      std::string_view ranges = line.substr(3, end - 3);
      size_t space = ranges.find(' ');
      uint64_t old_start = 0, new_start = 0;
      if (space == std::string_view::npos || ranges[0] != '-' || ranges[space + 1] != '+' ||
          !ParseRange(ranges.substr(1, space - 1), &old_start, &old_left) ||
          !ParseRange(ranges.substr(space + 2), &new_start, &new_left)) {
        return fail("a malformed hunk header");
      }
      next_line = new_start;
    }
    // Other header lines (index, mode, rename, similarity, ---) say nothing
    // about added lines.
  }
  if (old_left > 0 || new_left > 0) return fail("the diff ends inside a hunk");
  std::erase_if(
      files, [](const AddedLines& f) { return f.path.empty() || (!f.binary && f.text.empty()); });
  return files;
}

}  // namespace interlock::scan
