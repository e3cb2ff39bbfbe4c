#include "common/icalendar.h"

namespace calndro::icalendar {

std::string event_uid(std::int64_t event_id) {
  return "event-" + std::to_string(event_id) + "@calndro";
}

}  // namespace calndro::icalendar
