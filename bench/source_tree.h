// A generated repository of mixed source for the secret scanner's benchmark
// (bench/secrets_bench, bench/scan.sh): C++, Python, JavaScript,
// TypeScript, Go, Java and Rust files, YAML/TOML/JSON/.env configuration,
// Markdown, lock files (package-lock.json, yarn.lock, Cargo.lock, go.sum),
// minified JavaScript on single long lines, and a sprinkling of
// credentials (some hundreds per GB, each built from random pieces) among
// many more look-alikes (placeholders, environment references, example
// keys, hashes, UUIDs, integrity strings).
//
// Everything comes from one seeded generator, so a given seed and size
// always writes the same files with the same bytes from the same build
// (several draws made in one call's arguments come in the compiler's order
// of evaluation, so another compiler may write other bytes of the same
// kind). Not thread-safe: one SourceTree per thread.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "core/fs.h"

namespace interlock::bench {

class SourceTree {
 public:
  explicit SourceTree(uint64_t seed) : rng_(seed) {}

  // Writes files below `dir` (which it creates) until they hold at least
  // `bytes`; returns the bytes written. Files go to dir/pkgNN/<kind>/...
  Result<size_t> Write(FileSystem& fs, const std::string& dir, size_t bytes) {
    size_t written = 0;
    for (int n = 0; written < bytes; ++n) {
      auto [path, text] = NextFile(n);
      std::string full = fmt::format("{}/{}", dir, path);
      auto made = fs.CreateDirectories(full.substr(0, full.rfind('/')));
      if (!made) return std::unexpected(made.error());
      auto done = fs.WriteFile(full, text);
      if (!done) return std::unexpected(done.error());
      written += text.size();
    }
    return written;
  }

  // The n-th file: its path below the tree's root and its contents.
  std::pair<std::string, std::string> NextFile(int n) {
    std::string pkg = fmt::format("pkg{:02}", n % 48);
    uint32_t kind = Below(1000);
    if (kind < 6) return {fmt::format("{}/deps/lock{}/{}", pkg, n, LockName(n)), Lock(n)};
    if (kind < 16) return {fmt::format("{}/dist/bundle{}.min.js", pkg, n), Minified()};
    if (kind < 110) return {fmt::format("{}/config/{}", pkg, ConfigName(n)), Config()};
    if (kind < 160) return {fmt::format("{}/docs/{}{}.md", pkg, Word(), n), Markdown()};
    static constexpr std::string_view kExt[] = {"cc", "py", "js", "ts", "go", "java", "rs"};
    std::string_view ext = kExt[Below(std::size(kExt))];
    return {fmt::format("{}/src/{}/{}_{}.{}", pkg, Word(), Word(), n, ext), Source(ext)};
  }

 private:
  uint32_t Below(size_t n) { return static_cast<uint32_t>(rng_() % n); }
  bool OneIn(size_t n) { return Below(n) == 0; }

  std::string Pick(std::string_view alphabet, size_t n) {
    std::string out(n, ' ');
    for (char& c : out) c = alphabet[Below(alphabet.size())];
    return out;
  }
  std::string Alnum(size_t n) {
    return Pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", n);
  }
  std::string Hex(size_t n) { return Pick("0123456789abcdef", n); }
  std::string B64(size_t n) {
    return Pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", n);
  }
  std::string Uuid() {
    return Hex(8) + "-" + Hex(4) + "-4" + Hex(3) + "-a" + Hex(3) + "-" + Hex(12);
  }

  std::string_view Word() {
    static constexpr std::string_view kWords[] = {
        "user",   "order",  "item",    "config", "request", "response", "handler", "cache",
        "index",  "value",  "count",   "buffer", "client",  "server",   "session", "payload",
        "result", "error",  "status",  "record", "table",   "query",    "event",   "stream",
        "parser", "token",  "path",    "file",   "node",    "account",  "invoice", "price",
        "queue",  "worker", "metrics", "retry",  "limit",   "batch",    "schema",  "route"};
    return kWords[Below(std::size(kWords))];
  }
  std::string Snake() { return fmt::format("{}_{}", Word(), Word()); }
  std::string Camel() {
    std::string b(Word());
    b[0] = static_cast<char>(b[0] - 'a' + 'A');
    return fmt::format("{}{}", Word(), b);
  }
  std::string Type() {
    std::string a(Word()), b(Word());
    a[0] = static_cast<char>(a[0] - 'a' + 'A');
    b[0] = static_cast<char>(b[0] - 'a' + 'A');
    return a + b;
  }

  // A credential of one of several kinds, made from random pieces.
  std::string Secret() {
    switch (Below(9)) {
      case 0:
        return "ghp_" + Alnum(36);
      case 1:
        return "AKIA" + Pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
      case 2:
        return fmt::format("xoxb-{}-{}-{}", Pick("0123456789", 12), Pick("0123456789", 13),
                           Alnum(24));
      case 3:
        return "sk_live_" + Alnum(24);
      case 4:
        return "glpat-" + Alnum(20);
      case 5:
        return "SG." + Alnum(22) + "." + Alnum(43);
      case 6:
        return "npm_" + Alnum(36);
      case 7:
        return "postgres://app:" + Alnum(20) + "@db.internal:5432/app";
      default: {
        std::string pem = "-----BEGIN RSA PRIVATE KEY-----\n";
        for (int i = 0; i < 12; ++i) pem += B64(64) + "\n";
        return pem + "-----END RSA PRIVATE KEY-----";
      }
    }
  }

  // A line that looks like it might hold a secret and does not.
  std::string LookAlike() {
    switch (Below(12)) {
      case 0:
        return "aws_access_key_id = AKIAIOSFODNN7EXAMPLE";
      case 1:
        return "GITHUB_TOKEN=${GITHUB_TOKEN}";
      case 2:
        return "password = os.environ[\"DB_PASSWORD\"]";
      case 3:
        return "const secretKey = process.env.SECRET_KEY;";
      case 4:
        return "api_key: <your-api-key>";
      case 5:
        return "token = request.headers.get(\"Authorization\")";
      case 6:
        return "DATABASE_URL=postgres://user:password@localhost:5432/db";
      case 7:
        return fmt::format("sha256: {}", Hex(64));
      case 8:
        return fmt::format("request_id = \"{}\"", Uuid());
      case 9:
        return "secret: {{ .Values.apiSecret }}";
      case 10:
        return fmt::format("commit {}", Hex(40));
      default:
        return "max_tokens = 4096";
    }
  }

  // Now and then a credential, more often a look-alike, as a line of the
  // file's own syntax (`comment` starts a comment line).
  void Sprinkle(std::string& out, std::string_view comment) {
    if (OneIn(150)) {
      std::string s = Secret();
      if (s.starts_with("-----")) {
        out += s + "\n";
      } else {
        out += fmt::format("{}_{} = \"{}\"\n", Word(), OneIn(2) ? "token" : "key", s);
      }
    }
    for (int k = 0, n = static_cast<int>(Below(4)); k < n; ++k) {
      out += fmt::format("{} {}\n", comment, LookAlike());
    }
  }

  std::string Source(std::string_view ext) {
    size_t size = (size_t{2} << 10) + Below(size_t{46} << 10);
    std::string out;
    std::string_view comment = ext == "py" ? "#" : "//";
    Sprinkle(out, comment);
    while (out.size() < size) {
      std::string f = Snake(), c = Camel(), t = Type(), a(Word()), b(Word());
      int n = static_cast<int>(Below(1000));
      if (ext == "cc") {
        out += fmt::format(
            "// Returns the {} of the {}; fails when the {} is empty.\n"
            "Result<{}> {}(const std::vector<{}>& {}s, size_t limit) {{\n"
            "  if ({}s.empty()) return Error::InvalidArgument(\"no {}\");\n"
            "  for (size_t i = 0; i < {}s.size() && i < limit; ++i) total += {}s[i].size();\n"
            "  return {}{{.{} = total, .retries = {}}};\n}}\n\n",
            a, b, a, t, c, t, a, a, a, a, a, t, f, n);
      } else if (ext == "py") {
        out += fmt::format(
            "def {}(self, {}, timeout={}):\n"
            "    \"\"\"Loads the {} for {} and caches it.\"\"\"\n"
            "    if {} is None:\n        raise ValueError(\"missing {}\")\n"
            "    result = self._{}.get({}, default=None)\n"
            "    logger.debug(\"loaded %s in %d ms\", {}, {})\n    return result\n\n",
            f, a, n, b, a, a, a, b, a, a, n);
      } else if (ext == "js" || ext == "ts") {
        out += fmt::format(
            "export async function {}({}{}) {{\n"
            "  const url = `https://api.example.com/v1/{}s/${{{}}}?page={}`;\n"
            "  const res = await fetch(url, {{ headers: {{ Accept: 'application/json' }} }});\n"
            "  if (!res.ok) throw new Error(`{} failed: ${{res.status}}`);\n"
            "  return (await res.json()).{};\n}}\n\n",
            c, a, ext == "ts" ? ": string" : "", b, a, n, c, b);
      } else if (ext == "go") {
        out += fmt::format(
            "// {} returns the {} for the given {}.\n"
            "func (s *{}) {}(ctx context.Context, {} string) (*{}, error) {{\n"
            "\trow := s.db.QueryRowContext(ctx, \"SELECT id, name FROM {}s WHERE id = $1\", {})\n"
            "\tvar out {}\n\tif err := row.Scan(&out.ID, &out.Name); err != nil {{\n"
            "\t\treturn nil, fmt.Errorf(\"{} %s: %w\", {}, err)\n\t}}\n\treturn &out, nil\n}}\n\n",
            t, b, a, t, t, a, t, b, a, t, f, a);
      } else if (ext == "java") {
        out += fmt::format(
            "  /** Returns the {} of the {}. */\n"
            "  public Optional<{}> {}(final String {}, int limit) {{\n"
            "    if ({} == null || {}.isEmpty()) {{\n      return Optional.empty();\n    }}\n"
            "    return repository.findBy{}({}, PageRequest.of(0, {}));\n  }}\n\n",
            a, b, t, c, a, a, a, t, a, n);
      } else {
        out += fmt::format(
            "/// Returns the {} of the {}.\n"
            "pub fn {}(&self, {}: &str) -> Result<{}, Error> {{\n"
            "    let row = self.{}.get({}).ok_or(Error::NotFound(\"{}\"))?;\n"
            "    Ok({} {{ id: row.id, limit: {} }})\n}}\n\n",
            a, b, f, a, t, b, a, a, t, n);
      }
      if (OneIn(40)) Sprinkle(out, comment);
    }
    return out;
  }

  std::string ConfigName(int n) {
    static constexpr std::string_view kNames[] = {"values.yaml", "config.toml", "settings.json",
                                                  ".env.example", "application.properties"};
    return fmt::format("{}/{}", n, kNames[Below(std::size(kNames))]);
  }

  std::string Config() {
    size_t size = 512 + Below(8 << 10);
    std::string out;
    Sprinkle(out, "#");
    while (out.size() < size) {
      out += fmt::format(
          "{}:\n  host: {}.internal\n  port: {}\n  timeout_ms: {}\n  replicas: {}\n"
          "  image: registry.example.com/team/{}@sha256:{}\n  password_secret_ref: "
          "{}-credentials\n",
          Snake(), Word(), 1024 + Below(60000), Below(30000), 1 + Below(9), Word(), Hex(64),
          Word());
      if (OneIn(10)) Sprinkle(out, "#");
    }
    return out;
  }

  std::string Markdown() {
    size_t size = (size_t{1} << 10) + Below(24 << 10);
    std::string out = fmt::format("# The {} {}\n\n", Word(), Word());
    while (out.size() < size) {
      out += fmt::format(
          "The {} reads the {} from the {} and retries {} times before it reports an error. "
          "Set `{}` in the environment; never commit the {} token to the repository.\n\n"
          "```sh\nexport {}_TOKEN=<token>\ncurl -H \"Authorization: Bearer $TOKEN\" "
          "https://api.example.com/v1/{}s\n```\n\n",
          Word(), Word(), Word(), Below(10), Snake(), Word(), Word(), Word());
    }
    return out;
  }

  std::string LockName(int n) {
    static constexpr std::string_view kNames[] = {"package-lock.json", "yarn.lock", "Cargo.lock",
                                                  "go.sum"};
    return std::string(kNames[n % 4]);
  }

  std::string Lock(int n) {
    size_t size = (size_t{100} << 10) + Below(size_t{1400} << 10);
    std::string out;
    while (out.size() < size) {
      std::string name = fmt::format("{}-{}", Word(), Word());
      std::string version = fmt::format("{}.{}.{}", Below(10), Below(30), Below(100));
      switch (n % 4) {
        case 0:
          out += fmt::format(
              "    \"node_modules/{}\": {{\n      \"version\": \"{}\",\n"
              "      \"resolved\": \"https://registry.npmjs.org/{}/-/{}-{}.tgz\",\n"
              "      \"integrity\": \"sha512-{}==\",\n      \"dev\": true\n    }},\n",
              name, version, name, name, version, B64(86));
          break;
        case 1:
          out += fmt::format(
              "\"{}@^{}\":\n  version \"{}\"\n  resolved "
              "\"https://registry.yarnpkg.com/{}/-/{}-{}.tgz#{}\"\n  integrity sha512-{}==\n\n",
              name, version, version, name, name, version, Hex(40), B64(86));
          break;
        case 2:
          out += fmt::format(
              "[[package]]\nname = \"{}\"\nversion = \"{}\"\n"
              "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
              "checksum = \"{}\"\n\n",
              name, version, Hex(64));
          break;
        default:
          out += fmt::format("github.com/{}/{} v{} h1:{}=\ngithub.com/{}/{} v{}/go.mod h1:{}=\n",
                             Word(), name, version, B64(43), Word(), name, version, B64(43));
      }
    }
    return out;
  }

  std::string Minified() {
    size_t size = (size_t{100} << 10) + Below(size_t{700} << 10);
    std::string out = "!function(e,t){\"use strict\";";
    while (out.size() < size) {
      std::string a = Alnum(1 + Below(2)), b = Alnum(1 + Below(2));
      switch (Below(4)) {
        case 0:
          out += fmt::format("var {}=function({},{}){{return {}.{}({})||{}}};", a, b, a, b, Camel(),
                             a, Below(100));
          break;
        case 1:
          out += fmt::format("{}.prototype.{}=function(){{this.{}=[],this.{}={}}};", Type(),
                             Camel(), Word(), Word(), Below(1000));
          break;
        case 2:
          out += fmt::format("{}(\"{}\",\"https://cdn.example.com/{}/{}.js\");", a, Hex(8), Word(),
                             Hex(16));
          break;
        default:
          out += fmt::format("if({}&&{}.{}){{{}.{}({})}}else throw new Error(\"{} {}\");", a, a,
                             Word(), b, Camel(), Below(100), Word(), Word());
      }
    }
    return out + "}(window);\n";
  }

  std::mt19937_64 rng_;
};

}  // namespace interlock::bench
