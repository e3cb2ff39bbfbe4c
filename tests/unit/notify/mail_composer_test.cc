#include "notify/mail_composer.h"

#include <gtest/gtest.h>

#include "support/cases.h"

namespace calndro::notify {
namespace {

Instant at(std::string_view text) {
  auto instant = parse_instant(text);
  EXPECT_TRUE(instant.ok()) << instant.status();
  return instant.value_or(Instant{});
}

MailRequest sample_request() {
  MailRequest request;
  request.event_id = 7;
  request.title = "cybes";
  request.sender = "you@here.net";
  request.slots = {{at("2022-11-01T01:11:22.02Z"), std::chrono::minutes(10)}};
  return request;
}

const std::string kToken = "0123456789abcdef0123456789abcdef01234567";

TEST(MailComposer, UpdateSubjectUsesPrefixAndQuotedTitle) {
  const MailContent mail = compose_mail(MailSettings{}, sample_request(), kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_EQ(mail.subject, "[calndro] 'cybes' updated");
}

TEST(MailComposer, InvitationSubject) {
  MailRequest request = sample_request();
  request.invitation = true;
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_EQ(mail.subject, "[calndro] Invitation: 'cybes'");
  EXPECT_NE(mail.body.find("invites you"), std::string::npos);
}

TEST(MailComposer, ConfiguredPrefix) {
  MailSettings settings;
  settings.subject_prefix = "[team] ";
  const MailContent mail = compose_mail(settings, sample_request(), kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_EQ(mail.subject, "[team] 'cybes' updated");
}

TEST(MailComposer, BodyHasSenderLinkExpiryAndSlots) {
  MailRequest request = sample_request();
  request.slots.push_back({at("2021-03-11T14:34:00Z"), std::chrono::minutes(90)});
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T01:11:22Z"));
  EXPECT_NE(mail.body.find("you@here.net"), std::string::npos);
  EXPECT_NE(mail.body.find("http://localhost:9000/7/?et=" + kToken), std::string::npos) << mail.body;
  EXPECT_NE(mail.body.find("2022-11-06T01:11:22Z"), std::string::npos);
  EXPECT_NE(mail.body.find("\n  - " + describe_slot(at("2022-11-01T01:11:22.02Z"), std::chrono::minutes(10)) +
                           "\n"),
            std::string::npos);
  EXPECT_NE(
      mail.body.find("\n  - " + describe_slot(at("2021-03-11T14:34:00Z"), std::chrono::minutes(90)) + "\n"),
      std::string::npos);
  // The token is in the link and nowhere else.
  EXPECT_EQ(mail.body.find(kToken), mail.body.rfind(kToken));
  EXPECT_EQ(mail.subject.find(kToken), std::string::npos);
}

TEST(MailComposer, NoSlots) {
  MailRequest request = sample_request();
  request.slots.clear();
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_NE(mail.body.find("No time slots"), std::string::npos);
}

TEST(MailComposer, DefaultSenderNamedWhenNoSender) {
  MailRequest request = sample_request();
  request.sender.clear();
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_NE(mail.body.find("calndro notified you"), std::string::npos) << mail.body;
}

TEST(MailComposer, LinkBasePreference) {
  MailSettings settings;
  EXPECT_EQ(choose_link_base(settings, ""), "http://localhost:9000");
  EXPECT_EQ(choose_link_base(settings, "http://host:9000/"), "http://host:9000");
  settings.public_base_url = "https://cal.example.org//";
  EXPECT_EQ(choose_link_base(settings, "http://host:9000"), "https://cal.example.org");
  EXPECT_EQ(event_link("https://cal.example.org", 42, kToken), "https://cal.example.org/42/?et=" + kToken);

  MailRequest request = sample_request();
  request.link_base_url = "http://127.0.0.1:9000/";
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_NE(mail.body.find("http://127.0.0.1:9000/7/?et=" + kToken), std::string::npos);
}

TEST(MailComposer, ValidLinkBase) {
  const auto valid = [](const std::string& base) { return valid_link_base(base); };
  testing::expect_all(valid, {"http://localhost:9000", "https://cal.example.org/app/"});
  testing::expect_none(
      valid, {"ftp://x.y", "http://", "http://x.y/?a=b", "http://x.y/#f", "http://x.y\r\nBcc: a@b.c",
              "http://user@evil.example", "javascript:alert(1)"});
}

TEST(MailComposer, TitleControlCharactersCannotForgeHeaders) {
  MailRequest request = sample_request();
  request.title = "x\r\nBcc: victim@example.org\r\n\r\nhi";
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_EQ(mail.subject.find('\r'), std::string::npos);
  EXPECT_EQ(mail.subject.find('\n'), std::string::npos);

  WireMail wire;
  wire.from = {"", "you@here.net"};
  wire.to = "they@thar.net";
  wire.subject = mail.subject;
  wire.body = mail.body;
  wire.date = at("2022-11-01T00:00:00Z");
  wire.message_id = "<calndro.1.2@calndro.localhost>";
  const std::string message = render_message(wire);
  const std::string headers = message.substr(0, message.find("\r\n\r\n"));
  EXPECT_EQ(headers.find("\r\nBcc:"), std::string::npos) << headers;
  // Every header line starts with a known name or a folding space.
  std::size_t begin = 0;
  while (begin < headers.size()) {
    std::size_t end = headers.find("\r\n", begin);
    if (end == std::string::npos) {
      end = headers.size();
    }
    const std::string line = headers.substr(begin, end - begin);
    EXPECT_TRUE(line.find(": ") != std::string::npos || line.starts_with(" ")) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\r'), std::string::npos);
    begin = end + 2;
  }
}

TEST(MailComposer, StripControls) {
  EXPECT_EQ(strip_controls("a\r\nb\tc\x7f"), "a  b c ");
  EXPECT_EQ(strip_controls("plain"), "plain");
}

TEST(MailComposer, NonAsciiSubjectIsEncodedWord) {
  EXPECT_EQ(encode_header_text("plain 'title'"), "plain 'title'");
  const std::string encoded = encode_header_text("[calndro] 'Café'");
  EXPECT_EQ(encoded, "=?UTF-8?B?W2NhbG5kcm9dICdDYWbDqSc=?=");
}

TEST(MailComposer, LongNonAsciiSubjectIsFoldedIntoShortWords) {
  std::string title;
  for (int i = 0; i < 60; ++i) {
    title += "é€";  // 2 + 3 bytes
  }
  const std::string encoded = encode_header_text(title);
  std::size_t begin = 0;
  int words = 0;
  while (begin < encoded.size()) {
    std::size_t end = encoded.find("\r\n ", begin);
    const std::string word =
        encoded.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    EXPECT_LE(word.size(), 75u);
    EXPECT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    ++words;
    begin = end == std::string::npos ? encoded.size() : end + 3;
  }
  EXPECT_GT(words, 1);
}

TEST(MailComposer, Rfc5322Date) {
  EXPECT_EQ(format_rfc5322_date(at("2022-11-01T01:11:22.02Z")), "Tue, 01 Nov 2022 01:11:22 +0000");
}

TEST(MailComposer, MessageIdIsStablePerMail) {
  const Instant queued = at("2022-11-01T00:00:00Z");
  EXPECT_EQ(message_id(5, queued, "calndro.localhost"), message_id(5, queued, "calndro.localhost"));
  EXPECT_NE(message_id(5, queued, "calndro.localhost"), message_id(6, queued, "calndro.localhost"));
  EXPECT_TRUE(message_id(5, queued, "x.y").starts_with("<calndro.5."));
}

TEST(MailComposer, RenderedMessageHeaders) {
  WireMail wire;
  wire.from = {"", "you@here.net"};
  wire.sender = Mailbox{"calndro", "noreply@calndro.localhost"};
  wire.to = "they@thar.net";
  wire.subject = "[calndro] 'Café' updated";
  wire.body = "line one\nline two\n";
  wire.date = at("2022-11-01T01:11:22Z");
  wire.message_id = "<calndro.1.2@calndro.localhost>";
  const std::string message = render_message(wire);
  EXPECT_TRUE(message.starts_with("Date: Tue, 01 Nov 2022 01:11:22 +0000\r\n")) << message;
  testing::expect_contains(
      message, {"\r\nFrom: you@here.net\r\n", "\r\nSender: calndro <noreply@calndro.localhost>\r\n",
                "\r\nTo: they@thar.net\r\n", "\r\nSubject: =?UTF-8?B?",
                "\r\nMessage-ID: <calndro.1.2@calndro.localhost>\r\n", "\r\nMIME-Version: 1.0\r\n",
                "\r\nContent-Type: text/plain; charset=utf-8\r\n"});
  EXPECT_TRUE(message.ends_with("\r\n\r\nline one\r\nline two\r\n")) << message;
}

TEST(MailComposer, SenderHeaderOmittedWhenSameAsFrom) {
  WireMail wire;
  wire.from = {"calndro", "noreply@calndro.localhost"};
  wire.sender = wire.from;
  wire.to = "they@thar.net";
  wire.subject = "s";
  wire.date = at("2022-11-01T01:11:22Z");
  wire.message_id = "<a@b.c>";
  const std::string message = render_message(wire);
  EXPECT_EQ(message.find("Sender:"), std::string::npos);
  EXPECT_NE(message.find("\r\nFrom: calndro <noreply@calndro.localhost>\r\n"), std::string::npos);
}

TEST(MailComposer, ParseMailbox) {
  std::string error;
  auto plain = parse_mailbox("Someone@Example.org", error);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->address, "someone@example.org");
  EXPECT_EQ(plain->display_name, "");
  auto named = parse_mailbox("calndro <noreply@calndro.localhost>", error);
  ASSERT_TRUE(named);
  EXPECT_EQ(named->display_name, "calndro");
  EXPECT_EQ(named->address, "noreply@calndro.localhost");
  auto quoted = parse_mailbox("\"Team, Inc\" <a@b.co>", error);
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->display_name, "Team, Inc");
  EXPECT_FALSE(parse_mailbox("x <a@b.co>\r\nBcc: c@d.e", error));
  EXPECT_FALSE(parse_mailbox("not an address", error));
  EXPECT_FALSE(parse_mailbox("x <a@b.co", error));
}

TEST(MailComposer, DisplayNameWithSpecialsIsQuoted) {
  WireMail wire;
  wire.from = {"Team, \"Inc\"", "a@b.co"};
  wire.to = "they@thar.net";
  wire.subject = "s";
  wire.date = at("2022-11-01T01:11:22Z");
  wire.message_id = "<a@b.c>";
  EXPECT_NE(render_message(wire).find("\r\nFrom: \"Team, \\\"Inc\\\"\" <a@b.co>\r\n"), std::string::npos);
}

}  // namespace
}  // namespace calndro::notify
