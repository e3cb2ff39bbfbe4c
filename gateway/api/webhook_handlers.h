#pragma once

#include "gateway/api/handlers.h"
#include "gateway/api/json_mapping.h"

// The handlers of /webhooks/ (SPEC §11), their JSON in and out: translation
// only, every decision is the event service's.
namespace calndro::gateway {

Outcome create_webhook(Exchange& exchange);           // POST /webhooks/
Outcome list_webhooks(Exchange& exchange);            // GET /webhooks/
Outcome delete_webhook(Exchange& exchange);           // DELETE /webhooks/WID/
Outcome list_webhook_deliveries(Exchange& exchange);  // GET /webhooks/WID/deliveries/

// {"url": "...", "types": ["event.created", ...]} (types optional) into
// the request; what is not a string (list) into `errors`.
void webhook_request_from_json(const nlohmann::json& body, v1::CreateWebhookRequest& out,
                               FieldErrors& errors);
// {"id", "url", "types", "created_at"} and, only when the reply has it, "secret".
nlohmann::json webhook_json(const v1::Webhook& webhook);
// {"webhook_id", "type", "version", "attempt", "at", "status", "error", "message_id"}.
nlohmann::json webhook_delivery_json(const v1::WebhookDelivery& delivery);

}  // namespace calndro::gateway
