#include "common/grpc_channel.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security_constants.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "common/settings.h"

namespace calndro {
namespace {

bool valid_port(std::string_view text) {
  int port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  return error == std::errc() && end == text.data() + text.size() && port > 0 && port <= 65535;
}

bool is_ipv4(std::string_view host) {
  int parts = 0;
  while (true) {
    const auto dot = host.find('.');
    const std::string_view part = host.substr(0, dot);
    int value = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || part.size() > 3 || error != std::errc() || end != part.data() + part.size() ||
        value > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) {
      break;
    }
    host.remove_prefix(dot + 1);
  }
  return parts == 4;
}

// "host:port" with a non-empty host (a name, an IPv4 literal or "[v6]").
bool valid_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  const std::string_view host = text.substr(0, colon);
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '[' ||
          c == ']' || c == ':')) {
      return false;
    }
  }
  return valid_port(text.substr(colon + 1));
}

// A TLS setting's value, from a process's settings or from the environment.
using TlsSetting = std::function<std::string(std::string_view name)>;

// The PEM file a variable names, checked for a block of `kind` ("" when unset).
std::string read_pem(const TlsSetting& setting, const char* variable, std::string_view kind) {
  const std::string path = setting(variable);
  if (path.empty()) {
    return "";
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(std::string(variable) + ": cannot read '" + path + "'");
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string pem = content.str();
  const auto begin = pem.find("-----BEGIN ");
  if (begin == std::string::npos || pem.find(std::string(kind) + "-----", begin) == std::string::npos) {
    throw std::runtime_error(std::string(variable) + ": '" + path + "' holds no PEM " + std::string(kind));
  }
  return pem;
}

GrpcTls read_tls(const TlsSetting& setting) {
  GrpcTls tls;
  tls.cert_chain = read_pem(setting, "CALNDRO_GRPC_TLS_CERT", "CERTIFICATE");
  tls.private_key = read_pem(setting, "CALNDRO_GRPC_TLS_KEY", "PRIVATE KEY");
  tls.ca = read_pem(setting, "CALNDRO_GRPC_TLS_CA", "CERTIFICATE");
  tls.server_name = setting("CALNDRO_GRPC_TLS_SERVER_NAME");
  if (tls.cert_chain.empty() != tls.private_key.empty()) {
    throw std::runtime_error(
        "CALNDRO_GRPC_TLS_CERT and CALNDRO_GRPC_TLS_KEY go together: set both or neither");
  }
  if (!tls.server_name.empty() && !tls.enabled()) {
    throw std::runtime_error(
        "CALNDRO_GRPC_TLS_SERVER_NAME is set but TLS is off (no CALNDRO_GRPC_TLS_CERT or _CA)");
  }
  return tls;
}

// Set by use_grpc_tls() before the first grpc_tls().
std::optional<GrpcTls> process_tls;

}  // namespace

GrpcTls read_grpc_tls(const settings::Values& settings) {
  return read_tls([&settings](std::string_view name) { return settings.text(name); });
}

GrpcTls read_grpc_tls() {
  return read_tls(settings::from_environment);
}

void use_grpc_tls(GrpcTls tls) {
  process_tls = std::move(tls);
}

const GrpcTls& grpc_tls() {
  static const GrpcTls tls = process_tls ? *process_tls : read_grpc_tls();
  return tls;
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const GrpcTls& tls) {
  if (!tls.enabled()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.ca;
  options.pem_private_key = tls.private_key;
  options.pem_cert_chain = tls.cert_chain;
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::ServerCredentials> server_credentials(const GrpcTls& tls) {
  if (!tls.enabled()) {
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_chain.empty()) {
    throw std::runtime_error(
        "CALNDRO_GRPC_TLS_CA is set but a gRPC server needs its own certificate: set CALNDRO_GRPC_TLS_CERT "
        "and "
        "CALNDRO_GRPC_TLS_KEY");
  }
  grpc::SslServerCredentialsOptions options(tls.ca.empty()
                                                ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                                : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls.ca;
  options.pem_key_cert_pairs.push_back({tls.private_key, tls.cert_chain});
  return grpc::SslServerCredentials(options);
}

grpc::ChannelArguments channel_arguments(const GrpcTls& tls) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  arguments.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  arguments.SetInt(GRPC_ARG_MAX_METADATA_SIZE, kMaxGrpcMetadataBytes);
  if (tls.enabled() && !tls.server_name.empty()) {
    arguments.SetSslTargetNameOverride(tls.server_name);
  }
  return arguments;
}

std::optional<std::string> grpc_target(std::string_view address, std::string& error) {
  for (std::string_view scheme : {"dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:"}) {
    if (address.rfind(scheme, 0) == 0 && address.size() > scheme.size()) {
      return std::string(address);
    }
  }
  if (address.find(',') == std::string_view::npos) {
    if (!valid_host_port(address)) {
      error =
          "expected host:port, a comma-separated list of IPv4 host:port, or a gRPC target such as "
          "dns:///events:50051; got '" +
          std::string(address) + "'";
      return std::nullopt;
    }
    return std::string(address);
  }
  std::string_view rest = address;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const auto colon = item.rfind(':');
    if (colon == std::string_view::npos || !is_ipv4(item.substr(0, colon)) ||
        !valid_port(item.substr(colon + 1))) {
      error =
          "a list of replicas must be IPv4 host:port items separated by commas (use dns:///NAME:PORT for "
          "names); got '" +
          std::string(address) + "'";
      return std::nullopt;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return "ipv4:" + std::string(address);
}

std::shared_ptr<grpc::Channel> make_balanced_channel(const std::string& target) {
  return make_balanced_channel(target, grpc_tls());
}

std::shared_ptr<grpc::Channel> make_balanced_channel(const std::string& target, const GrpcTls& tls) {
  if (tls.enabled() && tls.server_name.empty() &&
      (target.starts_with("ipv4:") || target.starts_with("ipv6:"))) {
    throw std::runtime_error(
        "TLS to a list of addresses (" + target +
        ") needs CALNDRO_GRPC_TLS_SERVER_NAME: the name the servers' certificates carry");
  }
  grpc::ChannelArguments arguments = channel_arguments(tls);
  arguments.SetLoadBalancingPolicyName("round_robin");
  return grpc::CreateCustomChannel(target, channel_credentials(tls), arguments);
}

}  // namespace calndro
