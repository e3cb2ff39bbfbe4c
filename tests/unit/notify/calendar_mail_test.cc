// Calendar mails (QueueNotificationsRequest.calendar): subjects, the text part,
// the text/calendar part, the multipart rendering, their storage in the
// outbox's `content` and the request's validation.
#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"
#include "notify/mail_composer.h"
#include "notify/notification_service.h"
#include "notify/outbox.h"
#include "support/cases.h"
#include "unit/notify/sample_mail.h"

namespace calndro::notify {
namespace {

const std::string kToken = "0123456789abcdef0123456789abcdef01234567";

Instant at(std::string_view text) {
  return parse_instant(text).value();
}

// RFC 5545 §3.1: a CRLF followed by a space continues the line.
std::string unfold(std::string text) {
  for (std::size_t at = text.find("\r\n "); at != std::string::npos; at = text.find("\r\n ", at)) {
    text.erase(at, 3);
  }
  return text;
}

// A calendar mail (no slots proposed) about the sample's event, agreed or
// cancelled on 2022-11-01T01:11:22Z for 10 minutes.
MailRequest calendar_request(icalendar::Method method) {
  MailRequest request = samples::mail_request();
  request.slots.clear();
  request.calendar = samples::calendar(method, {at("2022-11-01T01:11:22Z"), std::chrono::minutes(10)});
  return request;
}

TEST(CalendarMail, Subjects) {
  const MailSettings settings;
  EXPECT_EQ(
      compose_subject(settings, calendar_request(icalendar::Method::kRequest)),
      "[calndro] 'cybes' agreed: " + describe_slot(at("2022-11-01T01:11:22Z"), std::chrono::minutes(10)));
  EXPECT_EQ(compose_subject(settings, calendar_request(icalendar::Method::kCancel)),
            "[calndro] 'cybes' cancelled");
  const MailRequest request = calendar_request(icalendar::Method::kRequest);
  EXPECT_EQ(compose_mail(settings, request, kToken, Instant()).subject, compose_subject(settings, request));
}

TEST(CalendarMail, TextPartSaysTheTimeAndCarriesTheLink) {
  const MailContent invitation = compose_mail(MailSettings{}, calendar_request(icalendar::Method::kRequest),
                                              kToken, at("2022-11-06T00:00:00Z"));
  testing::expect_contains(
      invitation.body,
      {"you@here.net agreed on a time for 'cybes':",
       "  " + describe_slot(at("2022-11-01T01:11:22Z"), std::chrono::minutes(10)) + "\n",
       "attached invitation", "http://localhost:9000/7/?et=" + kToken, "valid until 2022-11-06T00:00:00Z"});
  const MailContent cancellation = compose_mail(MailSettings{}, calendar_request(icalendar::Method::kCancel),
                                                kToken, at("2022-11-06T00:00:00Z"));
  testing::expect_contains(cancellation.body, {"The agreed time for 'cybes' is cancelled:", "cancellation",
                                               "http://localhost:9000/7/?et=" + kToken});
}

TEST(CalendarMail, WithoutLinkHasNoLinkAndNeedsNoToken) {
  MailRequest request = calendar_request(icalendar::Method::kCancel);
  request.calendar->without_link = true;
  EXPECT_FALSE(has_link(request));
  EXPECT_TRUE(has_link(calendar_request(icalendar::Method::kCancel)));
  EXPECT_TRUE(has_link(MailRequest{}));
  const MailContent mail = compose_mail(MailSettings{}, request, "", Instant());
  EXPECT_EQ(mail.body.find("http"), std::string::npos) << mail.body;
  EXPECT_NE(mail.body.find("The event was deleted."), std::string::npos);
  const std::string ics = compose_calendar(MailSettings{}, request, "", at("2026-12-01T08:00:00Z"));
  EXPECT_EQ(ics.find("URL"), std::string::npos);
  EXPECT_EQ(ics.find("http"), std::string::npos);
  EXPECT_NE(ics.find("\r\nSTATUS:CANCELLED\r\n"), std::string::npos);
}

TEST(CalendarMail, CalendarPartHasTheInvitation) {
  MailSettings settings;
  settings.public_base_url = "https://cal.example.org";
  const std::string ics = unfold(compose_calendar(settings, calendar_request(icalendar::Method::kRequest),
                                                  kToken, at("2026-12-01T08:00:00.5Z")));
  testing::expect_contains(
      ics, {"\r\nMETHOD:REQUEST\r\n", "\r\nUID:event-7@calndro.example.org\r\n", "\r\nSEQUENCE:2\r\n",
            "\r\nDTSTAMP:20261201T080000Z\r\n", "\r\nDTSTART:20221101T011122Z\r\n",
            "\r\nDTEND:20221101T012122Z\r\n", "\r\nSUMMARY:cybes\r\n", "\r\nSTATUS:CONFIRMED\r\n",
            "\r\nORGANIZER:mailto:you@here.net\r\n", "RSVP=TRUE:mailto:they@thar.net\r\n",
            "\r\nURL:https://cal.example.org/7/?et=" + kToken + "\r\n"});
  EXPECT_NE(ics.find("DESCRIPTION:"), std::string::npos);
}

TEST(CalendarMail, RenderedAsMultipartAlternative) {
  WireMail wire;
  wire.from = {"calndro", "noreply@calndro.localhost"};
  wire.to = "they@thar.net";
  wire.subject = "[calndro] 'cybes' cancelled";
  // A body that spells the first boundary: another one is chosen.
  wire.body = "text\n--=_calndro_alternative_0\n";
  wire.calendar = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
  wire.calendar_method = icalendar::Method::kCancel;
  wire.date = at("2022-11-01T01:11:22Z");
  wire.message_id = "<a@b.c>";
  const std::string message = render_message(wire);
  testing::expect_contains(
      message,
      {"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; "
       "boundary=\"=_calndro_alternative_1\"\r\n\r\n"
       "--=_calndro_alternative_1\r\nContent-Type: text/plain; charset=utf-8\r\n"
       "Content-Transfer-Encoding: 8bit\r\n\r\ntext\r\n--=_calndro_alternative_0\r\n"
       "\r\n--=_calndro_alternative_1\r\nContent-Type: text/calendar; charset=UTF-8; method=CANCEL\r\n"
       "Content-Transfer-Encoding: 8bit\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
       "\r\n--=_calndro_alternative_1--\r\n"});
  EXPECT_TRUE(message.ends_with("--=_calndro_alternative_1--\r\n"));
}

// A mail without a calendar, byte for byte as before calendar mails existed.
TEST(CalendarMail, PlainMailsAreUnchanged) {
  MailRequest request = samples::mail_request();
  request.invitation = true;
  request.slots.push_back({Instant(Micros(1615473240000000)), Micros(5400000000)});
  const MailSettings settings;
  const MailContent mail = compose_mail(settings, request, kToken, Instant(Micros(1667700000000000)));
  WireMail wire;
  wire.from = settings.default_from;
  wire.to = "they@thar.net";
  wire.sender = Mailbox{"agent", "agent@x.y"};
  wire.subject = mail.subject;
  wire.body = mail.body;
  wire.date = Instant(Micros(1667265082000000));
  wire.message_id = message_id(5, wire.date, "calndro.localhost");
  EXPECT_EQ(render_message(wire),
            "Date: Tue, 01 Nov 2022 01:11:22 +0000\r\nFrom: calndro <noreply@calndro.localhost>\r\n"
            "Sender: agent <agent@x.y>\r\nTo: they@thar.net\r\nSubject: [calndro] Invitation: 'cybes'\r\n"
            "Message-ID: <calndro.5.1667265082000000@calndro.localhost>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHello,\r\n\r\n"
            "you@here.net invites you to agree on a time for 'cybes'.\r\n\r\nOpen the event here:\r\n\r\n"
            "  http://localhost:9000/7/?et=0123456789abcdef0123456789abcdef01234567\r\n\r\n"
            "This link is your personal access to the event: do not forward it.\r\n"
            "It is valid until 2022-11-06T02:00:00Z (UTC).\r\n\r\nProposed time slots:\r\n\r\n"
            "  - Tue 1 Nov 2022, 01:11 UTC for 10 min (2022-11-01T01:11:22.020000Z, 00:10:00)\r\n"
            "  - Thu 11 Mar 2021, 14:34 UTC for 1 h 30 min (2021-03-11T14:34:00Z, 01:30:00)\r\n\r\n"
            "-- \r\ncalndro\r\n");
  EXPECT_EQ(encode_mail_content(request),
            R"({"invitation":true,"sender":"you@here.net",)"
            R"("slots":[[1667265082020000,600000000],[1615473240000000,5400000000]],"title":"cybes"})");
}

TEST(CalendarMail, StoredContentRoundTrips) {
  MailRequest request = calendar_request(icalendar::Method::kCancel);
  request.calendar->without_link = true;
  const std::string json = encode_mail_content(request);
  const auto back = decode_mail_content(7, json);
  ASSERT_TRUE(back.has_value() && back->calendar.has_value()) << json;
  const CalendarRequest& calendar = *back->calendar;
  EXPECT_EQ(calendar.method, icalendar::Method::kCancel);
  EXPECT_EQ(calendar.uid, request.calendar->uid);
  EXPECT_EQ(calendar.sequence, 2);
  EXPECT_EQ(calendar.slot.begin, request.calendar->slot.begin);
  EXPECT_EQ(calendar.slot.duration, request.calendar->slot.duration);
  EXPECT_EQ(calendar.organizer, "you@here.net");
  EXPECT_EQ(calendar.attendees, request.calendar->attendees);
  EXPECT_TRUE(calendar.without_link);
  const Instant now = at("2026-12-01T08:00:00Z");
  EXPECT_EQ(compose_calendar(MailSettings{}, *back, "", now),
            compose_calendar(MailSettings{}, request, "", now));
  // A mail without a calendar is stored as before: no "calendar" member.
  request.calendar.reset();
  EXPECT_EQ(encode_mail_content(request).find("calendar"), std::string::npos);
  EXPECT_FALSE(decode_mail_content(7, encode_mail_content(request))->calendar.has_value());
  // A stored calendar that cannot be read makes the content unreadable.
  std::string bad = json;
  bad.replace(bad.find("CANCEL"), 6, "PUBLISH");
  EXPECT_FALSE(decode_mail_content(7, bad).has_value());
}

v1::QueueNotificationsRequest queue_request() {
  v1::QueueNotificationsRequest request;
  request.set_request_id("req-1");
  request.set_event_id(7);
  request.set_event_title("cybes");
  request.add_recipients("they@thar.net");
  auto* calendar = request.mutable_calendar();
  calendar->set_method(v1::CalendarInvitation::METHOD_REQUEST);
  calendar->set_uid("event-7@calndro");
  calendar->set_sequence(1);
  calendar->mutable_slot()->mutable_begin()->set_seconds(1667265082);
  calendar->mutable_slot()->mutable_duration()->set_seconds(600);
  calendar->set_organizer("You@Here.net");
  calendar->add_attendees("They@Thar.net");
  calendar->add_attendees("they@thar.net");
  return request;
}

std::vector<std::string> bad_fields(const v1::QueueNotificationsRequest& request) {
  const auto result = validate_queue_request(request);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& violation : decode_details(result.status()).violations) {
    fields.push_back(violation.field);
  }
  return fields;
}

TEST(CalendarValidation, AcceptsAndNormalises) {
  const auto valid = validate_queue_request(queue_request());
  ASSERT_TRUE(valid.ok()) << valid.status();
  ASSERT_TRUE(valid->mail.calendar.has_value());
  EXPECT_EQ(valid->mail.calendar->organizer, "you@here.net");
  EXPECT_EQ(valid->mail.calendar->attendees, std::vector<std::string>{"they@thar.net"});
  EXPECT_EQ(valid->mail.calendar->slot.duration, std::chrono::minutes(10));
  auto without = queue_request();
  without.clear_calendar();
  const auto plain = validate_queue_request(without);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->mail.calendar.has_value());
  EXPECT_NE(plain->content_hash, valid->content_hash);
  auto cancel = queue_request();
  cancel.mutable_calendar()->set_method(v1::CalendarInvitation::METHOD_CANCEL);
  EXPECT_NE(validate_queue_request(cancel)->content_hash, valid->content_hash);
}

TEST(CalendarValidation, NamesEveryBadField) {
  auto request = queue_request();
  auto* calendar = request.mutable_calendar();
  calendar->set_method(v1::CalendarInvitation::METHOD_UNSPECIFIED);
  calendar->set_uid("");
  calendar->set_sequence(-1);
  calendar->mutable_slot()->mutable_duration()->set_seconds(0);
  calendar->set_organizer("nope");
  calendar->add_attendees("also nope");
  EXPECT_EQ(bad_fields(request),
            (std::vector<std::string>{"calendar.method", "calendar.uid", "calendar.sequence", "calendar.slot",
                                      "calendar.organizer", "calendar.attendees"}));
}

TEST(CalendarValidation, Limits) {
  auto request = queue_request();
  request.mutable_calendar()->set_uid(std::string(256, 'u'));
  EXPECT_EQ(bad_fields(request), std::vector<std::string>{"calendar.uid"});
  request.mutable_calendar()->set_uid(std::string(255, 'u'));
  EXPECT_TRUE(validate_queue_request(request).ok());
  request.mutable_calendar()->set_uid("a\r\nb");
  EXPECT_EQ(bad_fields(request), std::vector<std::string>{"calendar.uid"});
  request = queue_request();
  request.mutable_calendar()->set_sequence(std::int64_t{1} << 31);
  EXPECT_EQ(bad_fields(request), std::vector<std::string>{"calendar.sequence"});
  request = queue_request();
  request.mutable_calendar()->clear_slot();
  EXPECT_EQ(bad_fields(request), std::vector<std::string>{"calendar.slot"});
  request = queue_request();
  request.mutable_calendar()->clear_attendees();
  EXPECT_EQ(bad_fields(request), std::vector<std::string>{"calendar.attendees"});
  for (int i = 0; i < 101; ++i) {
    request.mutable_calendar()->add_attendees("p" + std::to_string(i) + "@x.example");
  }
  EXPECT_EQ(bad_fields(request), std::vector<std::string>{"calendar.attendees"});
  request.mutable_calendar()->mutable_attendees()->RemoveLast();
  EXPECT_TRUE(validate_queue_request(request).ok());
}

}  // namespace
}  // namespace calndro::notify
