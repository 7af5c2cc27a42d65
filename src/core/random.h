// Randomness behind an interface, so tests can make salts, nonces and keys
// repeatable.
//
// Thread safety: implementations are safe to call from several threads.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/status.h"

namespace interlock {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` with random bytes. Fails only if the system's source does.
  virtual Result<void> Fill(std::span<uint8_t> out) = 0;
};

// The operating system's cryptographic random source (OpenSSL RAND_bytes).
class SystemRandom final : public Random {
 public:
  Result<void> Fill(std::span<uint8_t> out) override;
};

// A repeatable, non-cryptographic sequence for tests (splitmix64).
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  Result<void> Fill(std::span<uint8_t> out) override;

 private:
  std::atomic<uint64_t> state_;
};

}  // namespace interlock
