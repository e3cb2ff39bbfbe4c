#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "common/clock.h"

namespace calndro::events {

struct ApiTokenInfo {
  std::int64_t id = 0;  // not a secret: names the key for calndro-admin
  std::string email;
  Instant created;
  Instant expires;
};

struct User {
  std::int64_t id = 0;
  std::string email;
  std::optional<std::string> username;
  std::string password_hash;  // empty: no password (a party invited by email)
  bool active = false;
  bool staff = false;
};

// SQL on events.users and events.api_tokens. Every function works inside the
// caller's transaction, so an action and its effects commit together.
class UserStore {
 public:
  // Statement names registered on every pooled connection.
  static void prepare(pqxx::connection& connection);

  // By username, or else by email (case-insensitive).
  static std::optional<User> find_by_login(pqxx::transaction_base& tx, const std::string& login);
  static std::optional<User> find_by_email(pqxx::transaction_base& tx, const std::string& email);
  // The user of an API token that has not expired at `now`.
  static std::optional<User> find_by_api_token_hash(pqxx::transaction_base& tx, const std::string& token_hash,
                                                    Instant now);
  // Adds a key that expires at `expires` for the user, only while the user
  // is active and still has `stored_hash` as password; false otherwise.
  static bool add_api_token(pqxx::transaction_base& tx, std::int64_t user_id, const std::string& stored_hash,
                            const std::string& token_hash, Instant expires);
  // Deletes the key with this hash; false when there was none.
  static bool revoke_api_token(pqxx::transaction_base& tx, const std::string& token_hash);
  // Deletes keys that expired before `before`; returns how many.
  static std::int64_t purge_api_tokens(pqxx::transaction_base& tx, Instant before);
  // Makes sure a user row exists for each (canonical) email; new ones are
  // inactive and have no password.
  static void ensure_users(pqxx::transaction_base& tx, const std::vector<std::string>& emails);
  static bool is_staff_email(pqxx::transaction_base& tx, const std::string& email);

  // Administration (calndro-admin). These take plain SQL (no prepared
  // statements) since the CLI runs them once.
  static std::int64_t add_user(pqxx::transaction_base& tx, const std::string& email,
                               const std::optional<std::string>& username, const std::string& password_hash,
                               bool staff, bool active);
  static bool set_password(pqxx::transaction_base& tx, const std::string& email,
                           const std::string& password_hash);
  static bool activate(pqxx::transaction_base& tx, const std::string& email);
  // Also revokes the user's API keys (a trigger does it for any change of
  // password or active flag).
  static bool deactivate(pqxx::transaction_base& tx, const std::string& email);
  static std::vector<User> list(pqxx::transaction_base& tx);
  // API keys (of one user when `email` is given), ordered by id.
  static std::vector<ApiTokenInfo> list_api_tokens(pqxx::transaction_base& tx,
                                                   const std::optional<std::string>& email);
  // Number of keys of the user (with `email`).
  static std::int64_t count_api_tokens(pqxx::transaction_base& tx, const std::string& email);
  static bool revoke_api_token_by_id(pqxx::transaction_base& tx, std::int64_t id);
  // Returns how many keys went.
  static std::int64_t revoke_api_tokens_of(pqxx::transaction_base& tx, const std::string& email);
};

}  // namespace calndro::events
