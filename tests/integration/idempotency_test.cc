// SPEC §3 "Idempotency" through the gateway, on the real stack: a repeat
// with the same Idempotency-Key, caller and body gets the first answer
// (Idempotent-Replayed: true) and changes nothing (no event, log entry or
// mail); the same key with another body is 422; concurrent repeats act once;
// records past their window are not replayed and are purged.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

#include "support/http_call.h"
#include "support/raw_http.h"
#include "support/stack.h"
#include "support/wait.h"

using json = nlohmann::json;
using namespace calndro::testing;

namespace {

class Idempotency : public SuiteStackTest<Idempotency> {
 public:
  static StackOptions options() {
    // The purge test ages a record by hand and waits for the job.
    return prompt_mail_options({{"CALNDRO_PURGE_INTERVAL_SECONDS", "1"}});
  }

 protected:
  void prepare() override {
    user_ = stack().create_user(unique_email("idem"), "idem-Pass-1");
    guest_ = unique_email("idemguest");
    title_ = "idem " + unique_email("t");
  }

  HttpReply post(const User& as, const std::string& path, const json& body, const std::string& key) {
    httplib::Headers headers;
    if (!key.empty()) {
      headers.emplace("Idempotency-Key", key);
    }
    return http_call(stack(), {"POST", path, basic_auth(as.email, as.password), body.dump(), headers});
  }

  json create_body() const {
    return {{"title", title_}, {"parties", {user_.email, guest_}}, {"slots", slots_}};
  }
  HttpReply create(const std::string& key) { return post(user_, "/", create_body(), key); }
  // The id of a new event made without a key; throws (failing the test)
  // when it cannot be made.
  std::string new_event() {
    const HttpReply created = create("");
    if (created.status != 201) {
      throw std::runtime_error("creating an event: " + ::testing::PrintToString(created));
    }
    return std::to_string(created.j()["id"].get<long long>());
  }

  // The user's POST of `body` to `path` under `first_key`, then its repeat
  // under `again_key`; throws (failing the test) unless both are `status`.
  std::pair<HttpReply, HttpReply> post_twice(const std::string& path, const json& body,
                                             const std::string& first_key, const std::string& again_key,
                                             int status) {
    HttpReply first = post(user_, path, body, first_key);
    HttpReply again = first.status == status ? post(user_, path, body, again_key) : HttpReply{};
    for (const HttpReply* reply : {&first, &again}) {
      if (reply->status != status) {
        throw std::runtime_error("POST " + path + ": expected " + std::to_string(status) + ", got " +
                                 ::testing::PrintToString(*reply));
      }
    }
    return {std::move(first), std::move(again)};
  }

  std::string sql_count(const std::string& from_where) {
    return stack().db().scalar("SELECT count(*) FROM " + from_where);
  }
  std::string events_titled() { return sql_count("events.events WHERE title = '" + title_ + "'"); }
  std::string entries(const std::string& id, const std::string& occurrence) {
    return sql_count("events.log_entries WHERE event_id = " + id + " AND occurrence = '" + occurrence + "'");
  }

  static std::string new_key() { return "key-" + unique_email("k"); }

  User user_;
  std::string guest_, title_;
  const json slots_ = json::array({{{"begin", "2034-05-06T09:00:00Z"}, {"duration", "00:30"}}});
};

TEST_F(Idempotency, ARepeatedCreateAnswersTheSame201AndCreatesNothing) {
  const std::string key = new_key();
  const HttpReply first = create(key);
  ASSERT_EQ(first.status, 201) << first;
  EXPECT_EQ(first.header("Idempotent-Replayed"), "");
  const std::string id = std::to_string(first.j()["id"].get<long long>());

  const HttpReply again = create(key);
  ASSERT_EQ(again.status, 201) << again;
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("ETag"), first.header("ETag"));
  EXPECT_EQ(events_titled(), "1");
  EXPECT_EQ(entries(id, "UPDATE"), "1");

  // Without a key, the same body is a new event.
  ASSERT_EQ(create("").status, 201);
  EXPECT_EQ(events_titled(), "2");
  // The record names the caller by id, never by a credential.
  EXPECT_EQ(stack().db().scalar("SELECT caller FROM events.idempotency_records WHERE key = '" + key + "'"),
            "user:" + stack().db().scalar("SELECT id FROM events.users WHERE email = '" + user_.email + "'"));
}

TEST_F(Idempotency, ARepeatedNotifyQueuesNoSecondMailAndNoSecondEntry) {
  const std::string id = new_event();
  const json body = {{"parties", {guest_}}, {"slots", slots_}};
  const std::string key = new_key();

  const auto [first, again] = post_twice("/" + id + "/notify/", body, key, key, 202);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(again.body, first.body);
  stack().smtp().wait_for_to(guest_, 1, std::chrono::seconds(30));
  wait_mail_settled(stack(), id);
  EXPECT_EQ(stack().smtp().messages_to(guest_).size(), 1u);
  EXPECT_EQ(entries(id, "NOTIFY"), "1");
  EXPECT_EQ(sql_count("events.pending_notifications WHERE event_id = " + id), "1");

  // A new key is a new notify: one more mail (the sink does count them).
  ASSERT_EQ(post(user_, "/" + id + "/notify/", body, new_key()).status, 202);
  stack().smtp().wait_for_to(guest_, 2, std::chrono::seconds(30));
  wait_mail_settled(stack(), id);
  EXPECT_EQ(stack().smtp().messages_to(guest_).size(), 2u);
  EXPECT_EQ(entries(id, "NOTIFY"), "2");
}

TEST_F(Idempotency, ARepeatedAgreeReplaysAndDoesNotUndoALaterChange) {
  const json two_slots = {slots_[0], {{"begin", "2034-05-07T09:00:00Z"}, {"duration", "00:30"}}};
  const HttpReply created =
      post(user_, "/", {{"title", title_}, {"parties", {user_.email, guest_}}, {"slots", two_slots}}, "");
  ASSERT_EQ(created.status, 201) << created;
  const std::string id = std::to_string(created.j()["id"].get<long long>());
  const std::string path = "/" + id + "/agree/";
  const std::string key = new_key();

  const HttpReply first = post(user_, path, {{"slot", two_slots[0]}}, key);
  ASSERT_EQ(first.status, 200) << first;
  const HttpReply moved = post(user_, path, {{"slot", two_slots[1]}}, "");
  ASSERT_EQ(moved.status, 200) << moved;
  // The retry of the first agree answers what it answered then and does
  // not move the agreement back.
  const HttpReply again = post(user_, path, {{"slot", two_slots[0]}}, key);
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(entries(id, "AGREE"), "2");
  EXPECT_EQ(sql_count("events.pending_notifications WHERE event_id = " + id), "2");
  const HttpReply now =
      http_call(stack(), {"GET", "/" + id + "/", basic_auth(user_.email, user_.password), std::nullopt, {}});
  EXPECT_EQ(now.j()["agreed_slot"]["begin"], "2034-05-07T09:00:00Z") << now;

  // The same key with the other slot is another request: 422, nothing changed.
  const HttpReply reused = post(user_, path, {{"slot", two_slots[1]}}, key);
  EXPECT_EQ(reused.status, 422) << reused;
  EXPECT_EQ(entries(id, "AGREE"), "2");
}

TEST_F(Idempotency, TheSameKeyWithAnotherBodyIs422AndChangesNothing) {
  const std::string key = new_key();
  const HttpReply first = create(key);
  ASSERT_EQ(first.status, 201) << first;
  const std::string id = std::to_string(first.j()["id"].get<long long>());

  json other = create_body();
  other["title"] = title_ + " (changed)";
  const HttpReply refused = post(user_, "/", other, key);
  EXPECT_EQ(refused.status, 422) << refused;
  EXPECT_TRUE(refused.j()["detail"].is_string()) << refused;
  EXPECT_EQ(refused.header("Idempotent-Replayed"), "");
  EXPECT_EQ(events_titled(), "1");
  EXPECT_EQ(sql_count("events.events WHERE title = '" + title_ + " (changed)'"), "0");

  // The key of the create, sent with a notify, is another request too.
  const HttpReply notify =
      post(user_, "/" + id + "/notify/", {{"parties", {guest_}}, {"slots", slots_}}, key);
  EXPECT_EQ(notify.status, 422) << notify;
  EXPECT_EQ(entries(id, "NOTIFY"), "0");
  EXPECT_EQ(sql_count("events.pending_notifications WHERE event_id = " + id), "0");
}

TEST_F(Idempotency, AKeyBelongsToItsCaller) {
  const User other = stack().create_user(unique_email("idemother"), "idem-Pass-2");
  const std::string key = new_key();
  const HttpReply mine = create(key);
  ASSERT_EQ(mine.status, 201) << mine;
  const HttpReply theirs = post(other, "/", create_body(), key);
  ASSERT_EQ(theirs.status, 201) << theirs;
  EXPECT_EQ(theirs.header("Idempotent-Replayed"), "");
  EXPECT_NE(theirs.j()["id"], mine.j()["id"]);
  EXPECT_EQ(events_titled(), "2");
}

TEST_F(Idempotency, ConcurrentRepeatsCreateExactlyOneEvent) {
  constexpr int kThreads = 8;
  const std::string key = new_key();
  std::vector<HttpReply> replies(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { replies[i] = create(key); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  int fresh = 0;
  for (const HttpReply& reply : replies) {
    ASSERT_EQ(reply.status, 201) << reply;
    EXPECT_EQ(reply.body, replies[0].body);
    fresh += reply.header("Idempotent-Replayed") == "true" ? 0 : 1;
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(events_titled(), "1");
  const std::string id = std::to_string(replies[0].j()["id"].get<long long>());
  EXPECT_EQ(entries(id, "UPDATE"), "1");
}

TEST_F(Idempotency, AMalformedKeyIs400NamingTheHeaderAndChangesNothing) {
  for (const std::string& key :
       {std::string(256, 'k'), std::string("two words"), std::string("caf\xC3\xA9")}) {
    const HttpReply reply = create(key);
    EXPECT_EQ(reply.status, 400) << key << ": " << reply;
    EXPECT_EQ(reply.j()["detail"].get<std::string>().rfind("Idempotency-Key: ", 0), 0u) << reply;
  }
  // An empty value, and two values: sent raw, as a client library may drop
  // or fold them.
  const std::string body = create_body().dump();
  for (const std::string& keys :
       {std::string("Idempotency-Key:\r\n"), std::string("Idempotency-Key: a\r\nIdempotency-Key: b\r\n")}) {
    const std::string answer =
        raw_http(stack().http_port(),
                 "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: " +
                     basic_auth(user_.email, user_.password) +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n" + keys + "\r\n" + body);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << keys << answer;
    EXPECT_NE(answer.find("Idempotency-Key: "), std::string::npos) << answer;
  }
  EXPECT_EQ(events_titled(), "0");
}

TEST_F(Idempotency, ARecordPastItsWindowIsPurgedAndNotReplayed) {
  const std::string key = new_key();
  const HttpReply first = create(key);
  ASSERT_EQ(first.status, 201) << first;
  // As if the 24 hours had passed.
  stack().db().exec(
      "UPDATE events.idempotency_records SET created_at = created_at - interval '24 hours 1 second' "
      "WHERE key = '" +
      key + "'");
  const std::string record = "events.idempotency_records WHERE key = '" + key + "'";
  EXPECT_TRUE(wait_until([&] { return sql_count(record) == "0"; }, 10s,
                         "the purge job (every second here) to remove the record"));

  const HttpReply again = create(key);
  ASSERT_EQ(again.status, 201) << again;
  EXPECT_EQ(again.header("Idempotent-Replayed"), "");
  EXPECT_NE(again.j()["id"], first.j()["id"]);
  EXPECT_EQ(events_titled(), "2");
}

// A stored answer carries the event and its parties: a repeat is
// authorized as the first request was, against the caller's access now,
// before anything is replayed. Here staff (not a party) notify, then lose
// the staff flag: the repeat is 403 and shows nothing.
TEST_F(Idempotency, AReplayGoesOnlyToACallerWhoMayStillMakeTheCall) {
  const User staff = stack().create_user(unique_email("idemstaff"), "staff-Pass-1", /*staff=*/true);
  const std::string path = "/" + new_event() + "/notify/";
  const json body = {{"parties", {guest_}}, {"slots", slots_}};
  const std::string key = new_key();
  ASSERT_EQ(post(staff, path, body, key).status, 202);
  stack().db().exec("UPDATE events.users SET is_staff = false WHERE email = '" + staff.email + "'");
  const HttpReply again = post(staff, path, body, key);
  EXPECT_EQ(again.status, 403) << again;
  EXPECT_EQ(again.header("Idempotent-Replayed"), "");
  EXPECT_EQ(again.body.find(guest_), std::string::npos) << again;
}

// A deleted event is 404 for a repeat too, whatever the first answer was.
TEST_F(Idempotency, AReplayOnADeletedEventIs404) {
  const User staff = stack().create_user(unique_email("idemstaff"), "staff-Pass-1", /*staff=*/true);
  const std::string id = new_event();
  const json notify = {{"parties", {guest_}}, {"slots", slots_}};
  const json agree = {{"slot", slots_[0]}};
  const std::string notify_key = new_key();
  const std::string agree_key = new_key();
  ASSERT_EQ(post(user_, "/" + id + "/notify/", notify, notify_key).status, 202);
  ASSERT_EQ(post(user_, "/" + id + "/agree/", agree, agree_key).status, 200);
  ASSERT_EQ(http_call(stack(),
                      {"DELETE", "/" + id + "/", basic_auth(staff.email, staff.password), std::nullopt, {}})
                .status,
            204);
  const std::tuple<std::string, json, std::string> repeats[] = {{"notify", notify, notify_key},
                                                                {"agree", agree, agree_key}};
  for (const auto& [route, body, key] : repeats) {
    const HttpReply again = post(user_, "/" + id + "/" + route + "/", body, key);
    EXPECT_EQ(again.status, 404) << route << ": " << again;
    EXPECT_EQ(again.header("Idempotent-Replayed"), "") << route;
  }
}

// Agreeing again on the agreed slot changes nothing and keeps no record
// (a record is up to the size of the event's answer).
TEST_F(Idempotency, AnAgreeThatChangesNothingKeepsNoRecord) {
  const std::string id = new_event();
  const json agree = {{"slot", slots_[0]}};
  const std::string first_key = new_key();
  const std::string again_key = new_key();
  const auto [first, again] = post_twice("/" + id + "/agree/", agree, first_key, again_key, 200);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "");
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(sql_count("events.idempotency_records WHERE key = '" + first_key + "'"), "1");
  EXPECT_EQ(sql_count("events.idempotency_records WHERE key = '" + again_key + "'"), "0");
  EXPECT_EQ(entries(id, "AGREE"), "1");
  EXPECT_EQ(sql_count("events.pending_notifications WHERE event_id = " + id), "1");
}

}  // namespace
