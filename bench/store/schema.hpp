// The results database's schema, as an ordered list of migrations. Migration i (0-based)
// takes the schema from version i to i + 1; `PRAGMA user_version` holds the version a file
// is at. Append new migrations at the end; never edit one that has shipped.
#pragma once

#include <span>

namespace derma::store {

std::span<const char* const> schema_migrations();

}  // namespace derma::store
