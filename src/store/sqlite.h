// Thin RAII wrappers over the SQLite C API, shared by the SQLite stores.
// Errors become Result values whose message says what SQLite said.
//
// Thread safety: a Database is used by one thread at a time (callers hold a
// mutex); SQLite is built threadsafe, so separate Databases may run in parallel.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace interlock::store {

class Statement;

class Database {
 public:
  Database() = default;
  ~Database();
  Database(Database&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens (creating if asked) the database at `path` through the VFS named
  // `vfs` (nullptr: the default).
  static Result<Database> Open(const std::string& path, bool create, const char* vfs);

  Result<void> Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() const { return db_; }

  // An error whose message names `what` and SQLite's own explanation; SQLITE_FULL
  // and I/O errors become kIo, a locked database kUnavailable, bad data kCorruption.
  Error ErrorFor(std::string_view what, int code) const;

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(Statement&& other) noexcept : stmt_(other.stmt_), db_(other.db_) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding is 1-based, as in SQLite.
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, std::string_view bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }

  // True while a row is available; false at the end.
  Result<bool> Step();
  // Step() on a statement that returns no rows.
  Result<void> Run();
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const;  // text or blob bytes
  // The same bytes without a copy, valid until the next Step or Reset.
  std::string_view View(int col) const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, const Database* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_ = nullptr;
  const Database* db_ = nullptr;
};

}  // namespace interlock::store
