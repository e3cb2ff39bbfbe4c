#include "common/base/config.h"

#include <fstream>
#include <stdexcept>

#include "common/crypto/crypto.h"

namespace calndro::config {

namespace {

std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("CALNDRO_INTERNAL_TOKEN_FILE: cannot read '" + path + "'");
  }
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  return line;
}

}  // namespace

bool is_loopback_listen(std::string_view address) {
  if (address.starts_with("unix:") || address.starts_with("unix-abstract:")) {
    return true;
  }
  const auto colon = address.rfind(':');
  const std::string_view host = colon == std::string_view::npos ? address : address.substr(0, colon);
  const bool ipv4_literal = host.find_first_not_of("0123456789.") == std::string_view::npos;
  return host == "localhost" || host == "[::1]" || (ipv4_literal && host.starts_with("127."));
}

namespace {

InternalToken read_internal_token(const settings::Values& settings, bool loopback, const std::string& where,
                                  const std::string& risk) {
  const std::string& inline_value = settings.text("CALNDRO_INTERNAL_TOKEN");
  const std::string& file = settings.text("CALNDRO_INTERNAL_TOKEN_FILE");
  if (!inline_value.empty() && !file.empty()) {
    throw std::runtime_error("set CALNDRO_INTERNAL_TOKEN or CALNDRO_INTERNAL_TOKEN_FILE, not both");
  }
  InternalToken token;
  token.value = file.empty() ? inline_value : read_token_file(file);
  if (token.value.empty()) {
    token.value = kDefaultInternalToken;
  }
  token.is_default = token.value == kDefaultInternalToken;
  if (!loopback && (token.is_default || token.value.size() < kMinInternalTokenLength)) {
    throw std::runtime_error("CALNDRO_INTERNAL_TOKEN must be a secret of at least " +
                             std::to_string(kMinInternalTokenLength) +
                             " characters (e.g. `openssl rand -hex 32`) when " + where + ": " + risk);
  }
  return token;
}

}  // namespace

InternalToken internal_token(const settings::Values& settings, const std::string& listen_address) {
  return read_internal_token(settings, is_loopback_listen(listen_address),
                             "the service listens beyond loopback (" + listen_address + ")",
                             "the built-in default is public, so anyone reaching the notification service "
                             "could send mail");
}

InternalToken internal_token_for_target(const settings::Values& settings, const std::string& target) {
  return read_internal_token(settings, is_loopback_listen(target),
                             "the event service is beyond loopback (" + target + ")",
                             "it refuses the public default there, and without the credential it counts "
                             "every HTTP client under the gateway's own address");
}

bool is_internal_credential(std::string_view offered, std::string_view expected) {
  return !expected.empty() && constant_time_equal(sha256_hex(offered), sha256_hex(expected));
}

}  // namespace calndro::config
