#include "audit/state_binding.h"

#include <fmt/format.h>

namespace interlock::audit {
namespace {

using json = nlohmann::json;

std::array<uint8_t, 32> ElementHash(const std::string& kind, const std::string& id,
                                    const Sha256& digest) {
  Sha256Hasher h;
  h.Update(std::string_view("interlock state\0", 16));
  h.Update(kind);
  h.Update(std::string_view("\0", 1));
  h.Update(id);
  h.Update(std::string_view("\0", 1));
  h.Update(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  return h.Finish();
}

// root += x or root -= x, modulo 2^256, both big-endian.
void AddTo(std::array<uint8_t, 32>& root, const std::array<uint8_t, 32>& x, bool subtract) {
  int carry = 0;
  for (int i = 31; i >= 0; --i) {
    int v = subtract ? root[i] - x[i] - carry : root[i] + x[i] + carry;
    carry = subtract ? (v < 0 ? 1 : 0) : (v > 255 ? 1 : 0);
    root[i] = static_cast<uint8_t>(v & 0xff);
  }
}

std::optional<Sha256> FromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Sha256 out{};
  for (size_t i = 0; i < 32; ++i) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace

Sha256 StateDigest(std::string_view value) {
  Sha256Hasher h;
  h.Update(value);
  return h.Finish();
}

void StateBindings::Apply(const std::string& kind, const std::string& id,
                          const std::optional<Sha256>& digest) {
  Key key{kind, id};
  auto it = rows_.find(key);
  if (it != rows_.end()) {
    AddTo(root_, ElementHash(kind, id, it->second), true);
    if (!digest) {
      rows_.erase(it);
      return;
    }
    it->second = *digest;
  } else if (digest) {
    rows_.emplace(std::move(key), *digest);
  } else {
    return;
  }
  AddTo(root_, ElementHash(kind, id, *digest), false);
}

std::string StateBindings::RootHex() const { return ToHex(root_.data(), root_.size()); }

Result<Event> BindEvent(const Event& event, const std::vector<StateRowChange>& changes,
                        const std::optional<std::string>& root_hex) {
  json j = json::parse(event.canonical, nullptr, false);
  if (!j.is_object()) return std::unexpected(Error::Internal("a canonical event is not JSON"));
  if (!changes.empty()) {
    json rows = json::array();
    for (const StateRowChange& c : changes) {
      rows.push_back({{"kind", c.kind},
                      {"id", c.id},
                      {"digest", c.digest ? json(ToHex(*c.digest)) : json(nullptr)}});
    }
    j["state_rows"] = std::move(rows);
  }
  if (root_hex) j["state_root"] = *root_hex;
  return MakeEvent(std::move(j), event.timestamp);
}

Result<StateClaims> ReadStateClaims(std::string_view canonical_event) {
  StateClaims out;
  // Most records carry neither; skip the parse for them.
  if (canonical_event.find("\"state_r") == std::string_view::npos) return out;
  json j = json::parse(canonical_event, nullptr, false);
  auto bad = [](std::string what) {
    return std::unexpected(Error::Corruption(fmt::format("state binding: {}", what)));
  };
  if (!j.is_object()) return bad("the event is not a JSON object");
  if (auto root = j.find("state_root"); root != j.end()) {
    if (!root->is_string() || !FromHex(root->get<std::string>())) {
      return bad("state_root is not 64 lower-case hex digits");
    }
    out.root_hex = root->get<std::string>();
  }
  if (auto rows = j.find("state_rows"); rows != j.end()) {
    if (!rows->is_array()) return bad("state_rows is not an array");
    for (const json& r : *rows) {
      if (!r.is_object() || !r.contains("kind") || !r["kind"].is_string() || !r.contains("id") ||
          !r["id"].is_string() || !r.contains("digest")) {
        return bad("an entry of state_rows lacks kind, id or digest");
      }
      StateRowChange c{r["kind"].get<std::string>(), r["id"].get<std::string>(), std::nullopt};
      if (!r["digest"].is_null()) {
        auto d = r["digest"].is_string() ? FromHex(r["digest"].get<std::string>()) : std::nullopt;
        if (!d) return bad(fmt::format("the digest of {} {} is not hex", c.kind, c.id));
        c.digest = *d;
      }
      out.changes.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace interlock::audit
