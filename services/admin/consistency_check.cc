#include "admin/consistency_check.h"

namespace calndro::admin {
namespace {

// When the outbox began (events migration 0005): NOTIFY entries and mails
// from before it were written without an intent.
constexpr const char* kSince = "(SELECT applied_at FROM events.schema_migrations WHERE version = 5)";

void check_log_entries(pqxx::work& tx, std::vector<std::string>& problems) {
  const std::string sql =
      std::string(
          "WITH logged AS (SELECT event_id, data->>'recipient' AS recipient, count(*) AS n "
          "  FROM events.log_entries WHERE occurrence = 'NOTIFY' AND at >= ") +
      kSince +
      "  GROUP BY 1, 2), "
      "intended AS (SELECT event_id, r AS recipient, count(*) AS n "
      "  FROM events.pending_notifications, jsonb_array_elements_text(recipients) r "
      "  WHERE NOT (request ? 'calendar') GROUP BY 1, 2) "
      "SELECT coalesce(l.event_id, i.event_id), coalesce(l.recipient, i.recipient), "
      "  coalesce(i.n, 0), coalesce(l.n, 0) "
      "FROM logged l FULL JOIN intended i ON l.event_id = i.event_id AND "
      "  l.recipient = i.recipient "
      "WHERE coalesce(l.n, 0) <> coalesce(i.n, 0) ORDER BY 1, 2";
  for (const auto& row : tx.exec(sql)) {
    problems.push_back("event " + row[0].as<std::string>() + ": " + row[2].as<std::string>() +
                       " accepted notify(s) to " + row[1].as<std::string>() + " but " +
                       row[3].as<std::string>() + " NOTIFY log entries");
  }
}

// Calendar mails (agree, reopen, a new title or the deletion of an agreed
// event) are logged as the change itself (AGREE or UPDATE), not as NOTIFY
// entries: the service writes the entry and the intent with one instant.
void check_calendar_intents(pqxx::work& tx, std::vector<std::string>& problems) {
  for (const auto& row :
       tx.exec("SELECT p.event_id, p.id FROM events.pending_notifications p WHERE p.request ? 'calendar' "
               "AND NOT EXISTS (SELECT 1 FROM events.log_entries l WHERE l.event_id = p.event_id "
               "  AND l.at = p.created_at AND l.occurrence IN ('AGREE', 'UPDATE')) ORDER BY 1, 2")) {
    problems.push_back("event " + row[0].as<std::string>() + ": calendar mail " + row[1].as<std::string>() +
                       " has no AGREE or UPDATE log entry");
  }
  for (const auto& row :
       tx.exec("SELECT l.event_id, l.id, l.occurrence FROM events.log_entries l "
               "WHERE (l.occurrence = 'AGREE' OR l.data @> '{\"reopened\": true}') "
               "AND NOT EXISTS (SELECT 1 FROM events.pending_notifications p WHERE p.event_id = l.event_id "
               "  AND p.created_at = l.at AND p.request ? 'calendar') ORDER BY 1, 2")) {
    problems.push_back("event " + row[0].as<std::string>() + ": " + row[2].as<std::string>() + " entry " +
                       row[1].as<std::string>() + " has no calendar mail");
  }
}

void check_mails(pqxx::work& tx, std::vector<std::string>& problems) {
  for (const auto& row :
       tx.exec("SELECT p.event_id, p.id, r FROM events.pending_notifications p, "
               "jsonb_array_elements_text(p.recipients) r WHERE p.state = 'handed_over' AND NOT EXISTS "
               "(SELECT 1 FROM notify.outbox o WHERE o.request_id = p.id AND o.recipient = r) ORDER BY 1, 2, "
               "3")) {
    problems.push_back("event " + row[0].as<std::string>() + ": notify " + row[1].as<std::string>() +
                       " was handed over but has no mail to " + row[2].as<std::string>());
  }
  for (const auto& row : tx.exec("SELECT event_id, id, coalesce(last_error, '') "
                                 "FROM events.pending_notifications WHERE state = 'refused' ORDER BY 1, 2")) {
    problems.push_back("event " + row[0].as<std::string>() + ": notify " + row[1].as<std::string>() +
                       " was refused by the notification service: " + row[2].as<std::string>());
  }
  for (const auto& row :
       tx.exec(std::string("SELECT o.event_id, o.id, o.request_id, o.recipient FROM notify.outbox o "
                           "WHERE o.queued_at >= ") +
               kSince +
               " AND NOT EXISTS (SELECT 1 FROM events.pending_notifications p WHERE p.id = o.request_id) "
               "ORDER BY 1, 2")) {
    problems.push_back("event " + row[0].as<std::string>() + ": mail " + row[1].as<std::string>() + " to " +
                       row[3].as<std::string>() + " has no accepted notify (request id " +
                       row[2].as<std::string>() + ")");
  }
}

// The log entries that change an event, each raising its version by one
// (docs/ARCHITECTURE.md "Versions"): UPDATE (the creation, each PATCH, the
// deletion, a reopening), AGREE and ANSWER. A NOTIFY or VIEW entry changes
// nothing the event shows. An occurrence that raises the version goes here.
constexpr const char* kVersionedOccurrences = "('UPDATE', 'AGREE', 'ANSWER')";
// When versions began (events migration 0006): an event created before it
// started at 1 whatever its log held then.
constexpr const char* kVersionsSince = "(SELECT applied_at FROM events.schema_migrations WHERE version = 6)";

void check_versions(pqxx::work& tx, std::vector<std::string>& problems) {
  const std::string sql =
      std::string("WITH since AS (SELECT ") + kVersionsSince +
      " AS at), "
      "changes AS (SELECT l.event_id, count(*) AS n FROM events.log_entries l, since "
      "  WHERE l.occurrence IN " +
      kVersionedOccurrences +
      " AND l.at >= since.at GROUP BY 1) "
      "SELECT e.id, e.version, coalesce(c.n, 0) + CASE WHEN e.created_at < since.at THEN 1 ELSE 0 END "
      "FROM events.events e CROSS JOIN since LEFT JOIN changes c ON c.event_id = e.id "
      "WHERE since.at IS NOT NULL "
      "AND e.version <> coalesce(c.n, 0) + CASE WHEN e.created_at < since.at THEN 1 ELSE 0 END "
      "ORDER BY 1";
  for (const auto& row : tx.exec(sql)) {
    problems.push_back("event " + row[0].as<std::string>() + ": version " + row[1].as<std::string>() +
                       " but its log implies " + row[2].as<std::string>() +
                       " (one per UPDATE, AGREE or ANSWER entry)");
  }
}

}  // namespace

std::vector<std::string> check_consistency(pqxx::connection& connection) {
  pqxx::work tx(connection);
  // One snapshot for every query: a notify committing meanwhile is seen by
  // all of them or none.
  tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  std::vector<std::string> problems;
  check_log_entries(tx, problems);
  check_calendar_intents(tx, problems);
  check_versions(tx, problems);
  if (tx.exec1("SELECT to_regclass('notify.outbox') IS NOT NULL")[0].as<bool>()) {
    check_mails(tx, problems);
  } else {
    problems.emplace_back("notify.outbox is not in this database: mails not checked");
  }
  return problems;
}

}  // namespace calndro::admin
