#include "notify/mail_composer.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "common/text/email.h"
#include "common/text/text.h"
#include "notify/deadline_mail.h"

namespace calndro::notify {
namespace {

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

bool plain_ascii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80 || is_control(c)) {
      return false;
    }
  }
  return true;
}

std::string trim(std::string_view text) {
  return std::string(trim_blanks(text));
}

// RFC 2047's "B" encoding is base64 with padding (the original alphabet).
std::string base64(std::string_view data) {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(data.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                    kVariant);
  out.resize(out.size() - 1);  // the terminating NUL sodium writes
  return out;
}

// Length of the UTF-8 sequence starting with `lead` (1 for stray bytes, so
// invalid input still makes progress and is carried as it is).
std::size_t utf8_sequence_length(unsigned char lead) {
  if (lead >= 0xf0 && lead < 0xf8) {
    return 4;
  }
  if (lead >= 0xe0) {
    return lead < 0xf0 ? 3 : 1;
  }
  if (lead >= 0xc0) {
    return 2;
  }
  return 1;
}

// `"name"` with quotes and backslashes escaped, or the name as it is when it
// is a plain phrase (letters, digits, spaces and a few safe marks).
std::string display_phrase(std::string_view name) {
  if (!plain_ascii(name)) {
    return encode_header_text(name);
  }
  bool atoms_only = true;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '-' || c == '_' || c == '!' ||
          c == '+')) {
      atoms_only = false;
    }
  }
  if (atoms_only) {
    return std::string(name);
  }
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string mailbox_header(const Mailbox& mailbox) {
  const std::string name = strip_controls(mailbox.display_name);
  std::string address = strip_controls(mailbox.address);
  if (trim(name).empty()) {
    return address;
  }
  return display_phrase(trim(name)) + " <" + address + ">";
}

}  // namespace

std::optional<Mailbox> parse_mailbox(std::string_view text, std::string& error) {
  for (unsigned char c : text) {
    if (is_control(c)) {
      error = "Contains a control character.";
      return std::nullopt;
    }
  }
  Mailbox mailbox;
  std::string_view address = text;
  const std::size_t open = text.rfind('<');
  if (open != std::string_view::npos) {
    const std::size_t close = text.rfind('>');
    if (close == std::string_view::npos || close < open || !trim(text.substr(close + 1)).empty()) {
      error = "Write the address as 'Name <user@example.org>' or 'user@example.org'.";
      return std::nullopt;
    }
    std::string name = trim(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    mailbox.display_name = name;
    address = text.substr(open + 1, close - open - 1);
  }
  auto canonical = normalize_email(trim(address));
  if (!canonical.ok()) {
    error = std::string(canonical.status().message());
    return std::nullopt;
  }
  mailbox.address = *canonical;
  return mailbox;
}

std::string strip_controls(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (is_control(static_cast<unsigned char>(c))) {
      c = ' ';
    }
  }
  return out;
}

std::string link_base(const MailSettings& settings) {
  std::string base = settings.public_base_url.empty() ? kFallbackLinkBase : settings.public_base_url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base;
}

std::string event_link(std::string_view base, std::int64_t event_id, std::string_view token) {
  return std::string(base) + "/" + std::to_string(event_id) + "/?et=" + std::string(token);
}

std::string display_title(const MailRequest& request) {
  std::string title = trim(strip_controls(request.title));
  if (title.empty()) {
    title = "event " + std::to_string(request.event_id);
  }
  return title;
}

bool has_link(const MailRequest& request) {
  return !(request.calendar && request.calendar->without_link);
}

std::string compose_subject(const MailSettings& settings, const MailRequest& request) {
  const std::string title = display_title(request);
  const std::string prefix = strip_controls(settings.subject_prefix);
  if (request.deadline) {
    return request.deadline->kind == DeadlineRequest::Kind::kReminder
               ? prefix + "Reminder: answer for '" + title + "' by " +
                     format_instant(request.deadline->respond_by)
               : prefix + "'" + title + "': answers closed";
  }
  if (request.calendar) {
    const SlotText& slot = request.calendar->slot;
    return request.calendar->method == icalendar::Method::kCancel
               ? prefix + "'" + title + "' cancelled"
               : prefix + "'" + title + "' agreed: " + describe_slot(slot.begin, slot.duration);
  }
  return request.invitation ? prefix + "Invitation: '" + title + "'" : prefix + "'" + title + "' updated";
}

std::string sender_name(const MailSettings& settings, const MailRequest& request) {
  if (!request.sender.empty()) {
    return request.sender;
  }
  return settings.default_from.display_name.empty() ? settings.default_from.address
                                                    : strip_controls(settings.default_from.display_name);
}

void append_link(std::string& body, const MailSettings& settings, const MailRequest& request,
                 std::string_view token, Instant token_expires) {
  body += "Open the event here:\n\n";
  body += "  " + event_link(link_base(settings), request.event_id, token) + "\n\n";
  body += "This link is your personal access to the event: do not forward it.\n";
  body += "It is valid until " + format_instant(token_expires) + " (UTC).\n";
}

void append_slots(std::string& body, const std::vector<SlotText>& slots) {
  if (slots.empty()) {
    body += "No time slots are proposed at the moment.\n";
    return;
  }
  body += slots.size() == 1 ? "Proposed time slot:\n\n" : "Proposed time slots:\n\n";
  for (const SlotText& slot : slots) {
    body += "  - " + describe_slot(slot.begin, slot.duration) + "\n";
  }
}

namespace {

// The text part of an invitation or a cancellation: the agreed time, what the
// calendar part does, and the link unless there is none.
std::string calendar_text(const MailSettings& settings, const MailRequest& request, std::string_view token,
                          Instant token_expires) {
  const CalendarRequest& calendar = *request.calendar;
  const std::string title = display_title(request);
  const bool cancel = calendar.method == icalendar::Method::kCancel;
  std::string body = "Hello,\n\n";
  body += cancel ? "The agreed time for '" + title + "' is cancelled:\n\n"
                 : sender_name(settings, request) + " agreed on a time for '" + title + "':\n\n";
  body += "  " + describe_slot(calendar.slot.begin, calendar.slot.duration) + "\n\n";
  body += cancel ? "The attached calendar cancellation removes it from your calendar.\n\n"
                 : "Your calendar program can add it from the attached invitation.\n\n";
  if (has_link(request)) {
    append_link(body, settings, request, token, token_expires);
  } else {
    body += "The event was deleted.\n";
  }
  body += "\n-- \ncalndro\n";
  return body;
}

}  // namespace

namespace {

// The body of any mail but a calendar or deadline mail: "updated" or an
// invitation, the link and the slots.
std::string update_text(const MailSettings& settings, const MailRequest& request, std::string_view token,
                        Instant token_expires) {
  const std::string title = display_title(request);
  const std::string who = sender_name(settings, request);
  std::string body = "Hello,\n\n";
  if (request.invitation) {
    body += who + " invites you to agree on a time for '" + title + "'.\n\n";
  } else {
    body += who + " notified you that '" + title + "' was updated.\n\n";
  }
  append_link(body, settings, request, token, token_expires);
  body += "\n";
  append_slots(body, request.slots);
  body += "\n-- \ncalndro\n";
  return body;
}

// SPEC §10's receipt, above the signature: what the event's log said when
// the mail was made, which the party can hold the log to later.
void append_receipt(std::string& body, const MailRequest& request) {
  if (!request.audit_head) {
    return;
  }
  const std::string line = "Audit log: seq " + std::to_string(request.audit_head->seq) + ", sha256 " +
                           strip_controls(request.audit_head->hash) + "\n";
  const std::size_t signature = body.rfind("\n-- \n");
  body.insert(signature == std::string::npos ? body.size() : signature + 1, line);
}

}  // namespace

MailContent compose_mail(const MailSettings& settings, const MailRequest& request, std::string_view token,
                         Instant token_expires) {
  MailContent mail;
  mail.subject = compose_subject(settings, request);
  if (request.calendar) {
    mail.body = calendar_text(settings, request, token, token_expires);
  } else if (request.deadline) {
    mail.body = deadline_text(settings, request, token, token_expires);
  } else {
    mail.body = update_text(settings, request, token, token_expires);
  }
  append_receipt(mail.body, request);
  return mail;
}

std::string compose_calendar(const MailSettings& settings, const MailRequest& request, std::string_view token,
                             Instant composed_at) {
  const CalendarRequest& calendar = *request.calendar;
  const bool cancel = calendar.method == icalendar::Method::kCancel;
  icalendar::Entry entry;
  entry.uid = calendar.uid;
  entry.sequence = calendar.sequence;
  entry.stamp = composed_at;
  entry.begin = calendar.slot.begin;
  entry.duration = calendar.slot.duration;
  entry.summary = display_title(request);
  entry.status = cancel ? icalendar::EntryStatus::kCancelled : icalendar::EntryStatus::kConfirmed;
  entry.organizer = calendar.organizer;
  entry.attendees = calendar.attendees;
  if (has_link(request)) {
    entry.url = event_link(link_base(settings), request.event_id, token);
    entry.description = "Open the event in calndro (your personal link: do not forward it):\n" + entry.url;
  }
  return icalendar::render(calendar.method, {entry});
}

std::string encode_header_text(std::string_view text) {
  std::string clean = strip_controls(text);
  if (plain_ascii(clean) && clean.size() <= kMaxPlainHeaderText) {
    return clean;
  }
  // 42 bytes of payload -> 56 base64 characters; with "=?UTF-8?B?" and "?="
  // an encoded word is 68 characters (RFC 2047 allows 75), so "Subject: "
  // and the first word stay within RFC 5322's 78.
  constexpr std::size_t kChunk = 42;
  std::string out;
  std::size_t i = 0;
  while (i < clean.size()) {
    std::size_t end = i;
    while (end < clean.size()) {
      const std::size_t length =
          std::min(utf8_sequence_length(static_cast<unsigned char>(clean[end])), clean.size() - end);
      if (end + length - i > kChunk) {
        break;
      }
      end += length;
    }
    if (!out.empty()) {
      out += "\r\n ";
    }
    out += "=?UTF-8?B?" + base64(std::string_view(clean).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string message_id(std::int64_t mail_id, Instant queued_at, std::string_view domain) {
  return "<calndro." + std::to_string(mail_id) + "." + std::to_string(queued_at.time_since_epoch().count()) +
         "@" + strip_controls(domain) + ">";
}

namespace {

// `text` with every line ending in CRLF (a bare CR dropped), ending in one.
void append_crlf_text(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\n') {
      out += "\r\n";
    } else if (c != '\r') {
      out += c;
    }
  }
  if (!out.ends_with("\r\n")) {
    out += "\r\n";
  }
}

// A multipart boundary that occurs in neither part as sent (RFC 2046
// §5.1.1): the title is the caller's text and could spell any fixed one.
std::string part_boundary(std::string_view text, std::string_view calendar) {
  std::string boundary = "=_calndro_alternative_";
  for (int n = 0;; ++n) {
    std::string candidate = boundary + std::to_string(n);
    if (text.find(candidate) == std::string::npos && calendar.find(candidate) == std::string::npos) {
      return candidate;
    }
  }
}

bool every_line_fits(std::string_view text, std::size_t limit) {
  std::size_t width = 0;
  for (char c : text) {
    if (c == '\n') {
      width = 0;
    } else if (c != '\r' && ++width > limit) {
      return false;
    }
  }
  return true;
}

// How quoted-printable writes the UTF-8 sequence (or stray byte) at the start
// of `rest`, which is `length` octets long and `last` on its line.
std::string quoted_printable_unit(std::string_view rest, std::size_t length, bool last) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto c = static_cast<unsigned char>(rest[0]);
  // RFC 2045 §6.7 rules (2) and (3): printable ASCII but "=" as it is; a
  // space or tab too, unless it ends the line (a transport may strip it).
  const bool literal =
      length == 1 && ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last));
  if (literal) {
    return std::string(1, static_cast<char>(c));
  }
  std::string out;
  for (std::size_t k = 0; k < length; ++k) {
    const auto byte = static_cast<unsigned char>(rest[k]);
    out += '=';
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0f];
  }
  return out;
}

// One line of text (no line end) quoted-printable, with soft line breaks so
// no encoded line exceeds 76 characters, the "=" of a soft break included.
void append_quoted_printable_line(std::string& out, std::string_view line) {
  constexpr std::size_t kMaxEncodedLine = 76;
  std::size_t width = 0;
  for (std::size_t i = 0; i < line.size();) {
    std::size_t length = std::min(utf8_sequence_length(static_cast<unsigned char>(line[i])), line.size() - i);
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(line[i + k]) & 0xc0) != 0x80) {
        length = 1;  // not a whole sequence: carried byte by byte
      }
    }
    const std::string unit = quoted_printable_unit(line.substr(i), length, i + length == line.size());
    if (width + unit.size() > kMaxEncodedLine - 1) {
      out += "=\r\n";
      width = 0;
    }
    out += unit;
    width += unit.size();
    i += length;
  }
  out += "\r\n";
}

}  // namespace

std::string encode_quoted_printable(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string line(text.substr(0, end));
    line.erase(std::remove(line.begin(), line.end(), '\r'), line.end());
    append_quoted_printable_line(out, line);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return out;
}

EncodedText encode_text_part(std::string_view text) {
  EncodedText part;
  if (every_line_fits(text, kMaxMailLineOctets)) {
    part.transfer_encoding = "8bit";
    append_crlf_text(part.wire, text);
  } else {
    part.transfer_encoding = "quoted-printable";
    part.wire = encode_quoted_printable(text);
  }
  return part;
}

std::string render_message(const WireMail& mail) {
  std::string out;
  auto header = [&out](std::string_view name, const std::string& value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  header("Date", format_rfc5322_date(mail.date));
  header("From", mailbox_header(mail.from));
  if (mail.sender && mail.sender->address != mail.from.address) {
    header("Sender", mailbox_header(*mail.sender));
  }
  header("To", strip_controls(mail.to));
  header("Subject", encode_header_text(mail.subject));
  header("Message-ID", strip_controls(mail.message_id));
  header("MIME-Version", "1.0");
  const EncodedText text = encode_text_part(mail.body);
  if (!mail.calendar.empty()) {
    std::string calendar;
    append_crlf_text(calendar, mail.calendar);
    const std::string boundary = part_boundary(text.wire, calendar);
    header("Content-Type", "multipart/alternative; boundary=\"" + boundary + "\"");
    out += "\r\n";
    out += "--" + boundary + "\r\n";
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", text.transfer_encoding);
    out += "\r\n";
    // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1):
    // one more keeps each part's own last line end.
    out += text.wire;
    out += "\r\n--" + boundary + "\r\n";
    header("Content-Type", "text/calendar; charset=UTF-8; method=" +
                               std::string(icalendar::method_name(mail.calendar_method)));
    header("Content-Transfer-Encoding", "8bit");
    out += "\r\n";
    out += calendar;
    out += "\r\n--" + boundary + "--\r\n";
    return out;
  }
  header("Content-Type", "text/plain; charset=utf-8");
  header("Content-Transfer-Encoding", text.transfer_encoding);
  out += "\r\n";
  out += text.wire;
  return out;
}

}  // namespace calndro::notify
