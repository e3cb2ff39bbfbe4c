#include "common/icalendar.h"

#include <libical/ical.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <stdexcept>

namespace calndro::icalendar {
namespace {

constexpr const char* kProdId = "-//calndro//calndro//EN";

using Component = std::unique_ptr<icalcomponent, decltype(&icalcomponent_free)>;

std::int64_t floor_seconds(Instant instant) {
  return std::chrono::floor<std::chrono::seconds>(instant).time_since_epoch().count();
}

// 9999-12-31T23:59:59Z: a DATE-TIME has four year digits, and a slot may
// begin late on the last day SPEC §4 accepts.
constexpr std::int64_t kLastSecond = 253402300799;

std::int64_t ceil_seconds(Instant instant) {
  return std::min(std::chrono::ceil<std::chrono::seconds>(instant).time_since_epoch().count(), kLastSecond);
}

// A UTC DATE-TIME property from its text: libical's icaltimetype setters give
// a null time past the year 3000, while SPEC §4 accepts years up to 9999.
icalproperty* utc_time(icalproperty_kind kind, std::int64_t seconds) {
  const std::chrono::sys_seconds instant{std::chrono::seconds(seconds)};
  const auto day = std::chrono::floor<std::chrono::days>(instant);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{instant - day};
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  icalvalue* value = icalvalue_new_from_string(ICAL_DATETIME_VALUE, text);
  if (value == nullptr) {
    return nullptr;
  }
  icalproperty* property = icalproperty_new(kind);
  icalproperty_set_value(property, value);
  return property;
}

// A TEXT value may carry line breaks (escaped by libical as "\n"), never other
// control characters; CRLF and a lone CR count as one break.
std::string clean_text(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    }
    if ((c == '\n' || c == '\r') && keep_newlines) {
      out += '\n';
    } else if (c < 0x20 || c == 0x7f) {
      out += ' ';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string mailto(std::string_view address) {
  return "mailto:" + clean_text(address, false);
}

void add(icalcomponent* component, icalproperty* property) {
  if (property == nullptr) {
    throw std::runtime_error("icalendar: libical refused a property value");
  }
  icalcomponent_add_property(component, property);
}

icalproperty_status status_value(EntryStatus status) {
  switch (status) {
    case EntryStatus::kConfirmed:
      return ICAL_STATUS_CONFIRMED;
    case EntryStatus::kCancelled:
      return ICAL_STATUS_CANCELLED;
    case EntryStatus::kTentative:
      break;
  }
  return ICAL_STATUS_TENTATIVE;
}

icalproperty_method method_value(Method method) {
  switch (method) {
    case Method::kRequest:
      return ICAL_METHOD_REQUEST;
    case Method::kCancel:
      return ICAL_METHOD_CANCEL;
    case Method::kPublish:
      break;
  }
  return ICAL_METHOD_PUBLISH;
}

icalproperty* attendee(const std::string& address) {
  icalproperty* property = icalproperty_new_attendee(mailto(address).c_str());
  if (property != nullptr) {
    icalproperty_add_parameter(property, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
    icalproperty_add_parameter(property, icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
    icalproperty_add_parameter(property, icalparameter_new_rsvp(ICAL_RSVP_TRUE));
  }
  return property;
}

Component vevent(const Entry& entry) {
  Component event(icalcomponent_new(ICAL_VEVENT_COMPONENT), &icalcomponent_free);
  icalcomponent* e = event.get();
  add(e, icalproperty_new_uid(clean_text(entry.uid, false).c_str()));
  const auto sequence = std::clamp<std::int64_t>(entry.sequence, 0, std::numeric_limits<std::int32_t>::max());
  add(e, icalproperty_new_sequence(static_cast<int>(sequence)));
  add(e, utc_time(ICAL_DTSTAMP_PROPERTY, floor_seconds(entry.stamp)));
  const std::int64_t start = floor_seconds(entry.begin);
  add(e, utc_time(ICAL_DTSTART_PROPERTY, start));
  const std::int64_t end =
      std::max(std::min(start + 1, kLastSecond), ceil_seconds(entry.begin + entry.duration));
  add(e, utc_time(ICAL_DTEND_PROPERTY, end));
  add(e, icalproperty_new_summary(clean_text(entry.summary, false).c_str()));
  add(e, icalproperty_new_status(status_value(entry.status)));
  if (!entry.organizer.empty()) {
    add(e, icalproperty_new_organizer(mailto(entry.organizer).c_str()));
  }
  for (const std::string& address : entry.attendees) {
    add(e, attendee(address));
  }
  if (!entry.url.empty()) {
    add(e, icalproperty_new_url(clean_text(entry.url, false).c_str()));
  }
  if (!entry.description.empty()) {
    add(e, icalproperty_new_description(clean_text(entry.description, true).c_str()));
  }
  return event;
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
  Component calendar(icalcomponent_new(ICAL_VCALENDAR_COMPONENT), &icalcomponent_free);
  add(calendar.get(), icalproperty_new_version("2.0"));
  add(calendar.get(), icalproperty_new_prodid(kProdId));
  add(calendar.get(), icalproperty_new_method(method_value(method)));
  for (const Entry& entry : entries) {
    icalcomponent_add_component(calendar.get(), vevent(entry).release());
  }
  // The _r variant allocates the text for the caller: no shared ring buffer.
  char* text = icalcomponent_as_ical_string_r(calendar.get());
  if (text == nullptr) {
    throw std::runtime_error("icalendar: libical could not write the calendar");
  }
  std::string out(text);
  icalmemory_free_buffer(text);
  return out;
}

}  // namespace calndro::icalendar
