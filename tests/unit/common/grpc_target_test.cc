#include "common/text/grpc_target.h"

#include <gtest/gtest.h>

#include <string>

#include "support/cases.h"

namespace calndro {
namespace {

std::string target_of(const std::string& address) {
  std::string error;
  const auto target = grpc_target(address, error);
  return target ? *target : "error";
}

TEST(GrpcTarget, AcceptsSingleAddressesListsAndSchemes) {
  testing::expect_maps(target_of,
                       {{"127.0.0.1:50051", "127.0.0.1:50051"},
                        {"events:50051", "events:50051"},
                        {"[::1]:50051", "[::1]:50051"},
                        {"127.0.0.1:50051,127.0.0.1:50061", "ipv4:127.0.0.1:50051,127.0.0.1:50061"},
                        {"dns:///events.calndro.svc:50051", "dns:///events.calndro.svc:50051"},
                        {"ipv4:10.0.0.1:1,10.0.0.2:1", "ipv4:10.0.0.1:1,10.0.0.2:1"},
                        {"unix:/run/calndro/events.sock", "unix:/run/calndro/events.sock"}});
}

TEST(GrpcTarget, RefusesMalformed) {
  for (const char* bad : {"", "events", ":50051", "events:0", "events:70000", "events:port", "a b:1",
                          "events:1,other:2", "127.0.0.1:1,", "127.0.0.256:1,127.0.0.1:2", "dns:"}) {
    std::string error;
    EXPECT_FALSE(grpc_target(bad, error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

}  // namespace
}  // namespace calndro
