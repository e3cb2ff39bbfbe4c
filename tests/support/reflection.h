#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>

// A raw client of grpc.reflection.v1alpha.ServerReflection, written against
// the wire format so that the tests do not depend on the reflection protos
// being built: what grpcurl does first.
namespace calndro::testing {

// Protobuf wire encoding of a length-delimited field.
std::string string_field(int number, const std::string& value);

// One request/response exchange (the request's serialized bytes); returns
// the first response's bytes and expects the call to end OK.
std::string reflection_exchange(const std::shared_ptr<grpc::Channel>& channel, const std::string& request);

// ServerReflectionRequest { list_services (7): "" }, raw response bytes.
inline std::string list_services(const std::shared_ptr<grpc::Channel>& channel) {
  return reflection_exchange(channel, string_field(7, ""));
}

}  // namespace calndro::testing
