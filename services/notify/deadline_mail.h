#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calndro/notify/v1/notify.pb.h"
#include "common/grpc/rich_status.h"
#include "notify/mail_composer.h"

// The deadline mails of SPEC §9 in the notification service: a reminder to a
// party that has not answered, the summary to the creator once answers
// closed. QueueNotificationsRequest.deadline validated, kept in a queued
// mail's content, and written as the mail's text.
namespace calndro::notify {

// QueueNotificationsRequest.deadline into `out.deadline`, or violations of
// "deadline" (with a calendar too), "deadline.kind",
// "deadline.respond_by", "deadline.tally" and "deadline.best_slot".
void check_deadline(const v1::QueueNotificationsRequest& request, MailRequest& out,
                    std::vector<FieldViolation>& violations);

// The "deadline" member of a queued mail's content (outbox.h), also what
// QueueNotifications hashes: {"kind": "reminder"|"summary", "respond_by":
// epoch_us, "tally": [[begin_us, duration_us, yes, maybe, no, pending], ...],
// "best_slot": [begin_us, duration_us] or null}.
nlohmann::json encode_deadline_json(const DeadlineRequest& deadline);
// nullopt for an unknown kind; throws nlohmann::json::exception when a field
// is missing or mistyped.
std::optional<DeadlineRequest> decode_deadline_json(const nlohmann::json& json);

// The text of a reminder (who asks, by when, the link, the slots) or of the
// summary (the tally, the best slot, the link to agree).
std::string deadline_text(const MailSettings& settings, const MailRequest& request, std::string_view token,
                          Instant token_expires);

}  // namespace calndro::notify
