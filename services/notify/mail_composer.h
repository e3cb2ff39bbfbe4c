#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text/icalendar.h"
#include "common/text/time_format.h"

// What a notification mail says (SPEC §6) and how it is written on the wire
// (RFC 5322). Pure functions: no clock, no randomness, no I/O, so every
// wording and every header guard is unit-tested.
namespace calndro::notify {

// An address with an optional display name: "calndro <noreply@x.y>" or "a@b.c".
struct Mailbox {
  std::string display_name;  // UTF-8, may be empty
  std::string address;       // canonical (lower case), valid per normalize_email
};

// Parses "Name <addr>", "<addr>" or "addr". nullopt with a sentence in `error`
// when the address is invalid or the text holds control characters.
std::optional<Mailbox> parse_mailbox(std::string_view text, std::string& error);

struct MailSettings {
  std::string subject_prefix = "[calndro] ";
  Mailbox default_from{"calndro", "noreply@calndro.localhost"};
  // CALNDRO_PUBLIC_BASE_URL, the only base of links in mails (a caller never
  // names one); empty: kFallbackLinkBase.
  std::string public_base_url;
};

inline constexpr const char* kFallbackLinkBase = "http://localhost:9000";

struct SlotText {
  Instant begin;
  Micros duration;
};

// QueueNotificationsRequest.calendar, validated: the mail is
// multipart/alternative with a text/calendar part (RFC 5546).
struct CalendarRequest {
  icalendar::Method method = icalendar::Method::kRequest;  // kRequest or kCancel
  std::string uid;
  std::int64_t sequence = 0;
  SlotText slot;
  std::string organizer;               // canonical address
  std::vector<std::string> attendees;  // canonical addresses, duplicates folded
  // No token is minted and the mail carries no link (the event was deleted).
  bool without_link = false;
};

// One slot's answers over all parties, for a summary.
struct SlotCount {
  SlotText slot;
  int yes = 0;
  int maybe = 0;
  int no = 0;
  int pending = 0;
};

// QueueNotificationsRequest.deadline, validated: a deadline mail of SPEC §9.
struct DeadlineRequest {
  enum class Kind { kReminder, kSummary };
  Kind kind = Kind::kReminder;
  Instant respond_by;
  // kSummary: one row per slot, in slot order; and the best slot, if any.
  std::vector<SlotCount> tally;
  std::optional<SlotText> best_slot;
};

// The event's audit log head quoted in a mail (SPEC §10's receipt).
struct AuditReceipt {
  std::int64_t seq = 0;
  std::string hash;  // 64 lowercase hex digits
};

// What QueueNotifications knows about one mail, apart from the token.
struct MailRequest {
  std::int64_t event_id = 0;
  std::string title;
  std::string sender;  // canonical address; empty: the configured default
  bool invitation = false;
  std::vector<SlotText> slots;
  std::optional<CalendarRequest> calendar;
  std::optional<DeadlineRequest> deadline;  // never with `calendar`
  std::optional<AuditReceipt> audit_head;   // nullopt: nothing sealed yet
};

// Whether a mail of `request` carries a link, and so needs a token.
bool has_link(const MailRequest& request);

struct MailContent {
  std::string subject;  // one line of UTF-8, no control characters
  std::string body;     // UTF-8, lines end in "\n"
};

// Replaces CR, LF and every other control character with a space: nothing a
// caller sends can end a header line or start a new header.
std::string strip_controls(std::string_view text);

// BASE: the public base URL, else kFallbackLinkBase; no trailing slash.
std::string link_base(const MailSettings& settings);
// "BASE/ID/?et=TOKEN".
std::string event_link(std::string_view base, std::int64_t event_id, std::string_view token);

// The subject alone (what compose_mail writes): known, and listed, before a
// token exists. Calendar mails: "PREFIX'TITLE' agreed: <slot as the text
// says it>" (REQUEST) and "PREFIX'TITLE' cancelled" (CANCEL). Deadline
// mails: "PREFIXReminder: answer for 'TITLE' by <respond_by>" and
// "PREFIX'TITLE': answers closed".
std::string compose_subject(const MailSettings& settings, const MailRequest& request);

// The parts every mail's text shares (deadline_mail.cc's texts too).
// The title as mails show it: no control characters; "event ID" when blank.
std::string display_title(const MailRequest& request);
// Who the text says sent the mail: the sender, else the configured default.
std::string sender_name(const MailSettings& settings, const MailRequest& request);
// "Open the event here:", the recipient's link with `token`, and its expiry.
void append_link(std::string& body, const MailSettings& settings, const MailRequest& request,
                 std::string_view token, Instant token_expires);
// The proposed slots, a line each, or that there are none.
void append_slots(std::string& body, const std::vector<SlotText>& slots);

// Subject and body (the text part) for one recipient. `token` appears in
// the body's link only; a calendar mail without_link has neither.
MailContent compose_mail(const MailSettings& settings, const MailRequest& request, std::string_view token,
                         Instant token_expires);

// The text/calendar part of a calendar mail (request.calendar set): one
// VEVENT with the recipient's link (with `token`) in URL and DESCRIPTION,
// DTSTAMP `composed_at`, STATUS CONFIRMED (REQUEST) or CANCELLED (CANCEL).
std::string compose_calendar(const MailSettings& settings, const MailRequest& request, std::string_view token,
                             Instant composed_at);

// RFC 2047 "B" encoded words (UTF-8) when `text` is not plain printable
// ASCII, or is too long for "Subject: " and it to fit RFC 5322's 78-octet
// line (kMaxPlainHeaderText); folded so no encoded word exceeds 75
// characters; `text` unchanged otherwise. Never splits a UTF-8 sequence.
// Control characters are stripped.
inline constexpr std::size_t kMaxPlainHeaderText = 69;
std::string encode_header_text(std::string_view text);

// RFC 5322 §2.1.1: a line of a message MUST NOT exceed 998 octets (CRLF
// excluded); SMTP servers refuse a mail with a longer one.
inline constexpr std::size_t kMaxMailLineOctets = 998;

// A text part as it goes on the wire: its Content-Transfer-Encoding and its
// lines, each ending in CRLF.
struct EncodedText {
  std::string transfer_encoding;  // "8bit" or "quoted-printable"
  std::string wire;
};

// `text` (lines end in "\n"; a CR is dropped) as a text part: 8bit, as it
// is, while every line fits in kMaxMailLineOctets, so the link reads (and
// greps) as written in any mail that a title leaves short; quoted-printable
// (RFC 2045 §6.7, lines of at most 76 characters) otherwise, so no title can
// make the mail undeliverable.
EncodedText encode_text_part(std::string_view text);

// RFC 2045 §6.7 quoted-printable of `text`: "\n" becomes a hard line break
// (CRLF), a CR is dropped, every encoded line holds at most 76 characters
// (soft breaks "=" CRLF), and a UTF-8 sequence is never split across them.
std::string encode_quoted_printable(std::string_view text);

// "<calndro.MAILID.QUEUEDMICROS@DOMAIN>": stable for one outbox row, so a
// retried delivery carries the same Message-ID.
std::string message_id(std::int64_t mail_id, Instant queued_at, std::string_view domain);

struct WireMail {
  Mailbox from;
  std::string to;                 // canonical address
  std::optional<Mailbox> sender;  // "Sender:" (the agent that sends) when it differs from From
  std::string subject;
  std::string body;
  Instant date;
  std::string message_id;
  // A text/calendar document (CRLF lines) and its METHOD; empty: a plain
  // text mail.
  std::string calendar;
  icalendar::Method calendar_method = icalendar::Method::kRequest;
};

// The whole RFC 5322 message, CRLF line ends, headers first:
// Date, From, Sender, To, Subject, Message-ID, MIME-Version, Content-Type,
// Content-Transfer-Encoding (encode_text_part's), then the body. With a
// calendar the Content-Type is multipart/alternative: the text part, then the
// "text/calendar; charset=UTF-8; method=..." part, 8bit (its lines are folded
// at 75 octets, common/text/icalendar.h). No line exceeds kMaxMailLineOctets.
std::string render_message(const WireMail& mail);

}  // namespace calndro::notify
