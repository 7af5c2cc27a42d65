#include "store/sqlite.h"

#include <fmt/format.h>

namespace interlock::store {

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

Result<Database> Database::Open(const std::string& path, bool create, const char* vfs) {
  // Memory statistics take a global mutex on every allocation; Interlock
  // does not read them. Must precede the library's initialisation.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs);
  Database out(db);
  if (rc != SQLITE_OK) {
    if (!db) return std::unexpected(Error::Io(fmt::format("{}: cannot open: out of memory", path)));
    return std::unexpected(out.ErrorFor(fmt::format("{}: cannot open", path), rc));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 10000);
  return out;
}

Error Database::ErrorFor(std::string_view what, int code) const {
  std::string message =
      fmt::format("{}: {}", what, db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code));
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error::Unavailable(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error::Corruption(std::move(message));
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return Error::PermissionDenied(std::move(message));
    default:
      return Error::Io(std::move(message));
  }
}

Result<void> Database::Exec(std::string_view sql) {
  std::string copy(sql);
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(ErrorFor(sql.substr(0, 40), rc));
  return Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(ErrorFor(sql.substr(0, 40), rc));
  return Statement(stmt, this);
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error error = db_->ErrorFor(sqlite3_sql(stmt_), rc);
  sqlite3_reset(stmt_);
  return std::unexpected(std::move(error));
}

Result<void> Statement::Run() {
  auto row = Step();
  Reset();
  if (!row) return std::unexpected(row.error());
  return Ok();
}

std::string Statement::Text(int col) const { return std::string(View(col)); }

std::string_view Statement::View(int col) const {
  const void* data = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (!data || n <= 0) return {};
  return {static_cast<const char*>(data), static_cast<size_t>(n)};
}

}  // namespace interlock::store
