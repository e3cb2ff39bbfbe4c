#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/text/clock.h"

namespace calndro::events {

struct LoginLimits {
  int failures_per_account = 10;
  int failures_per_address = 100;
  std::chrono::seconds window{300};
};

// Counts failed password logins per account (the login as typed, lower-cased,
// whether or not such a user exists, so the answer tells nothing of which
// accounts exist) and per client address, each in a sliding window. Past a
// limit, password logins for that account or from that address are refused
// until enough failures have left the window.
//
// In process memory: a flood of failures must not cost database work, and
// each failure has cost an argon2id run, which bounds how many a process can
// record per window (docs/ARCHITECTURE.md). With N replicas an attacker gets
// up to N times the attempts. Each map holds at most `max_keys` keys; when
// full, the keys whose last failure is oldest go first.
class LoginThrottle {
 public:
  LoginThrottle(const Clock& clock, LoginLimits limits, std::size_t max_keys = 100000);

  // The throttle's key for a login (a keyed hash: no logins kept in memory).
  std::string account_key(std::string_view login) const;

  // How long until a password login for `account` from `address` may be
  // tried; nullopt: now.
  std::optional<std::chrono::seconds> retry_after(const std::string& account, const std::string& address);

  // Counts a failure for both keys before the password is checked, so that
  // concurrent attempts cannot overshoot a limit; `counted_at` identifies
  // it for withdraw/succeeded. When a limit is reached already, counts
  // nothing and returns the wait.
  std::optional<std::chrono::seconds> count_failure(const std::string& account, const std::string& address,
                                                    Instant& counted_at);
  // The check did not happen (no hashing slot): the attempt counts for nothing.
  void withdraw(const std::string& account, const std::string& address, Instant counted_at);
  // The password was right: the account's failures are forgotten, and this
  // attempt does not count against the address.
  void succeeded(const std::string& account, const std::string& address, Instant counted_at);
  // A login with a password verified earlier: the account's failures are forgotten.
  void succeeded(const std::string& account);

  const LoginLimits& limits() const { return limits_; }
  std::size_t keys() const;

 private:
  using Failures = std::deque<Instant>;  // oldest first
  using Map = std::unordered_map<std::string, Failures>;

  std::optional<std::chrono::seconds> wait_for(Map& map, const std::string& key, int limit, Instant now);
  void add(Map& map, const std::string& key, Instant at, Instant now);
  void remove(Map& map, const std::string& key, Instant at);
  void make_room(Map& map, Instant now);

  const Clock& clock_;
  const LoginLimits limits_;
  const std::size_t max_keys_;
  unsigned char secret_[32];
  mutable std::mutex mutex_;
  Map accounts_;
  Map addresses_;
};

// The throttle's key for a client address: IPv4 as dotted quad, IPv6 by its
// /64 (one host commonly holds a whole /64), an IPv4-mapped IPv6 address as
// IPv4. `text` is an address as the gateway sends it in
// `x-calndro-client-addr`, or a gRPC peer ("ipv4:1.2.3.4:5678",
// "ipv6:[::1]:5678"). Anything else: nullopt.
std::optional<std::string> client_address_key(std::string_view text);

}  // namespace calndro::events
