#include "events/user_store.h"

#include <nlohmann/json.hpp>

#include "events/event_store.h"

namespace calndro::events {
namespace {

constexpr const char* kUserColumns = "id, email, username, coalesce(password_hash, ''), is_active, is_staff";

User read_user(const pqxx::row& row) {
  User user;
  user.id = row[0].as<std::int64_t>();
  user.email = row[1].as<std::string>();
  if (!row[2].is_null()) {
    user.username = row[2].as<std::string>();
  }
  user.password_hash = row[3].as<std::string>();
  user.active = row[4].as<bool>();
  user.staff = row[5].as<bool>();
  return user;
}

long long micros_of(Instant instant) {
  return instant.time_since_epoch().count();
}

std::optional<User> first_user(const pqxx::result& result) {
  if (result.empty()) {
    return std::nullopt;
  }
  return read_user(result[0]);
}

}  // namespace

void prepare_user_statements(pqxx::connection& connection) {
  const std::string columns = kUserColumns;
  // A username match wins over an email match, so nobody can shadow an
  // account by choosing its email as their username.
  connection.prepare("user_by_login", "SELECT " + columns +
                                          " FROM events.users WHERE username = $1 OR email = lower($1) "
                                          "ORDER BY (username = $1) DESC NULLS LAST LIMIT 1");
  connection.prepare(
      "user_by_api_token",
      "SELECT u.id, u.email, u.username, coalesce(u.password_hash, ''), u.is_active, u.is_staff "
      "FROM events.api_tokens t JOIN events.users u ON u.id = t.user_id WHERE t.token_hash = $1 "
      "AND t.expires_at > 'epoch'::timestamptz + $2 * interval '1 microsecond'");
  connection.prepare("add_api_token",
                     "INSERT INTO events.api_tokens (token_hash, user_id, expires_at) "
                     "SELECT $1, id, 'epoch'::timestamptz + $4 * interval '1 microsecond' FROM events.users "
                     "WHERE id = $2 AND password_hash = $3 AND is_active");
  connection.prepare("revoke_api_token", "DELETE FROM events.api_tokens WHERE token_hash = $1");
  connection.prepare("purge_api_tokens",
                     "DELETE FROM events.api_tokens WHERE expires_at < 'epoch'::timestamptz + $1 * interval "
                     "'1 microsecond'");
  // In address order: two transactions adding the same new users then
  // wait for each other in one order instead of deadlocking (a create with
  // an idempotency key runs in a transaction).
  connection.prepare(
      "ensure_users",
      "INSERT INTO events.users (email) SELECT value FROM jsonb_array_elements_text($1::jsonb) "
      "ORDER BY value ON CONFLICT (email) DO NOTHING");
  connection.prepare("is_staff_email",
                     "SELECT 1 FROM events.users WHERE email = $1 AND is_staff AND is_active");
}

std::optional<User> PgUserRepository::find_by_login(const std::string& login) {
  return first_user(tx_.exec_prepared("user_by_login", login));
}

std::optional<User> PgUserRepository::find_by_api_token_hash(const std::string& token_hash, Instant now) {
  return first_user(tx_.exec_prepared("user_by_api_token", token_hash, micros_of(now)));
}

bool PgUserRepository::add_api_token(std::int64_t user_id, const std::string& stored_hash,
                                     const std::string& token_hash, Instant expires) {
  return written_once(per_statement_, call_, [&] {
    return tx_.exec_prepared("add_api_token", token_hash, user_id, stored_hash, micros_of(expires))
               .affected_rows() == 1;
  });
}

bool PgUserRepository::revoke_api_token(const std::string& token_hash) {
  return written_once(per_statement_, call_,
                      [&] { return tx_.exec_prepared("revoke_api_token", token_hash).affected_rows() == 1; });
}

std::int64_t PgUserRepository::purge_api_tokens(Instant before) {
  return tx_.exec_prepared("purge_api_tokens", micros_of(before)).affected_rows();
}

void PgUserRepository::ensure_users(const std::vector<std::string>& emails) {
  tx_.exec_prepared("ensure_users", nlohmann::json(emails).dump());
}

bool PgUserRepository::is_staff_email(const std::string& email) {
  return !tx_.exec_prepared("is_staff_email", email).empty();
}

std::int64_t PgUserAdmin::add_user(const std::string& email, const std::optional<std::string>& username,
                                   const std::string& password_hash, bool staff, bool active) {
  // A party that was invited by email already has a row: give it the
  // account instead of failing.
  const auto result = tx_.exec_params(
      "INSERT INTO events.users (email, username, password_hash, is_staff, is_active) "
      "VALUES ($1, $2, nullif($3, ''), $4, $5) "
      "ON CONFLICT (email) DO UPDATE SET username = coalesce(EXCLUDED.username, users.username), "
      "password_hash = EXCLUDED.password_hash, is_staff = EXCLUDED.is_staff, is_active = EXCLUDED.is_active "
      "RETURNING id",
      email, username, password_hash, staff, active);
  return result[0][0].as<std::int64_t>();
}

bool PgUserAdmin::set_password(const std::string& email, const std::string& password_hash) {
  return tx_.exec_params("UPDATE events.users SET password_hash = $2 WHERE email = $1", email, password_hash)
             .affected_rows() == 1;
}

bool PgUserAdmin::activate(const std::string& email) {
  return tx_.exec_params("UPDATE events.users SET is_active = true WHERE email = $1", email)
             .affected_rows() == 1;
}

bool PgUserAdmin::deactivate(const std::string& email) {
  return tx_.exec_params("UPDATE events.users SET is_active = false WHERE email = $1", email)
             .affected_rows() == 1;
}

std::vector<ApiTokenInfo> PgUserAdmin::list_api_tokens(const std::optional<std::string>& email) {
  std::vector<ApiTokenInfo> tokens;
  const auto result = tx_.exec_params(
      "SELECT t.id, u.email, (extract(epoch FROM t.created_at) * 1000000)::bigint, "
      "(extract(epoch FROM t.expires_at) * 1000000)::bigint "
      "FROM events.api_tokens t JOIN events.users u ON u.id = t.user_id "
      "WHERE $1::text IS NULL OR u.email = $1 ORDER BY t.id",
      email);
  for (const auto& row : result) {
    tokens.push_back({row[0].as<std::int64_t>(), row[1].as<std::string>(),
                      Instant(Micros(row[2].as<long long>())), Instant(Micros(row[3].as<long long>()))});
  }
  return tokens;
}

std::int64_t PgUserAdmin::count_api_tokens(const std::string& email) {
  return tx_
      .exec_params(
          "SELECT count(*) FROM events.api_tokens t JOIN events.users u ON u.id = t.user_id "
          "WHERE u.email = $1",
          email)[0][0]
      .as<std::int64_t>();
}

bool PgUserAdmin::revoke_api_token_by_id(std::int64_t id) {
  return tx_.exec_params("DELETE FROM events.api_tokens WHERE id = $1", id).affected_rows() == 1;
}

std::int64_t PgUserAdmin::revoke_api_tokens_of(const std::string& email) {
  return tx_
      .exec_params(
          "DELETE FROM events.api_tokens WHERE user_id = (SELECT id FROM events.users WHERE email = $1)",
          email)
      .affected_rows();
}

std::optional<bool> PgUserAdmin::lock_active_flag(const std::string& email) {
  const auto result =
      tx_.exec_params("SELECT is_active FROM events.users WHERE email = $1 FOR UPDATE", email);
  if (result.empty()) {
    return std::nullopt;
  }
  return result[0][0].as<bool>();
}

std::optional<std::vector<std::string>> PgUserAdmin::event_parties(std::int64_t id) {
  const auto result = tx_.exec_params("SELECT parties::text FROM events.events WHERE id = $1", id);
  if (result.empty()) {
    return std::nullopt;
  }
  return nlohmann::json::parse(result[0][0].as<std::string>()).get<std::vector<std::string>>();
}

std::vector<User> PgUserAdmin::list() {
  std::vector<User> users;
  for (const auto& row : tx_.exec(std::string("SELECT ") + kUserColumns + " FROM events.users ORDER BY id")) {
    users.push_back(read_user(row));
  }
  return users;
}

}  // namespace calndro::events
