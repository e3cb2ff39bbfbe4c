#include "notify/outbox.h"

#include <nlohmann/json.hpp>

#include "notify/deadline_mail.h"
#include "notify/pg_database.h"

namespace calndro::notify {
namespace {

#define MICROS(column) "(extract(epoch FROM " column ") * 1000000)::bigint"

constexpr Statement kInsertRequest{
    "notify_insert_request",
    "INSERT INTO notify.requests (request_id, event_id, content_hash) VALUES ($1, $2, $3)"
    " ON CONFLICT (request_id) DO NOTHING RETURNING request_id"};

constexpr Statement kRequestHash{"notify_request_hash",
                                 "SELECT content_hash FROM notify.requests WHERE request_id = $1"};

constexpr Statement kQueuedForRequest{
    "notify_queued_for_request", "SELECT id, recipient FROM notify.outbox WHERE request_id = $1 ORDER BY id"};

constexpr Statement kEnqueue{
    "notify_enqueue",
    "INSERT INTO notify.outbox (request_id, event_id, recipient, sender, subject, content)"
    " VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id"};

// One mail per claim (LIMIT 1): a lease on several would hold back mails
// that another dispatcher could be sending meanwhile. SKIP LOCKED: replicas
// claiming at the same time take different rows instead of waiting.
constexpr Statement kClaim{
    "notify_claim",
    "UPDATE notify.outbox o SET lease_owner = $1, lease_claim = $2,"
    " lease_until = now() + $3::bigint * interval '1 millisecond'"
    " FROM (SELECT id FROM notify.outbox WHERE state = 'queued' AND next_attempt_at <= now()"
    " AND (lease_until IS NULL OR lease_until <= now()) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) due"
    " WHERE o.id = due.id"
    " RETURNING o.id, o.recipient, o.sender, o.subject, o.body, o.attempts, " MICROS(
        "o.queued_at") ", o.request_id, o.event_id, o.content::text"};

// The marks end the lease and keep its owner and number (who sent it). Each
// applies only while the claim still holds the row; a mark that finds the
// row already in its state under the same claim is one whose COMMIT went
// through although the connection broke before the answer: it counts as
// done, so the dispatcher's retry of it does not take it for a lost lease.
#define HELD_BY_CLAIM " WHERE id = $1 AND state = 'queued' AND lease_owner = $2 AND lease_claim = $3"
#define DONE_BY_CLAIM(state)                                                                  \
  " RETURNING 1) SELECT EXISTS (SELECT 1 FROM marked) OR EXISTS (SELECT 1 FROM notify.outbox" \
  " WHERE id = $1 AND state = '" state "' AND lease_owner = $2 AND lease_claim = $3)"

constexpr Statement kMarkSent{
    "notify_mark_sent",
    "WITH marked AS (UPDATE notify.outbox SET state = 'sent', body = NULL, content = NULL,"
    " token_id = coalesce($4, token_id), attempts = attempts + 1, last_error = '',"
    " sent_at = clock_timestamp(), lease_until = NULL" HELD_BY_CLAIM DONE_BY_CLAIM("sent")};

constexpr Statement kMarkRetry{"notify_mark_retry",
                               "UPDATE notify.outbox SET attempts = attempts + 1, last_error = $4,"
                               " next_attempt_at = clock_timestamp() + $5::bigint * interval '1 millisecond',"
                               " lease_until = NULL" HELD_BY_CLAIM};

constexpr Statement kMarkFailed{
    "notify_mark_failed",
    "WITH marked AS (UPDATE notify.outbox SET state = 'failed', body = NULL, content = NULL,"
    " attempts = attempts + 1, last_error = $4, lease_until = NULL" HELD_BY_CLAIM DONE_BY_CLAIM("failed")};

#undef HELD_BY_CLAIM
#undef DONE_BY_CLAIM

constexpr Statement kReleaseLeases{
    "notify_release_leases",
    "UPDATE notify.outbox SET lease_until = NULL"
    " WHERE state = 'queued' AND lease_owner = $1 AND lease_until IS NOT NULL"};

constexpr Statement kReleaseClaim{
    "notify_release_claim",
    "UPDATE notify.outbox SET lease_until = NULL"
    " WHERE state = 'queued' AND lease_owner = $1 AND lease_claim = $2 AND lease_until IS NOT NULL"};

constexpr Statement kList{"notify_list",
    "SELECT id, event_id, recipient, subject, state, attempts, last_error, " MICROS("queued_at") ", " MICROS(
        "sent_at") ", " MICROS("next_attempt_at")
    " FROM notify.outbox WHERE ($1::bigint = 0 OR event_id = $1::bigint) AND ($2::bigint = 0 OR id < $2::bigint)"
    " ORDER BY id DESC LIMIT $3"};

// SKIP LOCKED: replicas purging at the same time take different rows.
constexpr Statement kPurgeFinished{
    "notify_purge_finished",
    "DELETE FROM notify.outbox WHERE id IN (SELECT id FROM notify.outbox WHERE state <> 'queued'"
    " AND coalesce(sent_at, queued_at) < now() - $1::int * interval '1 day'"
    " LIMIT $2 FOR UPDATE SKIP LOCKED)"};

constexpr Statement kPurgeRequests{
    "notify_purge_requests",
    "DELETE FROM notify.requests WHERE request_id IN (SELECT r.request_id FROM notify.requests r"
    " WHERE r.created_at < now() - $1::int * interval '1 day'"
    " AND NOT EXISTS (SELECT 1 FROM notify.outbox o WHERE o.request_id = r.request_id)"
    " LIMIT $2 FOR UPDATE OF r SKIP LOCKED)"};

#undef MICROS

Instant micros(const pqxx::field& field) {
  return Instant(Micros(field.as<long long>()));
}

MailState state_of(const std::string& text) {
  if (text == "sent") {
    return MailState::kSent;
  }
  if (text == "failed") {
    return MailState::kFailed;
  }
  return MailState::kQueued;
}

}  // namespace

nlohmann::json encode_calendar_json(const CalendarRequest& calendar) {
  return {{"method", std::string(icalendar::method_name(calendar.method))},
          {"uid", calendar.uid},
          {"sequence", calendar.sequence},
          {"slot", {calendar.slot.begin.time_since_epoch().count(), calendar.slot.duration.count()}},
          {"organizer", calendar.organizer},
          {"attendees", calendar.attendees},
          {"without_link", calendar.without_link}};
}

namespace {

// nullopt for an unknown method; throws nlohmann::json::exception when a
// field is missing or mistyped.
std::optional<CalendarRequest> decode_calendar(const nlohmann::json& json) {
  CalendarRequest calendar;
  const std::string method = json.at("method").get<std::string>();
  if (method != "REQUEST" && method != "CANCEL") {
    return std::nullopt;
  }
  calendar.method = method == "CANCEL" ? icalendar::Method::kCancel : icalendar::Method::kRequest;
  calendar.uid = json.at("uid").get<std::string>();
  calendar.sequence = json.at("sequence").get<std::int64_t>();
  const auto& slot = json.at("slot");
  calendar.slot = {Instant(Micros(slot.at(0).get<std::int64_t>())), Micros(slot.at(1).get<std::int64_t>())};
  calendar.organizer = json.at("organizer").get<std::string>();
  calendar.attendees = json.at("attendees").get<std::vector<std::string>>();
  calendar.without_link = json.at("without_link").get<bool>();
  return calendar;
}

}  // namespace

std::string encode_mail_content(const MailRequest& request) {
  nlohmann::json slots = nlohmann::json::array();
  for (const SlotText& slot : request.slots) {
    slots.push_back({slot.begin.time_since_epoch().count(), slot.duration.count()});
  }
  nlohmann::json content = {{"title", strip_controls(request.title)},
                            {"sender", request.sender},
                            {"invitation", request.invitation},
                            {"slots", slots}};
  if (request.calendar) {
    // Only when present: mails without one are stored as before.
    content["calendar"] = encode_calendar_json(*request.calendar);
  }
  if (request.deadline) {
    content["deadline"] = encode_deadline_json(*request.deadline);
  }
  if (request.audit_head) {
    content["audit_head"] = {{"seq", request.audit_head->seq}, {"hash", request.audit_head->hash}};
  }
  return content.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<MailRequest> decode_mail_content(std::int64_t event_id, std::string_view json) {
  const nlohmann::json content = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!content.is_object()) {
    return std::nullopt;
  }
  try {
    MailRequest request;
    request.event_id = event_id;
    request.title = content.at("title").get<std::string>();
    request.sender = content.at("sender").get<std::string>();
    request.invitation = content.at("invitation").get<bool>();
    // An older row's "link_base" (the caller's base) is ignored: links are
    // built from this service's configuration when the mail is sent.
    for (const auto& slot : content.at("slots")) {
      request.slots.push_back(
          {Instant(Micros(slot.at(0).get<std::int64_t>())), Micros(slot.at(1).get<std::int64_t>())});
    }
    if (const auto calendar = content.find("calendar"); calendar != content.end()) {
      request.calendar = decode_calendar(*calendar);
      if (!request.calendar) {
        return std::nullopt;
      }
    }
    if (const auto deadline = content.find("deadline"); deadline != content.end()) {
      request.deadline = decode_deadline_json(*deadline);
      if (!request.deadline) {
        return std::nullopt;
      }
    }
    if (const auto head = content.find("audit_head"); head != content.end()) {
      request.audit_head =
          AuditReceipt{head->at("seq").get<std::int64_t>(), head->at("hash").get<std::string>()};
    }
    return request;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

void PgOutbox::prepare(pqxx::connection& connection) {
  prepare_all(connection,
              {kInsertRequest, kRequestHash, kQueuedForRequest, kEnqueue, kClaim, kMarkSent, kMarkRetry,
               kMarkFailed, kReleaseLeases, kReleaseClaim, kList, kPurgeFinished, kPurgeRequests});
}

int PgOutbox::purge_finished(Transaction& tx, int days, int batch) {
  return static_cast<int>(pg(tx).exec_prepared0(kPurgeFinished.name, days, batch).affected_rows());
}

int PgOutbox::purge_requests(Transaction& tx, int days, int batch) {
  return static_cast<int>(pg(tx).exec_prepared0(kPurgeRequests.name, days, batch).affected_rows());
}

bool PgOutbox::insert_request(Transaction& tx, const std::string& request_id, std::int64_t event_id,
                              const std::string& content_hash) {
  return !pg(tx).exec_prepared(kInsertRequest.name, request_id, event_id, content_hash).empty();
}

std::optional<std::string> PgOutbox::request_content_hash(Transaction& tx, const std::string& request_id) {
  const auto row = first_row(pg(tx).exec_prepared(kRequestHash.name, request_id));
  if (!row) {
    return std::nullopt;
  }
  return (*row)[0].as<std::string>();
}

std::vector<QueuedMail> PgOutbox::queued_for_request(Transaction& tx, const std::string& request_id) {
  std::vector<QueuedMail> mails;
  for (const auto& row : pg(tx).exec_prepared(kQueuedForRequest.name, request_id)) {
    mails.push_back({row[0].as<std::int64_t>(), row[1].as<std::string>()});
  }
  return mails;
}

std::int64_t PgOutbox::enqueue(Transaction& tx, const NewMail& mail) {
  return pg(tx)
      .exec_prepared1(kEnqueue.name, mail.request_id, mail.content.event_id, mail.recipient, mail.sender,
                      mail.subject, encode_mail_content(mail.content))[0]
      .as<std::int64_t>();
}

std::optional<OutgoingMail> PgOutbox::claim_next(Transaction& tx, const Claim& claim,
                                                 std::chrono::milliseconds lease) {
  const auto found = first_row(
      pg(tx).exec_prepared(kClaim.name, claim.owner, claim.number, static_cast<long long>(lease.count())));
  if (!found) {
    return std::nullopt;
  }
  const pqxx::row& row = *found;
  OutgoingMail mail;
  mail.id = row[0].as<std::int64_t>();
  mail.recipient = row[1].as<std::string>();
  mail.sender = row[2].as<std::string>();
  mail.subject = row[3].as<std::string>();
  mail.legacy_body = row[4].is_null() ? std::string() : row[4].as<std::string>();
  mail.attempts = row[5].as<int>();
  mail.queued_at = micros(row[6]);
  mail.request_id = row[7].as<std::string>();
  mail.event_id = row[8].as<std::int64_t>();
  if (!row[9].is_null()) {
    mail.content = decode_mail_content(mail.event_id, row[9].as<std::string>());
  }
  return mail;
}

bool PgOutbox::mark_sent(Transaction& tx, std::int64_t id, std::optional<std::int64_t> token_id,
                         const Claim& claim) {
  return pg(tx).exec_prepared1(kMarkSent.name, id, claim.owner, claim.number, token_id)[0].as<bool>();
}

bool PgOutbox::mark_retry(Transaction& tx, std::int64_t id, const std::string& error,
                          std::chrono::milliseconds delay, const Claim& claim) {
  return pg(tx)
             .exec_prepared0(kMarkRetry.name, id, claim.owner, claim.number, error,
                             static_cast<long long>(delay.count()))
             .affected_rows() == 1;
}

bool PgOutbox::mark_failed(Transaction& tx, std::int64_t id, const std::string& error, const Claim& claim) {
  return pg(tx).exec_prepared1(kMarkFailed.name, id, claim.owner, claim.number, error)[0].as<bool>();
}

int PgOutbox::release_leases(Transaction& tx, const std::string& owner) {
  return static_cast<int>(pg(tx).exec_prepared0(kReleaseLeases.name, owner).affected_rows());
}

int PgOutbox::release_claim(Transaction& tx, const Claim& claim) {
  return static_cast<int>(
      pg(tx).exec_prepared0(kReleaseClaim.name, claim.owner, claim.number).affected_rows());
}

std::int64_t PgOutbox::depth(Transaction& tx) {
  // Served by the partial index outbox_due: cheap however many mails were sent.
  return pg(tx).exec("SELECT count(*) FROM notify.outbox WHERE state = 'queued'")[0][0].as<std::int64_t>();
}

std::vector<DeliveryRow> PgOutbox::list(Transaction& tx, std::int64_t event_id, std::int64_t before_id,
                                        int limit) {
  std::vector<DeliveryRow> rows;
  for (const auto& row : pg(tx).exec_prepared(kList.name, event_id, before_id, limit)) {
    DeliveryRow out;
    out.id = row[0].as<std::int64_t>();
    out.event_id = row[1].as<std::int64_t>();
    out.recipient = row[2].as<std::string>();
    out.subject = row[3].as<std::string>();
    out.state = state_of(row[4].as<std::string>());
    out.attempts = row[5].as<int>();
    out.last_error = row[6].as<std::string>();
    out.queued_at = micros(row[7]);
    if (!row[8].is_null()) {
      out.sent_at = micros(row[8]);
    }
    out.next_attempt_at = micros(row[9]);
    rows.push_back(std::move(out));
  }
  return rows;
}

}  // namespace calndro::notify
