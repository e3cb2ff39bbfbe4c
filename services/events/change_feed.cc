#include "events/change_feed.h"

#include <charconv>
#include <pqxx/pqxx>

#include "common/base/log.h"

namespace calndro::events {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& connection, const ChangeFeed::Handlers& handlers)
      : pqxx::notification_receiver(connection, kChangeChannel), handlers_(handlers) {}

  void operator()(const std::string& payload, int /*backend_pid*/) override {
    std::int64_t id = 0;
    std::int64_t version = 0;
    if (parse_announcement(payload, id, version)) {
      handlers_.changed(id, version);
    } else {
      log::warn("change feed: unreadable announcement ignored", {{"payload", payload.substr(0, 64)}});
    }
  }

 private:
  const ChangeFeed::Handlers& handlers_;
};

bool parse_number(std::string_view text, std::int64_t& out) {
  const auto* end = text.data() + text.size();
  const auto [at, error] = std::from_chars(text.data(), end, out);
  return error == std::errc() && at == end && out > 0;
}

}  // namespace

bool parse_announcement(const std::string& payload, std::int64_t& id, std::int64_t& version) {
  const auto colon = payload.find(':');
  if (colon == std::string::npos) {
    return false;
  }
  const std::string_view text(payload);
  return parse_number(text.substr(0, colon), id) && parse_number(text.substr(colon + 1), version);
}

ChangeFeed::ChangeFeed(std::string database_url, Handlers handlers, std::chrono::milliseconds retry)
    : database_url_(std::move(database_url)),
      handlers_(std::move(handlers)),
      retry_(retry),
      thread_([this](const std::stop_token& stop) { run(stop); }) {}

void ChangeFeed::run(const std::stop_token& stop) {
  bool was_down = false;
  while (!stop.stop_requested()) {
    try {
      listen_until_broken(stop);
      return;
    } catch (const std::exception& error) {
      if (!was_down) {
        log::warn("change feed: database connection lost; streams may lag until it is back",
                  {{"error", error.what()}});
      }
      was_down = true;
    }
    // Sleeps in slices so that a stop is not held up by the retry pace.
    for (auto slept = std::chrono::milliseconds(0); slept < retry_ && !stop.stop_requested();
         slept += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

void ChangeFeed::listen_until_broken(const std::stop_token& stop) {
  pqxx::connection connection(database_url_);
  // A silent reconnection by libpqxx would skip the resync below.
  connection.inhibit_reactivation(true);
  Receiver receiver(connection, handlers_);
  // Listening from here: whatever committed before may not have been heard.
  connection.get_notifs();
  log::info("change feed: listening", {{"channel", kChangeChannel}});
  handlers_.resync();
  while (!stop.stop_requested()) {
    // Wakes at least every 250 ms to see a stop; notifications are
    // delivered to the receiver from inside this call.
    connection.await_notification(0, 250000);
    if (!connection.is_open()) {
      throw pqxx::broken_connection("the listening connection closed");
    }
  }
}

}  // namespace calndro::events
