#include "events/login_throttle.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include "common/text/ip_address.h"

namespace calndro::events {
namespace {

std::chrono::seconds whole_seconds_until(Instant when, Instant now) {
  const auto left = std::chrono::ceil<std::chrono::seconds>(when - now);
  return std::max(left, std::chrono::seconds(1));
}

}  // namespace

LoginThrottle::LoginThrottle(const Clock& clock, LoginLimits limits, std::size_t max_keys)
    : clock_(clock), limits_(limits), max_keys_(std::max<std::size_t>(max_keys, 2)) {
  randombytes_buf(secret_, sizeof secret_);
}

std::string LoginThrottle::account_key(std::string_view login) const {
  std::string lowered(login);
  for (char& c : lowered) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::string key(16, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                     reinterpret_cast<const unsigned char*>(lowered.data()), lowered.size(), secret_,
                     sizeof secret_);
  return key;
}

std::optional<std::chrono::seconds> LoginThrottle::wait_for(Map& map, const std::string& key, int limit,
                                                            Instant now) {
  const auto found = map.find(key);
  if (found == map.end()) {
    return std::nullopt;
  }
  Failures& failures = found->second;
  const Instant horizon = now - limits_.window;
  while (!failures.empty() && failures.front() <= horizon) {
    failures.pop_front();
  }
  if (failures.empty()) {
    map.erase(found);
    return std::nullopt;
  }
  if (static_cast<int>(failures.size()) < limit) {
    return std::nullopt;
  }
  // Allowed again once all but limit-1 of these have left the window.
  const Instant frees = failures[failures.size() - static_cast<std::size_t>(limit)] + limits_.window;
  return whole_seconds_until(frees, now);
}

std::optional<std::chrono::seconds> LoginThrottle::retry_after(const std::string& account,
                                                               const std::string& address) {
  const Instant now = clock_.now();
  std::lock_guard lock(mutex_);
  const auto by_account = wait_for(accounts_, account, limits_.failures_per_account, now);
  const auto by_address = wait_for(addresses_, address, limits_.failures_per_address, now);
  if (by_account && by_address) {
    return std::max(*by_account, *by_address);
  }
  return by_account ? by_account : by_address;
}

std::optional<std::chrono::seconds> LoginThrottle::count_failure(const std::string& account,
                                                                 const std::string& address,
                                                                 Instant& counted_at) {
  const Instant now = clock_.now();
  std::lock_guard lock(mutex_);
  const auto by_account = wait_for(accounts_, account, limits_.failures_per_account, now);
  const auto by_address = wait_for(addresses_, address, limits_.failures_per_address, now);
  if (by_account || by_address) {
    return std::max(by_account.value_or(std::chrono::seconds(0)),
                    by_address.value_or(std::chrono::seconds(0)));
  }
  add(accounts_, account, now, now);
  add(addresses_, address, now, now);
  counted_at = now;
  return std::nullopt;
}

void LoginThrottle::withdraw(const std::string& account, const std::string& address, Instant counted_at) {
  std::lock_guard lock(mutex_);
  remove(accounts_, account, counted_at);
  remove(addresses_, address, counted_at);
}

void LoginThrottle::succeeded(const std::string& account, const std::string& address, Instant counted_at) {
  std::lock_guard lock(mutex_);
  accounts_.erase(account);
  remove(addresses_, address, counted_at);
}

void LoginThrottle::succeeded(const std::string& account) {
  std::lock_guard lock(mutex_);
  if (!accounts_.empty()) {
    accounts_.erase(account);
  }
}

std::size_t LoginThrottle::keys() const {
  std::lock_guard lock(mutex_);
  return accounts_.size() + addresses_.size();
}

void LoginThrottle::add(Map& map, const std::string& key, Instant at, Instant now) {
  auto found = map.find(key);
  if (found == map.end()) {
    if (map.size() >= max_keys_) {
      make_room(map, now);
    }
    found = map.emplace(key, Failures{}).first;
  }
  found->second.push_back(at);
}

void LoginThrottle::remove(Map& map, const std::string& key, Instant at) {
  const auto found = map.find(key);
  if (found == map.end()) {
    return;
  }
  Failures& failures = found->second;
  const auto it = std::find(failures.rbegin(), failures.rend(), at);
  if (it != failures.rend()) {
    failures.erase(std::next(it).base());
  }
  if (failures.empty()) {
    map.erase(found);
  }
}

void LoginThrottle::make_room(Map& map, Instant now) {
  const Instant horizon = now - limits_.window;
  std::erase_if(map, [horizon](const auto& entry) { return entry.second.back() <= horizon; });
  if (map.size() < max_keys_) {
    return;
  }
  // Still full of live keys: drop the half that failed least recently, so
  // this runs once per max_keys/2 new keys, not on every one.
  std::vector<Instant> last;
  last.reserve(map.size());
  for (const auto& [key, failures] : map) {
    last.push_back(failures.back());
  }
  auto middle = last.begin() + static_cast<std::ptrdiff_t>(last.size() / 2);
  std::nth_element(last.begin(), middle, last.end());
  const Instant cut = *middle;
  std::erase_if(map, [cut](const auto& entry) { return entry.second.back() < cut; });
  if (map.size() >= max_keys_) {
    std::erase_if(map, [cut](const auto& entry) { return entry.second.back() <= cut; });
  }
}

std::optional<std::string> client_address_key(std::string_view text) {
  std::string host(text);
  if (host.rfind("ipv4:", 0) == 0) {
    host = host.substr(5);
    const auto colon = host.rfind(':');
    if (colon != std::string::npos) {
      host.resize(colon);
    }
  } else if (host.rfind("ipv6:", 0) == 0) {
    host = host.substr(5);
    // gRPC writes "[addr]:port", some versions percent-encode the brackets.
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"%5B", "["}, {"%5D", "]"}, {"%5b", "["}, {"%5d", "]"}}) {
      for (auto at = host.find(from); at != std::string::npos; at = host.find(from)) {
        host.replace(at, from.size(), to);
      }
    }
    const auto close = host.find(']');
    if (host.empty() || host.front() != '[' || close == std::string::npos) {
      return std::nullopt;
    }
    host = host.substr(1, close - 1);
  } else if (!host.empty() && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() > 64) {
    return std::nullopt;
  }
  const auto zone = host.find('%');
  if (zone != std::string::npos) {
    host.resize(zone);
  }
  auto address = parse_ip(host);
  if (!address) {
    return std::nullopt;
  }
  if (is_mapped_v4(*address)) {
    return ip_text(*address);
  }
  // One IPv6 client usually holds a whole /64: count the block.
  std::memset(&address->s6_addr[8], 0, 8);
  return ip_text(*address) + "/64";
}

}  // namespace calndro::events
