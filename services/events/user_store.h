#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "events/stores.h"

namespace calndro::events {

// UserRepository on PostgreSQL: events.users and events.api_tokens, through
// the statements prepare_user_statements() registers on every pooled
// connection. Every function runs in the caller's transaction.
class PgUserRepository final : public UserRepository {
 public:
  // `atomicity`: kPerStatement when `tx` commits each statement on its own.
  PgUserRepository(pqxx::transaction_base& tx, Atomicity atomicity, const CallContext& call)
      : tx_(tx), per_statement_(atomicity == Atomicity::kPerStatement), call_(call) {}

  std::optional<User> find_by_login(const std::string& login) override;
  std::optional<User> find_by_api_token_hash(const std::string& token_hash, Instant now) override;
  bool add_api_token(std::int64_t user_id, const std::string& stored_hash, const std::string& token_hash,
                     Instant expires) override;
  bool revoke_api_token(const std::string& token_hash) override;
  std::int64_t purge_api_tokens(Instant before) override;
  void ensure_users(const std::vector<std::string>& emails) override;
  bool is_staff_email(const std::string& email) override;

 private:
  pqxx::transaction_base& tx_;
  const bool per_statement_;
  const CallContext& call_;
};

void prepare_user_statements(pqxx::connection& connection);

struct ApiTokenInfo {
  std::int64_t id = 0;  // not a secret: names the key for calndro-admin
  std::string email;
  Instant created;
  Instant expires;
};

// Administration of users and keys (calndro-admin), in the caller's
// transaction. Plain SQL (no prepared statements): the CLI runs each once.
class PgUserAdmin {
 public:
  explicit PgUserAdmin(pqxx::transaction_base& tx) : tx_(tx) {}

  std::int64_t add_user(const std::string& email, const std::optional<std::string>& username,
                        const std::string& password_hash, bool staff, bool active);
  bool set_password(const std::string& email, const std::string& password_hash);
  bool activate(const std::string& email);
  // Also revokes the user's API keys (a trigger does it for any change of
  // password or active flag).
  bool deactivate(const std::string& email);
  std::vector<User> list();
  // API keys (of one user when `email` is given), ordered by id.
  std::vector<ApiTokenInfo> list_api_tokens(const std::optional<std::string>& email);
  // Number of keys of the user (with `email`).
  std::int64_t count_api_tokens(const std::string& email);
  bool revoke_api_token_by_id(std::int64_t id);
  // Returns how many keys went.
  std::int64_t revoke_api_tokens_of(const std::string& email);
  // Whether the user `email` exists and is active, the row locked until the
  // transaction ends; nullopt when there is no such user.
  std::optional<bool> lock_active_flag(const std::string& email);
  // The parties of event `id` (deleted or not); nullopt when there is none.
  std::optional<std::vector<std::string>> event_parties(std::int64_t id);

 private:
  pqxx::transaction_base& tx_;
};

}  // namespace calndro::events
