// The gateway's front door against the real stack (SPEC §3 Host and 431,
// §6 links, §7 limits): a foreign Host never gets a link mailed, a
// configured public base URL is what mails carry, idle connections lock
// nobody out, an oversized header does not spoil the connection or the
// channel behind it, and /metrics stays off the public port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include <vector>

#include "support/raw_http.h"
#include "support/stack.h"

using json = nlohmann::json;
using namespace calndro::testing;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

json slots() {
  return json::array({{{"begin", "2031-03-01T10:00:00Z"}, {"duration", "01:00"}}});
}

// Makes an event of `user` with `guest`; returns its id.
std::string create_event(Stack& stack, const User& user, const std::string& guest) {
  httplib::Client client = stack.http();
  auto res =
      client.Post("/", {{"Authorization", basic_auth(user.email, user.password)}},
                  json{{"parties", {user.email, guest}}, {"slots", slots()}}.dump(), "application/json");
  if (!res || res->status != 201) {
    ADD_FAILURE() << "create: " << (res ? res->body : std::string("no answer"));
    return "0";
  }
  return std::to_string(json::parse(res->body)["id"].get<long long>());
}

// Asks the gateway, with the Host header `host`, to mail `guest` a link to event `id` of `user`.
httplib::Result notify_with_host(Stack& stack, const User& user, const std::string& id,
                                 const std::string& guest, const std::string& host) {
  httplib::Client client = stack.http();
  return client.Post("/" + id + "/notify/",
                     {{"Host", host}, {"Authorization", basic_auth(user.email, user.password)}},
                     json{{"parties", {guest}}, {"slots", slots()}}.dump(), "application/json");
}

class FrontDoor : public StackTest {};

TEST_F(FrontDoor, NotifyWithAForeignHostIs400AndMailsNothing) {
  const User alice = stack().create_user(unique_email("fdalice"), "alice-Pass-1");
  const std::string guest = unique_email("fdguest");
  const std::string id = create_event(stack(), alice, guest);
  auto res = notify_with_host(stack(), alice, id, guest, "evil.example");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
  EXPECT_EQ(
      json::parse(res->body)["detail"].get<std::string>().rfind("Invalid Host header: 'evil.example'.", 0),
      0u)
      << res->body;
  EXPECT_EQ(stack().db().scalar("SELECT count(*) FROM notify.outbox WHERE event_id = " + id), "0");
  // Nothing reached the event service: no NOTIFY in the log.
  httplib::Client client = stack().http();
  auto log = client.Get("/" + id + "/log/", {{"Authorization", basic_auth(alice.email, alice.password)}});
  ASSERT_TRUE(log);
  ASSERT_EQ(log->status, 200) << log->body;
  EXPECT_EQ(log->body.find("NOTIFY"), std::string::npos) << log->body;
  EXPECT_TRUE(stack().smtp().messages_to(guest).empty());
}

TEST_F(FrontDoor, MailedLinksUseTheConfiguredBaseWhateverTheHost) {
  StackOptions options;
  options.env["CALNDRO_ALLOWED_HOSTS"] = "*";
  options.env["CALNDRO_PUBLIC_BASE_URL"] = "https://links.calndro.test";
  Stack own(options);
  const User alice = own.create_user(unique_email("fdbase"), "alice-Pass-1");
  const std::string guest = unique_email("fdbaseguest");
  const std::string id = create_event(own, alice, guest);
  auto res = notify_with_host(own, alice, id, guest, "evil.example");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202) << res->body;
  EXPECT_EQ(json::parse(res->body)["event_url"], "https://links.calndro.test/" + id + "/");
  auto mails = own.smtp().wait_for_to(guest, 1, 30s);
  ASSERT_EQ(mails.size(), 1u);
  const std::string text = mails[0].text();
  EXPECT_TRUE(
      std::regex_search(text, std::regex("https://links\\.calndro\\.test/" + id + "/\\?et=[0-9a-f]{40}")))
      << text;
  EXPECT_EQ(text.find("evil.example"), std::string::npos) << text;
}

TEST_F(FrontDoor, TwoHundredIdleConnectionsDoNotLockOutAnotherClient) {
  // Opening them is part of it: a listen backlog that overflows makes
  // clients wait for SYN retransmissions (1 s each).
  const auto opened = Clock::now();
  std::vector<int> idle;
  for (int i = 0; i < 200; ++i) {
    int fd = connect_from(stack().http_port(), "127.0.0.1");
    if (fd >= 0) {
      idle.push_back(fd);
    }
  }
  EXPECT_EQ(idle.size(), 200u);
  const auto started = Clock::now();
  const std::string other =
      raw_http(stack().http_port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
               "127.0.0.2");
  const auto other_elapsed = Clock::now() - started;
  // The same address as the idle ones: a request sent at once displaces one.
  const std::string same =
      raw_http(stack().http_port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const auto same_elapsed = Clock::now() - started;
  for (int fd : idle) {
    ::close(fd);
  }
  EXPECT_EQ(other.rfind("HTTP/1.1 200", 0), 0u) << other;
  EXPECT_LT(other_elapsed, 3s);
  EXPECT_LT(started - opened, 5s) << "opening 200 connections took long";
  EXPECT_EQ(same.rfind("HTTP/1.1 200", 0), 0u) << same;
  EXPECT_LT(same_elapsed, 6s);
}

TEST_F(FrontDoor, OversizedAuthorizationIs431ThenTheSameConnectionServes200) {
  const User bob = stack().create_user(unique_email("fdbob"), "bob-Pass-1");
  const std::string auth = basic_auth(bob.email, bob.password);
  for (std::size_t size : {std::size_t{20 * 1024}, std::size_t{8 * 1024}}) {
    const std::string response = raw_http(
        stack().http_port(),
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic " + std::string(size, 'A') + "\r\n\r\n" +
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + auth + "\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(response.rfind("HTTP/1.1 431", 0), 0u) << size << ": " << response.substr(0, 400);
    EXPECT_EQ(response.find("metadata"), std::string::npos) << response.substr(0, 400);
    EXPECT_EQ(count_of(response, "HTTP/1.1 200 OK"), 1u) << size << ": " << response.substr(0, 1000);
  }
  // And the channel behind it serves the next caller.
  httplib::Client client = stack().http();
  auto res = client.Get("/", {{"Authorization", auth}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(FrontDoor, BodiesMustBeJson) {
  const User carol = stack().create_user(unique_email("fdcarol"), "carol-Pass-1");
  httplib::Client client = stack().http();
  const std::string body = json{{"parties", {carol.email}}, {"slots", slots()}}.dump();
  auto res =
      client.Post("/", {{"Authorization", basic_auth(carol.email, carol.password)}}, body, "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415) << res->body;
  res = client.Post("/", {{"Authorization", basic_auth(carol.email, carol.password)}}, body,
                    "application/json; charset=utf-8");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201) << res->body;
}

TEST_F(FrontDoor, MetricsAreOnTheirOwnAddressOnly) {
  httplib::Client client = stack().http();
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  httplib::Client metrics("127.0.0.1", stack().gateway_metrics_port());
  res = metrics.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("calndro_http_requests_total"), std::string::npos);
}

}  // namespace
