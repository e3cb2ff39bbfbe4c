#include "notify/notification_service.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/email.h"
#include "common/log.h"
#include "common/rich_status.h"
#include "notify/db_retry.h"
#include "notify/outbox.h"
#include "notify/token_store.h"

namespace calndro::notify {
namespace {

constexpr const char* kInternalHeader = "x-calndro-internal";
constexpr const char* kRequestIdHeader = "x-request-id";
constexpr std::int64_t kMinSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr std::int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z

std::string metadata(const grpc::ServerContext& context, const char* key) {
  const auto& all = context.client_metadata();
  const auto found = all.find(key);
  if (found == all.end()) {
    return {};
  }
  return std::string(found->second.data(), found->second.size());
}

// Fields every log line about a call carries.
nlohmann::json call_fields(const grpc::ServerContext& context, const char* rpc) {
  std::string request_id = metadata(context, kRequestIdHeader);
  if (request_id.size() > 128) {
    request_id.resize(128);
  }
  return {{"rpc", rpc}, {"request_id", request_id}};
}

google::protobuf::Timestamp to_proto(Instant instant) {
  const auto micros = instant.time_since_epoch().count();
  std::int64_t seconds = micros / 1000000;
  std::int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  google::protobuf::Timestamp out;
  out.set_seconds(seconds);
  out.set_nanos(static_cast<std::int32_t>(rest * 1000));
  return out;
}

std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) {
    count += (c & 0xc0) != 0x80 ? 1 : 0;
  }
  return count;
}

// Runs `body`, mapping failures to statuses: the caller learns that the
// database is down (UNAVAILABLE: retry) but never the SQL or the exception.
template <typename Body>
grpc::Status guarded(const nlohmann::json& fields, Body&& body) {
  try {
    return body();
  } catch (const DatabaseUnavailable& unavailable) {
    nlohmann::json log_fields = fields;
    log_fields["error"] = unavailable.what();
    log::warn("database unavailable", log_fields);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "The database is unavailable; try again.");
  } catch (const pqxx::broken_connection& broken) {
    nlohmann::json log_fields = fields;
    log_fields["error"] = broken.what();
    log::warn("database connection lost", log_fields);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "The database is unavailable; try again.");
  } catch (const std::exception& error) {
    nlohmann::json log_fields = fields;
    log_fields["error"] = error.what();
    log::error("internal error", log_fields);
    return grpc::Status(grpc::StatusCode::INTERNAL, "Internal error.");
  }
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

}  // namespace

grpc::Status validate_queue_request(const v1::QueueNotificationsRequest& request,
                                    ValidatedQueueRequest& out) {
  std::vector<FieldViolation> violations;
  if (request.request_id().empty()) {
    violations.push_back({"request_id", "A request id is required."});
  } else if (request.request_id().size() > kMaxRequestIdLength) {
    violations.push_back({"request_id", "The request id is longer than 256 characters."});
  }
  if (request.event_id() <= 0) {
    violations.push_back({"event_id", "The event id must be a positive number."});
  }
  if (code_points(request.event_title()) > kMaxTitleLength) {
    violations.push_back({"event_title", "The title is longer than 256 characters."});
  }
  if (request.recipients().empty()) {
    violations.push_back({"recipients", "Name at least one recipient."});
  } else if (request.recipients_size() > kMaxRecipients) {
    violations.push_back({"recipients", "At most 100 recipients per request."});
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
  if (request.slots_size() > kMaxSlots) {
    violations.push_back({"slots", "At most 30 slots per request."});
  } else {
    for (const auto& slot : request.slots()) {
      const auto& begin = slot.begin();
      const auto& duration = slot.duration();
      if (begin.seconds() < kMinSeconds || begin.seconds() > kMaxSeconds || begin.nanos() < 0 ||
          begin.nanos() > 999999999) {
        violations.push_back({"slots", "A slot begins outside years 1 to 9999."});
        continue;
      }
      if (duration.seconds() < 0 || duration.nanos() < 0 || duration.nanos() > 999999999 ||
          duration.seconds() > std::chrono::duration_cast<std::chrono::seconds>(kMaxSlotDuration).count()) {
        violations.push_back({"slots", "A slot's duration must be positive and at most 366 days."});
        continue;
      }
      const Micros length(duration.seconds() * 1000000 + duration.nanos() / 1000);
      if (length <= Micros(0) || length > kMaxSlotDuration) {
        violations.push_back({"slots", "A slot's duration must be positive and at most 366 days."});
        continue;
      }
      out.mail.slots.push_back({Instant(Micros(begin.seconds() * 1000000 + begin.nanos() / 1000)), length});
    }
  }
  if (!request.link_base_url().empty() && !valid_link_base(request.link_base_url())) {
    violations.push_back({"link_base_url", "Must be an http(s) URL without query or fragment."});
  }
  if (!violations.empty()) {
    return to_grpc_status(invalid_argument(std::move(violations)));
  }
  out.request_id = request.request_id();
  out.mail.event_id = request.event_id();
  out.mail.title = request.event_title();
  out.mail.invitation = request.invitation();
  out.mail.link_base_url = request.link_base_url();

  nlohmann::json canonical = {{"event_id", out.mail.event_id},     {"title", out.mail.title},
                              {"sender", out.mail.sender},         {"recipients", out.recipients},
                              {"invitation", out.mail.invitation}, {"link_base_url", out.mail.link_base_url}};
  nlohmann::json slots = nlohmann::json::array();
  for (const auto& slot : out.mail.slots) {
    slots.push_back({slot.begin.time_since_epoch().count(), slot.duration.count()});
  }
  canonical["slots"] = slots;
  out.content_hash = sha256_hex(canonical.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return grpc::Status::OK;
}

std::string trusted_link_base(const MailSettings& mail, const AllowedHosts& allowed,
                              std::string_view request_base, bool& refused) {
  refused = false;
  if (!mail.public_base_url.empty() || request_base.empty()) {
    return choose_link_base(mail, "");
  }
  const std::optional<std::string> host = host_of_url(request_base);
  if (host && allowed.allows(*host)) {
    return choose_link_base(mail, request_base);
  }
  refused = true;
  return choose_link_base(mail, "");
}

std::string encode_page_token(std::int64_t event_id, std::int64_t last_id) {
  const std::string raw = "v1:" + std::to_string(event_id) + ":" + std::to_string(last_id);
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

bool decode_page_token(const std::string& token, std::int64_t event_id, std::int64_t& last_id) {
  if (token.size() > 128) {
    return false;
  }
  std::string raw(token.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), token.data(), token.size(),
                        nullptr, &length, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return false;
  }
  raw.resize(length);
  const std::string prefix = "v1:" + std::to_string(event_id) + ":";
  if (!raw.starts_with(prefix)) {
    return false;
  }
  const std::string number = raw.substr(prefix.size());
  if (number.empty() || number.size() > 18 || number.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  last_id = std::stoll(number);
  return last_id > 0;
}

NotificationServiceImpl::NotificationServiceImpl(DbPool& pool, ServiceSettings settings,
                                                 std::function<void()> on_queued)
    : pool_(pool), settings_(std::move(settings)), on_queued_(std::move(on_queued)) {}

grpc::Status NotificationServiceImpl::authorize(const grpc::ServerContext& context) const {
  const auto& all = context.client_metadata();
  const auto found = all.find(kInternalHeader);
  if (found == all.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "The internal credential (metadata x-calndro-internal) is missing.");
  }
  const std::string_view offered(found->second.data(), found->second.size());
  if (!constant_time_equal(sha256_hex(offered), sha256_hex(settings_.internal_token))) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "The internal credential is wrong.");
  }
  return grpc::Status::OK;
}

grpc::Status NotificationServiceImpl::QueueNotifications(grpc::ServerContext* context,
                                                         const v1::QueueNotificationsRequest* request,
                                                         v1::QueueNotificationsResponse* response) {
  nlohmann::json fields = call_fields(*context, "QueueNotifications");
  if (grpc::Status denied = authorize(*context); !denied.ok()) {
    fields["code"] = static_cast<int>(denied.error_code());
    log::warn("call refused", fields);
    return denied;
  }
  ValidatedQueueRequest valid;
  if (grpc::Status invalid = validate_queue_request(*request, valid); !invalid.ok()) {
    fields["error"] = invalid.error_message();
    log::info("invalid request", fields);
    return invalid;
  }
  fields["idempotency_key"] = valid.request_id;
  fields["event_id"] = valid.mail.event_id;
  bool refused_base = false;
  valid.mail.link_base_url =
      trusted_link_base(settings_.mail, settings_.allowed_hosts, valid.mail.link_base_url, refused_base);
  if (refused_base) {
    // The host only: validation already refused a query, and a path adds nothing.
    nlohmann::json refused = fields;
    refused["link_host"] = host_of_url(request->link_base_url()).value_or("(malformed)");
    refused["link_base"] = valid.mail.link_base_url;
    log::warn("link_base_url names a host that is not allowed; using the default base", refused);
  }

  return guarded(fields, [&]() -> grpc::Status {
    const std::string from =
        valid.mail.sender.empty() ? mailbox_text(settings_.mail.default_from) : valid.mail.sender;
    bool replayed = false;
    bool conflict = false;
    std::vector<QueuedMail> mails = run_with_fresh_connections(pool_, [&](pqxx::connection& connection) {
      replayed = false;
      conflict = false;
      std::vector<QueuedMail> queued;
      pqxx::work tx(connection);
      if (!Outbox::insert_request(tx, valid.request_id, valid.mail.event_id, valid.content_hash)) {
        replayed = true;
        const auto stored = Outbox::request_content_hash(tx, valid.request_id);
        if (!stored || !constant_time_equal(*stored, valid.content_hash)) {
          conflict = true;
          return queued;
        }
        queued = Outbox::queued_for_request(tx, valid.request_id);
        tx.commit();
        return queued;
      }
      // No token yet: the dispatcher mints it when it sends the mail, so the
      // outbox never holds one (SPEC §6).
      const std::string subject = compose_subject(settings_.mail, valid.mail);
      for (const std::string& recipient : valid.recipients) {
        const std::int64_t mail_id =
            Outbox::enqueue(tx, valid.request_id, valid.mail.event_id, recipient, from, subject, valid.mail);
        queued.push_back({mail_id, recipient});
      }
      tx.commit();
      return queued;
    });
    if (conflict) {
      log::warn("request id reused for a different request", fields);
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                          "This request_id was already used for a different notification request.");
    }
    nlohmann::json ids = nlohmann::json::array();
    for (const QueuedMail& mail : mails) {
      auto* out = response->add_mails();
      out->set_mail_id(mail.mail_id);
      out->set_recipient(mail.recipient);
      ids.push_back(mail.mail_id);
    }
    fields["mail_ids"] = ids;
    fields["replayed"] = replayed;
    log::info(replayed ? "notifications already queued" : "notifications queued", fields);
    if (!replayed && on_queued_) {
      on_queued_();
    }
    return grpc::Status::OK;
  });
}

grpc::Status NotificationServiceImpl::ResolveToken(grpc::ServerContext* context,
                                                   const v1::ResolveTokenRequest* request,
                                                   v1::ResolveTokenResponse* response) {
  nlohmann::json fields = call_fields(*context, "ResolveToken");
  if (grpc::Status denied = authorize(*context); !denied.ok()) {
    fields["code"] = static_cast<int>(denied.error_code());
    log::warn("call refused", fields);
    return denied;
  }
  if (!well_formed_token(request->token())) {
    return to_grpc_status(invalid_argument("token", "An email token is 40 hexadecimal characters."));
  }
  const std::string hash = token_hash(canonical_token(request->token()));
  return guarded(fields, [&]() -> grpc::Status {
    std::optional<TokenRecord> record = run_with_fresh_connections(pool_, [&](pqxx::connection& connection) {
      // One SELECT: no BEGIN/COMMIT round trips (each `?et=` request comes here).
      pqxx::nontransaction statement(connection);
      return TokenStore::find_by_hash(statement, hash);
    });
    if (!record || !constant_time_equal(record->hash, hash)) {
      log::info("unknown email token", fields);
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "Unknown email token.");
    }
    response->set_event_id(record->event_id);
    response->set_party_email(record->party_email);
    *response->mutable_expires() = to_proto(record->expires);
    response->set_fingerprint(record->fingerprint);
    fields["event_id"] = record->event_id;
    fields["token_fingerprint"] = record->fingerprint;
    log::info("email token resolved", fields);
    return grpc::Status::OK;
  });
}

grpc::Status NotificationServiceImpl::ListDeliveries(grpc::ServerContext* context,
                                                     const v1::ListDeliveriesRequest* request,
                                                     v1::ListDeliveriesResponse* response) {
  nlohmann::json fields = call_fields(*context, "ListDeliveries");
  if (grpc::Status denied = authorize(*context); !denied.ok()) {
    fields["code"] = static_cast<int>(denied.error_code());
    log::warn("call refused", fields);
    return denied;
  }
  std::vector<FieldViolation> violations;
  if (request->event_id() < 0) {
    violations.push_back({"event_id", "Must be 0 (every event) or an event id."});
  }
  if (request->page_size() < 0) {
    violations.push_back({"page_size", "Must not be negative."});
  }
  std::int64_t before_id = 0;
  if (!request->page_token().empty() &&
      !decode_page_token(request->page_token(), request->event_id(), before_id)) {
    violations.push_back({"page_token", "Not a page token from a previous call with the same filter."});
  }
  if (!violations.empty()) {
    return to_grpc_status(invalid_argument(std::move(violations)));
  }
  const int page_size =
      request->page_size() == 0 ? kDefaultPageSize : std::min(request->page_size(), kMaxPageSize);
  return guarded(fields, [&]() -> grpc::Status {
    std::vector<DeliveryRow> rows = run_with_fresh_connections(pool_, [&](pqxx::connection& connection) {
      pqxx::read_transaction tx(connection);
      return Outbox::list(tx, request->event_id(), before_id, page_size + 1);
    });
    const bool more = static_cast<int>(rows.size()) > page_size;
    if (more) {
      rows.resize(page_size);
    }
    for (const DeliveryRow& row : rows) {
      auto* out = response->add_deliveries();
      out->set_mail_id(row.id);
      out->set_event_id(row.event_id);
      out->set_recipient(row.recipient);
      out->set_subject(row.subject);
      out->set_state(to_proto(row.state));
      out->set_attempts(row.attempts);
      out->set_last_error(row.last_error);
      *out->mutable_queued_at() = to_proto(row.queued_at);
      if (row.sent_at) {
        *out->mutable_sent_at() = to_proto(*row.sent_at);
      }
      if (row.state == MailState::kQueued) {
        *out->mutable_next_attempt_at() = to_proto(row.next_attempt_at);
      }
    }
    if (more && !rows.empty()) {
      response->set_next_page_token(encode_page_token(request->event_id(), rows.back().id));
    }
    return grpc::Status::OK;
  });
}

}  // namespace calndro::notify
