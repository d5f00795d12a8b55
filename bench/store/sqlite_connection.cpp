// The SQLite backend of the results database's connection (sql_connection.hpp).
#include <sqlite3.h>

#include "bench/store/sql_connection.hpp"

namespace derma::store::sql {

namespace {

class SqliteStatement final : public StatementBackend {
 public:
  SqliteStatement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      error_ = sqlite3_errmsg(db);
      stmt_ = nullptr;
    }
  }
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void bind_text(int index, const std::string& v) override {
    if (stmt_)
      check(
          sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  void bind_int64(int index, std::int64_t v) override {
    if (stmt_) check(sqlite3_bind_int64(stmt_, index, v));
  }
  void bind_double(int index, double v) override {
    if (stmt_) check(sqlite3_bind_double(stmt_, index, v));
  }
  void bind_null(int index) override {
    if (stmt_) check(sqlite3_bind_null(stmt_, index));
  }

  bool step() override {
    if (!stmt_ || !error_.empty()) return false;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(db_);
    changes_ = sqlite3_changes(db_);
    return false;
  }
  bool is_null(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const override {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const override { return sqlite3_column_double(stmt_, col); }
  std::int64_t rows_changed() const override { return changes_; }
  const std::string& error() const override { return error_; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK && error_.empty()) error_ = sqlite3_errmsg(db_);
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string error_;
  std::int64_t changes_ = 0;
};

class SqliteConnection final : public Connection {
 public:
  ~SqliteConnection() override { sqlite3_close(db_); }

  std::expected<void, std::string> open(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK)
      return std::unexpected(db_ ? sqlite3_errmsg(db_) : "cannot open");
    sqlite3_extended_result_codes(db_, 1);
    // Writers wait for each other rather than fail: up to 30 s, for a machine so loaded that
    // another process's migration or report (each fsync'd) takes seconds.
    sqlite3_busy_timeout(db_, 30000);
    // journal_mode touches the file first: a file that is not SQLite fails here.
    // synchronous = FULL: with WAL, NORMAL may lose the last commits on power loss; a
    // recorded verdict or audit entry must never be lost once a caller was told it is.
    for (const char* pragma :
         {"PRAGMA journal_mode = WAL", "PRAGMA foreign_keys = ON", "PRAGMA synchronous = FULL"})
      if (auto done = exec(pragma); !done) return done;
    return {};
  }

  Dialect dialect() const override { return Dialect::Sqlite; }
  std::unique_ptr<StatementBackend> prepare(const std::string& sql) override {
    return std::make_unique<SqliteStatement>(db_, sql);
  }
  std::expected<void, std::string> exec(const std::string& sql) override {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string error = message ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      return std::unexpected(error);
    }
    return {};
  }
  // IMMEDIATE takes the write lock at once, so two writers wait for each other
  // (busy_timeout) instead of failing to upgrade a read lock.
  std::expected<void, std::string> begin_write() override { return exec("BEGIN IMMEDIATE"); }
  std::expected<void, std::string> begin_read() override { return exec("BEGIN"); }
  std::expected<void, std::string> begin_row_locking() override { return exec("BEGIN IMMEDIATE"); }
  const char* now_ms_sql() const override {
    return "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
  }
  std::expected<int, std::string> read_schema_version() override {
    SqliteStatement read(db_, "PRAGMA user_version");
    if (!read.step())
      return std::unexpected(read.error().empty() ? "no user_version" : read.error());
    return static_cast<int>(read.integer(0));
  }
  std::expected<void, std::string> write_schema_version(int version) override {
    // PRAGMA takes no bound parameters; the value is our own integer.
    return exec("PRAGMA user_version = " + std::to_string(version));
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

std::expected<std::unique_ptr<Connection>, std::string> open_sqlite(const std::string& path) {
  auto connection = std::make_unique<SqliteConnection>();
  if (auto opened = connection->open(path); !opened) return std::unexpected(opened.error());
  return connection;
}

}  // namespace derma::store::sql
