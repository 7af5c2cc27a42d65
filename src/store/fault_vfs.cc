#include "store/fault_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <limits>

namespace interlock::store {
namespace {

// What a call does once the countdown has run out. One word, so a call never pairs the error of
// one plan with the stickiness of another.
struct Mode {
  int error = SQLITE_OK;  // SQLITE_OK: disarmed
  bool sticky = false;
};
static_assert(std::atomic<Mode>::is_always_lock_free);

struct OpPlan {
  std::atomic<Mode> mode{Mode{}};
  // Calls still allowed to succeed before the fault fires; negative once it has fired.
  std::atomic<int64_t> remaining{0};
  std::atomic<uint64_t> calls{0};
};

OpPlan& PlanFor(FaultOp op) {
  static std::array<OpPlan, 3> plans;
  return plans[static_cast<size_t>(op)];
}

// Counts a call of `op` and returns SQLITE_OK to forward it, or the error to fail it with.
int Decide(FaultOp op) {
  OpPlan& plan = PlanFor(op);
  plan.calls.fetch_add(1);
  const Mode mode = plan.mode.load();
  if (mode.error == SQLITE_OK) return SQLITE_OK;
  // One atomic step per call, so with concurrent callers exactly one of them is the first to fail.
  const int64_t before = plan.remaining.fetch_sub(1);
  if (before > 0) return SQLITE_OK;
  if (before == 0 || mode.sticky) return mode.error;
  return SQLITE_OK;  // a one-shot fault that has already fired
}

// SQLite allocates szOsFile bytes for each open file: this header, which SQLite sees, then the
// wrapped VFS's own file. The alignment keeps the wrapped file as aligned as a malloc'd one.
struct alignas(std::max_align_t) FaultFile {
  sqlite3_file base;
};

sqlite3_file* Inner(sqlite3_file* file) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<std::byte*>(file) + sizeof(FaultFile));
}

// sqlite3_io_methods: the three faultable calls, then plain forwarding.

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  if (const int rc = Decide(FaultOp::kWrite); rc != SQLITE_OK) return rc;
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xWrite(inner, data, amount, offset);
}

int Sync(sqlite3_file* file, int flags) {
  if (const int rc = Decide(FaultOp::kSync); rc != SQLITE_OK) return rc;
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xSync(inner, flags);
}

int Read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  if (const int rc = Decide(FaultOp::kRead); rc != SQLITE_OK) {
    // SQLite uses the buffer after a short read and relies on the missing part being zero.
    if (rc == SQLITE_IOERR_SHORT_READ) std::memset(buffer, 0, static_cast<size_t>(amount));
    return rc;
  }
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xRead(inner, buffer, amount, offset);
}

int Close(sqlite3_file* file) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xClose(inner);
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xTruncate(inner, size);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xFileSize(inner, size);
}

int Lock(sqlite3_file* file, int level) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xLock(inner, level);
}

int Unlock(sqlite3_file* file, int level) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xUnlock(inner, level);
}

int CheckReservedLock(sqlite3_file* file, int* reserved) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xCheckReservedLock(inner, reserved);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xFileControl(inner, op, arg);
}

int SectorSize(sqlite3_file* file) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xSectorSize(inner);
}

int DeviceCharacteristics(sqlite3_file* file) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xDeviceCharacteristics(inner);
}

int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xShmMap(inner, region, size, extend, out);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xShmLock(inner, offset, n, flags);
}

void ShmBarrier(sqlite3_file* file) {
  sqlite3_file* inner = Inner(file);
  inner->pMethods->xShmBarrier(inner);
}

int ShmUnmap(sqlite3_file* file, int delete_flag) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xShmUnmap(inner, delete_flag);
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xFetch(inner, offset, amount, out);
}

int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  sqlite3_file* inner = Inner(file);
  return inner->pMethods->xUnfetch(inner, offset, page);
}

// SQLite decides what a file supports (WAL needs version 2, memory mapping version 3) from
// iVersion, so each wrapped file gets the table of the wrapped file's own version.
constexpr sqlite3_io_methods MakeMethods(int version) {
  sqlite3_io_methods methods{};
  methods.iVersion = version;
  methods.xClose = Close;
  methods.xRead = Read;
  methods.xWrite = Write;
  methods.xTruncate = Truncate;
  methods.xSync = Sync;
  methods.xFileSize = FileSize;
  methods.xLock = Lock;
  methods.xUnlock = Unlock;
  methods.xCheckReservedLock = CheckReservedLock;
  methods.xFileControl = FileControl;
  methods.xSectorSize = SectorSize;
  methods.xDeviceCharacteristics = DeviceCharacteristics;
  if (version >= 2) {
    methods.xShmMap = ShmMap;
    methods.xShmLock = ShmLock;
    methods.xShmBarrier = ShmBarrier;
    methods.xShmUnmap = ShmUnmap;
  }
  if (version >= 3) {
    methods.xFetch = Fetch;
    methods.xUnfetch = Unfetch;
  }
  return methods;
}

constexpr std::array<sqlite3_io_methods, 3> kMethods = {MakeMethods(1), MakeMethods(2),
                                                        MakeMethods(3)};

// Versions above 3 postdate this code, so they are wrapped as version 3.
const sqlite3_io_methods* MethodsLike(const sqlite3_io_methods* inner) {
  return &kMethods[static_cast<size_t>(std::clamp(inner->iVersion, 1, 3) - 1)];
}

// sqlite3_vfs: only xOpen does more than forward to the wrapped VFS, kept in pAppData.

sqlite3_vfs* Wrapped(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_file* inner = Inner(file);
  inner->pMethods = nullptr;
  const int rc = Wrapped(vfs)->xOpen(Wrapped(vfs), name, inner, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set, even after a failed open; setting ours exactly
  // when the wrapped VFS set its own keeps every inner open paired with one inner close.
  file->pMethods = inner->pMethods == nullptr ? nullptr : MethodsLike(inner->pMethods);
  return rc;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Wrapped(vfs)->xDelete(Wrapped(vfs), name, sync_dir);
}

int Access(sqlite3_vfs* vfs, const char* name, int flags, int* result) {
  return Wrapped(vfs)->xAccess(Wrapped(vfs), name, flags, result);
}

int FullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  return Wrapped(vfs)->xFullPathname(Wrapped(vfs), name, size, out);
}

void* DlOpen(sqlite3_vfs* vfs, const char* name) {
  return Wrapped(vfs)->xDlOpen(Wrapped(vfs), name);
}

void DlError(sqlite3_vfs* vfs, int size, char* out) {
  Wrapped(vfs)->xDlError(Wrapped(vfs), size, out);
}

using Symbol = void (*)();
Symbol DlSym(sqlite3_vfs* vfs, void* handle, const char* name) {
  return Wrapped(vfs)->xDlSym(Wrapped(vfs), handle, name);
}

void DlClose(sqlite3_vfs* vfs, void* handle) { Wrapped(vfs)->xDlClose(Wrapped(vfs), handle); }

int Randomness(sqlite3_vfs* vfs, int size, char* out) {
  return Wrapped(vfs)->xRandomness(Wrapped(vfs), size, out);
}

int Sleep(sqlite3_vfs* vfs, int micros) { return Wrapped(vfs)->xSleep(Wrapped(vfs), micros); }

int CurrentTime(sqlite3_vfs* vfs, double* out) {
  return Wrapped(vfs)->xCurrentTime(Wrapped(vfs), out);
}

int GetLastError(sqlite3_vfs* vfs, int size, char* out) {
  return Wrapped(vfs)->xGetLastError(Wrapped(vfs), size, out);
}

int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Wrapped(vfs)->xCurrentTimeInt64(Wrapped(vfs), out);
}

int SetSystemCall(sqlite3_vfs* vfs, const char* name, sqlite3_syscall_ptr call) {
  return Wrapped(vfs)->xSetSystemCall(Wrapped(vfs), name, call);
}

sqlite3_syscall_ptr GetSystemCall(sqlite3_vfs* vfs, const char* name) {
  return Wrapped(vfs)->xGetSystemCall(Wrapped(vfs), name);
}

const char* NextSystemCall(sqlite3_vfs* vfs, const char* name) {
  return Wrapped(vfs)->xNextSystemCall(Wrapped(vfs), name);
}

sqlite3_vfs MakeVfs(sqlite3_vfs* wrapped) {
  sqlite3_vfs vfs{};
  // Claim no more than the wrapped VFS offers, and no more than this code forwards.
  vfs.iVersion = std::min(wrapped->iVersion, 3);
  vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + wrapped->szOsFile;
  vfs.mxPathname = wrapped->mxPathname;
  vfs.zName = "interlock-fault";
  vfs.pAppData = wrapped;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  if (vfs.iVersion >= 2) vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  if (vfs.iVersion >= 3) {
    vfs.xSetSystemCall = SetSystemCall;
    vfs.xGetSystemCall = GetSystemCall;
    vfs.xNextSystemCall = NextSystemCall;
  }
  return vfs;
}

}  // namespace

const char* FaultVfs::Register() {
  // A function-local static registers exactly once, even when threads race to get here.
  static const char* const name = []() -> const char* {
    sqlite3_vfs* wrapped = sqlite3_vfs_find(nullptr);
    if (wrapped == nullptr) return nullptr;
    static sqlite3_vfs vfs = MakeVfs(wrapped);  // SQLite keeps the pointer for good
    return sqlite3_vfs_register(&vfs, /*makeDflt=*/0) == SQLITE_OK ? vfs.zName : nullptr;
  }();
  return name;
}

void FaultVfs::FailAfter(FaultOp op, uint64_t skip, int sqlite_error, bool sticky) {
  OpPlan& plan = PlanFor(op);
  constexpr uint64_t kMaxSkip = std::numeric_limits<int64_t>::max();  // never reached in practice
  // Countdown first, so a call that sees the new mode also sees the new countdown.
  plan.remaining.store(static_cast<int64_t>(std::min(skip, kMaxSkip)));
  plan.mode.store(Mode{sqlite_error, sticky});
}

void FaultVfs::Clear() {
  for (FaultOp op : {FaultOp::kWrite, FaultOp::kSync, FaultOp::kRead}) {
    PlanFor(op).mode.store(Mode{});
  }
}

uint64_t FaultVfs::Calls(FaultOp op) { return PlanFor(op).calls.load(); }

void FaultVfs::ResetCounters() {
  for (FaultOp op : {FaultOp::kWrite, FaultOp::kSync, FaultOp::kRead}) {
    PlanFor(op).calls.store(0);
  }
}

}  // namespace interlock::store
