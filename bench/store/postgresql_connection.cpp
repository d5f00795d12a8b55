// The PostgreSQL backend of the results database's connection (sql_connection.hpp), on
// libpq. Statements run with PQexecParams (text parameters, text results); `?` placeholders
// become $1..$n. One connection per ResultsDb, used under its mutex.
#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include "bench/common/shared_library.hpp"
#include "bench/store/sql_connection.hpp"

namespace derma::store::sql {

namespace {

// The libpq functions this backend calls, loaded with libpq itself when the first PostgreSQL
// store is opened (bench/common/shared_library.hpp says why).
struct Libpq {
  decltype(&::PQclear) PQclear;
  decltype(&::PQcmdStatus) PQcmdStatus;
  decltype(&::PQcmdTuples) PQcmdTuples;
  decltype(&::PQconnectdbParams) PQconnectdbParams;
  decltype(&::PQerrorMessage) PQerrorMessage;
  decltype(&::PQexec) PQexec;
  decltype(&::PQexecParams) PQexecParams;
  decltype(&::PQfinish) PQfinish;
  decltype(&::PQgetisnull) PQgetisnull;
  decltype(&::PQgetlength) PQgetlength;
  decltype(&::PQgetvalue) PQgetvalue;
  decltype(&::PQntuples) PQntuples;
  decltype(&::PQreset) PQreset;
  decltype(&::PQresultErrorField) PQresultErrorField;
  decltype(&::PQresultStatus) PQresultStatus;
  decltype(&::PQsetClientEncoding) PQsetClientEncoding;
  decltype(&::PQsetNoticeProcessor) PQsetNoticeProcessor;
  decltype(&::PQstatus) PQstatus;
  decltype(&::PQtransactionStatus) PQtransactionStatus;
};

void bind_libpq(common::SharedLibrary& library, Libpq& functions) {
#define BIND(name) library.bind(functions.name, #name)
  BIND(PQclear);
  BIND(PQcmdStatus);
  BIND(PQcmdTuples);
  BIND(PQconnectdbParams);
  BIND(PQerrorMessage);
  BIND(PQexec);
  BIND(PQexecParams);
  BIND(PQfinish);
  BIND(PQgetisnull);
  BIND(PQgetlength);
  BIND(PQgetvalue);
  BIND(PQntuples);
  BIND(PQreset);
  BIND(PQresultErrorField);
  BIND(PQresultStatus);
  BIND(PQsetClientEncoding);
  BIND(PQsetNoticeProcessor);
  BIND(PQstatus);
  BIND(PQtransactionStatus);
#undef BIND
}

const std::expected<Libpq, std::string>& load_libpq() {
  static const auto loaded =
      common::SharedLibrary::load<Libpq>("libpq.so.5", "a PostgreSQL results database", bind_libpq);
  return loaded;
}

// Only called once open_postgresql() has loaded libpq: every connection comes from there.
const Libpq& pq() {
  return *load_libpq();
}

// The class id of the advisory lock every write transaction takes (the object id is the
// schema's name hashed, so two schemas of one database do not wait for each other).
// ASCII "DRMB".
constexpr int kWriterLockClass = 0x44524D42;

// `?` -> `$n`, outside quoted literals, quoted identifiers and comments.
std::string numbered_placeholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;  // ' or " while inside one
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const std::size_t end = sql.find('\n', i);
      const std::size_t stop = end == std::string::npos ? sql.size() : end;
      out.append(sql, i, stop - i);
      i = stop - 1;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The primary message of a failed result ("duplicate key value violates ..."), else the
// connection's message (a lost server).
std::string error_of(PGconn* conn, const PGresult* result) {
  if (result) {
    const char* primary = pq().PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    if (primary && *primary) {
      std::string message = primary;
      if (const char* detail = pq().PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL))
        message += std::string(" (") + detail + ")";
      return message;
    }
  }
  const std::string message = trimmed(pq().PQerrorMessage(conn));
  return message.empty() ? "PostgreSQL: unknown error" : "PostgreSQL: " + message;
}

class PostgresqlConnection;

class PostgresqlStatement final : public StatementBackend {
 public:
  PostgresqlStatement(PostgresqlConnection& connection, const std::string& sql)
      : connection_(connection), sql_(numbered_placeholders(sql)) {}
  ~PostgresqlStatement() override { pq().PQclear(result_); }
  PostgresqlStatement(const PostgresqlStatement&) = delete;
  PostgresqlStatement& operator=(const PostgresqlStatement&) = delete;

  void bind_text(int index, const std::string& v) override { slot(index) = v; }
  void bind_int64(int index, std::int64_t v) override { slot(index) = std::to_string(v); }
  void bind_double(int index, double v) override {
    // SQLite stores NaN as NULL; so does this backend, so both read back alike.
    if (std::isnan(v)) return bind_null(index);
    if (std::isinf(v)) {
      slot(index) = v > 0 ? "Infinity" : "-Infinity";
      return;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);  // exact round trip
    slot(index) = buf;
  }
  void bind_null(int index) override { slot(index) = std::nullopt; }

  bool step() override;
  bool is_null(int col) const override { return pq().PQgetisnull(result_, row_, col) != 0; }
  std::string text(int col) const override {
    return std::string(pq().PQgetvalue(result_, row_, col),
                       static_cast<std::size_t>(pq().PQgetlength(result_, row_, col)));
  }
  std::int64_t integer(int col) const override {
    std::int64_t v = 0;
    const char* p = pq().PQgetvalue(result_, row_, col);
    std::from_chars(p, p + pq().PQgetlength(result_, row_, col), v);
    return v;
  }
  double real(int col) const override {
    const std::string t = text(col);
    if (t == "NaN") return std::nan("");
    if (t == "Infinity" || t == "-Infinity") return t[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    double v = 0;
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
  }
  std::int64_t rows_changed() const override { return changes_; }
  const std::string& error() const override { return error_; }

 private:
  std::optional<std::string>& slot(int index) {
    if (params_.size() < static_cast<std::size_t>(index))
      params_.resize(static_cast<std::size_t>(index));
    return params_[static_cast<std::size_t>(index - 1)];
  }
  PostgresqlConnection& connection_;
  std::string sql_;
  std::vector<std::optional<std::string>> params_;
  PGresult* result_ = nullptr;
  bool executed_ = false;
  int row_ = -1;
  int rows_ = 0;
  std::int64_t changes_ = 0;
  std::string error_;
};

class PostgresqlConnection final : public Connection {
 public:
  ~PostgresqlConnection() override { pq().PQfinish(conn_); }

  std::expected<void, std::string> open(const std::string& url) {
    // A daemon must notice a database it can no longer reach instead of hanging on it, as a
    // run ends with an error rather than waiting for ever: defaults the URL may override
    // (it comes last, so its own settings win): give up connecting after 5 s, and drop a
    // connection whose server stops answering (keepalives) or acknowledging (10 s). The
    // server ends a session left idle inside a transaction for 30 s (a client cut off
    // mid-transaction), so its locks do not hold every other daemon for hours.
    const char* keywords[] = {"connect_timeout",
                              "keepalives",
                              "keepalives_idle",
                              "keepalives_interval",
                              "keepalives_count",
                              "tcp_user_timeout",
                              "options",
                              "dbname",
                              nullptr};
    const char* values[] = {"5",
                            "1",
                            "10",
                            "3",
                            "3",
                            "10000",
                            "-c idle_in_transaction_session_timeout=30000",
                            url.c_str(),
                            nullptr};
    conn_ = pq().PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (!conn_) return std::unexpected("PostgreSQL: out of memory");
    if (pq().PQstatus(conn_) != CONNECTION_OK) return std::unexpected(error_of(conn_, nullptr));
    // CREATE ... IF NOT EXISTS and friends say NOTICE: nothing a bench user needs to see.
    pq().PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    if (pq().PQsetClientEncoding(conn_, "UTF8") != 0)
      return std::unexpected(error_of(conn_, nullptr));
    return {};
  }

  PGconn* handle() { return conn_; }

  // Before a statement: a connection lost between transactions is re-established; one lost
  // inside a transaction is not (what ran of it was rolled back by the server, and the rest
  // must not run on its own): it fails until the transaction is ended.
  std::expected<void, std::string> usable() {
    if (pq().PQstatus(conn_) == CONNECTION_OK) {
      if (in_transaction_ && pq().PQtransactionStatus(conn_) == PQTRANS_IDLE)
        in_transaction_ = false;
      return {};
    }
    if (in_transaction_)
      return std::unexpected(
          "PostgreSQL: the connection was lost inside a transaction: none of it was committed");
    pq().PQreset(conn_);
    if (pq().PQstatus(conn_) != CONNECTION_OK) return std::unexpected(error_of(conn_, nullptr));
    return {};
  }

  Dialect dialect() const override { return Dialect::Postgresql; }
  std::unique_ptr<StatementBackend> prepare(const std::string& sql) override {
    return std::make_unique<PostgresqlStatement>(*this, sql);
  }
  std::expected<void, std::string> exec(const std::string& sql) override {
    const bool ends_transaction = sql == "COMMIT" || sql == "ROLLBACK";
    if (ends_transaction && pq().PQstatus(conn_) != CONNECTION_OK) {
      in_transaction_ = false;
      if (sql == "ROLLBACK") return {};
      return std::unexpected(
          "PostgreSQL: the connection was lost before COMMIT: the transaction was not committed");
    }
    if (auto ready = usable(); !ready) return ready;
    PGresult* result = pq().PQexec(conn_, sql.c_str());
    const ExecStatusType status = pq().PQresultStatus(result);
    std::expected<void, std::string> outcome;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      outcome = std::unexpected(error_of(conn_, result));
    else if (sql == "COMMIT" && std::string(pq().PQcmdStatus(result)) == "ROLLBACK")
      // COMMIT of a transaction in which a statement failed "succeeds" as a rollback.
      outcome = std::unexpected("PostgreSQL: the transaction failed and was rolled back");
    pq().PQclear(result);
    if (ends_transaction) in_transaction_ = false;
    return outcome;
  }
  std::expected<void, std::string> begin_write() override {
    if (auto begun = begin("BEGIN"); !begun) return begun;
    char lock[96];
    std::snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d, hashtext(current_schema()))",
                  kWriterLockClass);
    if (auto locked = exec(lock); !locked) {
      (void)exec("ROLLBACK");
      return locked;
    }
    return {};
  }
  std::expected<void, std::string> begin_read() override {
    return begin("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  }
  // READ COMMITTED whatever the server's default: a row another daemon changed meanwhile is
  // re-read, not a serialisation failure.
  std::expected<void, std::string> begin_row_locking() override {
    return begin("BEGIN ISOLATION LEVEL READ COMMITTED");
  }
  const char* now_ms_sql() const override {
    return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
  }
  std::expected<int, std::string> read_schema_version() override {
    // Runs inside the migration's write transaction, so two daemons starting at once do
    // not both create the table (the writer lock is taken before it).
    if (auto made =
            exec("CREATE TABLE IF NOT EXISTS schema_version ("
                 "  id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);"
                 "INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT DO NOTHING");
        !made)
      return std::unexpected(made.error());
    PostgresqlStatement read(*this, "SELECT version FROM schema_version WHERE id = 1");
    if (!read.step())
      return std::unexpected(read.error().empty() ? "schema_version is empty" : read.error());
    return static_cast<int>(read.integer(0));
  }
  std::expected<void, std::string> write_schema_version(int version) override {
    PostgresqlStatement write(*this, "UPDATE schema_version SET version = ? WHERE id = 1");
    write.bind_int64(1, version);
    write.step();
    if (!write.error().empty()) return std::unexpected(write.error());
    return {};
  }

 private:
  std::expected<void, std::string> begin(const char* sql) {
    auto begun = exec(sql);
    if (begun) in_transaction_ = true;
    return begun;
  }
  PGconn* conn_ = nullptr;
  bool in_transaction_ = false;
};

bool PostgresqlStatement::step() {
  if (!error_.empty()) return false;
  if (!executed_) {
    executed_ = true;
    if (auto ready = connection_.usable(); !ready) {
      error_ = ready.error();
      return false;
    }
    std::vector<const char*> values;
    values.reserve(params_.size());
    for (const auto& p : params_) values.push_back(p ? p->c_str() : nullptr);
    result_ = pq().PQexecParams(connection_.handle(), sql_.c_str(), static_cast<int>(values.size()),
                                nullptr, values.data(), nullptr, nullptr, 0);
    const ExecStatusType status = pq().PQresultStatus(result_);
    if (status == PGRES_TUPLES_OK) {
      rows_ = pq().PQntuples(result_);
    } else if (status != PGRES_COMMAND_OK) {
      error_ = error_of(connection_.handle(), result_);
      return false;
    }
    const char* changed = pq().PQcmdTuples(result_);
    std::from_chars(changed, changed + std::char_traits<char>::length(changed), changes_);
  }
  return ++row_ < rows_;
}

}  // namespace

std::expected<std::unique_ptr<Connection>, std::string> open_postgresql(const std::string& url) {
  if (const auto& loaded = load_libpq(); !loaded) return std::unexpected(loaded.error());
  auto connection = std::make_unique<PostgresqlConnection>();
  if (auto opened = connection->open(url); !opened) return std::unexpected(opened.error());
  return connection;
}

}  // namespace derma::store::sql
