#pragma once

#include <optional>
#include <string>
#include <string_view>

// The address forms a CALNDRO_*_ADDR setting may take. Text only (no gRPC
// library): the settings check it at start-up, common/grpc/grpc_channel.h
// dials what it returns.
namespace calndro {

// Turns a CALNDRO_*_ADDR value into a gRPC target:
//   "host:port"                 as is (resolved through DNS when a name)
//   "10.0.0.1:1,10.0.0.2:1"     "ipv4:10.0.0.1:1,10.0.0.2:1" (a fixed list of replicas)
//   "dns:///events:50051", "ipv4:…", "ipv6:…", "unix:…"   as is
// nullopt with a sentence in `error` when malformed (bad configuration
// fails fast at start-up).
std::optional<std::string> grpc_target(std::string_view address, std::string& error);

}  // namespace calndro
