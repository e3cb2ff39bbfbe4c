#pragma once

#include <grpcpp/test/server_context_test_spouse.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/grpc/rich_status.h"
#include "events/event_service.h"
#include "events/idempotency.h"
#include "fake_clock.h"
#include "fakes.h"

// The event service on the in-memory stores, with everything it is built
// from, and the way its tests call it: as a gRPC caller with metadata.
namespace calndro::events {

// What a caller sends as gRPC metadata.
using Metadata = std::vector<std::pair<std::string, std::string>>;

// A one-hour slot `hour` hours after 2025-12-18T00:00:00Z.
inline Slot slot_at(int hour) {
  return {Instant(std::chrono::hours(24 * 365 * 56 + hour)), std::chrono::hours(1)};
}

// The fields a refusal's BadRequest names, in its order.
inline std::vector<std::string> violated_fields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const auto& violation : decode_details(status).violations) {
    fields.push_back(violation.field);
  }
  return fields;
}

class ServiceFixture : public ::testing::Test {
 protected:
  // What the gateway presents, so the event service believes its client address.
  static constexpr const char* kInternalToken = "service-fixture-internal-credential";
  static constexpr const char* kPublicBaseUrl = "https://cal.example.org/";

  static Metadata as_token(const std::string& key) {
    return {{"authorization", "Token " + key}, {"x-request-id", "req-1"}};
  }

  // Calls the RPC as a caller with `metadata` would (from 127.0.0.1, through
  // the gateway); `replayed` tells whether the answer carried
  // x-idempotent-replayed: true.
  template <typename Request, typename Response>
  absl::Status call(grpc::Status (EventServiceImpl::*rpc)(grpc::ServerContext*, const Request*, Response*),
                    const Metadata& metadata, const Request& request, Response& response,
                    bool* replayed = nullptr) {
    grpc::ServerContext context;
    grpc::testing::ServerContextTestSpouse spouse(&context);
    spouse.AddClientMetadata("x-calndro-client-addr", "127.0.0.1");
    spouse.AddClientMetadata("x-calndro-internal", kInternalToken);
    for (const auto& [key, value] : metadata) {
      spouse.AddClientMetadata(key, value);
    }
    const absl::Status status = from_grpc_status((service_.*rpc)(&context, &request, &response));
    if (replayed != nullptr) {
      const auto initial = spouse.GetInitialMetadata();
      const auto found = initial.find(kReplayedMetadata);
      *replayed = found != initial.end() && found->second == "true";
    }
    return status;
  }

  // The notification service resolves `token` to `party` of `event_id`.
  void add_email_token(const std::string& token, std::int64_t event_id, const std::string& party) {
    notify::v1::ResolveTokenResponse resolved;
    resolved.set_event_id(event_id);
    resolved.set_party_email(party);
    resolved.set_fingerprint("fp-" + token.substr(0, 4));
    resolved.mutable_expires()->set_seconds(4'000'000'000);
    notifications_.tokens[token] = resolved;
  }

  FakeClock clock_;
  FakeStores stores_;
  FakeNotifications notifications_;
  // The service's tests draw thousands of tokens and titles: spread, so none repeats.
  CountingRandom random_{CountingRandom::Bytes::kSpread};
  CredentialCache credential_cache_{clock_, std::chrono::seconds(60), 100};
  LoginThrottle throttle_{clock_, LoginLimits{}};
  Authenticator authenticator_{clock_, stores_, credential_cache_, throttle_, notifications_};
  int committed_notifies_ = 0;  // how often the service woke the relay
  EventServiceImpl service_{stores_,
                            authenticator_,
                            clock_,
                            random_,
                            {.notify_committed = [this] { ++committed_notifies_; },
                             .internal_token = kInternalToken,
                             .public_base_url = kPublicBaseUrl,
                             .log_key = {}}};
};

}  // namespace calndro::events
