// SQLite helpers shared by the results database's source files (internal to bench/store):
// a prepared statement with typed binds and columns, exec, and a write transaction.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <ctime>
#include <expected>
#include <optional>
#include <string>

namespace derma::store::sqlite {

inline std::string now_utc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---------------------------------------------------------------------------------------
// RAII around the SQLite C API: a prepared statement with typed binds and columns.

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      error_ = sqlite3_errmsg(db);
      stmt_ = nullptr;
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr && error_.empty(); }
  const std::string& error() const { return error_; }

  Statement& bind(const std::string& v) {
    check(
        sqlite3_bind_text(stmt_, ++next_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(const char* v) { return bind(std::string(v)); }
  Statement& bind(std::int64_t v) {
    check(sqlite3_bind_int64(stmt_, ++next_, v));
    return *this;
  }
  Statement& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
  Statement& bind(double v) {
    check(sqlite3_bind_double(stmt_, ++next_, v));
    return *this;
  }
  Statement& bind(std::optional<double> v) {
    if (v) return bind(*v);
    check(sqlite3_bind_null(stmt_, ++next_));
    return *this;
  }
  Statement& bind(std::optional<int> v) {
    if (v) return bind(*v);
    check(sqlite3_bind_null(stmt_, ++next_));
    return *this;
  }
  // Empty text binds NULL: for optional foreign keys.
  Statement& bind_or_null(const std::string& v) {
    if (!v.empty()) return bind(v);
    check(sqlite3_bind_null(stmt_, ++next_));
    return *this;
  }

  // True while there is a row; false when done or on error (then error() says why).
  bool step() {
    if (!ok()) return false;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(db_);
    return false;
  }
  // Runs a statement that returns no rows.
  std::expected<void, std::string> run() {
    step();
    if (!ok()) return std::unexpected(error_);
    return {};
  }

  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::optional<double> real(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_double(stmt_, col);
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK && error_.empty()) error_ = sqlite3_errmsg(db_);
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string error_;
  int next_ = 0;
};

inline std::expected<void, std::string> exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string error = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return std::unexpected(error);
  }
  return {};
}

// A write transaction, rolled back unless committed. IMMEDIATE takes the write lock at
// once, so two writers wait for each other (busy_timeout) instead of failing to upgrade.
class WriteTransaction {
 public:
  explicit WriteTransaction(sqlite3* db) : db_(db) {
    auto begun = exec(db, "BEGIN IMMEDIATE");
    if (!begun) error_ = begun.error();
  }
  ~WriteTransaction() {
    if (error_.empty() && !committed_) (void)exec(db_, "ROLLBACK");
  }
  const std::string& error() const { return error_; }
  std::expected<void, std::string> commit() {
    auto done = exec(db_, "COMMIT");
    if (done) committed_ = true;
    return done;
  }

 private:
  sqlite3* db_;
  std::string error_;
  bool committed_ = false;
};

}  // namespace derma::store::sqlite
