// Fuzzes the signed-note and checkpoint parsers: a note checked against a
// fixed key, the note's text read as a checkpoint, and the input read as a
// verifier key. A checkpoint that parses must format back to the same text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "audit/note.h"
#include "core/random.h"

namespace {

const interlock::audit::NoteVerifier& Verifier() {
  static const interlock::audit::NoteVerifier* v = [] {
    interlock::SeededRandom random(7);
    auto signer = interlock::audit::NoteSigner::Generate("interlock/audit/fuzz", random);
    if (!signer) __builtin_trap();
    auto parsed = interlock::audit::NoteVerifier::Parse(signer->VerifierKey());
    if (!parsed) __builtin_trap();
    return new interlock::audit::NoteVerifier(*parsed);
  }();
  return *v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)Verifier().Verify(text);
  (void)interlock::audit::NoteVerifier::Parse(text);
  auto cp = interlock::audit::ParseCheckpoint(text);
  if (cp && interlock::audit::FormatCheckpoint(*cp) != text) __builtin_trap();
  return 0;
}
