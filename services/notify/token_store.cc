#include "notify/token_store.h"

#include <cctype>

#include "common/text/text.h"
#include "notify/pg_database.h"

namespace calndro::notify {
namespace {

constexpr Statement kInsertToken{
    "notify_insert_token",
    "INSERT INTO notify.email_tokens (token_hash, fingerprint, event_id, party_email, expires_at, request_id)"
    " VALUES ($1, $2, $3, $4, 'epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6)"
    " RETURNING id"};

constexpr Statement kFindToken{"notify_find_token",
                               "SELECT id, token_hash, fingerprint, event_id, party_email,"
                               " (extract(epoch FROM expires_at) * 1000000)::bigint"
                               " FROM notify.email_tokens WHERE token_hash = $1"};

constexpr Statement kRemoveToken{"notify_remove_token", "DELETE FROM notify.email_tokens WHERE id = $1"};

constexpr Statement kPurgeTokens{
    "notify_purge_tokens",
    "DELETE FROM notify.email_tokens WHERE id IN (SELECT id FROM notify.email_tokens"
    " WHERE expires_at < now() - $1::int * interval '1 day' LIMIT $2 FOR UPDATE SKIP LOCKED)"};

}  // namespace

MintedToken mint_token(RandomSource& random) {
  MintedToken minted;
  minted.token = random_hex(random, kTokenBytes);
  minted.hash = token_hash(minted.token);
  minted.fingerprint = token_fingerprint(minted.token);
  return minted;
}

bool well_formed_token(std::string_view token) {
  if (token.size() != kTokenHexLength) {
    return false;
  }
  for (char c : token) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

std::string canonical_token(std::string_view token) {
  return to_lower_ascii(token);
}

std::string token_hash(std::string_view token) {
  return sha256_hex(token);
}

std::string token_fingerprint(std::string_view token) {
  std::string input = "calndro email token fingerprint:";
  input.append(token);
  return sha256_hex(input).substr(0, kFingerprintLength);
}

void PgTokenStore::prepare(pqxx::connection& connection) {
  prepare_all(connection, {kInsertToken, kFindToken, kRemoveToken, kPurgeTokens});
}

int PgTokenStore::purge_expired(Transaction& tx, int days, int batch) {
  return static_cast<int>(pg(tx).exec_prepared0(kPurgeTokens.name, days, batch).affected_rows());
}

void PgTokenStore::remove(Transaction& tx, std::int64_t id) {
  pg(tx).exec_prepared0(kRemoveToken.name, id);
}

std::int64_t PgTokenStore::insert(Transaction& tx, const NewToken& token) {
  const auto row = pg(tx).exec_prepared1(
      kInsertToken.name, token.hash, token.fingerprint, token.event_id, token.party_email,
      static_cast<long long>(token.expires.time_since_epoch().count()), token.request_id);
  return row[0].as<std::int64_t>();
}

std::optional<TokenRecord> PgTokenStore::find_by_hash(Transaction& tx, const std::string& hash) {
  const auto found = first_row(pg(tx).exec_prepared(kFindToken.name, hash));
  if (!found) {
    return std::nullopt;
  }
  const pqxx::row& row = *found;
  TokenRecord record;
  record.id = row[0].as<std::int64_t>();
  record.hash = row[1].as<std::string>();
  record.fingerprint = row[2].as<std::string>();
  record.event_id = row[3].as<std::int64_t>();
  record.party_email = row[4].as<std::string>();
  record.expires = Instant(Micros(row[5].as<long long>()));
  return record;
}

bool PgTokenAdmin::schema_present() {
  return tx_.exec1("SELECT to_regclass('notify.email_tokens') IS NOT NULL")[0].as<bool>();
}

std::int64_t PgTokenAdmin::revoke_for_event(std::int64_t event_id, const std::optional<std::string>& party) {
  if (!schema_present()) {
    return 0;
  }
  return static_cast<std::int64_t>(
      tx_.exec_params(
             "DELETE FROM notify.email_tokens WHERE event_id = $1 AND ($2::text IS NULL OR party_email = $2)",
             event_id, party)
          .affected_rows());
}

std::int64_t PgTokenAdmin::revoke_for_party(const std::string& party) {
  if (!schema_present()) {
    return 0;
  }
  return static_cast<std::int64_t>(
      tx_.exec_params("DELETE FROM notify.email_tokens WHERE party_email = $1", party).affected_rows());
}

}  // namespace calndro::notify
