// The results database's schema, as an ordered list of migrations. Migration i (0-based)
// takes the schema from version i to i + 1; SQLite keeps the version a file is at in
// `PRAGMA user_version`, PostgreSQL in the table schema_version. Each migration is written
// once per dialect (SQLite, PostgreSQL), side by side, with the same tables, columns and
// rules. Append new migrations at the end; never edit one that has shipped.
#pragma once

#include <expected>
#include <span>
#include <string>

#include "bench/store/sql_connection.hpp"

namespace derma::store {

struct Migration {
  const char* sqlite;
  const char* postgresql;
  const char* sql(sql::Dialect d) const { return d == sql::Dialect::Sqlite ? sqlite : postgresql; }
};

std::span<const Migration> schema_migrations();

// Brings the database to the newest version (in one write transaction); returns it.
// Refuses a database whose version is newer than this bench knows.
std::expected<int, std::string> migrate(sql::Connection& db);

}  // namespace derma::store
