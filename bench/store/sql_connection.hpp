// The results database's link to its SQL engine (internal to bench/store): one small
// interface, two backends. ResultsDb speaks only this, so its queries are written once:
//   - SQLite (sqlite_connection.cpp) for a file path: the default, one file, WAL mode;
//   - PostgreSQL (postgresql_connection.cpp, libpq) for a postgresql:// or postgres:// URL:
//     many daemons on many machines share one database.
// Queries use `?` placeholders (the PostgreSQL backend numbers them $1..$n) and the SQL both
// engines accept (INSERT ... ON CONFLICT DO NOTHING, RETURNING, explicit subquery aliases).
// What must differ lives behind this interface (transactions, the schema version) or in
// the per-dialect DDL of schema.cpp.
#pragma once

#include <cstdint>
#include <ctime>
#include <expected>
#include <memory>
#include <optional>
#include <string>

namespace derma::store::sql {

enum class Dialect { Sqlite, Postgresql };

inline std::string now_utc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// One prepared statement, as a backend implements it. Parameters are numbered from 1;
// columns from 0. Errors are sticky: the first one is kept and every later call is a no-op.
class StatementBackend {
 public:
  virtual ~StatementBackend() = default;
  virtual void bind_text(int index, const std::string& value) = 0;
  virtual void bind_int64(int index, std::int64_t value) = 0;
  virtual void bind_double(int index, double value) = 0;
  virtual void bind_null(int index) = 0;
  // True while there is a row; false when done or on error.
  virtual bool step() = 0;
  virtual bool is_null(int col) const = 0;
  virtual std::string text(int col) const = 0;
  virtual std::int64_t integer(int col) const = 0;
  virtual double real(int col) const = 0;
  // Rows an INSERT, UPDATE or DELETE changed (after step()).
  virtual std::int64_t rows_changed() const = 0;
  virtual const std::string& error() const = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  virtual std::unique_ptr<StatementBackend> prepare(const std::string& sql) = 0;
  // One or more statements without parameters (migrations, pragmas, COMMIT).
  virtual std::expected<void, std::string> exec(const std::string& sql) = 0;
  // A write transaction takes the one writer's lock at once, so two writers (threads,
  // processes or machines) wait for each other instead of failing half-way, and anything
  // read inside it stays true until commit: SQLite BEGIN IMMEDIATE; PostgreSQL BEGIN + a
  // transaction-scoped advisory lock (per schema). Readers never wait for it.
  virtual std::expected<void, std::string> begin_write() = 0;
  // A read transaction sees one snapshot (SQLite BEGIN; PostgreSQL REPEATABLE READ).
  virtual std::expected<void, std::string> begin_read() = 0;
  // A write transaction without the writer's lock, for statements that lock the rows they
  // change themselves (the fleet queue's SELECT ... FOR UPDATE SKIP LOCKED), so that many
  // daemons claiming work do not queue behind one lock: PostgreSQL BEGIN (READ COMMITTED);
  // SQLite has one writer anyway: BEGIN IMMEDIATE.
  virtual std::expected<void, std::string> begin_row_locking() = 0;
  // SQL for "now" in milliseconds since the Unix epoch by the database's clock: the one clock
  // every daemon of a shared store agrees on (leases and heartbeats are judged by it).
  virtual const char* now_ms_sql() const = 0;
  // The schema version the database is at (0: empty), read and written inside the write
  // transaction of a migration: SQLite `PRAGMA user_version`; PostgreSQL a one-row
  // schema_version table, created by the first migration run.
  virtual std::expected<int, std::string> read_schema_version() = 0;
  virtual std::expected<void, std::string> write_schema_version(int version) = 0;
};

// A SQLite file (created if missing), WAL, foreign keys on, synchronous = FULL.
std::expected<std::unique_ptr<Connection>, std::string> open_sqlite(const std::string& path);
// A PostgreSQL database by libpq connection URL.
std::expected<std::unique_ptr<Connection>, std::string> open_postgresql(const std::string& url);

// ---------------------------------------------------------------------------------------
// What ResultsDb's source files use: a statement with typed binds and columns.

class Statement {
 public:
  Statement(Connection& db, const std::string& sql) : backend_(db.prepare(sql)) {}

  bool ok() const { return backend_->error().empty(); }
  const std::string& error() const { return backend_->error(); }

  Statement& bind(const std::string& v) {
    backend_->bind_text(++next_, v);
    return *this;
  }
  Statement& bind(const char* v) { return bind(std::string(v)); }
  Statement& bind(std::int64_t v) {
    backend_->bind_int64(++next_, v);
    return *this;
  }
  Statement& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
  Statement& bind(double v) {
    backend_->bind_double(++next_, v);
    return *this;
  }
  Statement& bind(std::optional<double> v) {
    if (v) return bind(*v);
    backend_->bind_null(++next_);
    return *this;
  }
  Statement& bind(std::optional<int> v) {
    if (v) return bind(*v);
    backend_->bind_null(++next_);
    return *this;
  }
  // Empty text binds NULL: for optional foreign keys.
  Statement& bind_or_null(const std::string& v) {
    if (!v.empty()) return bind(v);
    backend_->bind_null(++next_);
    return *this;
  }

  bool step() { return backend_->step(); }
  // Runs a statement that returns no rows.
  std::expected<void, std::string> run() {
    step();
    if (!ok()) return std::unexpected(error());
    return {};
  }
  std::int64_t rows_changed() const { return backend_->rows_changed(); }

  std::string text(int col) const { return backend_->text(col); }
  std::int64_t integer(int col) const { return backend_->integer(col); }
  std::optional<std::int64_t> optional_integer(int col) const {
    if (backend_->is_null(col)) return std::nullopt;
    return backend_->integer(col);
  }
  std::optional<double> real(int col) const {
    if (backend_->is_null(col)) return std::nullopt;
    return backend_->real(col);
  }

 private:
  std::unique_ptr<StatementBackend> backend_;
  int next_ = 0;
};

// A write transaction (see Connection::begin_write), rolled back unless committed.
class WriteTransaction {
 public:
  enum class Lock { Writer, RowsOnly };
  explicit WriteTransaction(Connection& db, Lock lock = Lock::Writer) : db_(db) {
    auto begun = lock == Lock::Writer ? db.begin_write() : db.begin_row_locking();
    if (!begun) error_ = begun.error();
  }
  ~WriteTransaction() {
    if (error_.empty() && !committed_) (void)db_.exec("ROLLBACK");
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  const std::string& error() const { return error_; }
  std::expected<void, std::string> commit() {
    auto done = db_.exec("COMMIT");
    if (done) committed_ = true;
    return done;
  }

 private:
  Connection& db_;
  std::string error_;
  bool committed_ = false;
};

// A read transaction: one consistent snapshot until it ends (it only reads: COMMIT).
class ReadTransaction {
 public:
  explicit ReadTransaction(Connection& db) : db_(db) {
    if (auto begun = db.begin_read(); !begun) error_ = begun.error();
  }
  ~ReadTransaction() {
    if (error_.empty()) (void)db_.exec("COMMIT");
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  const std::string& error() const { return error_; }

 private:
  Connection& db_;
  std::string error_;
};

}  // namespace derma::store::sql
