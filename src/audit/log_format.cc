// The bytes of a record (docs/audit-format.md, sections 1 and 6): its leaf
// bytes, its row bytes and row tag, and the opening of a sealed payload.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "audit/log_impl.h"

namespace interlock::audit {

void PutBigEndian(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetBigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

void RowBytes(const store::AuditRecord& r, std::string& out) {
  const std::string_view fields[] = {r.key_id, r.event_type, r.environment, r.actor_tag};
  size_t size = kRowLabel.size() + 8 + 8 + 1;
  for (std::string_view field : fields) size += 8 + field.size();
  out.resize(size);
  char* at = std::copy(kRowLabel.begin(), kRowLabel.end(), out.data());
  auto put = [&at](uint64_t v) {
    if constexpr (std::endian::native == std::endian::little) v = std::byteswap(v);
    std::memcpy(at, &v, sizeof v);
    at += sizeof v;
  };
  put(r.index);
  put(static_cast<uint64_t>(r.recorded_at));
  *at++ = static_cast<char>(r.retention_class);
  for (std::string_view field : fields) {
    put(field.size());
    at = std::copy(field.begin(), field.end(), at);
  }
}

std::string RowTag(Hmac& mac, const store::AuditRecord& r, std::string& scratch) {
  RowBytes(r, scratch);
  auto tag = mac.Mac(scratch);
  return std::string(reinterpret_cast<const char*>(tag.data()), kRowTagSize);
}

std::string StateAad(std::string_view kind, std::string_view id) {
  std::string aad("interlock state v1");
  PutBigEndian(&aad, kind.size());
  aad += kind;
  aad += id;
  return aad;
}

Result<LeafFields> OpenRecord(Aead& aead, const Key256& key, const store::AuditRecord& r,
                              std::string& leaf, std::string& scratch) {
  RowBytes(r, scratch);
  if (!aead.OpenInto(key, *r.payload, scratch, leaf)) {
    return std::unexpected(Error::Corruption(fmt::format(
        "record {}: the payload fails authentication (changed, or moved from another index)",
        r.index)));
  }
  auto fields = ParseLeaf(leaf);
  if (!fields) {
    return std::unexpected(
        Error::Corruption(fmt::format("record {}: {}", r.index, fields.error().message())));
  }
  if (fields->index != r.index) {
    return std::unexpected(Error::Corruption(fmt::format(
        "record {}: its leaf bytes name index {} (records reordered)", r.index, fields->index)));
  }
  if (fields->recorded_at != r.recorded_at || fields->retention_class != r.retention_class) {
    return std::unexpected(Error::Corruption(
        fmt::format("record {}: its row's time or class differs from its leaf bytes", r.index)));
  }
  return fields;
}

Result<LeafFields> ParseLeaf(std::string_view leaf) {
  if (leaf.size() < kLeafHeaderSize || static_cast<uint8_t>(leaf[0]) != kLeafVersion) {
    return std::unexpected(Error::Corruption("leaf bytes of an unknown format"));
  }
  LeafFields f;
  f.index = GetBigEndian(leaf.substr(1, 8));
  f.recorded_at = static_cast<UnixMillis>(GetBigEndian(leaf.substr(9, 8)));
  f.retention_class = static_cast<uint8_t>(leaf[17 + kSaltSize]);
  f.event = leaf.substr(kLeafHeaderSize);
  return f;
}

}  // namespace interlock::audit
