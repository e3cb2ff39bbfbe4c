#include "common/db/migrations.h"

#include <chrono>
#include <thread>

#include "common/base/log.h"

namespace calndro {

int apply_migrations(const std::string& database_url, const std::string& schema,
                     const std::vector<Migration>& migrations) {
  pqxx::connection connection(database_url);
  int applied = 0;
  for (const Migration& migration : migrations) {
    pqxx::work tx(connection);
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "calndro-migrations:" + schema);
    tx.exec("CREATE SCHEMA IF NOT EXISTS " + tx.quote_name(schema));
    tx.exec("CREATE TABLE IF NOT EXISTS " + tx.quote_name(schema) +
            ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())");
    const auto done =
        tx.exec_params("SELECT 1 FROM " + tx.quote_name(schema) + ".schema_migrations WHERE version = $1",
                       migration.version);
    if (!done.empty()) {
      tx.abort();
      continue;
    }
    tx.exec("SET LOCAL search_path TO " + tx.quote_name(schema));
    tx.exec(migration.sql);
    tx.exec_params(
        "INSERT INTO " + tx.quote_name(schema) + ".schema_migrations (version, name) VALUES ($1, $2)",
        migration.version, std::string(migration.name));
    tx.commit();
    ++applied;
    log::info("migration applied",
              {{"schema", schema}, {"version", migration.version}, {"name", migration.name}});
  }
  return applied;
}

int apply_migrations_when_reachable(const std::string& database_url, const std::string& schema,
                                    const std::vector<Migration>& migrations) {
  for (int attempt = 1;; ++attempt) {
    try {
      const int applied = apply_migrations(database_url, schema, migrations);
      log::info("schema up to date", {{"schema", schema}, {"applied", applied}});
      return applied;
    } catch (const pqxx::broken_connection& error) {
      if (attempt >= kMigrationAttempts) {
        // The URL may carry a password: the message names the schema only.
        throw std::runtime_error("the database is unreachable (schema " + schema + "): " + error.what());
      }
      log::warn("database not reachable yet; retrying", {{"schema", schema}, {"attempt", attempt}});
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

}  // namespace calndro
