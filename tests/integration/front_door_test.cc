// The gateway's front door against the real stack (SPEC §3 Host, 431 and
// cross-site requests, §6 links, §7 limits): a foreign Host never gets a
// link mailed, a configured public base URL is what mails carry, idle
// connections lock nobody out while a busy client pool from one address is
// never refused, an oversized header does not spoil the connection or the
// channel behind it, a page of another site changes nothing and logs no
// view, and /metrics stays off the public port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include <vector>

#include "support/raw_http.h"
#include "support/stack.h"
#include "support/wait.h"

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

// Without a public base URL the gateway answers after the (allowed) Host, but
// the links in mails are notify's to build, from its own configured base:
// two requests under two Hosts mail the same base, neither Host.
TEST_F(FrontDoor, MailedLinksAreNotifysBaseWhicheverAllowedHostWasUsed) {
  const User alice = stack().create_user(unique_email("fdhosts"), "alice-Pass-1");
  const std::string guest = unique_email("fdhostsguest");
  const std::string id = create_event(stack(), alice, guest);
  const std::vector<std::string> hosts = {"localhost:4711", "127.0.0.1:4712"};
  for (const std::string& host : hosts) {
    auto res = notify_with_host(stack(), alice, id, guest, host);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 202) << res->body;
    EXPECT_EQ(json::parse(res->body)["event_url"], "http://" + host + "/" + id + "/")
        << "responses follow the Host";
  }
  const auto mails = stack().smtp().wait_for_to(guest, hosts.size(), 30s);
  ASSERT_EQ(mails.size(), hosts.size());
  const std::regex link("\\n  " + std::regex_replace(stack().link_base(), std::regex(R"([.])"), "\\.") + "/" +
                        id + "/\\?et=[0-9a-f]{40}\\n");
  for (const auto& mail : mails) {
    const std::string text = mail.text();
    EXPECT_TRUE(std::regex_search(text, link)) << text;
    for (const std::string& host : hosts) {
      EXPECT_EQ(mail.raw.find(host), std::string::npos) << mail.raw;
    }
  }
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

// A client pool of 64 keep-alive connections from one address (the
// bench's busiest setting): each connection passes the server's 1,000
// requests per connection, so every one is closed by the server and
// reconnects at once. Not one answer may be a 429.
TEST_F(FrontDoor, SixtyFourKeepAliveConnectionsFromOneAddressNeverGet429) {
  constexpr int kConnections = 64;
  constexpr int kRequestsEach = 1010;
  std::atomic<int> ok{0};
  std::vector<std::string> problems(kConnections);
  std::vector<std::thread> clients;
  for (int c = 0; c < kConnections; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client client = stack().http();
      client.set_keep_alive(true);
      for (int i = 0; i < kRequestsEach; ++i) {
        auto res = client.Get("/healthz");
        if (res && res->status == 200) {
          ++ok;
        } else if (problems[c].empty()) {
          problems[c] =
              "request " + std::to_string(i) + ": " +
              (res ? std::to_string(res->status) + " " + res->body : httplib::to_string(res.error()));
        }
      }
    });
  }
  for (auto& client : clients) {
    client.join();
  }
  for (int c = 0; c < kConnections; ++c) {
    EXPECT_EQ(problems[c], "") << "connection " << c;
  }
  EXPECT_EQ(ok.load(), kConnections * kRequestsEach);
}

// ... while many idle connections from one address are still shed down to
// the lingering limit (16), and a request from that address is still served.
TEST_F(FrontDoor, ManyIdleConnectionsFromOneAddressAreStillShed) {
  std::vector<int> idle;
  const auto first_connected = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    const int fd = connect_from(stack().http_port(), "127.0.0.9");
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // Counted before the keep-alive timeout (5 s) would close them all anyway.
  const auto keep_alive_margin = first_connected + 4s - std::chrono::steady_clock::now();
  int open = 0;
  (void)wait_until(
      [&] {
        open = 0;
        for (int fd : idle) {
          char byte;
          if (::recv(fd, &byte, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN) {
            ++open;
          }
        }
        return open <= 16;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(keep_alive_margin),
      "the idle connections to be shed");
  const std::string served =
      raw_http(stack().http_port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
               "127.0.0.9");
  for (int fd : idle) {
    ::close(fd);
  }
  EXPECT_LE(open, 16) << "idle connections held from one address";
  EXPECT_EQ(served.rfind("HTTP/1.1 200", 0), 0u) << served;
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

// SPEC §3: a page of another site cannot make a browser with cached Basic
// credentials change anything, nor read an event in the user's name.
TEST_F(FrontDoor, CrossSiteWritesAre403AndChangeNothing) {
  const User alice = stack().create_user(unique_email("fdxalice"), "alice-Pass-1");
  const std::string guest = unique_email("fdxguest");
  const std::string id = create_event(stack(), alice, guest);
  const httplib::Headers auth{{"Authorization", basic_auth(alice.email, alice.password)}};
  httplib::Client client = stack().http();
  auto agreed =
      client.Post("/" + id + "/agree/", auth, json{{"slot", slots()[0]}}.dump(), "application/json");
  ASSERT_TRUE(agreed);
  ASSERT_EQ(agreed->status, 200) << agreed->body;
  wait_mail_settled(stack(), id);
  const std::string entries = "SELECT count(*) FROM events.log_entries WHERE event_id = " + id;
  const std::string log_before = stack().db().scalar(entries);
  const std::string mails_before =
      stack().db().scalar("SELECT count(*) FROM notify.outbox WHERE event_id = " + id);
  const std::string origin = "http://127.0.0.1:" + std::to_string(stack().http_port());
  // A cross-site form post, fetch(mode: 'no-cors'), a sibling subdomain,
  // an old browser (Origin only), a sandboxed frame (Origin: null).
  const std::vector<httplib::Headers> forged = {
      {{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "navigate"}, {"Sec-Fetch-Dest", "document"}},
      {{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "no-cors"}, {"Origin", "http://evil.example"}},
      {{"Sec-Fetch-Site", "same-site"}, {"Origin", "http://evil.127.0.0.1.nip.io"}},
      {{"Origin", "http://evil.example"}},
      {{"Origin", "null"}},
      {{"Origin", "http://127.0.0.1:1"}},
  };
  for (httplib::Headers headers : forged) {
    headers.insert(auth.begin(), auth.end());
    std::vector<httplib::Result> answers;
    answers.push_back(client.Post("/" + id + "/reopen/", headers, "", ""));
    answers.push_back(client.Patch("/" + id + "/", headers, R"({"title":"pwned"})", "application/json"));
    answers.push_back(client.Delete("/" + id + "/", headers));
    for (const auto& res : answers) {
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 403) << res->body;
      EXPECT_EQ(
          json::parse(res->body)["detail"].get<std::string>().rfind("Cross-origin request refused: ", 0), 0u)
          << res->body;
    }
  }
  EXPECT_EQ(stack().db().scalar(entries), log_before) << "a refused write was logged";
  EXPECT_EQ(stack().db().scalar("SELECT agreed_slot IS NOT NULL FROM events.events WHERE id = " + id), "t");
  EXPECT_EQ(stack().db().scalar("SELECT title FROM events.events WHERE id = " + id).find("pwned"),
            std::string::npos);
  wait_mail_settled(stack(), id);
  EXPECT_EQ(stack().db().scalar("SELECT count(*) FROM notify.outbox WHERE event_id = " + id), mails_before)
      << "a refused reopen mailed a cancellation";
  // The page's own call (same origin) and a client that says nothing (curl, httpie) pass.
  httplib::Headers own{{"Sec-Fetch-Site", "same-origin"}, {"Sec-Fetch-Mode", "cors"}, {"Origin", origin}};
  own.insert(auth.begin(), auth.end());
  auto reopened = client.Post("/" + id + "/reopen/", own, "", "");
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->status, 200) << reopened->body;
  auto renamed = client.Patch("/" + id + "/", auth, R"({"title":"renamed"})", "application/json");
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->status, 202) << renamed->body;
}

TEST_F(FrontDoor, ACrossSiteImageOfTheCalendarIs403AndLogsNoView) {
  const User bob = stack().create_user(unique_email("fdxbob"), "bob-Pass-1");
  const std::string id = create_event(stack(), bob, unique_email("fdxguest"));
  const std::string views =
      "SELECT count(*) FROM events.log_entries WHERE occurrence = 'VIEW' AND event_id = " + id;
  const httplib::Headers auth{{"Authorization", basic_auth(bob.email, bob.password)}};
  auto with = [&](httplib::Headers headers) {
    headers.insert(auth.begin(), auth.end());
    return headers;
  };
  httplib::Client client = stack().http();
  // <img src=".../event.ics">, fetch(url, {credentials: 'include'}), <iframe src=".../ID/">.
  auto image = client.Get(
      "/" + id + "/event.ics",
      with({{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "no-cors"}, {"Sec-Fetch-Dest", "image"}}));
  auto cors = client.Get("/" + id + "/", with({{"Sec-Fetch-Site", "cross-site"},
                                               {"Sec-Fetch-Mode", "cors"},
                                               {"Sec-Fetch-Dest", "empty"},
                                               {"Origin", "http://evil.example"}}));
  auto frame = client.Get(
      "/" + id + "/event.ics",
      with({{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "navigate"}, {"Sec-Fetch-Dest", "iframe"}}));
  for (const auto& res : {&image, &cors, &frame}) {
    ASSERT_TRUE(*res);
    EXPECT_EQ((*res)->status, 403) << (*res)->body;
    EXPECT_EQ(json::parse((*res)->body)["detail"].get<std::string>().rfind("Cross-site request refused: ", 0),
              0u);
  }
  EXPECT_EQ(stack().db().scalar(views), "0") << "a cross-site read logged a VIEW in bob's name";
  // A click on a link to the calendar file from another site (a webmail) is his own doing.
  auto clicked = client.Get("/" + id + "/event.ics", with({{"Sec-Fetch-Site", "cross-site"},
                                                           {"Sec-Fetch-Mode", "navigate"},
                                                           {"Sec-Fetch-Dest", "document"},
                                                           {"Sec-Fetch-User", "?1"}}));
  ASSERT_TRUE(clicked);
  EXPECT_EQ(clicked->status, 200) << clicked->body;
  EXPECT_EQ(clicked->get_header_value("Content-Type"), "text/calendar; charset=utf-8");
  EXPECT_EQ(stack().db().scalar(views), "1");
  // Probes and the API description stay readable from anywhere.
  auto spec = client.Get("/openapi", {{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "cors"}});
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->status, 200);
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
