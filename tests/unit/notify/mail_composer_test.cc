#include "notify/mail_composer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/text/allowed_hosts.h"
#include "support/cases.h"
#include "support/mail_text.h"
#include "unit/notify/sample_mail.h"

namespace calndro::notify {
namespace {

using testing::crlf_lines;
using testing::decode_quoted_printable;
using ::testing::HasSubstr;
using ::testing::Optional;

Instant at(std::string_view text) {
  auto instant = parse_instant(text);
  EXPECT_TRUE(instant.ok()) << instant.status();
  return instant.value_or(Instant{});
}

const std::string kToken = "0123456789abcdef0123456789abcdef01234567";

TEST(MailComposer, UpdateSubjectUsesPrefixAndQuotedTitle) {
  const MailContent mail =
      compose_mail(MailSettings{}, samples::mail_request(), kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_EQ(mail.subject, "[calndro] 'cybes' updated");
}

TEST(MailComposer, InvitationSubject) {
  MailRequest request = samples::mail_request();
  request.invitation = true;
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_EQ(mail.subject, "[calndro] Invitation: 'cybes'");
  EXPECT_NE(mail.body.find("invites you"), std::string::npos);
}

TEST(MailComposer, ConfiguredPrefix) {
  MailSettings settings;
  settings.subject_prefix = "[team] ";
  const MailContent mail =
      compose_mail(settings, samples::mail_request(), kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_EQ(mail.subject, "[team] 'cybes' updated");
}

TEST(MailComposer, BodyHasSenderLinkExpiryAndSlots) {
  MailRequest request = samples::mail_request();
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
  MailRequest request = samples::mail_request();
  request.slots.clear();
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_NE(mail.body.find("No time slots"), std::string::npos);
}

TEST(MailComposer, DefaultSenderNamedWhenNoSender) {
  MailRequest request = samples::mail_request();
  request.sender.clear();
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_NE(mail.body.find("calndro notified you"), std::string::npos) << mail.body;
}

// The link's base is the configuration's alone (a mail request names none).
TEST(MailComposer, LinkBaseIsThePublicBaseUrl) {
  MailSettings settings;
  EXPECT_EQ(link_base(settings), "http://localhost:9000");
  settings.public_base_url = "https://cal.example.org/app//";
  EXPECT_EQ(link_base(settings), "https://cal.example.org/app");
  EXPECT_EQ(event_link("https://cal.example.org", 42, kToken), "https://cal.example.org/42/?et=" + kToken);

  const MailContent mail =
      compose_mail(settings, samples::mail_request(), kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_NE(mail.body.find("  https://cal.example.org/app/7/?et=" + kToken + "\n"), std::string::npos)
      << mail.body;
}

TEST(MailComposer, ValidLinkBase) {
  const auto valid = [](const std::string& base) { return valid_link_base(base); };
  testing::expect_all(valid, {"http://localhost:9000", "https://cal.example.org/app/"});
  testing::expect_none(
      valid, {"ftp://x.y", "http://", "http://x.y/?a=b", "http://x.y/#f", "http://x.y\r\nBcc: a@b.c",
              "http://user@evil.example", "javascript:alert(1)"});
}

TEST(MailComposer, TitleControlCharactersCannotForgeHeaders) {
  MailRequest request = samples::mail_request();
  request.title = "x\r\nBcc: victim@example.org\r\n\r\nhi";
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
  EXPECT_EQ(mail.subject.find('\r'), std::string::npos);
  EXPECT_EQ(mail.subject.find('\n'), std::string::npos);

  const std::string message = render_message(samples::wire_of(request, mail));
  const std::string headers = message.substr(0, message.find("\r\n\r\n"));
  EXPECT_EQ(headers.find("\r\nBcc:"), std::string::npos) << headers;
  // Every header line starts with a known name or a folding space.
  for (const std::string& line : crlf_lines(headers)) {
    EXPECT_TRUE(line.find(": ") != std::string::npos || line.starts_with(" ")) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\r'), std::string::npos);
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

// --- line lengths: no title makes a mail undeliverable (RFC 5322 §2.1.1) ---

// The lines of a rendered message (or part), which ends in CRLF.
std::vector<std::string> lines_of(const std::string& message) {
  EXPECT_TRUE(message.ends_with("\r\n")) << "the message ends in CRLF";
  return crlf_lines(message);
}

std::string repeat(std::string_view unit, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) {
    out += unit;
  }
  return out;
}

// The longest titles SPEC §7 allows (256 characters), in the shapes that
// make lines long: 4-byte emoji, one ASCII word, and a mix.
const std::vector<std::string>& long_titles() {
  static const std::vector<std::string> titles = {
      repeat("\xF0\x9F\x98\x80", 256),  // U+1F600, 1,024 octets
      repeat("x", 256),                 // no space to break at
      // Emoji, spaces, "=", é and 日: 256 characters, 979 octets.
      repeat("\xF0\x9F\x98\x80", 240) + " a=b \xC3\xA9 \xE6\x97\xA5 end  x=",
  };
  return titles;
}

// The text/plain part's transfer encoding and its content as sent.
std::pair<std::string, std::string> text_part(const std::string& message) {
  const std::string marker = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ";
  const std::size_t at = message.find(marker);
  EXPECT_NE(at, std::string::npos) << message;
  const std::size_t value = at + marker.size();
  const std::size_t content = message.find("\r\n\r\n", value) + 4;
  const std::size_t end = message.find("\r\n--=_calndro_alternative_", content);
  const std::string encoding = message.substr(value, message.find("\r\n", value) - value);
  return {encoding, message.substr(content, end == std::string::npos ? std::string::npos : end - content)};
}

TEST(MailLines, EveryLineFitsWhateverTheTitle) {
  for (const std::string& title : long_titles()) {
    for (const auto kind : {"update", "invitation", "agreed", "cancelled"}) {
      MailRequest request = samples::mail_request();
      request.title = title;
      request.invitation = std::string_view(kind) == "invitation";
      WireMail wire;
      if (std::string_view(kind) == "agreed" || std::string_view(kind) == "cancelled") {
        request.calendar = samples::calendar(
            std::string_view(kind) == "agreed" ? icalendar::Method::kRequest : icalendar::Method::kCancel,
            request.slots[0]);
      }
      const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
      wire = samples::wire_of(request, mail);
      if (request.calendar) {
        wire.calendar = compose_calendar(MailSettings{}, request, kToken, at("2022-11-01T00:00:00Z"));
        wire.calendar_method = request.calendar->method;
      }
      const std::string message = render_message(wire);
      const auto [encoding, content] = text_part(message);
      for (const std::string& line : lines_of(message)) {
        EXPECT_LE(line.size(), kMaxMailLineOctets)
            << kind << ", title " << title.substr(0, 12) << ": " << line;
        if (line.starts_with("Subject: ") || line.starts_with(" =?UTF-8?B?")) {
          EXPECT_LE(line.size(), 78u) << "header lines are folded: " << line;
        }
      }
      if (encoding == "quoted-printable") {
        for (const std::string& line : lines_of(content)) {
          EXPECT_LE(line.size(), 76u) << line;
        }
        EXPECT_EQ(decode_quoted_printable(content), mail.body) << kind;
      } else {
        EXPECT_EQ(encoding, "8bit");
      }
      EXPECT_THAT(decode_quoted_printable(encode_quoted_printable(mail.body)),
                  Optional(HasSubstr("http://localhost:9000/7/?et=" + kToken + "\n")));
    }
  }
}

TEST(MailLines, AnEmojiTitleMakesTheTextQuotedPrintable) {
  MailRequest request = samples::mail_request();
  request.title = long_titles()[0];
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
  const std::string message = render_message(samples::wire_of(request, mail));
  EXPECT_EQ(text_part(message).first, "quoted-printable");
  EXPECT_NE(message.find("\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello,\r\n"),
            std::string::npos)
      << message;
  // The 1,024 octets of the title travel as =F0=9F=98=80, 6 emoji a line.
  EXPECT_NE(message.find("=F0=9F=98=80=F0=9F=98=80"), std::string::npos);
  EXPECT_EQ(decode_quoted_printable(text_part(message).second), mail.body);
}

TEST(MailLines, ShortLinesStay8bitSoTheLinkReadsAsWritten) {
  for (const std::string& title : {std::string("cybes"), long_titles()[1]}) {
    MailRequest request = samples::mail_request();
    request.title = title;
    const MailContent mail = compose_mail(MailSettings{}, request, kToken, at("2022-11-06T00:00:00Z"));
    const std::string message = render_message(samples::wire_of(request, mail));
    EXPECT_EQ(text_part(message).first, "8bit") << title;
    EXPECT_NE(message.find("\r\n  http://localhost:9000/7/?et=" + kToken + "\r\n"), std::string::npos);
  }
}

TEST(MailLines, QuotedPrintableRules) {
  const auto expect_encodes = [](std::string_view text, std::string_view wire) {
    EXPECT_EQ(encode_quoted_printable(text), wire) << text;
    // What a reader gets back: the text, its CRs dropped, ending in a line end.
    std::string lines(text);
    std::erase(lines, '\r');
    EXPECT_EQ(decode_quoted_printable(wire), lines + (lines.ends_with("\n") ? "" : "\n"));
  };
  expect_encodes("plain text\n", "plain text\r\n");
  expect_encodes("a=b\n", "a=3Db\r\n");
  expect_encodes("trailing space \nand tab\t\n", "trailing space=20\r\nand tab=09\r\n");
  expect_encodes("caf\xC3\xA9\n", "caf=C3=A9\r\n");
  expect_encodes("no line end", "no line end\r\n");
  expect_encodes("cr\r\nlf\n\n", "cr\r\nlf\r\n\r\n");
  expect_encodes("\x01\x7f\n", "=01=7F\r\n");
  // Soft breaks keep lines at 76 characters and a UTF-8 sequence whole.
  const std::string long_line = repeat("x", 74) + "\xE2\x82\xAC" + repeat("y", 80);
  const std::string wire = encode_quoted_printable(long_line);
  EXPECT_TRUE(wire.starts_with(repeat("x", 74) + "=\r\n=E2=82=AC")) << wire;
  for (const std::string& line : lines_of(wire)) {
    EXPECT_LE(line.size(), 76u) << line;
  }
  EXPECT_EQ(decode_quoted_printable(wire), long_line + "\n");
}

TEST(MailLines, LongPlainSubjectsAreEncodedWordsOfFoldedLines) {
  EXPECT_EQ(encode_header_text(repeat("s", kMaxPlainHeaderText)), repeat("s", kMaxPlainHeaderText));
  const std::string encoded = encode_header_text("[calndro] '" + repeat("x", 256) + "' updated");
  EXPECT_TRUE(encoded.starts_with("=?UTF-8?B?")) << encoded;
  for (const std::string& line : lines_of(encoded + "\r\n")) {
    EXPECT_LE(line.size(), 76u) << line;
  }
}

}  // namespace
}  // namespace calndro::notify
