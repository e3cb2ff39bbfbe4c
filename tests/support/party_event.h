// The fixture of the live tests (event_watch_test.cc over gRPC,
// live_stream_test.cc over REST): alice's event for bob and a guest without
// account, and the other callers around it (carol, not a party; staff), on
// the stack `Suite` starts.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "support/http_call.h"
#include "support/stack.h"

namespace calndro::testing {

// The version an answer's ETag names ("N", quoted); 0 and a failure without one.
inline std::int64_t version_of(const HttpReply& reply) {
  std::string digits;
  for (const char c : reply.header("ETag")) {
    if (c >= '0' && c <= '9') {
      digits += c;
    }
  }
  EXPECT_FALSE(digits.empty()) << reply;
  return digits.empty() ? 0 : std::stoll(digits);
}

template <typename Suite>
class PartyEventTest : public SuiteStackTest<Suite> {
 public:
  using json = nlohmann::json;
  static Stack& stack() { return SuiteStackTest<Suite>::stack(); }

 protected:
  // `prefix` keeps the suites' users and titles apart in the logs.
  explicit PartyEventTest(std::string prefix) : prefix_(std::move(prefix)) {}

  void prepare() override {
    alice_ = stack().create_user(unique_email(prefix_ + "alice"), "alice-Pass-1");
    bob_ = stack().create_user(unique_email(prefix_ + "bob"), "bob-Pass-1");
    carol_ = stack().create_user(unique_email(prefix_ + "carol"), "carol-Pass-1");
    staff_ = stack().create_user(unique_email(prefix_ + "staff"), "staff-Pass-1", true);
    guest_ = unique_email(prefix_ + "guest");
    const HttpReply created = http_call(
        stack(),
        {.method = "POST",
         .path = "/",
         .authorization = alice(),
         .body = json_body(
             json{{"title", prefix_}, {"parties", {alice_.email, bob_.email, guest_}}, {"slots", slots()}}),
         .headers = {}});
    ASSERT_EQ(created.status, 201) << created;
    id_ = created.j()["id"].template get<std::int64_t>();
    version_ = version_of(created);
  }

  std::string alice() const { return basic_auth(alice_.email, alice_.password); }
  std::string bob() const { return basic_auth(bob_.email, bob_.password); }
  std::string staff() const { return basic_auth(staff_.email, staff_.password); }
  std::string path() const { return "/" + std::to_string(id_) + "/"; }
  static json slots() {
    return json::array(
        {slot_json("2031-05-01T09:00:00Z", "01:00"), slot_json("2031-05-02T09:00:00Z", "01:00")});
  }
  // An email token of the guest (a party without an account), from a notify's mail.
  std::string guest_token() {
    return notify_for_token(stack(), std::to_string(id_), alice(), guest_, slots());
  }

  // A new title over REST, as alice; the event's new version.
  std::int64_t retitle(const std::string& title) {
    const HttpReply patched = http_call(stack(), {.method = "PATCH",
                                                  .path = path(),
                                                  .authorization = alice(),
                                                  .body = json_body(json{{"title", title}}),
                                                  .headers = {}});
    EXPECT_EQ(patched.status, 202) << patched;
    return version_of(patched);
  }

  User alice_, bob_, carol_, staff_;
  std::string guest_;
  std::int64_t id_ = 0;
  std::int64_t version_ = 0;

 private:
  std::string prefix_;
};

}  // namespace calndro::testing
