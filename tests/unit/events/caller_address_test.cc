#include "events/caller_address.h"

#include <grpcpp/test/server_context_test_spouse.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace calndro::events {
namespace {

const std::string kInternalToken(40, 'k');

// A test context has no peer: a call counted under its peer is "unknown".
std::string address_of(const std::vector<std::pair<std::string, std::string>>& metadata,
                       const std::string& internal_token = kInternalToken) {
  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse(&context);
  for (const auto& [key, value] : metadata) {
    spouse.AddClientMetadata(key, value);
  }
  return caller_address(context, internal_token);
}

TEST(CallerAddress, TheForwardedAddressCountsOnlyWithTheInternalCredential) {
  EXPECT_EQ(address_of({{"x-calndro-client-addr", "203.0.113.5"}, {"x-calndro-internal", kInternalToken}}),
            "203.0.113.5");
  EXPECT_EQ(
      address_of({{"x-calndro-client-addr", "2001:db8:7:7::9"}, {"x-calndro-internal", kInternalToken}}),
      "2001:db8:7:7::/64");
  EXPECT_EQ(address_of({{"x-calndro-client-addr", "203.0.113.5"}}), "unknown") << "no credential: the peer";
  EXPECT_EQ(address_of({{"x-calndro-client-addr", "203.0.113.5"}, {"x-calndro-internal", "guess"}}),
            "unknown");
  EXPECT_EQ(
      address_of({{"x-calndro-client-addr", "203.0.113.5"}, {"x-calndro-internal", kInternalToken + "x"}}),
      "unknown");
  EXPECT_EQ(address_of({{"x-calndro-client-addr", "203.0.113.5"}, {"x-calndro-internal", ""}}, ""), "unknown")
      << "an unset credential is never matched";
  EXPECT_EQ(address_of({{"x-calndro-client-addr", "not an address"}, {"x-calndro-internal", kInternalToken}}),
            "unknown");
  EXPECT_EQ(address_of({}), "unknown");
}

}  // namespace
}  // namespace calndro::events
