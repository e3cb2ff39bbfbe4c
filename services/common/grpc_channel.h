#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace calndro {

// Turns a CALNDRO_*_ADDR value into a gRPC target:
//   "host:port"                 as is (resolved through DNS when a name)
//   "10.0.0.1:1,10.0.0.2:1"     "ipv4:10.0.0.1:1,10.0.0.2:1" (a fixed list of replicas)
//   "dns:///events:50051", "ipv4:…", "ipv6:…", "unix:…"   as is
// nullopt with a sentence in `error` when malformed (bad configuration
// fails fast at start-up).
std::optional<std::string> grpc_target(std::string_view address, std::string& error);

// An insecure channel that spreads calls over every address the target
// resolves to (round_robin), so replicas share the load and a dead one is
// skipped.
std::shared_ptr<grpc::Channel> make_balanced_channel(const std::string& target);

}  // namespace calndro
