#include "events/event_calendar.h"

#include "common/grpc/rich_status.h"
#include "common/text/allowed_hosts.h"
#include "common/text/icalendar.h"
#include "common/text/proto_time.h"

namespace calndro::events {
namespace {

icalendar::Entry entry_for(const v1::Event& event, const calndro::common::v1::TimeSlot& slot,
                           const std::string& url, Instant now) {
  icalendar::Entry entry;
  entry.stamp = now;
  entry.begin = instant_from_proto(slot.begin());
  entry.duration = duration_from_proto(slot.duration());
  entry.summary = event.title();
  entry.organizer = event.creator();
  entry.url = url;
  return entry;
}

std::string description(const v1::Event& event, const std::string& url, icalendar::EntryStatus status) {
  std::string text = status == icalendar::EntryStatus::kConfirmed
                         ? "The agreed time for '" + event.title() + "'."
                         : "One of the proposed times for '" + event.title() + "' (not agreed yet).";
  if (!url.empty()) {
    text += "\nThe event in calndro: " + url;
  }
  return text;
}

}  // namespace

std::string calendar_file_name(std::int64_t event_id) {
  return "calndro-" + std::to_string(event_id) + ".ics";
}

absl::StatusOr<v1::EventCalendar> event_calendar(const v1::Event& event, std::string_view link_base,
                                                 Instant now) {
  if (!link_base.empty() && !valid_link_base(link_base)) {
    return invalid_argument("CALNDRO_PUBLIC_BASE_URL", "Must be an http(s) URL without query or fragment.");
  }
  std::string url;
  if (!link_base.empty()) {
    std::string base(link_base);
    while (base.ends_with('/')) {
      base.pop_back();
    }
    url = base + "/" + std::to_string(event.id()) + "/";
  }
  std::vector<icalendar::Entry> entries;
  if (event.state() == v1::EVENT_STATE_AGREED && event.has_agreed_slot()) {
    icalendar::Entry entry = entry_for(event, event.agreed_slot(), url, now);
    entry.uid = icalendar::event_uid(event.id());
    entry.sequence = event.calendar_sequence();
    entry.status = icalendar::EntryStatus::kConfirmed;
    entry.description = description(event, url, entry.status);
    entries.push_back(std::move(entry));
  } else {
    for (const auto& slot : event.slots()) {
      icalendar::Entry entry = entry_for(event, slot, url, now);
      entry.uid = icalendar::slot_uid(event.id(), entry.begin, entry.duration);
      entry.sequence = event.version();
      entry.status = icalendar::EntryStatus::kTentative;
      entry.description = description(event, url, entry.status);
      entries.push_back(std::move(entry));
    }
  }
  v1::EventCalendar calendar;
  calendar.set_ics(icalendar::render(icalendar::Method::kPublish, entries));
  calendar.set_file_name(calendar_file_name(event.id()));
  return calendar;
}

}  // namespace calndro::events
