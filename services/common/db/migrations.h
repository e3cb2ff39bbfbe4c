#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace calndro {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Brings `schema` up to date: creates it and `<schema>.schema_migrations`,
// then applies, in order and each in its own transaction, every migration
// not yet recorded there. A transaction-level advisory lock per schema
// serialises replicas that start together. Returns how many were applied.
int apply_migrations(const std::string& database_url, const std::string& schema,
                     const std::vector<Migration>& migrations);

// The same, for a process starting next to its database (compose, a fresh
// cluster): while the database cannot be reached, tries again every second
// for up to `kMigrationAttempts` tries, then throws std::runtime_error with
// a clear message. Logs the outcome under `schema`.
inline constexpr int kMigrationAttempts = 15;
int apply_migrations_when_reachable(const std::string& database_url, const std::string& schema,
                                    const std::vector<Migration>& migrations);

}  // namespace calndro
