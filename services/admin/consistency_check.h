#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace calndro::admin {

// What `calndro-admin check` verifies, across the `events` and `notify`
// schemas of one database, for notifies accepted since the outbox exists
// (events migration 0005; older NOTIFY entries and mails have no intent):
// - each accepted notify (events.pending_notifications) has one NOTIFY
//   entry per recipient, and no NOTIFY entry is without one;
// - once handed over, each recipient's mail is in notify.outbox (queued,
//   sent or failed), under the notify's id as request id;
// - no accepted notify was refused by the notification service;
// - no mail in notify.outbox has a request id the event service does not know;
// - each event's version is what its log implies: one per entry that changed
//   it (UPDATE, AGREE; kVersionedOccurrences), for events created since
//   versions exist (events migration 0006; one created before counts from 1).
// Returns one line per problem; empty when consistent.
std::vector<std::string> check_consistency(pqxx::connection& connection);

}  // namespace calndro::admin
