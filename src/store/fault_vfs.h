// A SQLite VFS that fails chosen storage calls on purpose, so tests can show what Interlock does
// when a write, an fsync or a read fails below SQLite (a full disk, a dying device).
//
// The VFS wraps the VFS that is SQLite's default when Register() first runs and forwards every
// call to it unchanged, except that xWrite, xSync and xRead on files opened through it (main
// database, rollback journal, WAL, temporary files) first consult one process-wide fault plan.
// A call that fails never reaches the underlying file: a failed write writes nothing, so
// SQLITE_FULL looks to SQLite exactly like a full disk, and a failed sync syncs nothing.
// Connections opened through any other VFS are never affected.
//
// Not covered: reads served from a memory map (PRAGMA mmap_size > 0, off by default) bypass
// xRead and are neither counted nor failed; shared-memory (WAL index) calls are never failed.
//
// Thread safety: every member may be called from any thread, concurrently with I/O on any
// connection. The plan and counters are atomics; a call that races with FailAfter or Clear is
// judged by either the old or the new plan.
//
// Usage:
//   sqlite3_open_v2(path, &db, flags, FaultVfs::Register());
//   FaultVfs::FailAfter(FaultOp::kSync, 0, SQLITE_IOERR_FSYNC, /*sticky=*/false);
//   // The next fsync fails, so the next COMMIT returns SQLITE_IOERR_FSYNC.
#pragma once

#include <cstdint>

namespace interlock::store {

// The storage calls a fault can be planned for: xWrite, xSync and xRead.
enum class FaultOp : uint8_t { kWrite, kSync, kRead };

class FaultVfs {
 public:
  FaultVfs() = delete;  // all state is process-wide

  // Registers the VFS with SQLite on the first call (not as the default VFS) and returns its
  // name, "interlock-fault", to pass as zVfs to sqlite3_open_v2. Later calls, from any thread,
  // return the same name. Returns nullptr if SQLite has no default VFS to wrap or refuses the
  // registration.
  static const char* Register();

  // Replaces the plan for `op`: the next `skip` calls of `op` succeed, the call after them fails
  // with `sqlite_error` (e.g. SQLITE_IOERR_WRITE, SQLITE_FULL, SQLITE_IOERR_FSYNC,
  // SQLITE_IOERR_READ) and, if `sticky`, so does every later call of `op` until the next
  // FailAfter(op, ...) or Clear. SQLITE_IOERR_SHORT_READ on kRead zero-fills the buffer, as
  // SQLite requires of a short read. SQLITE_OK as `sqlite_error` disarms `op`.
  static void FailAfter(FaultOp op, uint64_t skip, int sqlite_error, bool sticky);

  // Disarms every op. Counters are kept.
  static void Clear();

  // Calls of `op` on files opened through this VFS since the last ResetCounters, failed calls
  // included.
  static uint64_t Calls(FaultOp op);
  static void ResetCounters();
};

}  // namespace interlock::store
