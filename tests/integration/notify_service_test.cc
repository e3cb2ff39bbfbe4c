// calndro-notify against a real PostgreSQL database (a private one per test)
// and a real SMTP server (aiosmtpd writing a Maildir): delivery, headers and
// link, idempotency, token resolution, SMTP outages, kill -9, two replicas,
// and where the raw token may (not) appear.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include "calndro/notify/v1/notify.grpc.pb.h"
#include "support/calendar.h"
#include "support/harness.h"
#include "support/mail.h"
#include "support/wait.h"

using namespace calndro::testing;
namespace nv1 = calndro::notify::v1;
using google::protobuf::util::TimeUtil;

namespace {

constexpr const char* kInternalToken = "notify-test-internal-credential";

// One calndro-notify process on its own port.
struct NotifyReplica {
  int port = 0;
  std::unique_ptr<Process> process;
};

class NotifyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<Database>();
    sink_ = std::make_unique<SmtpSink>(dir_.path() / "maildir");
  }

  void TearDown() override {
    // Whatever happened, no raw token may have reached a log line.
    for (auto& replica : replicas_) {
      if (HasFailure()) {
        std::fprintf(stderr, "--- log of %s (port %d):\n%s\n", replica.process->program().c_str(),
                     replica.port, replica.process->log_tail(30).c_str());
      }
      replica.process->terminate();
      const std::string log = replica.process->log();
      for (const std::string& token : tokens_seen_) {
        EXPECT_EQ(log.find(token), std::string::npos) << "raw token in the service log";
      }
    }
  }

  Env service_env(int port) const {
    return {{"CALNDRO_DATABASE_URL", db_->url()},
            {"CALNDRO_NOTIFY_LISTEN", "127.0.0.1:" + std::to_string(port)},
            {"CALNDRO_SMTP_URL", sink_->url()},
            {"CALNDRO_INTERNAL_TOKEN", kInternalToken},
            {"CALNDRO_MAIL_FROM", "calndro <noreply@calndro.localhost>"},
            {"CALNDRO_PUBLIC_BASE_URL", "http://127.0.0.1:9000/"},
            {"CALNDRO_DB_POOL_SIZE", "4"},
            {"CALNDRO_DISPATCH_POLL_MS", "100"},
            {"CALNDRO_RETRY_BASE_MS", "200"},
            {"CALNDRO_RETRY_MAX_MS", "800"},
            {"CALNDRO_SMTP_CONNECT_TIMEOUT_MS", "1000"},
            {"CALNDRO_SMTP_TIMEOUT_MS", "10000"},
            // The key of the webhooks' secrets, one for the replicas.
            {"CALNDRO_WEBHOOK_KEY_FILE", (dir_.path() / "webhook-secrets.key").string()},
            {"CALNDRO_WEBHOOK_KEY_MISSING", "create"}};
  }

  NotifyReplica& start_replica(Env extra = {}) {
    NotifyReplica replica;
    const std::string name = "notify-" + std::to_string(replicas_.size());
    Env env = service_env(0);
    // Its outbox leases' owner, kept across a restart (by default host and
    // port, and the port is 0 here).
    env["CALNDRO_REPLICA_ID"] = name;
    for (auto& [key, value] : extra) {
      env[key] = value;
    }
    replica.process = std::make_unique<Process>(bin_path("calndro-notify"), std::vector<std::string>{}, env,
                                                dir_.path() / (name + ".log"));
    replica.process->start();
    replica.port = replica.process->wait_reported_port("serving", 30s);
    // A restart listens where the tests' clients look for it.
    replica.process->env()["CALNDRO_NOTIFY_LISTEN"] = loopback(replica.port);
    replicas_.push_back(std::move(replica));
    return replicas_.back();
  }

  std::unique_ptr<nv1::NotificationService::Stub> stub(const NotifyReplica& replica) const {
    return nv1::NotificationService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(replica.port), grpc::InsecureChannelCredentials()));
  }

  static void prepare(grpc::ClientContext& context, const std::string& credential = kInternalToken) {
    if (!credential.empty()) {
      context.AddMetadata("x-calndro-internal", credential);
    }
    context.AddMetadata("x-request-id", "test-request");
    context.set_deadline(std::chrono::system_clock::now() + 15s);
  }

  static nv1::QueueNotificationsRequest request(const std::string& request_id, int64_t event_id,
                                                std::vector<std::string> recipients) {
    nv1::QueueNotificationsRequest out;
    out.set_request_id(request_id);
    out.set_event_id(event_id);
    out.set_event_title("cybes");
    out.set_sender("you@here.net");
    for (auto& r : recipients) {
      out.add_recipients(r);
    }
    auto* slot = out.add_slots();
    EXPECT_TRUE(TimeUtil::FromString("2022-11-01T01:11:22.020Z", slot->mutable_begin()));
    *slot->mutable_duration() = TimeUtil::SecondsToDuration(600);
    return out;
  }

  nv1::QueueNotificationsResponse queue(const NotifyReplica& replica,
                                        const nv1::QueueNotificationsRequest& req) {
    grpc::ClientContext context;
    prepare(context);
    nv1::QueueNotificationsResponse response;
    const grpc::Status status = stub(replica)->QueueNotifications(&context, req, &response);
    EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    return response;
  }

  nv1::ListDeliveriesResponse list(const NotifyReplica& replica, int64_t event_id, int page_size = 0,
                                   const std::string& page_token = "") {
    grpc::ClientContext context;
    prepare(context);
    nv1::ListDeliveriesRequest req;
    req.set_event_id(event_id);
    req.set_page_size(page_size);
    req.set_page_token(page_token);
    nv1::ListDeliveriesResponse response;
    const grpc::Status status = stub(replica)->ListDeliveries(&context, req, &response);
    EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    return response;
  }

  // The token in a mail's link; remembered for the log checks.
  std::string token_of(const MailMessage& mail) {
    static const std::regex link(R"(http://127\.0\.0\.1:9000/(\d+)/\?et=([0-9a-f]{40}))");
    std::smatch match;
    const std::string text = mail.text();
    if (!std::regex_search(text, match, link)) {
      ADD_FAILURE() << "no link in mail:\n" << mail.raw;
      return "";
    }
    tokens_seen_.insert(match[2]);
    return match[2];
  }

  // Every row of every table in schema notify (every column), as text.
  std::string dump_notify_schema() const {
    std::string all;
    const auto tables = db_->query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'notify' AND table_type = "
        "'BASE TABLE'");
    EXPECT_GE(tables.size(), 4u);
    for (const auto& table : tables) {
      for (const auto& row : db_->query("SELECT t::text FROM notify." + table.at(0) + " t")) {
        all += row.at(0) + "\n";
      }
    }
    return all;
  }

  std::string token_hash_of(const std::string& token) const {
    return db_->scalar("SELECT encode(sha256('" + token + "'::bytea), 'hex')");
  }

  nv1::ResolveTokenResponse resolve_ok(const NotifyReplica& replica, const std::string& token) {
    grpc::ClientContext context;
    prepare(context);
    nv1::ResolveTokenRequest req;
    req.set_token(token);
    nv1::ResolveTokenResponse out;
    const grpc::Status status = stub(replica)->ResolveToken(&context, req, &out);
    EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    return out;
  }

  // Waits until the mail of `event_id` was tried at least `attempts` times.
  void wait_attempts(const NotifyReplica& replica, int64_t event_id, int attempts) {
    EXPECT_TRUE(wait_until(
        [&] {
          const auto page = list(replica, event_id);
          return page.deliveries_size() > 0 && page.deliveries(0).attempts() >= attempts;
        },
        20s,
        "the mail of event " + std::to_string(event_id) + " to be tried " + std::to_string(attempts) +
            " times"));
  }

  // Waits until every mail of `event_id` has left state queued.
  void wait_all_settled(const NotifyReplica& replica, int64_t event_id,
                        std::chrono::milliseconds timeout = 30s) {
    EXPECT_TRUE(wait_until(
        [&] {
          const auto page = list(replica, event_id, 1000);
          return std::none_of(page.deliveries().begin(), page.deliveries().end(),
                              [](const auto& d) { return d.state() == nv1::DELIVERY_STATE_QUEUED; });
        },
        timeout, "every mail of event " + std::to_string(event_id) + " to leave state queued"));
  }

  TempDir dir_{"calndro-notify-it"};
  std::unique_ptr<Database> db_;
  std::unique_ptr<SmtpSink> sink_;
  std::deque<NotifyReplica> replicas_;  // deque: references stay valid
  std::set<std::string> tokens_seen_;
};

// The headers of the plain update mail that request() queues.
void expect_update_mail_headers(const MailMessage& mail, const std::string& recipient) {
  EXPECT_EQ(mail.header("from"), "you@here.net");
  EXPECT_EQ(mail.header("to"), recipient);
  EXPECT_EQ(mail.header("subject"), "[calndro] 'cybes' updated");
  EXPECT_NE(mail.header("sender").find("noreply@calndro.localhost"), std::string::npos);
  EXPECT_TRUE(
      std::regex_match(mail.header("message-id"), std::regex(R"(<calndro\.\d+\.\d+@calndro\.localhost>)")))
      << mail.header("message-id");
  EXPECT_FALSE(mail.header("date").empty());
  EXPECT_EQ(mail.header("mime-version"), "1.0");
  EXPECT_EQ(mail.header("content-type"), "text/plain; charset=utf-8");
}

TEST_F(NotifyServiceTest, QueuedMailArrivesWithHeadersLinkAndExpiry) {
  auto& service = start_replica();
  const auto before = std::chrono::system_clock::now();
  const auto response = queue(service, request("req-arrive", 7, {"They@Thar.net", "other@thar.net"}));
  ASSERT_EQ(response.mails_size(), 2);
  EXPECT_EQ(response.mails(0).recipient(), "they@thar.net");
  EXPECT_EQ(response.mails(1).recipient(), "other@thar.net");
  const int64_t expected_s =
      std::chrono::duration_cast<std::chrono::seconds>((before + std::chrono::days(5)).time_since_epoch())
          .count();

  const auto mails = sink_->wait_for_to("they@thar.net", 1, 20s);
  ASSERT_EQ(mails.size(), 1u);
  const MailMessage& mail = mails[0];
  expect_update_mail_headers(mail, "they@thar.net");

  const std::string text = mail.text();
  EXPECT_NE(text.find("http://127.0.0.1:9000/7/?et="), std::string::npos) << text;
  EXPECT_NE(text.find("Tue 1 Nov 2022, 01:11 UTC for 10 min"), std::string::npos) << text;
  const std::string token = token_of(mail);
  ASSERT_EQ(token.size(), 40u);

  // ResolveToken gives back what was issued.
  grpc::ClientContext context;
  prepare(context);
  nv1::ResolveTokenRequest resolve;
  resolve.set_token(token);
  nv1::ResolveTokenResponse resolved;
  ASSERT_TRUE(stub(service)->ResolveToken(&context, resolve, &resolved).ok());
  EXPECT_EQ(resolved.event_id(), 7);
  EXPECT_EQ(resolved.party_email(), "they@thar.net");
  EXPECT_NEAR(static_cast<double>(resolved.expires().seconds()), static_cast<double>(expected_s), 30.0);
  // The mail states the expiry the token has.
  EXPECT_NE(text.find(TimeUtil::ToString(resolved.expires()).substr(0, 19)), std::string::npos) << text;
  // The fingerprint is not the token nor a piece of it.
  EXPECT_EQ(resolved.fingerprint().size(), 12u);
  EXPECT_EQ(token.find(resolved.fingerprint()), std::string::npos);

  sink_->wait_for_to("other@thar.net", 1, 20s);
  wait_all_settled(service, 7);
  const auto deliveries = list(service, 7);
  ASSERT_EQ(deliveries.deliveries_size(), 2);
  EXPECT_GT(deliveries.deliveries(0).mail_id(), deliveries.deliveries(1).mail_id());  // newest first
  for (const auto& d : deliveries.deliveries()) {
    EXPECT_EQ(d.state(), nv1::DELIVERY_STATE_SENT);
    EXPECT_EQ(d.attempts(), 1);
    EXPECT_TRUE(d.has_sent_at());
  }
  // SIGTERM: the dispatcher stops, the server drains, the exit is clean.
  EXPECT_EQ(service.process->terminate(), 0) << service.process->log_tail();
  EXPECT_NE(service.process->log().find("dispatcher stopped"), std::string::npos);
}

TEST_F(NotifyServiceTest, InvitationAndDefaultSender) {
  auto& service = start_replica();
  auto req = request("req-invite", 9, {"they@thar.net"});
  req.set_invitation(true);
  req.clear_sender();
  req.set_event_title("Café\r\nBcc: victim@example.org");
  queue(service, req);
  const auto mails = sink_->wait_for(1, 20s);
  EXPECT_EQ(mails[0].header("from"), "calndro <noreply@calndro.localhost>");
  EXPECT_TRUE(mails[0].header("sender").empty());
  EXPECT_TRUE(mails[0].header("bcc").empty());
  EXPECT_NE(mails[0].header("subject").find("=?UTF-8?B?"), std::string::npos) << mails[0].header("subject");
  EXPECT_EQ(mails[0].raw.find("\nBcc:"), std::string::npos);
  token_of(mails[0]);
}

// A title long enough to be folded, with 2- and 3-octet UTF-8 sequences.
const std::string kLongTitle =
    "Réunion d'équipe, très longue; avec des accents et 日本語の会議 pour tester le pliage des lignes";

nv1::QueueNotificationsRequest calendar_request(const std::string& request_id, int64_t event_id,
                                                nv1::CalendarInvitation::Method method) {
  nv1::QueueNotificationsRequest out;
  out.set_request_id(request_id);
  out.set_event_id(event_id);
  out.set_event_title(kLongTitle);
  out.set_sender("you@here.net");
  out.add_recipients("they@thar.net");
  out.add_recipients("you@here.net");
  auto* calendar = out.mutable_calendar();
  calendar->set_method(method);
  calendar->set_uid("event-" + std::to_string(event_id) + "@calndro");
  calendar->set_sequence(method == nv1::CalendarInvitation::METHOD_CANCEL ? 2 : 1);
  EXPECT_TRUE(TimeUtil::FromString("2022-11-01T01:11:22Z", calendar->mutable_slot()->mutable_begin()));
  *calendar->mutable_slot()->mutable_duration() = TimeUtil::SecondsToDuration(5400);
  calendar->set_organizer("you@here.net");
  calendar->add_attendees("you@here.net");
  calendar->add_attendees("they@thar.net");
  calendar->add_attendees("third@thar.net");
  return out;
}

// What every calendar mail must be, read by tests/support/calendar_summary.py.
nlohmann::json expect_calendar_mail(const MailMessage& mail, const std::string& method, int64_t event_id) {
  const nlohmann::json summary = summarize_calendar_mail(mail.raw);
  EXPECT_EQ(summary["content_type"], "multipart/alternative") << mail.raw;
  EXPECT_EQ(summary["parts"], nlohmann::json::parse(R"(["text/plain", "text/calendar"])"));
  // Python's email package quotes the parameters when it reads them back.
  EXPECT_EQ(summary["calendar_content_type"], "text/calendar; charset=\"UTF-8\"; method=\"" + method + "\"");
  EXPECT_NE(mail.raw.find("\r\nContent-Type: text/calendar; charset=UTF-8; method=" + method + "\r\n"),
            std::string::npos);
  const nlohmann::json& calendar = summary["calendar"];
  EXPECT_EQ(calendar["method"], method);
  EXPECT_EQ(calendar["version"], "2.0");
  EXPECT_TRUE(calendar["crlf_only"].get<bool>());
  EXPECT_LE(calendar["max_line_octets"].get<int>(), 75);
  EXPECT_NE(mail.raw.find("\r\n ", mail.raw.find("BEGIN:VCALENDAR")), std::string::npos)
      << "a long title is folded";
  EXPECT_EQ(calendar["events"].size(), 1u);
  const nlohmann::json& event = calendar["events"][0];
  EXPECT_EQ(event["uid"], "event-" + std::to_string(event_id) + "@calndro");
  EXPECT_EQ(event["sequence"], method == "CANCEL" ? 2 : 1);
  EXPECT_EQ(event["dtstart"], "2022-11-01T01:11:22Z");
  EXPECT_EQ(event["dtend"], "2022-11-01T02:41:22Z");
  EXPECT_EQ(event["summary"], kLongTitle);
  EXPECT_EQ(event["status"], method == "CANCEL" ? "CANCELLED" : "CONFIRMED");
  EXPECT_EQ(event["organizer"], "you@here.net");
  std::set<std::string> attendees;
  for (const auto& attendee : event["attendees"]) {
    attendees.insert(attendee["email"].get<std::string>());
    EXPECT_EQ(attendee["partstat"], "NEEDS-ACTION");
    EXPECT_EQ(attendee["rsvp"], "TRUE");
    EXPECT_EQ(attendee["role"], "REQ-PARTICIPANT");
  }
  EXPECT_EQ(attendees, (std::set<std::string>{"you@here.net", "they@thar.net", "third@thar.net"}));
  EXPECT_FALSE(event["dtstamp"].is_null());
  return summary;
}

// RFC 5322 §2.1.1: at most 998 octets a line; the SMTP server refuses more.
int longest_line(const std::string& raw) {
  std::size_t longest = 0;
  std::size_t begin = 0;
  while (begin < raw.size()) {
    const std::size_t end = std::min(raw.find("\r\n", begin), raw.size());
    longest = std::max(longest, end - begin);
    begin = end + 2;
  }
  return static_cast<int>(longest);
}

TEST_F(NotifyServiceTest, A256EmojiTitleIsDeliveredAndReadBack) {
  std::string title;
  for (int i = 0; i < 256; ++i) {
    title += "\xF0\x9F\x98\x80";  // U+1F600: 1,024 octets in all
  }
  auto& service = start_replica();
  auto update = request("req-emoji-update", 51, {"they@thar.net"});
  update.set_event_title(title);
  auto invitation = request("req-emoji-invitation", 52, {"they@thar.net"});
  invitation.set_event_title(title);
  invitation.set_invitation(true);
  auto agreed = calendar_request("req-emoji-agreed", 53, nv1::CalendarInvitation::METHOD_REQUEST);
  agreed.set_event_title(title);
  for (const auto& req : {update, invitation, agreed}) {
    queue(service, req);
  }
  for (const int64_t event_id : {51, 52, 53}) {
    wait_all_settled(service, event_id);
    const auto page = list(service, event_id);
    for (const auto& delivery : page.deliveries()) {
      EXPECT_EQ(delivery.state(), nv1::DELIVERY_STATE_SENT)
          << "event " << event_id << ": the SMTP server refused it: " << delivery.last_error();
    }
  }
  const auto mails = sink_->wait_for_to("they@thar.net", 3, 20s);
  ASSERT_EQ(mails.size(), 3u);
  for (const MailMessage& mail : mails) {
    EXPECT_LE(longest_line(mail.raw), 78) << mail.raw;
    const nlohmann::json summary = summarize_calendar_mail(mail.raw);
    EXPECT_EQ(summary["text_transfer_encoding"], "quoted-printable");
    const std::string subject = summary["subject"].get<std::string>();
    EXPECT_NE(subject.find("'" + title + "'"), std::string::npos) << subject;
    const std::string text = summary["text"].get<std::string>();
    EXPECT_NE(text.find("'" + title + "'"), std::string::npos) << text;
    // Python keeps the CRLF of a quoted-printable part's lines.
    static const std::regex link(R"(\n  (http://127\.0\.0\.1:9000/(5[123])/\?et=([0-9a-f]{40}))\r?\n)");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(text, match, link)) << text;
    tokens_seen_.insert(match[3]);
    EXPECT_EQ(resolve_ok(service, match[3]).event_id(), std::stoll(match[2]));
    if (match[2] == "53") {
      const nlohmann::json& event = summary["calendar"]["events"][0];
      EXPECT_EQ(event["summary"], title);
      EXPECT_EQ(event["url"], match[1].str());
      EXPECT_LE(summary["calendar"]["max_line_octets"].get<int>(), 75);
    }
  }
}

TEST_F(NotifyServiceTest, CalendarInvitationIsReadByAnIndependentParserAndItsLinkWorks) {
  auto& service = start_replica();
  const auto before = std::chrono::system_clock::now() - 2s;
  queue(service, calendar_request("req-agree", 41, nv1::CalendarInvitation::METHOD_REQUEST));
  for (const std::string recipient : {"they@thar.net", "you@here.net"}) {
    const auto mails = sink_->wait_for_to(recipient, 1, 20s);
    ASSERT_EQ(mails.size(), 1u);
    const nlohmann::json summary = expect_calendar_mail(mails[0], "REQUEST", 41);
    const nlohmann::json& event = summary["calendar"]["events"][0];
    // The recipient's own fresh link, in URL, DESCRIPTION and the text part.
    const std::string url = event["url"].get<std::string>();
    static const std::regex link(R"(^http://127\.0\.0\.1:9000/41/\?et=([0-9a-f]{40})$)");
    std::smatch match;
    ASSERT_TRUE(std::regex_match(url, match, link)) << url;
    const std::string token = match[1];
    tokens_seen_.insert(token);
    EXPECT_NE(event["description"].get<std::string>().find(url), std::string::npos);
    const std::string text = summary["text"].get<std::string>();
    EXPECT_NE(text.find(url), std::string::npos) << text;
    EXPECT_NE(text.find("Tue 1 Nov 2022, 01:11 UTC for 1 h 30 min"), std::string::npos) << text;
    const auto resolved = resolve_ok(service, token);
    EXPECT_EQ(resolved.event_id(), 41);
    EXPECT_EQ(resolved.party_email(), recipient);
    // DTSTAMP: when the mail was composed.
    std::string stamp = event["dtstamp"].get<std::string>();
    google::protobuf::Timestamp dtstamp;
    ASSERT_TRUE(TimeUtil::FromString(stamp, &dtstamp));
    EXPECT_GE(dtstamp.seconds(), std::chrono::system_clock::to_time_t(before));
    EXPECT_LE(dtstamp.seconds(), std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) + 1);
  }
}

TEST_F(NotifyServiceTest, CalendarCancellationsSurviveARestartAndWithoutLinkMintsNoToken) {
  sink_->stop();  // queued, then the process dies before anything is sent
  auto& service = start_replica();
  queue(service, calendar_request("req-reopen", 42, nv1::CalendarInvitation::METHOD_CANCEL));
  auto deleted = calendar_request("req-delete", 43, nv1::CalendarInvitation::METHOD_CANCEL);
  deleted.mutable_calendar()->set_without_link(true);
  queue(service, deleted);
  service.process->kill9();
  sink_->start();
  service.process->start();
  service.process->wait_port(service.port, 30s);
  sink_->wait_for(4, 30s);
  wait_all_settled(service, 42);
  wait_all_settled(service, 43);
  int with_link = 0;
  for (const MailMessage& mail : sink_->messages()) {
    const bool reopened = mail.raw.find("/42/?et=") != std::string::npos;
    const nlohmann::json summary = expect_calendar_mail(mail, "CANCEL", reopened ? 42 : 43);
    const nlohmann::json& event = summary["calendar"]["events"][0];
    const std::string text = summary["text"].get<std::string>();
    EXPECT_NE(text.find("is cancelled"), std::string::npos) << text;
    if (reopened) {
      ++with_link;
      const std::string token = token_of(mail);
      EXPECT_NE(event["url"].get<std::string>().find("/42/?et=" + token), std::string::npos);
      EXPECT_EQ(resolve_ok(service, token).event_id(), 42);
    } else {
      EXPECT_TRUE(event["url"].is_null()) << event;
      EXPECT_EQ(mail.raw.find("?et="), std::string::npos) << mail.raw;
      EXPECT_NE(text.find("The event was deleted."), std::string::npos) << text;
    }
  }
  EXPECT_EQ(with_link, 2);
  // None ever for the deleted event's mails. (Event 42 may hold one more than
  // its two: a token committed just before the kill -9, which nobody received.)
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.email_tokens WHERE event_id = 43"), "0");
}

TEST_F(NotifyServiceTest, InvalidCalendarInvitationsNameTheField) {
  auto& service = start_replica();
  auto req = calendar_request("req-bad-calendar", 44, nv1::CalendarInvitation::METHOD_UNSPECIFIED);
  req.mutable_calendar()->set_uid("");
  req.mutable_calendar()->set_sequence(-1);
  req.mutable_calendar()->clear_slot();
  req.mutable_calendar()->set_organizer("nope");
  req.mutable_calendar()->add_attendees("also nope");
  grpc::ClientContext context;
  prepare(context);
  nv1::QueueNotificationsResponse response;
  const grpc::Status status = stub(service)->QueueNotifications(&context, req, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (const char* field : {"calendar.method", "calendar.uid", "calendar.sequence", "calendar.slot",
                            "calendar.organizer", "calendar.attendees"}) {
    EXPECT_NE(status.error_message().find(field), std::string::npos)
        << field << ": " << status.error_message();
  }
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox"), "0");
}

TEST_F(NotifyServiceTest, CredentialIsRequired) {
  auto& service = start_replica();
  nv1::ResolveTokenRequest resolve;
  resolve.set_token(std::string(40, 'a'));
  nv1::ResolveTokenResponse resolved;
  {
    grpc::ClientContext context;
    prepare(context, "");
    EXPECT_EQ(stub(service)->ResolveToken(&context, resolve, &resolved).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    prepare(context, "wrong");
    EXPECT_EQ(stub(service)->ResolveToken(&context, resolve, &resolved).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    prepare(context, "");
    nv1::QueueNotificationsResponse response;
    EXPECT_EQ(stub(service)
                  ->QueueNotifications(&context, request("req-noauth", 1, {"a@b.co"}), &response)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox"), "0");
}

TEST_F(NotifyServiceTest, InvalidRequestsNameTheField) {
  auto& service = start_replica();
  grpc::ClientContext context;
  prepare(context);
  auto req = request("", 0, {"not-an-email"});
  nv1::QueueNotificationsResponse response;
  const grpc::Status status = stub(service)->QueueNotifications(&context, req, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("recipients"), std::string::npos) << status.error_message();
  EXPECT_NE(status.error_message().find("request_id"), std::string::npos);
  EXPECT_NE(status.error_message().find("event_id"), std::string::npos);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox"), "0");
}

TEST_F(NotifyServiceTest, RequestIdMakesQueueingIdempotent) {
  auto& service = start_replica();
  const auto req = request("req-idem", 11, {"a@example.org", "b@example.org"});
  const auto first = queue(service, req);
  const auto second = queue(service, req);
  ASSERT_EQ(first.mails_size(), 2);
  ASSERT_EQ(second.mails_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(first.mails(i).mail_id(), second.mails(i).mail_id());
    EXPECT_EQ(first.mails(i).recipient(), second.mails(i).recipient());
  }
  // The same id for different content is refused, not silently answered.
  {
    grpc::ClientContext context;
    prepare(context);
    auto other = req;
    other.set_event_title("something else");
    nv1::QueueNotificationsResponse response;
    EXPECT_EQ(stub(service)->QueueNotifications(&context, other, &response).error_code(),
              grpc::StatusCode::ALREADY_EXISTS);
  }
  sink_->wait_for(2, 20s);
  wait_all_settled(service, 11);
  // A repeat queueing twice would show as rows here; settled rows were sent
  // (the sink keeps a mail before it answers), so their mails are all in.
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox WHERE event_id = 11"), "2");
  EXPECT_EQ(sink_->messages().size(), 2u);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.email_tokens"), "2");
  for (const auto& m : sink_->messages()) {
    token_of(m);
  }
}

TEST_F(NotifyServiceTest, ConcurrentRepeatsOfOneRequestQueueOnce) {
  auto& a = start_replica();
  auto& b = start_replica();
  const auto req = request("req-race", 12, {"race@example.org"});
  std::vector<std::thread> threads;
  std::vector<int64_t> ids(8, 0);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      grpc::ClientContext context;
      prepare(context);
      nv1::QueueNotificationsResponse response;
      if (stub(i % 2 == 0 ? a : b)->QueueNotifications(&context, req, &response).ok() &&
          response.mails_size() == 1) {
        ids[i] = response.mails(0).mail_id();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (int64_t id : ids) {
    EXPECT_EQ(id, ids[0]);
    EXPECT_GT(id, 0);
  }
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox"), "1");
  token_of(sink_->wait_for(1, 20s)[0]);
}

TEST_F(NotifyServiceTest, ResolveTokenRules) {
  auto& service = start_replica();
  queue(service, request("req-resolve", 13, {"r@example.org"}));
  const std::string token = token_of(sink_->wait_for(1, 20s)[0]);
  auto resolve = [&](const std::string& value, nv1::ResolveTokenResponse* out) {
    grpc::ClientContext context;
    prepare(context);
    nv1::ResolveTokenRequest req;
    req.set_token(value);
    return stub(service)->ResolveToken(&context, req, out).error_code();
  };
  nv1::ResolveTokenResponse out;
  EXPECT_EQ(resolve(token, &out), grpc::StatusCode::OK);
  EXPECT_EQ(out.event_id(), 13);
  std::string upper = token;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  EXPECT_EQ(resolve(upper, &out), grpc::StatusCode::OK);
  EXPECT_EQ(resolve(std::string(40, '0'), &out), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(resolve("short", &out), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(resolve(token.substr(0, 39) + "g", &out), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(resolve("", &out), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(NotifyServiceTest, SmtpOutageKeepsMailQueuedUntilTheServerIsBack) {
  sink_->stop();
  auto& service = start_replica();
  queue(service, request("req-outage", 21, {"outage@example.org"}));
  wait_attempts(service, 21, 1);
  auto deliveries = list(service, 21);
  ASSERT_EQ(deliveries.deliveries_size(), 1);
  EXPECT_EQ(deliveries.deliveries(0).state(), nv1::DELIVERY_STATE_QUEUED);
  EXPECT_GE(deliveries.deliveries(0).attempts(), 1);
  EXPECT_FALSE(deliveries.deliveries(0).last_error().empty());
  EXPECT_TRUE(deliveries.deliveries(0).has_next_attempt_at());

  sink_->start();
  const auto mails = sink_->wait_for(1, 20s);
  token_of(mails[0]);
  wait_all_settled(service, 21);
  deliveries = list(service, 21);
  EXPECT_EQ(deliveries.deliveries(0).state(), nv1::DELIVERY_STATE_SENT);
  EXPECT_TRUE(deliveries.deliveries(0).last_error().empty());
  // Settled, so whatever was sent is in the sink already (it keeps a mail
  // before it answers the sender).
  EXPECT_EQ(sink_->messages().size(), 1u);
}

TEST_F(NotifyServiceTest, GivesUpAfterMaxAttempts) {
  sink_->stop();
  auto& service = start_replica({{"CALNDRO_MAX_ATTEMPTS", "2"}, {"CALNDRO_RETRY_BASE_MS", "50"}});
  queue(service, request("req-giveup", 22, {"never@example.org"}));
  wait_all_settled(service, 22, 20s);
  const auto deliveries = list(service, 22);
  ASSERT_EQ(deliveries.deliveries_size(), 1);
  EXPECT_EQ(deliveries.deliveries(0).state(), nv1::DELIVERY_STATE_FAILED);
  EXPECT_EQ(deliveries.deliveries(0).attempts(), 2);
  // A given-up mail no longer holds its text (and token) either.
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox WHERE body IS NOT NULL"), "0");
}

TEST_F(NotifyServiceTest, KilledAfterQueueingDeliversExactlyOnceAfterRestart) {
  sink_->stop();  // nothing can be delivered before the kill
  auto& service = start_replica();
  const auto response = queue(service, request("req-kill", 31, {"k1@example.org", "k2@example.org"}));
  ASSERT_EQ(response.mails_size(), 2);
  service.process->kill9();
  sink_->start();
  EXPECT_EQ(sink_->messages().size(), 0u);
  service.process->start();
  service.process->wait_port(service.port, 30s);
  const auto mails = sink_->wait_for(2, 30s);
  wait_all_settled(service, 31);
  // One replica: a copy sent twice would have reached the sink before the
  // row was marked sent, so before wait_all_settled() returned.
  ASSERT_EQ(sink_->messages().size(), 2u);
  std::set<std::string> recipients;
  for (const auto& m : sink_->messages()) {
    recipients.insert(m.header("to"));
    token_of(m);
  }
  EXPECT_EQ(recipients, (std::set<std::string>{"k1@example.org", "k2@example.org"}));
}

// Shuts the test database's door (or opens it again) for every connection,
// and drops those it has: to the service it is a database that went away.
void set_database_reachable(const std::string& name, bool reachable) {
  pqxx::connection admin(Database::admin_url());
  pqxx::nontransaction tx(admin);
  tx.exec("ALTER DATABASE " + tx.quote_name(name) + " ALLOW_CONNECTIONS " + (reachable ? "true" : "false"));
  if (!reachable) {
    tx.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name);
  }
}

TEST_F(NotifyServiceTest, MailAcceptedWhileTheDatabaseIsAwayIsMarkedWhenItIsBackAndSentOnce) {
  // The SMTP server holds its answer to DATA for 3 s: the database goes away
  // in the meantime, so the "sent" mark meets a database that is not there.
  sink_->stop();
  sink_ = std::make_unique<SmtpSink>(dir_.path() / "slow-maildir", 0, 3000ms);
  auto& first = start_replica();
  auto& second = start_replica();  // must not claim the mail when the database is back
  queue(first, request("req-db-away", 81, {"away@example.org"}));
  ASSERT_TRUE(wait_until(
      [&] {
        return db_->scalar(
                   "SELECT count(*) FROM notify.outbox WHERE event_id = 81 AND lease_until IS NOT NULL") ==
               "1";
      },
      20s, "the mail to be claimed"));
  set_database_reachable(db_->name(), false);
  const auto delivered = sink_->wait_for(1, 20s);
  // Either replica may have claimed it.
  ASSERT_TRUE(wait_until(
      [&] {
        return (first.process->log() + second.process->log()).find("cannot record the mail's outcome yet") !=
               std::string::npos;
      },
      20s, "the sent mark to fail on the absent database"));
  set_database_reachable(db_->name(), true);
  wait_all_settled(first, 81);
  // About time: a second copy (the other replica claiming the mail when the
  // database came back) would be in the SMTP server's hand for its 3 s; the
  // outbox row cannot show it (its mark would find the row sent already).
  std::this_thread::sleep_for(1500ms);

  ASSERT_EQ(sink_->messages().size(), 1u);
  EXPECT_EQ(db_->scalar("SELECT state || ' ' || attempts FROM notify.outbox WHERE event_id = 81"), "sent 1");
  const std::string token = token_of(delivered[0]);
  EXPECT_EQ(resolve_ok(second, token).event_id(), 81);  // the link in the one mail works
  const std::string logs = first.process->log() + second.process->log();
  EXPECT_NE(logs.find("cannot record the mail's outcome yet"), std::string::npos);
  EXPECT_NE(logs.find("mail outcome recorded once the database was back"), std::string::npos);
}

TEST_F(NotifyServiceTest, TwoReplicasSendEachOfTwoHundredMailsOnce) {
  auto& a = start_replica();
  auto& b = start_replica();
  // Queue through both replicas, 20 requests of 10 recipients.
  for (int r = 0; r < 20; ++r) {
    std::vector<std::string> recipients;
    for (int i = 0; i < 10; ++i) {
      recipients.push_back("p" + std::to_string(r) + "-" + std::to_string(i) + "@example.org");
    }
    queue(r % 2 == 0 ? a : b, request("req-many-" + std::to_string(r), 41, recipients));
  }
  sink_->wait_for(200, 120s);
  wait_all_settled(a, 41, 60s);
  // About time: a copy sent twice by both replicas would arrive after the
  // first copy's mark (the second mark changes nothing), so only a window
  // of quiet can show there is none.
  std::this_thread::sleep_for(1s);
  const auto messages = sink_->messages();
  EXPECT_EQ(messages.size(), 200u);
  std::set<std::string> recipients, message_ids;
  for (const auto& m : messages) {
    recipients.insert(m.header("to"));
    message_ids.insert(m.header("message-id"));
  }
  EXPECT_EQ(recipients.size(), 200u);
  EXPECT_EQ(message_ids.size(), 200u);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox WHERE state = 'sent' AND attempts = 1"), "200");
  // Both replicas took part (each wakes on its own queueing).
  EXPECT_NE(a.process->log().find("\"mail sent\""), std::string::npos);
  EXPECT_NE(b.process->log().find("\"mail sent\""), std::string::npos);
}

TEST_F(NotifyServiceTest, RawTokenIsNowhereInTheDatabaseAfterSending) {
  auto& service = start_replica();
  queue(service, request("req-secret", 51, {"s1@example.org", "s2@example.org"}));
  const auto mails = sink_->wait_for(2, 20s);
  wait_all_settled(service, 51);
  const std::string dump = dump_notify_schema();
  ASSERT_NE(dump.find("s1@example.org"), std::string::npos);  // the dump is real
  for (const auto& mail : mails) {
    const std::string token = token_of(mail);
    ASSERT_EQ(token.size(), 40u);
    EXPECT_NE(dump.find(token_hash_of(token)), std::string::npos);
    EXPECT_EQ(dump.find(token), std::string::npos) << "raw token stored after sending";
    // The stored form is the hash.
    EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.email_tokens WHERE token_hash = encode(sha256('" +
                          token + "'::bytea), 'hex')"),
              "1");
  }
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox WHERE body IS NOT NULL"), "0");
  // And never in the log (TearDown checks every log for every token seen).
}

// SPEC §6: only a hash is ever stored, in any table, at any time. The token
// is minted when the mail is sent; an SMTP failure leaves none behind, and
// the retry mails a fresh one that works, valid from the sending.
TEST_F(NotifyServiceTest, NoTableHoldsTheRawTokenBeforeDuringOrAfterSending) {
  sink_->stop();
  auto& service = start_replica();
  const auto queued_at = std::chrono::system_clock::now();
  queue(service, request("req-at-rest", 52, {"rest@example.org"}));
  wait_attempts(service, 52, 2);  // two SMTP failures: two tokens minted and taken back
  std::vector<std::string> dumps{dump_notify_schema()};
  ASSERT_NE(dumps[0].find("rest@example.org"), std::string::npos);  // the dump is real
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.email_tokens"), "0") << "a failed sending left a token";
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox WHERE body IS NOT NULL"), "0");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox WHERE token_id IS NOT NULL"), "0");

  // The sending comes at least 3 s after the queueing, so the expiry shows
  // which of the two it counts from.
  std::this_thread::sleep_until(queued_at + 3s);
  sink_->start();
  const auto mails = sink_->wait_for(1, 20s);
  wait_all_settled(service, 52);
  dumps.push_back(dump_notify_schema());
  const std::string token = token_of(mails[0]);
  ASSERT_EQ(token.size(), 40u);
  for (const std::string& dump : dumps) {
    EXPECT_EQ(dump.find(token), std::string::npos) << "raw token stored";
  }
  EXPECT_NE(dumps[1].find(token_hash_of(token)), std::string::npos);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.email_tokens"), "1");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox o JOIN notify.email_tokens t ON t.id = o.token_id"
                        " WHERE o.state = 'sent'"),
            "1");

  // The retried mail's token works, and its five days count from the sending.
  const auto resolved = resolve_ok(service, token);
  EXPECT_EQ(resolved.event_id(), 52);
  EXPECT_EQ(resolved.party_email(), "rest@example.org");
  const auto at_queueing =
      std::chrono::duration_cast<std::chrono::seconds>((queued_at + std::chrono::days(5)).time_since_epoch());
  EXPECT_GE(resolved.expires().seconds(), at_queueing.count() + 2) << "expiry counted from the queueing";
  EXPECT_LT(resolved.expires().seconds(), at_queueing.count() + 120);
}

// A mail queued by the previous version holds its text with a raw token and
// a token row: it is sent once as it is, and its text then removed.
TEST_F(NotifyServiceTest, MailQueuedByThePreviousVersionIsSentOnceAsItIs) {
  sink_->stop();
  auto& service = start_replica();
  const std::string token(40, 'c');
  db_->exec("INSERT INTO notify.requests (request_id, event_id, content_hash) VALUES ('old-req', 91, 'x')");
  db_->exec(
      "INSERT INTO notify.email_tokens (token_hash, fingerprint, event_id, party_email, expires_at, "
      "request_id)"
      " VALUES (encode(sha256('" +
      token +
      "'::bytea), 'hex'), 'fp', 91, 'old@example.org',"
      " now() + interval '5 days', 'old-req')");
  db_->exec(
      "INSERT INTO notify.outbox (request_id, token_id, event_id, recipient, sender, subject, body)"
      " SELECT 'old-req', id, 91, 'old@example.org', 'you@here.net', '[calndro] ''old'' updated',"
      " 'Hello,\n\n  http://127.0.0.1:9000/91/?et=" +
      token + "\n' FROM notify.email_tokens WHERE event_id = 91");
  sink_->start();
  const auto mails = sink_->wait_for(1, 20s);
  wait_all_settled(service, 91);
  EXPECT_NE(mails[0].text().find("http://127.0.0.1:9000/91/?et=" + token), std::string::npos) << mails[0].raw;
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.outbox WHERE body IS NOT NULL"), "0");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM notify.email_tokens"), "1");  // its own, not a second one
  EXPECT_EQ(resolve_ok(service, token).party_email(), "old@example.org");
  // No row may carry a text (with a token) besides what a new text needs.
  EXPECT_THROW(
      db_->exec("INSERT INTO notify.outbox (request_id, event_id, recipient, sender, subject, body, content)"
                " VALUES ('old-req', 91, 'a@b.co', 'a@b.co', 's', 'text', '{}')"),
      std::exception);
}

// SMTP over TLS with a private CA (CALNDRO_SMTP_CA_FILE): STARTTLS (the
// sink refuses mail without it) and smtps://. The certificate is checked: a
// server the service cannot verify gets nothing, not a mail in clear.
TEST_F(NotifyServiceTest, SmtpOverStartTlsAndSmtpsWithAPrivateCa) {
  const std::string cert = (dir_.path() / "smtp-cert.pem").string();
  const std::string key = (dir_.path() / "smtp-key.pem").string();
  const auto made =
      run_command("/usr/bin/openssl",
                  {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days",
                   "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
                  {}, "", 60s);
  ASSERT_EQ(made.exit_code, 0) << made.output();
  SmtpSink starttls(dir_.path() / "starttls-maildir", 0, 0ms, {"--tlscert", cert, "--tlskey", key});
  SmtpSink smtps(dir_.path() / "smtps-maildir", 0, 0ms, {"--smtpscert", cert, "--smtpskey", key});

  auto& untrusting = start_replica({{"CALNDRO_SMTP_URL", starttls.url()}});
  queue(untrusting, request("req-tls", 95, {"tls@example.org"}));
  wait_attempts(untrusting, 95, 1);
  const auto refused = list(untrusting, 95);
  ASSERT_EQ(refused.deliveries_size(), 1);
  EXPECT_EQ(refused.deliveries(0).state(), nv1::DELIVERY_STATE_QUEUED);
  EXPECT_NE(refused.deliveries(0).last_error().find("certificate"), std::string::npos)
      << refused.deliveries(0).last_error();
  EXPECT_EQ(untrusting.process->terminate(), 0);
  EXPECT_TRUE(starttls.messages().empty());

  auto& over_starttls = start_replica({{"CALNDRO_SMTP_URL", starttls.url()}, {"CALNDRO_SMTP_CA_FILE", cert}});
  const auto tls_mails = starttls.wait_for(1, 20s);
  EXPECT_EQ(tls_mails[0].header("to"), "tls@example.org");
  token_of(tls_mails[0]);
  wait_all_settled(over_starttls, 95);
  EXPECT_EQ(over_starttls.process->terminate(), 0);

  const std::string smtps_url = "smtps://127.0.0.1:" + std::to_string(smtps.port());
  auto& over_smtps = start_replica({{"CALNDRO_SMTP_URL", smtps_url}, {"CALNDRO_SMTP_CA_FILE", cert}});
  queue(over_smtps, request("req-smtps", 96, {"smtps@example.org"}));
  const auto smtps_mails = smtps.wait_for(1, 20s);
  EXPECT_EQ(smtps_mails[0].header("to"), "smtps@example.org");
  token_of(smtps_mails[0]);
  EXPECT_TRUE(sink_->messages().empty());
}

// SPEC §7: expired tokens, sent mails and idempotency records go after the
// retention period (CALNDRO_RETENTION_DAYS, 30 by default); newer rows stay.
TEST_F(NotifyServiceTest, RetentionPurgeDeletesOnlyWhatIsOlderThanThePeriod) {
  auto& service = start_replica({{"CALNDRO_PURGE_INTERVAL_SECONDS", "1"}});
  auto& second = start_replica({{"CALNDRO_PURGE_INTERVAL_SECONDS", "1"}});  // replicas purge side by side
  // One implicit transaction: a purge running between separate inserts
  // would find an old request without its mails and delete it.
  db_->exec(
      "INSERT INTO notify.requests (request_id, event_id, content_hash, created_at) VALUES"
      " ('old', 1, 'h', now() - interval '40 days'), ('old-kept', 1, 'h', now() - interval '40 days'),"
      " ('new', 1, 'h', now())"
      // 40-day-old sent and failed mails (with the sent one's long-expired token), a 10-day-old mail.
      "; "
      "INSERT INTO notify.email_tokens (token_hash, fingerprint, event_id, party_email, expires_at)"
      " VALUES (repeat('a', 64), 'fa', 1, 'a@example.org', now() - interval '35 days'),"
      " (repeat('b', 64), 'fb', 1, 'b@example.org', now() - interval '5 days'),"
      " (repeat('c', 64), 'fc', 1, 'c@example.org', now() + interval '1 day')"
      "; "
      "INSERT INTO notify.outbox (request_id, token_id, event_id, recipient, sender, subject, state, "
      "queued_at,"
      " sent_at) SELECT 'old', id, 1, 'a@example.org', 'x@example.org', 's', 'sent', now() - interval '40 "
      "days',"
      " now() - interval '40 days' FROM notify.email_tokens WHERE fingerprint = 'fa'"
      "; "
      "INSERT INTO notify.outbox (request_id, event_id, recipient, sender, subject, state, queued_at) VALUES"
      " ('old', 1, 'f@example.org', 'x@example.org', 's', 'failed', now() - interval '40 days')"
      "; "
      "INSERT INTO notify.outbox (request_id, token_id, event_id, recipient, sender, subject, state, "
      "queued_at,"
      " sent_at) SELECT 'old-kept', id, 1, 'b@example.org', 'x@example.org', 's', 'sent',"
      " now() - interval '40 days', now() - interval '10 days' FROM notify.email_tokens WHERE fingerprint = "
      "'fb'");
  EXPECT_TRUE(wait_until(
      [&] { return db_->scalar("SELECT count(*) FROM notify.requests WHERE request_id = 'old'") == "0"; },
      30s, "the retention purge to remove the old request"));
  EXPECT_EQ(db_->scalar("SELECT string_agg(request_id, ',' ORDER BY request_id) FROM notify.requests"),
            "new,old-kept");
  EXPECT_EQ(db_->scalar("SELECT string_agg(fingerprint, ',' ORDER BY fingerprint) FROM notify.email_tokens"),
            "fb,fc");
  EXPECT_EQ(db_->scalar("SELECT string_agg(recipient, ',') FROM notify.outbox"), "b@example.org");
  std::string logs = service.process->log() + second.process->log();
  EXPECT_NE(logs.find("retention purge"), std::string::npos);
  EXPECT_EQ(logs.find("retention purge failed"), std::string::npos) << logs;
}

// Webhook messages go after the same period once delivered or given up;
// one still queued stays however old, and so do newer attempts.
TEST_F(NotifyServiceTest, RetentionPurgeDeletesFinishedWebhookMessagesAndOldAttempts) {
  auto& service = start_replica({{"CALNDRO_PURGE_INTERVAL_SECONDS", "1"}});
  db_->exec(
      "INSERT INTO notify.webhook_endpoints (webhook_id, url, secret_sealed) VALUES"
      " (901, 'https://hooks.example.org/a', 'sealed')"
      "; "
      // Not due for ten days: the dispatcher leaves the queued one alone.
      "INSERT INTO notify.webhook_messages (message_id, webhook_id, event_id, sequence, type, version,"
      " occurred_at, body, state, attempts, next_attempt_at, finished_at) VALUES"
      " ('msg_old_delivered', 901, 1, 1, 'event.created', 1, now() - interval '41 days', '{}', 'delivered', "
      "1,"
      "  now() - interval '40 days', now() - interval '40 days'),"
      " ('msg_old_failed', 901, 1, 2, 'event.updated', 2, now() - interval '41 days', '{}', 'failed', 20,"
      "  now() - interval '40 days', now() - interval '39 days'),"
      " ('msg_recent', 901, 2, 1, 'event.created', 1, now() - interval '11 days', '{}', 'delivered', 1,"
      "  now() - interval '10 days', now() - interval '10 days'),"
      " ('msg_old_queued', 901, 3, 1, 'event.created', 1, now() - interval '41 days', '{}', 'queued', 3,"
      "  now() + interval '10 days', NULL)"
      "; "
      "INSERT INTO notify.webhook_attempts (webhook_id, message_id, type, version, attempt, at, status) "
      "VALUES"
      " (901, 'msg_old_delivered', 'event.created', 1, 1, now() - interval '40 days', 204),"
      " (901, 'msg_recent', 'event.created', 1, 1, now() - interval '10 days', 204)");
  EXPECT_TRUE(wait_until(
      [&] {
        return db_->scalar(
                   "SELECT count(*) FROM notify.webhook_messages WHERE message_id LIKE 'msg_old_%'"
                   " AND state <> 'queued'") == "0";
      },
      30s, "the retention purge to remove the finished webhook messages"));
  EXPECT_EQ(
      db_->scalar("SELECT string_agg(message_id, ',' ORDER BY message_id) FROM notify.webhook_messages"),
      "msg_old_queued,msg_recent");
  EXPECT_EQ(db_->scalar("SELECT string_agg(message_id, ',') FROM notify.webhook_attempts"), "msg_recent");
  const std::string logs = service.process->log();
  EXPECT_NE(logs.find("\"webhook_messages\":2"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("retention purge failed"), std::string::npos) << logs;
}

TEST_F(NotifyServiceTest, ListDeliveriesPagesNewestFirst) {
  auto& service = start_replica();
  queue(service, request("req-page-1", 61, {"a1@example.org", "a2@example.org", "a3@example.org"}));
  queue(service, request("req-page-2", 62, {"b1@example.org"}));
  const auto first = list(service, 61, 2);
  ASSERT_EQ(first.deliveries_size(), 2);
  ASSERT_FALSE(first.next_page_token().empty());
  const auto second = list(service, 61, 2, first.next_page_token());
  ASSERT_EQ(second.deliveries_size(), 1);
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_GT(first.deliveries(0).mail_id(), first.deliveries(1).mail_id());
  EXPECT_GT(first.deliveries(1).mail_id(), second.deliveries(0).mail_id());
  EXPECT_EQ(list(service, 0).deliveries_size(), 4);
  {
    grpc::ClientContext context;
    prepare(context);
    nv1::ListDeliveriesRequest req;
    req.set_event_id(62);
    req.set_page_token(first.next_page_token());  // bound to event 61
    nv1::ListDeliveriesResponse response;
    EXPECT_EQ(stub(service)->ListDeliveries(&context, req, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  for (const auto& m : sink_->wait_for(4, 20s)) {
    token_of(m);
  }
}

TEST_F(NotifyServiceTest, SurvivesLostDatabaseConnections) {
  auto& service = start_replica();
  queue(service, request("req-db-1", 71, {"d1@example.org"}));
  token_of(sink_->wait_for(1, 20s)[0]);
  // Drop every connection of the service, as a database restart would.
  db_->exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
      " AND pid <> pg_backend_pid()");
  // The first calls after it must not fail on the pool's stale connections.
  queue(service, request("req-db-2", 71, {"d2@example.org"}));
  queue(service, request("req-db-3", 71, {"d3@example.org"}));
  for (const auto& m : sink_->wait_for(3, 30s)) {
    token_of(m);
  }
  EXPECT_TRUE(service.process->running());
}

// Links come from the replica's CALNDRO_PUBLIC_BASE_URL alone. An older
// caller may still send the removed link_base_url (field 8, now unknown):
// it reaches no mail, the text part and the calendar part alike.
TEST_F(NotifyServiceTest, LinksUseTheConfiguredBaseWhateverTheCallerSends) {
  auto& configured = start_replica({{"CALNDRO_PUBLIC_BASE_URL", "https://cal.example.org/"}});
  auto plain = request("req-evil", 81, {"victim@example.org"});
  plain.GetReflection()->MutableUnknownFields(&plain)->AddLengthDelimited(8, "http://evil.example/steal");
  queue(configured, plain);
  auto invitation = calendar_request("req-evil-cal", 82, nv1::CalendarInvitation::METHOD_REQUEST);
  invitation.clear_recipients();
  invitation.add_recipients("victim2@example.org");
  invitation.GetReflection()->MutableUnknownFields(&invitation)->AddLengthDelimited(8, "http://evil.example");
  queue(configured, invitation);
  const auto plain_mail = sink_->wait_for_to("victim@example.org", 1, 20s)[0];
  EXPECT_EQ(plain_mail.raw.find("evil.example"), std::string::npos) << plain_mail.raw;
  EXPECT_TRUE(std::regex_search(plain_mail.text(),
                                std::regex(R"(\n  https://cal\.example\.org/81/\?et=[0-9a-f]{40}\n)")))
      << plain_mail.text();
  const nlohmann::json summary =
      expect_calendar_mail(sink_->wait_for_to("victim2@example.org", 1, 20s)[0], "REQUEST", 82);
  EXPECT_EQ(summary.dump().find("evil"), std::string::npos) << summary.dump();
  const std::string url = summary["calendar"]["events"][0]["url"].get<std::string>();
  EXPECT_TRUE(std::regex_match(url, std::regex(R"(https://cal\.example\.org/82/\?et=[0-9a-f]{40})"))) << url;
}

TEST_F(NotifyServiceTest, BadConfigurationFailsFast) {
  const int port = 0;  // the kernel chooses, should the service get as far as listening
  const ClosedPort no_database;
  Env env = service_env(port);
  env["CALNDRO_TOKEN_DAYS"] = "zero";
  auto result = run_command(bin_path("calndro-notify"), {}, env, "", 30s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output().find("CALNDRO_TOKEN_DAYS"), std::string::npos) << result.output();

  env = service_env(port);
  env["CALNDRO_DATABASE_URL"] =
      "postgresql://nobody@127.0.0.1:" + std::to_string(no_database.port()) + "/none";
  result = run_command(bin_path("calndro-notify"), {}, env, "", 60s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output().find("unreachable"), std::string::npos) << result.output();

  env = service_env(port);
  env["CALNDRO_SMTP_CA_FILE"] = (dir_.path() / "no-such-ca.pem").string();
  result = run_command(bin_path("calndro-notify"), {}, env, "", 30s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output().find("CALNDRO_SMTP_CA_FILE"), std::string::npos) << result.output();

  // A deployment brings the webhooks' key; a missing one stops the service.
  env = service_env(port);
  env["CALNDRO_WEBHOOK_KEY_FILE"] = (dir_.path() / "no-such-webhook.key").string();
  env["CALNDRO_WEBHOOK_KEY_MISSING"] = "refuse";
  result = run_command(bin_path("calndro-notify"), {}, env, "", 60s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output().find("CALNDRO_WEBHOOK_KEY_FILE"), std::string::npos) << result.output();

  env = service_env(port);
  env["CALNDRO_PUBLIC_BASE_URL"] = "https://cal.example.org/?x=1";
  result = run_command(bin_path("calndro-notify"), {}, env, "", 30s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output().find("CALNDRO_PUBLIC_BASE_URL"), std::string::npos) << result.output();
}

}  // namespace
