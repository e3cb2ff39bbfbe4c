#include "gateway/api/webhook_handlers.h"

#include "gateway/api/handler_answers.h"
#include "gateway/api/http_response.h"
#include "gateway/api/json_mapping.h"
#include "gateway/api/paging.h"

namespace calndro::gateway {

void webhook_request_from_json(const nlohmann::json& body, v1::CreateWebhookRequest& out,
                               FieldErrors& errors) {
  const auto url = body.find("url");
  if (url == body.end()) {
    errors.add("url", "This field is required.");
  } else if (!url->is_string()) {
    errors.add("url", "Not a valid string.");
  } else {
    out.set_url(url->get<std::string>());
  }
  const auto types = body.find("types");
  if (types == body.end() || types->is_null()) {
    return;  // all types
  }
  if (!types->is_array()) {
    errors.add("types", "Expected a list of items.");
    return;
  }
  for (std::size_t i = 0; i < types->size(); ++i) {
    if (!(*types)[i].is_string()) {
      errors.add("types", "Item " + std::to_string(i) + ": Not a valid string.");
    } else {
      out.add_types((*types)[i].get<std::string>());
    }
  }
}

nlohmann::json webhook_json(const v1::Webhook& webhook) {
  nlohmann::json out = {{"id", webhook.id()},
                        {"url", webhook.url()},
                        {"types", std::vector<std::string>(webhook.types().begin(), webhook.types().end())},
                        {"created_at", format_instant(instant_from_proto(webhook.created_at()))}};
  if (!webhook.secret().empty()) {
    out["secret"] = webhook.secret();
  }
  return out;
}

nlohmann::json webhook_delivery_json(const v1::WebhookDelivery& delivery) {
  return {{"webhook_id", delivery.webhook_id()},
          {"type", delivery.type()},
          {"version", delivery.version()},
          {"attempt", delivery.attempt()},
          {"at", format_instant(instant_from_proto(delivery.at()))},
          {"status", delivery.has_status() ? nlohmann::json(delivery.status()) : nlohmann::json()},
          {"error", delivery.has_error() ? nlohmann::json(delivery.error()) : nlohmann::json()},
          {"message_id", delivery.message_id()}};
}

Outcome create_webhook(Exchange& exchange) {
  v1::CreateWebhookRequest rpc;
  FieldErrors errors;
  webhook_request_from_json(exchange.document, rpc, errors);
  if (!errors.empty()) {
    return field_errors(errors.to_json());
  }
  v1::Webhook reply;
  return answer(exchange.client.create_webhook(exchange.meta, rpc, &reply),
                [&] { send_json(exchange.response, 201, dump(webhook_json(reply))); });
}

Outcome list_webhooks(Exchange& exchange) {
  Paging paging;
  v1::ListWebhooksRequest rpc;
  if (Outcome error = read_page(exchange, paging, rpc)) {
    return error;
  }
  v1::ListWebhooksResponse reply;
  return answer(exchange.client.list_webhooks(exchange.meta, rpc, &reply), [&] {
    nlohmann::json webhooks = nlohmann::json::array();
    for (const v1::Webhook& webhook : reply.webhooks()) {
      webhooks.push_back(webhook_json(webhook));
    }
    send_page(exchange, paging, reply.next_page_token(), dump({{"webhooks", webhooks}}));
  });
}

Outcome delete_webhook(Exchange& exchange) {
  v1::DeleteWebhookRequest rpc;
  rpc.set_id(exchange.id);
  return answer(exchange.client.delete_webhook(exchange.meta, rpc), [&] { exchange.response.status = 204; });
}

Outcome list_webhook_deliveries(Exchange& exchange) {
  Paging paging;
  v1::ListWebhookDeliveriesRequest rpc;
  rpc.set_webhook_id(exchange.id);
  if (Outcome error = read_page(exchange, paging, rpc)) {
    return error;
  }
  v1::ListWebhookDeliveriesResponse reply;
  return answer(exchange.client.list_webhook_deliveries(exchange.meta, rpc, &reply), [&] {
    nlohmann::json deliveries = nlohmann::json::array();
    for (const v1::WebhookDelivery& delivery : reply.deliveries()) {
      deliveries.push_back(webhook_delivery_json(delivery));
    }
    send_page(exchange, paging, reply.next_page_token(), dump({{"deliveries", deliveries}}));
  });
}

}  // namespace calndro::gateway
