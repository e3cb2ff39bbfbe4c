// calndro-admin: creates users, sets passwords, staff and active flags, lists
// and revokes API keys and email tokens, on the database named by
// CALNDRO_DATABASE_URL. It applies the `events` migrations first, so it works
// on a fresh database too. Email tokens live in the notification service's
// schema, which it writes directly (notify/token_store.h says why).
#include <algorithm>
#include <charconv>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "admin/consistency_check.h"
#include "admin/log_verify.h"
#include "common/audit/log_signing_key.h"
#include "common/base/settings.h"
#include "common/crypto/crypto.h"
#include "common/db/migrations.h"
#include "common/text/email.h"
#include "common/text/time_format.h"
#include "events/migrations.h"
#include "events/user_store.h"
#include "notify/token_store.h"

namespace {

using calndro::events::PgUserAdmin;
using calndro::notify::PgTokenAdmin;

constexpr const char* kUsage =
    "usage: calndro-admin user add EMAIL [--username NAME] [--staff] [--inactive] [--password-stdin]\n"
    "       calndro-admin user set-password EMAIL --password-stdin\n"
    "       calndro-admin user activate EMAIL\n"
    "       calndro-admin user deactivate EMAIL      (also revokes the user's API keys and email tokens)\n"
    "       calndro-admin user list\n"
    "       calndro-admin token list [EMAIL]          (API keys)\n"
    "       calndro-admin token revoke TOKEN_ID       (one API key, by the id `token list` shows)\n"
    "       calndro-admin token revoke --user EMAIL   (every API key of the user)\n"
    "       calndro-admin token revoke --event ID [--party EMAIL]\n"
    "                                                (the email tokens of an event's mail links: every\n"
    "                                                 party's, or one party's)\n"
    "       calndro-admin check                      (notifies, log entries, mails and versions agree)\n"
    "       calndro-admin log verify [--event ID]    (every event's audit log chain and signed head;\n"
    "                                                 the key from CALNDRO_LOG_KEY_FILE)\n"
    "A new password also revokes the user's API keys.\n"
    "The database comes from CALNDRO_DATABASE_URL.\n";

int usage_error(const std::string& message) {
  std::cerr << "calndro-admin: " << message << "\n" << kUsage;
  return 2;
}

std::string read_password_from_stdin() {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') {
    password.pop_back();
  }
  if (password.empty()) {
    throw std::runtime_error("no password on standard input");
  }
  return password;
}

std::string canonical_email_or_throw(const std::string& text) {
  const auto email = calndro::normalize_email(text);
  if (!email.ok()) {
    throw std::runtime_error("'" + text + "': " + std::string(email.status().message()));
  }
  return *email;
}

int add_user(pqxx::connection& connection, const std::vector<std::string>& args) {
  if (args.empty()) {
    return usage_error("user add needs an EMAIL");
  }
  const std::string email = canonical_email_or_throw(args[0]);
  std::optional<std::string> username;
  bool staff = false;
  bool active = true;
  bool password_from_stdin = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--username" && i + 1 < args.size()) {
      username = args[++i];
    } else if (args[i] == "--staff") {
      staff = true;
    } else if (args[i] == "--inactive") {
      active = false;
    } else if (args[i] == "--password-stdin") {
      password_from_stdin = true;
    } else {
      return usage_error("unknown option '" + args[i] + "'");
    }
  }
  if (username && (username->empty() || username->size() > 150 || username->find('@') != std::string::npos ||
                   username->find(':') != std::string::npos)) {
    return usage_error("a username is 1-150 characters without '@' or ':'");
  }
  calndro::SystemRandom random;
  const std::string password =
      password_from_stdin ? read_password_from_stdin() : calndro::random_hex(random, 12);
  pqxx::work tx(connection);
  PgUserAdmin users(tx);
  // `add --inactive` of an active user deactivates it: its tokens go too.
  const bool deactivates = !active && users.lock_active_flag(email).value_or(false);
  const auto id = users.add_user(email, username, calndro::hash_password(password), staff, active);
  const auto revoked = deactivates ? PgTokenAdmin(tx).revoke_for_party(email) : 0;
  tx.commit();
  std::cout << "user " << id << " " << email << (staff ? " (staff)" : "") << (active ? "" : " (inactive)")
            << (deactivates ? "; email tokens revoked: " + std::to_string(revoked) : "") << "\n";
  if (!password_from_stdin) {
    std::cout << "password: " << password << "\n";
  }
  return 0;
}

// What a change of a user takes with it.
enum class EmailTokens { kKept, kRevoked };

// Runs `change` on one user in a transaction and says how many API keys went
// with it (a trigger deletes them when the password or the active flag
// changes) and, with EmailTokens::kRevoked, revokes the email tokens issued
// to the user in the same transaction.
int change_user(pqxx::connection& connection, const std::string& email,
                const std::function<bool(PgUserAdmin&)>& change, const std::string& done,
                EmailTokens email_tokens = EmailTokens::kKept) {
  pqxx::work tx(connection);
  PgUserAdmin users(tx);
  const auto keys = users.count_api_tokens(email);
  if (!change(users)) {
    std::cerr << "calndro-admin: no user " << email << "\n";
    return 1;
  }
  std::string revoked;
  if (email_tokens == EmailTokens::kRevoked) {
    revoked = "; email tokens revoked: " + std::to_string(PgTokenAdmin(tx).revoke_for_party(email));
  }
  tx.commit();
  std::cout << done << "; API keys revoked: " << keys << revoked << "\n";
  return 0;
}

int set_password(pqxx::connection& connection, const std::vector<std::string>& args) {
  if (args.size() != 2 || args[1] != "--password-stdin") {
    return usage_error("user set-password EMAIL --password-stdin");
  }
  const std::string email = canonical_email_or_throw(args[0]);
  const std::string hash = calndro::hash_password(read_password_from_stdin());
  return change_user(
      connection, email, [&](PgUserAdmin& users) { return users.set_password(email, hash); },
      "password set for " + email);
}

int deactivate(pqxx::connection& connection, const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return usage_error("user deactivate EMAIL");
  }
  const std::string email = canonical_email_or_throw(args[0]);
  // A deactivated party loses the links already mailed to it at once.
  return change_user(
      connection, email, [&](PgUserAdmin& users) { return users.deactivate(email); }, "deactivated " + email,
      EmailTokens::kRevoked);
}

int list_tokens(pqxx::connection& connection, const std::vector<std::string>& args) {
  if (args.size() > 1) {
    return usage_error("token list [EMAIL]");
  }
  std::optional<std::string> email;
  if (!args.empty()) {
    email = canonical_email_or_throw(args[0]);
  }
  pqxx::work tx(connection);
  const calndro::SystemClock clock;
  const calndro::Instant now = clock.now();
  std::cout << "id\temail\tcreated\texpires\tstate\n";
  for (const auto& token : PgUserAdmin(tx).list_api_tokens(email)) {
    std::cout << token.id << "\t" << token.email << "\t" << calndro::format_instant(token.created) << "\t"
              << calndro::format_instant(token.expires) << "\t" << (token.expires > now ? "valid" : "expired")
              << "\n";
  }
  return 0;
}

std::optional<std::int64_t> positive_id(const std::string& text) {
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id <= 0) {
    return std::nullopt;
  }
  return id;
}

// token revoke --event ID [--party EMAIL]: the event's email tokens.
int revoke_email_tokens(pqxx::connection& connection, const std::vector<std::string>& args) {
  const bool one_party = args.size() == 4 && args[2] == "--party";
  const auto event_id = args.size() >= 2 ? positive_id(args[1]) : std::nullopt;
  if (!event_id || (args.size() != 2 && !one_party)) {
    return usage_error("token revoke --event ID [--party EMAIL] (ID: a positive event id)");
  }
  std::optional<std::string> party;
  if (one_party) {
    party = canonical_email_or_throw(args[3]);
  }
  pqxx::work tx(connection);
  const auto parties = PgUserAdmin(tx).event_parties(*event_id);
  if (!parties) {
    std::cerr << "calndro-admin: no event " << *event_id << "\n";
    return 1;
  }
  if (party && std::find(parties->begin(), parties->end(), *party) == parties->end()) {
    std::cerr << "calndro-admin: " << *party << " is not a party of event " << *event_id << "\n";
    return 1;
  }
  const auto revoked = PgTokenAdmin(tx).revoke_for_event(*event_id, party);
  tx.commit();
  std::cout << "revoked " << revoked << " email token(s) of event " << *event_id
            << (party ? " issued to " + *party : "") << "\n";
  return 0;
}

int revoke_tokens(pqxx::connection& connection, const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "--event") {
    return revoke_email_tokens(connection, args);
  }
  pqxx::work tx(connection);
  if (args.size() == 2 && args[0] == "--user") {
    const std::string email = canonical_email_or_throw(args[1]);
    const auto revoked = PgUserAdmin(tx).revoke_api_tokens_of(email);
    tx.commit();
    std::cout << "revoked " << revoked << " API key(s) of " << email << "\n";
    return 0;
  }
  const auto id = args.size() == 1 ? positive_id(args[0]) : std::nullopt;
  if (!id) {
    return usage_error(
        "token revoke TOKEN_ID | token revoke --user EMAIL | token revoke --event ID [--party EMAIL]");
  }
  if (!PgUserAdmin(tx).revoke_api_token_by_id(*id)) {
    std::cerr << "calndro-admin: no API key " << *id << "\n";
    return 1;
  }
  tx.commit();
  std::cout << "revoked API key " << *id << "\n";
  return 0;
}

int activate(pqxx::connection& connection, const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return usage_error("user activate EMAIL");
  }
  const std::string email = canonical_email_or_throw(args[0]);
  pqxx::work tx(connection);
  if (!PgUserAdmin(tx).activate(email)) {
    std::cerr << "calndro-admin: no user " << email << "\n";
    return 1;
  }
  tx.commit();
  std::cout << "activated " << email << "\n";
  return 0;
}

// Names each problem on stderr; exits 1 when there is one.
int check(pqxx::connection& connection) {
  const std::vector<std::string> problems = calndro::admin::check_consistency(connection);
  for (const auto& problem : problems) {
    std::cerr << "calndro-admin check: " << problem << "\n";
  }
  if (!problems.empty()) {
    return 1;
  }
  std::cout << "consistent\n";
  return 0;
}

// log verify [--event ID]: names the first bad seq of each broken chain on
// stdout; exits 1 when there is one.
int verify_log(pqxx::connection& connection, const std::string& key_file,
               const std::vector<std::string>& args) {
  std::optional<std::int64_t> only_event;
  if (!args.empty()) {
    only_event = args.size() == 2 && args[0] == "--event" ? positive_id(args[1]) : std::nullopt;
    if (!only_event) {
      return usage_error("log verify [--event ID] (ID: a positive event id)");
    }
  }
  const auto key = calndro::audit::LogSigningKey::load(key_file, calndro::audit::MissingKey::kRefuse);
  if (!key.ok()) {
    std::cerr << "calndro-admin: CALNDRO_LOG_KEY_FILE: " << key.status().message() << "\n";
    return 2;
  }
  const calndro::admin::LogVerification found =
      calndro::admin::verify_logs(connection, key->public_key_base64(), only_event);
  for (const auto& line : found.broken) {
    std::cout << line << "\n";
  }
  if (!found.broken.empty()) {
    std::cerr << "calndro-admin: " << found.broken.size() << " of " << found.events
              << " audit log chains are broken\n";
    return 1;
  }
  std::cout << found.events << " audit log chains, " << found.entries
            << " sealed entries: every chain and head checks out (key " << key->key_id() << ")\n";
  return 0;
}

int list(pqxx::connection& connection) {
  pqxx::work tx(connection);
  std::cout << "id\temail\tusername\tactive\tstaff\tpassword\n";
  for (const auto& user : PgUserAdmin(tx).list()) {
    std::cout << user.id << "\t" << user.email << "\t" << user.username.value_or("-") << "\t"
              << (user.active ? "yes" : "no") << "\t" << (user.staff ? "yes" : "no") << "\t"
              << (user.password_hash.empty() ? "no" : "yes") << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool checking = args.size() == 1 && args[0] == "check";
  if (!checking && (args.size() < 2 || (args[0] != "user" && args[0] != "token" && args[0] != "log"))) {
    return usage_error(args.empty() ? "missing command" : "unknown command '" + args[0] + "'");
  }
  const bool tokens = args[0] == "token";
  const std::string command = checking ? "check" : args[1];
  const std::vector<std::string> rest(args.begin() + (checking ? 1 : 2), args.end());
  try {
    calndro::init_crypto();
    const calndro::settings::Values settings =
        calndro::settings::Values::load(calndro::settings::Process::kAdmin);
    const std::string& url = settings.text("CALNDRO_DATABASE_URL");
    const std::string& log_key_file = settings.text("CALNDRO_LOG_KEY_FILE");
    settings.expect_all_read();
    calndro::apply_migrations(url, calndro::events::kSchema, calndro::events::migrations());
    pqxx::connection connection(url);
    if (checking) {
      return check(connection);
    }
    if (args[0] == "log") {
      return command == "verify" ? verify_log(connection, log_key_file, rest)
                                 : usage_error("unknown command 'log " + command + "'");
    }
    if (tokens) {
      if (command == "list") {
        return list_tokens(connection, rest);
      }
      if (command == "revoke") {
        return revoke_tokens(connection, rest);
      }
      return usage_error("unknown command 'token " + command + "'");
    }
    if (command == "add") {
      return add_user(connection, rest);
    }
    if (command == "set-password") {
      return set_password(connection, rest);
    }
    if (command == "activate") {
      return activate(connection, rest);
    }
    if (command == "deactivate") {
      return deactivate(connection, rest);
    }
    if (command == "list") {
      return list(connection);
    }
    return usage_error("unknown command 'user " + command + "'");
  } catch (const std::exception& error) {
    std::cerr << "calndro-admin: " << error.what() << "\n";
    return 1;
  }
}
