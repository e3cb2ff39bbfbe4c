#include "common/grpc/grpc_channel.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security_constants.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "common/base/settings.h"

namespace calndro {
namespace {

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
