#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace calndro::events {

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
  static std::optional<User> find_by_api_token_hash(pqxx::transaction_base& tx, const std::string& token_hash);
  static void add_api_token(pqxx::transaction_base& tx, std::int64_t user_id, const std::string& token_hash);
  // Makes sure a user row exists for each (canonical) email; new ones are
  // inactive and have no password.
  static void ensure_users(pqxx::transaction_base& tx, const std::vector<std::string>& emails);
  static bool is_staff_email(pqxx::transaction_base& tx, const std::string& email);

  // Administration (calndro-admin). These take plain SQL (no prepared
  // statements) since the CLI runs them once.
  static std::int64_t add_user(pqxx::transaction_base& tx, const std::string& email,
                               const std::optional<std::string>& username, const std::string& password_hash,
                               bool staff, bool active);
  static bool set_password(pqxx::transaction_base& tx, const std::string& email, const std::string& password_hash);
  static bool activate(pqxx::transaction_base& tx, const std::string& email);
  static std::vector<User> list(pqxx::transaction_base& tx);
};

}  // namespace calndro::events
