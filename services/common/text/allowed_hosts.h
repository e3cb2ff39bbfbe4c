#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Which `Host` values the gateway answers to, as Django's ALLOWED_HOSTS: the
// URLs of its responses follow the Host when no public base URL is set, so it
// must be one the operator named. (Links in mails never follow a Host: the
// notification service builds them from its configured base.)
namespace calndro {

class AllowedHosts {
 public:
  // `list` is CALNDRO_ALLOWED_HOSTS: comma-separated names, "*" for any, a
  // leading dot for a domain and its subdomains (".example.org"). Empty:
  // localhost, 127.0.0.1 and [::1]. The host of `public_base_url` is always
  // allowed. Throws std::invalid_argument naming a malformed entry.
  static AllowedHosts parse(std::string_view list, std::string_view public_base_url);

  // `host_header` is a Host header value ("Example.org:9000", "[::1]:80").
  bool allows(std::string_view host_header) const;
  bool allows_any() const { return any_; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  bool any_ = false;
  std::vector<std::string> names_;  // lower case; ".suffix" entries match subdomains
};

// The host of a Host header value, lower case, without port or trailing dot;
// IPv6 literals keep their brackets. nullopt when malformed (empty, bad
// characters, a port that is not a number).
std::optional<std::string> host_of_header(std::string_view host_header);

// The host of an absolute http(s) URL ("https://a.example:8443/x" -> "a.example");
// nullopt when it is not one.
std::optional<std::string> host_of_url(std::string_view url);

// True for "http(s)://host[:port][/path]" without spaces, controls, query or
// fragment: what may prefix a link to an event (in a mail, with a token).
bool valid_link_base(std::string_view base);

}  // namespace calndro
