#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/settings.h"
#include "common/text/grpc_target.h"

namespace calndro {

// Limits set explicitly on both sides of every calndro channel. A message
// holds at most one list page (ListEvents keeps a page under
// kMaxListPageBytes, which also fits gRPC's 4 MiB default for generic
// clients) or one event with its log; metadata holds the caller's
// credentials and, in trailers, an error capped by common/grpc/rich_status.h.
inline constexpr int kMaxGrpcMessageBytes = 16 * 1024 * 1024;
inline constexpr int kMaxGrpcMetadataBytes = 64 * 1024;
inline constexpr std::size_t kMaxListPageBytes = 4 * 1024 * 1024 - 64 * 1024;

// TLS between the processes, from PEM files named by the environment:
//   CALNDRO_GRPC_TLS_CERT, CALNDRO_GRPC_TLS_KEY  this process's certificate
//     chain and key: a gRPC server serves TLS with them, a client presents
//     them to servers that require a client certificate (mutual TLS);
//   CALNDRO_GRPC_TLS_CA  roots that verify peers: clients check servers
//     with them (system roots otherwise), and servers then require and
//     verify a client certificate;
//   CALNDRO_GRPC_TLS_SERVER_NAME  the name expected in servers'
//     certificates instead of the host of the target (for IP lists, or one
//     certificate name shared by the replicas).
// TLS is on when CERT or CA is set; all plaintext otherwise.
struct GrpcTls {
  std::string cert_chain;
  std::string private_key;
  std::string ca;
  std::string server_name;
  bool enabled() const { return !cert_chain.empty() || !ca.empty(); }
};

// Reads the files the settings above name now; throws with a sentence
// naming the variable when a file is missing, unreadable or not the
// expected PEM, or when CERT and KEY are not given together.
GrpcTls read_grpc_tls(const settings::Values& settings);
// The same from the environment (for code that has no process's settings).
GrpcTls read_grpc_tls();
// The mains give it what read_grpc_tls(settings) read at start, before any
// channel or server exists.
void use_grpc_tls(GrpcTls tls);
// This process's TLS: what use_grpc_tls() was given, else read_grpc_tls() once.
const GrpcTls& grpc_tls();

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const GrpcTls& tls);
// Throws when TLS is on without CALNDRO_GRPC_TLS_CERT/KEY.
std::shared_ptr<grpc::ServerCredentials> server_credentials(const GrpcTls& tls);
// The limits above (and the expected server name under TLS).
grpc::ChannelArguments channel_arguments(const GrpcTls& tls);

// A channel that spreads calls over every address the target resolves to
// (round_robin), so replicas share the load and a dead one is skipped; TLS
// as grpc_tls() says, the limits above.
std::shared_ptr<grpc::Channel> make_balanced_channel(const std::string& target);
// The same with the given TLS settings. Throws when TLS is on and the target
// is a list of addresses ("ipv4:…", "ipv6:…") without a server name: no
// certificate name could match it, every call would fail.
std::shared_ptr<grpc::Channel> make_balanced_channel(const std::string& target, const GrpcTls& tls);

}  // namespace calndro
