// Mail composition and rendering with arbitrary titles, senders, names and
// link bases: the subject is one line, the link carries the token, and the
// rendered message's header block holds exactly calndro's headers (nothing
// a caller writes can end a header line or add one). Also parse_mailbox and
// the RFC 2047 encoder on their own. With a calendar: the text/calendar part
// has CRLF lines of at most 75 octets, carries the link only when the mail
// has one, and the multipart boundary occurs only as the three delimiters.
// A reminder or a summary: the same guarantees for its text.
// Whatever the input, no line of a rendered message exceeds RFC 5322's 998
// octets, and a quoted-printable text part decodes to the mail's text.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text/email.h"
#include "fuzz_check.h"
#include "notify/mail_composer.h"
#include "support/mail_text.h"

using namespace calndro;
using namespace calndro::notify;
using calndro::testing::decode_quoted_printable;

namespace {

// 0001-01-01 and 9999-12-31T23:59:59.999999, in microseconds since 1970.
constexpr int64_t kFirstMicros = -62135596800LL * 1000000;
constexpr int64_t kLastMicros = 253402300799LL * 1000000 + 999999;

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

Instant instant_from(FuzzedDataProvider& in) {
  return Instant(Micros(in.ConsumeIntegralInRange<int64_t>(kFirstMicros, kLastMicros)));
}

// Undoes encode_header_text's folding and encoded words (as a mail reader would).
std::string decode_header_text(std::string_view text) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  while (!text.empty()) {
    if (text.starts_with("\r\n ")) {
      text.remove_prefix(3);
    }
    FUZZ_CHECK(text.starts_with("=?UTF-8?B?"));
    text.remove_prefix(10);
    const std::size_t end = text.find("?=");
    FUZZ_CHECK(end != std::string_view::npos);
    FUZZ_CHECK(end + 12 <= 75);  // the whole encoded word
    const std::string_view payload = text.substr(0, end);
    FUZZ_CHECK(payload.size() % 4 == 0);
    unsigned bits = 0;
    int count = 0;
    for (char c : payload) {
      if (c == '=') {
        break;
      }
      const std::size_t value = kAlphabet.find(c);
      FUZZ_CHECK(value != std::string_view::npos);
      bits = (bits << 6) | static_cast<unsigned>(value);
      count += 6;
      if (count >= 8) {
        count -= 8;
        out.push_back(static_cast<char>((bits >> count) & 0xff));
      }
    }
    text.remove_prefix(end + 2);
  }
  return out;
}

void check_header_text(std::string_view text) {
  const std::string encoded = encode_header_text(text);
  const std::string clean = strip_controls(text);
  bool plain = true;
  for (unsigned char c : clean) {
    plain = plain && c < 0x80;
  }
  if (plain && clean.size() <= kMaxPlainHeaderText) {
    FUZZ_CHECK(encoded == clean);
    return;
  }
  for (unsigned char c : encoded) {
    FUZZ_CHECK(c < 0x80);
  }
  FUZZ_CHECK(decode_header_text(encoded) == clean);
}

void check_headers(const std::string& message) {
  const std::size_t end = message.find("\r\n\r\n");
  FUZZ_CHECK(end != std::string::npos);
  static const char* const kNames[] = {"Date",         "From",         "Sender",
                                       "To",           "Subject",      "Message-ID",
                                       "MIME-Version", "Content-Type", "Content-Transfer-Encoding"};
  std::size_t next_name = 0;
  std::size_t start = 0;
  while (start < end + 2) {
    const std::size_t line_end = message.find("\r\n", start);
    const std::string_view line(message.data() + start, line_end - start);
    for (unsigned char c : line) {
      FUZZ_CHECK(c != '\r' && c != '\n');
    }
    if (!line.starts_with(" ")) {  // not a folded continuation
      bool known = false;
      while (next_name < std::size(kNames) && !known) {
        known = line.starts_with(std::string(kNames[next_name]) + ": ");
        ++next_name;
      }
      FUZZ_CHECK(known);
    }
    start = line_end + 2;
  }
  // Body lines end in CRLF, never a bare CR or LF.
  for (std::size_t i = end + 4; i < message.size(); ++i) {
    if (message[i] == '\n') {
      FUZZ_CHECK(message[i - 1] == '\r');
    }
    if (message[i] == '\r') {
      FUZZ_CHECK(i + 1 < message.size() && message[i + 1] == '\n');
    }
  }
}

// Every line of the message within RFC 5322's 998 octets; the text part
// (`content`, sent with `encoding`) as the mail's `body` says.
void check_lines_and_text(const std::string& message, const std::string& encoding, std::string_view content,
                          const std::string& body) {
  std::size_t start = 0;
  while (start < message.size()) {
    const std::size_t end = message.find("\r\n", start);
    FUZZ_CHECK(end != std::string::npos);
    FUZZ_CHECK(end - start <= kMaxMailLineOctets);
    start = end + 2;
  }
  std::string text;
  for (char c : body) {
    if (c != '\r') {
      text += c;
    }
  }
  if (!text.ends_with('\n')) {
    text += '\n';
  }
  if (encoding == "quoted-printable") {
    for (std::size_t at = 0; at < content.size();) {
      const std::size_t end = content.find("\r\n", at);
      FUZZ_CHECK(end != std::string_view::npos && end - at <= 76);
      at = end + 2;
    }
    FUZZ_CHECK(decode_quoted_printable(content) == text);
  } else {
    FUZZ_CHECK(encoding == "8bit");
  }
}

// The text part's Content-Transfer-Encoding, and its content up to `end`.
void check_text_part(const std::string& message, std::size_t from, std::size_t end, const std::string& body) {
  const std::string marker = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ";
  const std::size_t at = message.find(marker, from);
  FUZZ_CHECK(at != std::string::npos);
  const std::size_t value = at + marker.size();
  const std::size_t value_end = message.find("\r\n", value);
  const std::size_t content = value_end + 4;
  FUZZ_CHECK(message.compare(value_end, 4, "\r\n\r\n") == 0 && content <= end);
  check_lines_and_text(message, message.substr(value, value_end - value),
                       std::string_view(message).substr(content, end - content), body);
}

// Every line ends in CRLF and holds at most 75 octets; a continuation line
// starts with a space.
void check_calendar_lines(const std::string& ics) {
  FUZZ_CHECK(ics.starts_with("BEGIN:VCALENDAR\r\n"));
  FUZZ_CHECK(ics.ends_with("END:VCALENDAR\r\n"));
  std::size_t start = 0;
  while (start < ics.size()) {
    const std::size_t end = ics.find("\r\n", start);
    FUZZ_CHECK(end != std::string::npos);
    FUZZ_CHECK(end - start <= 75);
    for (std::size_t i = start; i < end; ++i) {
      FUZZ_CHECK(ics[i] != '\r' && ics[i] != '\n');
    }
    start = end + 2;
  }
}

std::optional<CalendarRequest> calendar_from(FuzzedDataProvider& in) {
  if (!in.ConsumeBool()) {
    return std::nullopt;
  }
  CalendarRequest calendar;
  calendar.method = in.ConsumeBool() ? icalendar::Method::kCancel : icalendar::Method::kRequest;
  calendar.uid = in.ConsumeRandomLengthString(255);
  calendar.sequence = in.ConsumeIntegral<int64_t>();
  calendar.slot = {instant_from(in), Micros(in.ConsumeIntegralInRange<int64_t>(1, kMaxSlotDuration.count()))};
  calendar.organizer = in.ConsumeRandomLengthString(64);
  const int attendees = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < attendees; ++i) {
    calendar.attendees.push_back(in.ConsumeRandomLengthString(64));
  }
  calendar.without_link = in.ConsumeBool();
  return calendar;
}

void check_calendar_mail(const MailSettings& settings, const MailRequest& request, const std::string& token,
                         Instant now, WireMail wire) {
  const MailContent mail = compose_mail(settings, request, token, now);
  const std::string ics = compose_calendar(settings, request, token, now);
  check_calendar_lines(ics);
  const bool linked = !request.calendar->without_link;
  if (!linked) {
    // Nothing of the token reaches a mail without a link.
    FUZZ_CHECK(compose_mail(settings, request, token + "x", now).body == mail.body);
    FUZZ_CHECK(compose_calendar(settings, request, token + "x", now) == ics);
    FUZZ_CHECK(ics.find("\r\nURL:") == std::string::npos);
  }
  wire.body = mail.body;
  wire.calendar = ics;
  wire.calendar_method = request.calendar->method;
  const std::string message = render_message(wire);
  check_headers(message);
  const std::string marker = "\r\nContent-Type: multipart/alternative; boundary=\"";
  const std::size_t at = message.find(marker);
  FUZZ_CHECK(at != std::string::npos);
  const std::size_t end = message.find('"', at + marker.size());
  const std::string delimiter = "\r\n--" + message.substr(at + marker.size(), end - at - marker.size());
  int delimiters = 0;
  for (std::size_t i = message.find(delimiter); i != std::string::npos; i = message.find(delimiter, i + 1)) {
    ++delimiters;
  }
  FUZZ_CHECK(delimiters == 3);
  // The text part (with its own last CRLF) ends where the second delimiter
  // begins.
  const std::size_t first = message.find(delimiter);
  check_text_part(message, first, message.find(delimiter, first + 1), mail.body);
}

// A reminder or a summary (SPEC §9) of arbitrary counts and times; nullopt
// when the input says the mail is none.
std::optional<DeadlineRequest> deadline_from(FuzzedDataProvider& in) {
  if (!in.ConsumeBool()) {
    return std::nullopt;
  }
  DeadlineRequest deadline;
  deadline.kind = in.ConsumeBool() ? DeadlineRequest::Kind::kReminder : DeadlineRequest::Kind::kSummary;
  deadline.respond_by = instant_from(in);
  const int rows = in.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < rows; ++i) {
    const SlotText slot{instant_from(in),
                        Micros(in.ConsumeIntegralInRange<int64_t>(1, kMaxSlotDuration.count()))};
    deadline.tally.push_back({slot, in.ConsumeIntegralInRange(0, 100), in.ConsumeIntegralInRange(0, 100),
                              in.ConsumeIntegralInRange(0, 100), in.ConsumeIntegralInRange(0, 100)});
  }
  if (!deadline.tally.empty() && in.ConsumeBool()) {
    deadline.best_slot = deadline.tally.front().slot;
  }
  return deadline;
}

// A deadline mail: one subject line, the recipient's link, and a rendered
// message whose header block and text part hold as any mail's.
void check_deadline_mail(const MailSettings& settings, const MailRequest& request, const std::string& token,
                         Instant now, WireMail wire) {
  const MailContent mail = compose_mail(settings, request, token, now);
  for (unsigned char c : mail.subject) {
    FUZZ_CHECK(!is_control(c));
  }
  FUZZ_CHECK(mail.body.find(event_link(link_base(settings), request.event_id, token)) != std::string::npos);
  check_header_text(mail.subject);
  wire.subject = mail.subject;
  wire.body = mail.body;
  const std::string message = render_message(wire);
  check_headers(message);
  check_text_part(message, 0, message.size(), mail.body);
}

// A From text parsed: a clean mailbox, or no mailbox and a reason.
std::optional<Mailbox> checked_mailbox(const std::string& from_text) {
  std::string error;
  auto from = parse_mailbox(from_text, error);
  if (from) {
    FUZZ_CHECK(normalize_email(from->address).value_or("") == from->address);
    for (unsigned char c : from->display_name) {
      FUZZ_CHECK(!is_control(c));
    }
  } else {
    FUZZ_CHECK(!error.empty());
  }
  return from;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  MailSettings settings;
  settings.subject_prefix = in.ConsumeRandomLengthString(64);
  settings.public_base_url = in.ConsumeBool() ? in.ConsumeRandomLengthString(128) : "";
  settings.default_from.display_name = in.ConsumeRandomLengthString(64);

  MailRequest request;
  request.event_id = in.ConsumeIntegral<int64_t>();
  // 256 characters of up to 4 octets each (SPEC §7), so text lines can pass 998 octets.
  request.title = in.ConsumeRandomLengthString(1024);
  request.sender = in.ConsumeRandomLengthString(64);
  request.invitation = in.ConsumeBool();
  const int slot_count = in.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < slot_count; ++i) {
    request.slots.push_back(
        SlotText{instant_from(in), Micros(in.ConsumeIntegralInRange<int64_t>(1, kMaxSlotDuration.count()))});
  }
  const std::string token = in.ConsumeRandomLengthString(64);
  const Instant expires = instant_from(in);
  const std::string from_text = in.ConsumeRandomLengthString(96);

  const MailContent mail = compose_mail(settings, request, token, expires);
  for (unsigned char c : mail.subject) {
    FUZZ_CHECK(!is_control(c));
  }
  const std::string link = event_link(link_base(settings), request.event_id, token);
  FUZZ_CHECK(mail.body.find(link) != std::string::npos);

  const auto from = checked_mailbox(from_text);
  check_header_text(from_text);
  check_header_text(mail.subject);

  WireMail wire;
  wire.from = from.value_or(settings.default_from);
  wire.from.display_name = settings.default_from.display_name;
  wire.to = "someone@example.org";
  if (in.ConsumeBool()) {
    wire.sender = Mailbox{request.title, "agent@example.org"};
  }
  wire.subject = mail.subject;
  wire.body = mail.body;
  wire.date = expires;
  wire.message_id = message_id(request.event_id, expires, request.sender);
  const std::string message = render_message(wire);
  check_headers(message);
  check_text_part(message, 0, message.size(), mail.body);

  request.calendar = calendar_from(in);
  if (request.calendar) {
    check_calendar_mail(settings, request, token, expires, wire);
    return 0;
  }
  request.deadline = deadline_from(in);
  if (request.deadline) {
    check_deadline_mail(settings, request, token, expires, wire);
  }
  return 0;
}
