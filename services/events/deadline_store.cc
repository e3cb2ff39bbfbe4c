#include "events/deadline_store.h"

#include "events/event_store.h"

namespace calndro::events {

void prepare_deadline_statements(pqxx::connection& connection) {
  // The partial index on deadline_mail_due_at holds only the events with a
  // mail still to settle: a round reads the due ones, not every deadline.
  // NO KEY UPDATE, as event_by_id_locked: a PATCH, an answer or an agree of
  // the event waits for the round's commit and then sees its marks; a VIEW
  // entry meanwhile does not wait.
  connection.prepare("deadline_claim_due",
                     "SELECT id FROM events.events "
                     "WHERE deadline_mail_due_at <= 'epoch'::timestamptz + $1 * interval '1 microsecond' "
                     "ORDER BY deadline_mail_due_at, id LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED");
  // The marks name the deadline they were settled for; the generated
  // deadline_mail_due_at follows. The version is left alone: a mail is not
  // a change of the event.
  connection.prepare("deadline_settle",
                     "UPDATE events.events SET reminded_for = respond_by, "
                     "summarized_for = CASE WHEN $2 THEN respond_by ELSE summarized_for END "
                     "WHERE id = $1");
}

std::vector<std::int64_t> PgDeadlineRepository::claim_due_deadlines(Instant now, int limit) {
  std::vector<std::int64_t> ids;
  for (const auto& row : tx_.exec_prepared("deadline_claim_due",
                                           static_cast<long long>(now.time_since_epoch().count()), limit)) {
    ids.push_back(row[0].as<std::int64_t>());
  }
  return ids;
}

void PgDeadlineRepository::settle_deadline(std::int64_t id, DeadlineStep step) {
  written_once([&] { tx_.exec_prepared0("deadline_settle", id, step == DeadlineStep::kSummary); });
}

}  // namespace calndro::events
