#include "common/text/icalendar.h"

#include <algorithm>
#include <cstdio>
#include <limits>

// Written by hand rather than with libical (Debian's libical3 3.0.16, tried
// first): its time setters give a null DATE-TIME past the year 3000 (SPEC §4
// accepts 9999), and its line folding can split a property's own CRLF when
// the last 74 octets hold no space and end a UTF-8 run (e.g. "a" and 24 CJK
// characters as a title), which leaves a bare CR in the output. What calndro
// writes is small: TEXT escaping, 75-octet folding on UTF-8 boundaries, and
// fixed properties, each unit-tested and read back by python3-icalendar.
namespace calndro::icalendar {
namespace {

constexpr const char* kProdId = "-//calndro//calndro//EN";
// RFC 5545 §3.1: content lines are at most 75 octets, CRLF excluded.
constexpr std::size_t kMaxLineOctets = 75;
// 9999-12-31T23:59:59Z: a DATE-TIME has four year digits, and a slot may
// begin late on the last day SPEC §4 accepts.
constexpr std::int64_t kLastSecond = 253402300799;

std::int64_t floor_seconds(Instant instant) {
  return std::chrono::floor<std::chrono::seconds>(instant).time_since_epoch().count();
}

std::int64_t ceil_seconds(Instant instant) {
  return std::min(std::chrono::ceil<std::chrono::seconds>(instant).time_since_epoch().count(), kLastSecond);
}

// "YYYYMMDDTHHMMSSZ".
std::string utc_time(std::int64_t seconds) {
  const std::chrono::sys_seconds instant{std::chrono::seconds(seconds)};
  const auto day = std::chrono::floor<std::chrono::days>(instant);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{instant - day};
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// A URI or parameter-free value (UID aside): control characters become
// spaces, so nothing can end the content line.
std::string plain_value(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return is_control(static_cast<unsigned char>(c)); }, ' ');
  return out;
}

// What a TEXT value makes of a line break: "\n", or a space.
enum class LineBreaks { kKept, kSpaces };

// RFC 5545 §3.3.11 TEXT: backslash, semicolon and comma escaped; a line
// break (CRLF, LF or a lone CR) is "\n" when kept, else a space like every
// other control character.
std::string text_value(std::string_view text, LineBreaks line_breaks) {
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    }
    if (c == '\\' || c == ';' || c == ',') {
      out += '\\';
      out += static_cast<char>(c);
    } else if ((c == '\n' || c == '\r') && line_breaks == LineBreaks::kKept) {
      out += "\\n";
    } else if (is_control(c)) {
      out += ' ';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Octets of the UTF-8 sequence at `i`: 1 for ASCII and for any byte that
// does not start a complete sequence (carried as it is, never split from
// nothing).
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t length = lead >= 0xf0 && lead < 0xf8   ? 4
                             : lead >= 0xe0 && lead < 0xf0 ? 3
                             : lead >= 0xc0                ? 2
                                                           : 1;
  if (length == 1 || i + length > text.size()) {
    return 1;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) {
      return 1;
    }
  }
  return length;
}

// One content line, folded (RFC 5545 §3.1): CRLF and a space before each
// continuation, at most 75 octets per line, never inside a UTF-8 sequence.
void append_line(std::string& out, std::string_view line) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < line.size();) {
    const std::size_t length = sequence_length(line, i);
    if (width + length > kMaxLineOctets) {
      out += "\r\n ";
      width = 1;
    }
    out.append(line.substr(i, length));
    width += length;
    i += length;
  }
  out += "\r\n";
}

std::string_view status_name(EntryStatus status) {
  switch (status) {
    case EntryStatus::kConfirmed:
      return "CONFIRMED";
    case EntryStatus::kCancelled:
      return "CANCELLED";
    case EntryStatus::kTentative:
      break;
  }
  return "TENTATIVE";
}

void append_vevent(std::string& out, const Entry& entry) {
  const auto line = [&out](std::string_view name, std::string_view value) {
    append_line(out, std::string(name) + ":" + std::string(value));
  };
  line("BEGIN", "VEVENT");
  line("UID", text_value(entry.uid, LineBreaks::kSpaces));
  line("SEQUENCE",
       std::to_string(std::clamp<std::int64_t>(entry.sequence, 0, std::numeric_limits<std::int32_t>::max())));
  line("DTSTAMP", utc_time(floor_seconds(entry.stamp)));
  const std::int64_t start = floor_seconds(entry.begin);
  line("DTSTART", utc_time(start));
  line("DTEND",
       utc_time(std::max(std::min(start + 1, kLastSecond), ceil_seconds(entry.begin + entry.duration))));
  line("SUMMARY", text_value(entry.summary, LineBreaks::kSpaces));
  line("STATUS", status_name(entry.status));
  if (!entry.organizer.empty()) {
    line("ORGANIZER", "mailto:" + plain_value(entry.organizer));
  }
  for (const std::string& address : entry.attendees) {
    line("ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE", "mailto:" + plain_value(address));
  }
  if (!entry.url.empty()) {
    line("URL", plain_value(entry.url));
  }
  if (!entry.description.empty()) {
    line("DESCRIPTION", text_value(entry.description, LineBreaks::kKept));
  }
  line("END", "VEVENT");
}

}  // namespace

std::string event_uid(std::int64_t event_id) {
  return "event-" + std::to_string(event_id) + "@calndro";
}

std::string slot_uid(std::int64_t event_id, Instant begin, Micros duration) {
  return "event-" + std::to_string(event_id) + "-slot-" + std::to_string(begin.time_since_epoch().count()) +
         "-" + std::to_string(duration.count()) + "@calndro";
}

std::string_view method_name(Method method) {
  switch (method) {
    case Method::kRequest:
      return "REQUEST";
    case Method::kCancel:
      return "CANCEL";
    case Method::kPublish:
      break;
  }
  return "PUBLISH";
}

std::string render(Method method, const std::vector<Entry>& entries) {
  std::string out;
  append_line(out, "BEGIN:VCALENDAR");
  append_line(out, "VERSION:2.0");
  append_line(out, std::string("PRODID:") + kProdId);
  append_line(out, "METHOD:" + std::string(method_name(method)));
  for (const Entry& entry : entries) {
    append_vevent(out, entry);
  }
  append_line(out, "END:VCALENDAR");
  return out;
}

}  // namespace calndro::icalendar
