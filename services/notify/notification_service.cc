#include "notify/notification_service.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/crypto/crypto.h"
#include "common/grpc/rich_status.h"
#include "common/rpc/rpc_call.h"
#include "common/text/email.h"
#include "common/text/proto_time.h"
#include "common/text/text.h"
#include "common/text/time_slot.h"
#include "notify/deadline_mail.h"
#include "notify/internal_rpc.h"
#include "notify/outbox.h"
#include "notify/token_store.h"

namespace calndro::notify {
namespace {

// What every log line about a call carries besides serve_rpc's own line.
nlohmann::json log_fields(const grpc::ServerContext& context, const char* method) {
  return {{"method", method}, {"request_id", request_id(context)}};
}

v1::DeliveryState to_proto(MailState state) {
  switch (state) {
    case MailState::kQueued:
      return v1::DELIVERY_STATE_QUEUED;
    case MailState::kSent:
      return v1::DELIVERY_STATE_SENT;
    case MailState::kFailed:
      return v1::DELIVERY_STATE_FAILED;
  }
  return v1::DELIVERY_STATE_UNSPECIFIED;
}

std::string mailbox_text(const Mailbox& mailbox) {
  if (mailbox.display_name.empty()) {
    return mailbox.address;
  }
  return mailbox.display_name + " <" + mailbox.address + ">";
}

void check_request(const v1::QueueNotificationsRequest& request, std::vector<FieldViolation>& violations) {
  if (request.request_id().empty()) {
    violations.push_back({"request_id", "A request id is required."});
  } else if (request.request_id().size() > kMaxRequestIdLength) {
    violations.push_back({"request_id", "The request id is longer than " +
                                            std::to_string(kMaxRequestIdLength) + " characters."});
  }
  if (request.event_id() <= 0) {
    violations.push_back({"event_id", "The event id must be a positive number."});
  }
  if (utf8_length(request.event_title()) > limits::kMaxTitleLength) {
    violations.push_back({"event_title", "The title is longer than " +
                                             std::to_string(limits::kMaxTitleLength) + " characters."});
  }
}

// Canonical addresses, duplicates folded, into `out`.
void check_addresses(const v1::QueueNotificationsRequest& request, ValidatedQueueRequest& out,
                     std::vector<FieldViolation>& violations) {
  if (request.recipients().empty()) {
    violations.push_back({"recipients", "Name at least one recipient."});
  } else if (request.recipients_size() > kMaxRecipients) {
    violations.push_back(
        {"recipients", "At most " + std::to_string(kMaxRecipients) + " recipients per request."});
  } else {
    for (const std::string& recipient : request.recipients()) {
      auto canonical = normalize_email(recipient);
      if (!canonical.ok()) {
        violations.push_back({"recipients", std::string(canonical.status().message()) + " (" +
                                                recipient.substr(0, kMaxEmailLength) + ")"});
      } else if (std::find(out.recipients.begin(), out.recipients.end(), *canonical) ==
                 out.recipients.end()) {
        out.recipients.push_back(*canonical);
      }
    }
  }
  if (!request.sender().empty()) {
    auto canonical = normalize_email(request.sender());
    if (!canonical.ok()) {
      violations.push_back({"sender", std::string(canonical.status().message())});
    } else {
      out.mail.sender = *canonical;
    }
  }
}

void check_slots(const v1::QueueNotificationsRequest& request, ValidatedQueueRequest& out,
                 std::vector<FieldViolation>& violations) {
  if (request.slots_size() > limits::kMaxSlots) {
    violations.push_back({"slots", "At most " + std::to_string(limits::kMaxSlots) + " slots per request."});
    return;
  }
  for (const auto& wire : request.slots()) {
    absl::StatusOr<Slot> slot = slot_from_proto(wire);
    if (!slot.ok()) {
      violations.push_back({"slots", std::string(slot.status().message())});
    } else {
      out.mail.slots.push_back({slot->begin, slot->duration});
    }
  }
}

// A UID is sent to calendar programs as it is: printable, one line.
constexpr std::size_t kMaxCalendarUidLength = 255;

void check_calendar_addresses(const v1::CalendarInvitation& wire, CalendarRequest& out,
                              std::vector<FieldViolation>& violations) {
  auto organizer = normalize_email(wire.organizer());
  if (!organizer.ok()) {
    violations.push_back({"calendar.organizer", std::string(organizer.status().message())});
  } else {
    out.organizer = *organizer;
  }
  if (wire.attendees().empty()) {
    violations.push_back({"calendar.attendees", "Name at least one attendee."});
    return;
  }
  if (wire.attendees_size() > kMaxRecipients) {
    violations.push_back(
        {"calendar.attendees", "At most " + std::to_string(kMaxRecipients) + " attendees per invitation."});
    return;
  }
  for (const std::string& attendee : wire.attendees()) {
    auto canonical = normalize_email(attendee);
    if (!canonical.ok()) {
      violations.push_back({"calendar.attendees", std::string(canonical.status().message()) + " (" +
                                                      attendee.substr(0, kMaxEmailLength) + ")"});
    } else if (std::find(out.attendees.begin(), out.attendees.end(), *canonical) == out.attendees.end()) {
      out.attendees.push_back(*canonical);
    }
  }
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// QueueNotificationsRequest.calendar into `out.mail.calendar`.
void check_calendar(const v1::QueueNotificationsRequest& request, ValidatedQueueRequest& out,
                    std::vector<FieldViolation>& violations) {
  if (!request.has_calendar()) {
    return;
  }
  const v1::CalendarInvitation& wire = request.calendar();
  CalendarRequest calendar;
  if (wire.method() == v1::CalendarInvitation::METHOD_REQUEST) {
    calendar.method = icalendar::Method::kRequest;
  } else if (wire.method() == v1::CalendarInvitation::METHOD_CANCEL) {
    calendar.method = icalendar::Method::kCancel;
  } else {
    violations.push_back({"calendar.method", "Must be METHOD_REQUEST or METHOD_CANCEL."});
  }
  if (wire.uid().empty() || utf8_length(wire.uid()) > kMaxCalendarUidLength || has_control(wire.uid())) {
    violations.push_back({"calendar.uid", "Must be 1 to " + std::to_string(kMaxCalendarUidLength) +
                                              " characters without control characters."});
  }
  calendar.uid = wire.uid();
  if (wire.sequence() < 0 || wire.sequence() > std::numeric_limits<std::int32_t>::max()) {
    violations.push_back({"calendar.sequence", "Must be from 0 to 2147483647."});
  }
  calendar.sequence = wire.sequence();
  if (!wire.has_slot()) {
    violations.push_back({"calendar.slot", "The agreed slot is required."});
  } else if (absl::StatusOr<Slot> slot = slot_from_proto(wire.slot()); !slot.ok()) {
    violations.push_back({"calendar.slot", std::string(slot.status().message())});
  } else {
    calendar.slot = {slot->begin, slot->duration};
  }
  check_calendar_addresses(wire, calendar, violations);
  calendar.without_link = wire.without_link();
  out.mail.calendar = std::move(calendar);
}

// QueueNotificationsRequest.audit_head, when present: a seq and a SHA-256 in hex.
void check_audit_head(const v1::QueueNotificationsRequest& request, std::vector<FieldViolation>& violations) {
  if (!request.has_audit_head()) {
    return;
  }
  const std::string& hash = request.audit_head().hash();
  if (request.audit_head().seq() < 1) {
    violations.push_back({"audit_head.seq", "Must be 1 or more."});
  }
  if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
    violations.push_back({"audit_head.hash", "Must be 64 lowercase hex digits."});
  }
}

// A hash of the normalised request: a repeated request_id with other content
// is told apart from a retry.
std::string content_hash(const ValidatedQueueRequest& valid) {
  const MailRequest& mail = valid.mail;
  nlohmann::json canonical = {{"event_id", mail.event_id},
                              {"title", mail.title},
                              {"sender", mail.sender},
                              {"recipients", valid.recipients},
                              {"invitation", mail.invitation}};
  nlohmann::json slots = nlohmann::json::array();
  for (const auto& slot : mail.slots) {
    slots.push_back({slot.begin.time_since_epoch().count(), slot.duration.count()});
  }
  canonical["slots"] = slots;
  if (mail.calendar) {
    // Only when present: a request without one hashes as before, so its
    // retries across an upgrade still match.
    canonical["calendar"] = encode_calendar_json(*mail.calendar);
  }
  if (mail.deadline) {
    canonical["deadline"] = encode_deadline_json(*mail.deadline);
  }
  return sha256_hex(canonical.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void fill_delivery(const DeliveryRow& row, v1::Delivery& out) {
  out.set_mail_id(row.id);
  out.set_event_id(row.event_id);
  out.set_recipient(row.recipient);
  out.set_subject(row.subject);
  out.set_state(to_proto(row.state));
  out.set_attempts(row.attempts);
  out.set_last_error(row.last_error);
  *out.mutable_queued_at() = instant_to_proto(row.queued_at);
  if (row.sent_at) {
    *out.mutable_sent_at() = instant_to_proto(*row.sent_at);
  }
  if (row.state == MailState::kQueued) {
    *out.mutable_next_attempt_at() = instant_to_proto(row.next_attempt_at);
  }
}

}  // namespace

absl::StatusOr<ValidatedQueueRequest> validate_queue_request(const v1::QueueNotificationsRequest& request) {
  ValidatedQueueRequest out;
  std::vector<FieldViolation> violations;
  check_request(request, violations);
  check_addresses(request, out, violations);
  check_slots(request, out, violations);
  check_calendar(request, out, violations);
  check_deadline(request, out.mail, violations);
  check_audit_head(request, violations);
  if (!violations.empty()) {
    return invalid_argument(std::move(violations));
  }
  out.request_id = request.request_id();
  out.mail.event_id = request.event_id();
  out.mail.title = request.event_title();
  out.mail.invitation = request.invitation();
  // Not in the content hash: a hand-over tried again after the log moved on
  // quotes a newer head, and is still the same request.
  if (request.has_audit_head()) {
    out.mail.audit_head = AuditReceipt{request.audit_head().seq(), request.audit_head().hash()};
  }
  out.content_hash = content_hash(out);
  return out;
}

NotificationServiceImpl::NotificationServiceImpl(Stores stores, ServiceSettings settings,
                                                 std::function<void()> on_queued)
    : stores_(stores), settings_(std::move(settings)), on_queued_(std::move(on_queued)) {}

grpc::Status NotificationServiceImpl::serve_internal(grpc::ServerContext& context, const char* method,
                                                     InternalWork work) {
  return serve_rpc(context, method, [&] {
    nlohmann::json fields = log_fields(context, method);
    CALNDRO_RETURN_IF_ERROR(check_internal_credential(context, settings_.internal_token, fields));
    return work(fields);
  });
}

grpc::Status NotificationServiceImpl::QueueNotifications(grpc::ServerContext* context,
                                                         const v1::QueueNotificationsRequest* request,
                                                         v1::QueueNotificationsResponse* response) {
  return serve_internal(*context, "QueueNotifications",
                        [&](nlohmann::json& fields) { return queue(*context, *request, *response, fields); });
}

grpc::Status NotificationServiceImpl::ResolveToken(grpc::ServerContext* context,
                                                   const v1::ResolveTokenRequest* request,
                                                   v1::ResolveTokenResponse* response) {
  return serve_internal(*context, "ResolveToken", [&](nlohmann::json& fields) {
    return resolve(*context, *request, *response, fields);
  });
}

grpc::Status NotificationServiceImpl::ListDeliveries(grpc::ServerContext* context,
                                                     const v1::ListDeliveriesRequest* request,
                                                     v1::ListDeliveriesResponse* response) {
  return serve_internal(*context, "ListDeliveries",
                        [&](nlohmann::json&) { return list(*context, *request, *response); });
}

// What the queueing transaction found: the mails of the request (queued now
// or by its first call), or a request id reused for other content.
struct NotificationServiceImpl::QueueResult {
  std::vector<QueuedMail> mails;
  bool replayed = false;
  bool conflict = false;
};

absl::StatusOr<NotificationServiceImpl::QueueResult> NotificationServiceImpl::store_request(
    const CallContext& call, const ValidatedQueueRequest& valid) {
  const std::string from =
      valid.mail.sender.empty() ? mailbox_text(settings_.mail.default_from) : valid.mail.sender;
  QueueResult result;
  CALNDRO_RETURN_IF_ERROR(stores_.database.run(call, Atomicity::kTransaction, [&](Transaction& tx) {
    result = QueueResult{};
    Outbox& outbox = stores_.outbox;
    if (!outbox.insert_request(tx, valid.request_id, valid.mail.event_id, valid.content_hash)) {
      result.replayed = true;
      const auto stored = outbox.request_content_hash(tx, valid.request_id);
      result.conflict = !stored || !constant_time_equal(*stored, valid.content_hash);
      if (!result.conflict) {
        result.mails = outbox.queued_for_request(tx, valid.request_id);
      }
      return absl::OkStatus();
    }
    // No token yet: the dispatcher mints it when it sends the mail, so the
    // outbox never holds one (SPEC §6).
    const std::string subject = compose_subject(settings_.mail, valid.mail);
    for (const std::string& recipient : valid.recipients) {
      const std::int64_t id = outbox.enqueue(tx, {valid.request_id, recipient, from, subject, valid.mail});
      result.mails.push_back({id, recipient});
    }
    return absl::OkStatus();
  }));
  return result;
}

absl::Status NotificationServiceImpl::queue(const grpc::ServerContext& context,
                                            const v1::QueueNotificationsRequest& request,
                                            v1::QueueNotificationsResponse& response,
                                            nlohmann::json& fields) {
  absl::StatusOr<ValidatedQueueRequest> valid = validate_queue_request(request);
  if (!valid.ok()) {
    fields["error"] = std::string(valid.status().message());
    log::info("invalid request", fields);
    return valid.status();
  }
  fields["idempotency_key"] = valid->request_id;
  fields["event_id"] = valid->mail.event_id;
  CALNDRO_ASSIGN_OR_RETURN(const QueueResult result, store_request(call_context(context), *valid));
  if (result.conflict) {
    log::warn("request id reused for a different request", fields);
    return absl::AlreadyExistsError("This request_id was already used for a different notification request.");
  }
  nlohmann::json ids = nlohmann::json::array();
  for (const QueuedMail& mail : result.mails) {
    auto* out = response.add_mails();
    out->set_mail_id(mail.mail_id);
    out->set_recipient(mail.recipient);
    ids.push_back(mail.mail_id);
  }
  fields["mail_ids"] = ids;
  fields["replayed"] = result.replayed;
  log::info(result.replayed ? "notifications already queued" : "notifications queued", fields);
  if (!result.replayed && on_queued_) {
    on_queued_();
  }
  return absl::OkStatus();
}

absl::Status NotificationServiceImpl::resolve(const grpc::ServerContext& context,
                                              const v1::ResolveTokenRequest& request,
                                              v1::ResolveTokenResponse& response, nlohmann::json& fields) {
  if (!well_formed_token(request.token())) {
    return invalid_argument("token", "An email token is 40 hexadecimal characters.");
  }
  const std::string hash = token_hash(canonical_token(request.token()));
  std::optional<TokenRecord> record;
  // One SELECT: no BEGIN/COMMIT round trips (each `?et=` request comes here).
  CALNDRO_RETURN_IF_ERROR(
      stores_.database.run(call_context(context), Atomicity::kPerStatement, [&](Transaction& tx) {
        record = stores_.tokens.find_by_hash(tx, hash);
        return absl::OkStatus();
      }));
  if (!record || !constant_time_equal(record->hash, hash)) {
    log::info("unknown email token", fields);
    return absl::NotFoundError("Unknown email token.");
  }
  response.set_event_id(record->event_id);
  response.set_party_email(record->party_email);
  *response.mutable_expires() = instant_to_proto(record->expires);
  response.set_fingerprint(record->fingerprint);
  fields["event_id"] = record->event_id;
  fields["token_fingerprint"] = record->fingerprint;
  log::info("email token resolved", fields);
  return absl::OkStatus();
}

absl::Status NotificationServiceImpl::list(const grpc::ServerContext& context,
                                           const v1::ListDeliveriesRequest& request,
                                           v1::ListDeliveriesResponse& response) {
  std::vector<FieldViolation> violations;
  if (request.event_id() < 0) {
    violations.push_back({"event_id", "Must be 0 (every event) or an event id."});
  }
  const ListPage page =
      read_list_page(request.page_size(), request.page_token(), request.event_id(),
                     "Not a page token from a previous call with the same filter.", violations);
  if (!violations.empty()) {
    return invalid_argument(std::move(violations));
  }
  std::vector<DeliveryRow> rows;
  CALNDRO_RETURN_IF_ERROR(
      stores_.database.run(call_context(context), Atomicity::kReadOnly, [&](Transaction& tx) {
        rows = stores_.outbox.list(tx, request.event_id(), page.before_id, page.size + 1);
        return absl::OkStatus();
      }));
  const bool more = static_cast<int>(rows.size()) > page.size;
  rows.resize(std::min<std::size_t>(rows.size(), page.size));
  for (const DeliveryRow& row : rows) {
    fill_delivery(row, *response.add_deliveries());
  }
  if (more && !rows.empty()) {
    response.set_next_page_token(encode_page_token(request.event_id(), rows.back().id));
  }
  return absl::OkStatus();
}

}  // namespace calndro::notify
