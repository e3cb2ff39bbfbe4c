#include "events/log_sealer.h"

#include <algorithm>
#include <map>

#include <set>

#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "events/event_store.h"

namespace calndro::events {

LogSealer::LogSealer(Database& database, const Clock& clock, const audit::LogSigningKey& key,
                     LogSealerOptions options, SealedHook sealed)
    : database_(database),
      clock_(clock),
      key_(key),
      options_(options),
      sealed_(std::move(sealed)),
      rounds_(BackgroundRounds::Options{.what = "log sealing", .pause = options_.pause, .batch = 1},
              [this]() -> absl::StatusOr<int> {
                // A full round means more may wait (a backlog: the entries of
                // a first start after the upgrade, or of a burst): go on at
                // once (batch 1) rather than pause.
                CALNDRO_ASSIGN_OR_RETURN(const Round round, seal_round());
                return round.full ? 1 : 0;
              }) {}

absl::StatusOr<LogSealer::Round> LogSealer::seal_round() {
  std::vector<std::int64_t> due;
  // The head rows first, each insert committing on its own: a replica that
  // adds the same rows waits for one statement, not for a whole round.
  CALNDRO_RETURN_IF_ERROR(
      database_.run(CallContext::background(), Atomicity::kPerStatement, [&](Repositories& stores) {
        due = stores.log_seals.events_to_seal(options_.events_per_round);
        if (!due.empty()) {
          stores.log_seals.add_head_rows(due);
        }
        return absl::OkStatus();
      }));
  if (due.empty()) {
    return Round{};
  }
  int sealed = 0;
  bool all_entries_taken = true;
  std::vector<Micros> lags;
  CALNDRO_RETURN_IF_ERROR(
      database_.run(CallContext::background(), Atomicity::kTransaction, [&](Repositories& stores) {
        std::vector<ChainTip> tips = stores.log_seals.lock_heads(due);
        if (tips.empty()) {
          return absl::OkStatus();  // all held by another replica this round
        }
        std::vector<std::int64_t> locked;
        locked.reserve(tips.size());
        for (const ChainTip& tip : tips) {
          locked.push_back(tip.event_id);
        }
        const std::vector<UnsealedEntry> entries =
            stores.log_seals.unsealed_entries(locked, options_.entries_per_round);
        all_entries_taken = static_cast<int>(entries.size()) < options_.entries_per_round;
        lags = link(stores, std::move(tips), entries);
        sealed = static_cast<int>(lags.size());
        return absl::OkStatus();
      }));
  if (sealed_) {
    for (const Micros lag : lags) {
      sealed_(lag);
    }
  }
  return Round{.sealed = sealed,
               .full = static_cast<int>(due.size()) == options_.events_per_round || !all_entries_taken};
}

std::vector<Micros> LogSealer::link(Repositories& stores, std::vector<ChainTip> tips,
                                    const std::vector<UnsealedEntry>& entries) {
  std::map<std::int64_t, ChainTip*> tip_of;
  for (ChainTip& tip : tips) {
    tip_of[tip.event_id] = &tip;
  }
  const Instant now = clock_.now();
  std::vector<std::pair<std::int64_t, ChainLink>> links;
  links.reserve(entries.size());
  std::map<std::int64_t, audit::LogHead> heads;
  std::vector<Micros> lags;
  std::set<std::int64_t> stuck;
  for (const UnsealedEntry& unsealed : entries) {
    if (stuck.contains(unsealed.event_id)) {
      continue;
    }
    ChainTip& tip = *tip_of.at(unsealed.event_id);
    const std::int64_t seq = tip.seq + 1;
    std::string hash;
    try {
      hash = audit::entry_hash(tip.hash, chained_entry(unsealed.event_id, seq, unsealed.entry));
    } catch (const std::exception& error) {
      // An entry no chain can hold (a fractional number in data, written by
      // hand): its event's chain stops before it, and says so every round;
      // the other events' chains go on.
      log::error("an audit log entry cannot be sealed",
                 {{"event", unsealed.event_id}, {"entry", unsealed.entry.id}, {"error", error.what()}});
      stuck.insert(unsealed.event_id);
      continue;
    }
    links.emplace_back(unsealed.entry.id, ChainLink{seq, tip.hash, hash});
    tip.seq = seq;
    tip.hash = std::move(hash);
    heads[unsealed.event_id] = {
        .event_id = unsealed.event_id, .seq = seq, .hash = tip.hash, .signed_at = now, .signature = {}};
    lags.push_back(std::max(Micros(0), now - unsealed.entry.when));
  }
  std::vector<audit::LogHead> moved;
  moved.reserve(heads.size());
  for (auto& [event_id, head] : heads) {
    head.signature = key_.sign(audit::head_text(head));
    moved.push_back(std::move(head));
  }
  if (!links.empty()) {
    stores.log_seals.seal(links);
    stores.log_seals.move_heads(moved, key_.key_id());
  }
  return lags;
}

}  // namespace calndro::events
