#include "gateway/api/handlers.h"

#include <google/protobuf/arena.h>

#include <array>

#include "gateway/api/event_stream.h"
#include "gateway/api/handler_answers.h"
#include "gateway/api/http_response.h"
#include "gateway/api/idempotency_key.h"
#include "gateway/api/json_mapping.h"
#include "gateway/api/openapi.h"
#include "gateway/api/paging.h"
#include "gateway/api/poll_mapping.h"
#include "gateway/api/preconditions.h"
#include "gateway/api/webhook_handlers.h"
#include "gateway/web/web_page.h"

namespace calndro::gateway {

namespace {

// A page's reply is hundreds of small strings and messages (a log entry's
// `data` is a Struct: a map node per key): parsed into one arena, they are
// freed at once instead of one by one (malloc and free were a quarter of the
// gateway's samples in a profile of the log page).
template <typename Message>
class ArenaReply {
 public:
  Message* operator->() { return message_; }
  Message& operator*() { return *message_; }
  Message* get() { return message_; }

 private:
  google::protobuf::Arena arena_;
  Message* message_ = google::protobuf::Arena::CreateMessage<Message>(&arena_);
};

// The answer to a write that may name the version it expects: a stale one
// is 412 with the current event.
template <typename Write>
Outcome answer_write(const Exchange& exchange, const grpc::Status& status, Write on_success) {
  if (Outcome stale = precondition_failed(status, exchange.base)) {
    return stale;
  }
  return answer(status, on_success);
}

// Answers the event a call returned, with its ETag, with `http_status`.
Outcome answer_event_reply(Exchange& exchange, const grpc::Status& status, const v1::Event& reply,
                           int http_status) {
  return answer_write(exchange, status, [&] {
    exchange.response.set_header("ETag", etag_of(reply.version()));
    send_json(exchange.response, http_status, event_body(reply, exchange.base));
  });
}

// Calls `method` and answers the event it returns (answer_event_reply).
template <typename Rpc>
Outcome answer_event(Exchange& exchange,
                     grpc::Status (EventClient::*method)(const CallMetadata&, const Rpc&, v1::Event*),
                     const Rpc& rpc, int http_status) {
  v1::Event reply;
  return answer_event_reply(exchange, (exchange.client.*method)(exchange.meta, rpc, &reply), reply,
                            http_status);
}

// As answer_event(), for a call that may be a replay of an earlier one with
// the same Idempotency-Key: the answer says so (mark_replayed).
template <typename Rpc>
Outcome answer_idempotent_event(Exchange& exchange,
                                grpc::Status (EventClient::*method)(const CallMetadata&, const Rpc&,
                                                                    v1::Event*, CallInfo*),
                                const Rpc& rpc, int http_status) {
  v1::Event reply;
  CallInfo info;
  const grpc::Status status = (exchange.client.*method)(exchange.meta, rpc, &reply, &info);
  mark_replayed(exchange.response, info);
  return answer_event_reply(exchange, status, reply, http_status);
}

// The request's Idempotency-Key into the rpc's request_id (idempotency.h).
template <typename Rpc>
Outcome read_request_id(const Exchange& exchange, Rpc& rpc) {
  std::string key;
  if (Outcome error = read_idempotency_key(exchange.request, key)) {
    return error;
  }
  rpc.set_request_id(key);
  return std::nullopt;
}

// The request's If-Match into the rpc's expected_version.
template <typename Rpc>
Outcome read_precondition(const Exchange& exchange, Rpc& rpc) {
  if (!exchange.request.has_header(kIfMatch)) {
    return std::nullopt;
  }
  std::optional<std::int64_t> expected;
  if (Outcome error = read_if_match(exchange.request.get_header_value(kIfMatch), expected)) {
    return error;
  }
  if (expected) {
    rpc.set_expected_version(*expected);
  }
  return std::nullopt;
}

// A write on the event the path names, without a body: its id, and
// If-Match into the rpc's expected_version.
template <typename Rpc>
Outcome read_event_write(const Exchange& exchange, Rpc& rpc) {
  rpc.set_id(exchange.id);
  return read_precondition(exchange, rpc);
}

// The request's body into `rpc` by `parse` (json_mapping.h); its field errors.
template <typename Rpc, typename Parse>
Outcome from_body(const Exchange& exchange, Rpc& rpc, Parse parse) {
  FieldErrors errors;
  parse(exchange.document, rpc, errors);
  return errors.empty() ? Outcome() : field_errors(errors.to_json());
}

Outcome health(Exchange& exchange) {
  send_json(exchange.response, 200, R"({"status":"ok"})");
  return std::nullopt;
}

Outcome ready(Exchange& exchange) {
  if (exchange.options.readiness == nullptr) {
    send_json(exchange.response, 200, R"({"status":"ready"})");
    return std::nullopt;
  }
  const Readiness readiness = exchange.options.readiness->check();
  send_json(exchange.response, readiness.ready ? 200 : 503, dump(readiness.body));
  return std::nullopt;
}

Outcome openapi(Exchange& exchange) {
  send_json(exchange.response, 200, std::string(openapi_document()));
  return std::nullopt;
}

Outcome static_asset(Exchange& exchange) {
  send_asset(exchange.response, *find_static_asset(exchange.request.path));
  return std::nullopt;
}

Outcome list_events(Exchange& exchange) {
  Paging paging;
  v1::ListEventsRequest rpc;
  if (Outcome error = read_page(exchange, paging, rpc)) {
    return error;
  }
  ArenaReply<v1::ListEventsResponse> reply;
  return answer(exchange.client.list_events(exchange.meta, rpc, reply.get()), [&] {
    send_page(exchange, paging, reply->next_page_token(), event_list_body(reply->events(), exchange.base));
  });
}

Outcome create_event(Exchange& exchange) {
  v1::CreateEventRequest rpc;
  if (Outcome error = from_body(exchange, rpc, create_request_from_json)) {
    return error;
  }
  if (Outcome error = read_request_id(exchange, rpc)) {
    return error;
  }
  return answer_idempotent_event(exchange, &EventClient::create_event, rpc, 201);
}

Outcome get_event(Exchange& exchange) {
  v1::GetEventRequest rpc;
  rpc.set_id(exchange.id);
  return answer_event(exchange, &EventClient::get_event, rpc, 200);
}

Outcome update_event(Exchange& exchange) {
  v1::UpdateEventRequest rpc;
  rpc.set_id(exchange.id);
  bool any = false;
  const auto parse = [&any](const nlohmann::json& body, v1::UpdateEventRequest& out, FieldErrors& errors) {
    any = update_request_from_json(body, out, errors);
  };
  if (Outcome error = from_body(exchange, rpc, parse)) {
    return error;
  }
  if (Outcome error = read_precondition(exchange, rpc)) {
    return error;
  }
  if (!any) {
    // Answered here, so that nothing can be logged for it.
    return detail_error(400, "Provide slots, title, respond_by and/or remind_before.");
  }
  return answer_event(exchange, &EventClient::update_event, rpc, 202);
}

Outcome delete_event(Exchange& exchange) {
  v1::DeleteEventRequest rpc;
  if (Outcome error = read_event_write(exchange, rpc)) {
    return error;
  }
  return answer_write(exchange, exchange.client.delete_event(exchange.meta, rpc),
                      [&] { exchange.response.status = 204; });
}

// A write on the event that mails its parties: the body, If-Match and
// Idempotency-Key. The links in the mails are the notification service's
// to build (from its own public base URL): the Host stays here.
template <typename Rpc, typename Parse>
Outcome read_mailing_write(Exchange& exchange, Rpc& rpc, Parse parse) {
  rpc.set_id(exchange.id);
  if (Outcome error = from_body(exchange, rpc, parse)) {
    return error;
  }
  if (Outcome error = read_precondition(exchange, rpc)) {
    return error;
  }
  return read_request_id(exchange, rpc);
}

Outcome notify_parties(Exchange& exchange) {
  v1::NotifyPartiesRequest rpc;
  if (Outcome error = read_mailing_write(exchange, rpc, notify_request_from_json)) {
    return error;
  }
  v1::NotifyPartiesResponse reply;
  CallInfo info;
  const grpc::Status status = exchange.client.notify_parties(exchange.meta, rpc, &reply, &info);
  mark_replayed(exchange.response, info);
  return answer_write(exchange, status, [&] {
    send_json(exchange.response, 202, notify_response_body(reply, exchange.id, exchange.base));
  });
}

Outcome agree_event(Exchange& exchange) {
  v1::AgreeEventRequest rpc;
  if (Outcome error = read_mailing_write(exchange, rpc, agree_request_from_json)) {
    return error;
  }
  return answer_idempotent_event(exchange, &EventClient::agree_event, rpc, 200);
}

Outcome reopen_event(Exchange& exchange) {
  v1::ReopenEventRequest rpc;
  if (Outcome error = read_event_write(exchange, rpc)) {
    return error;
  }
  return answer_event(exchange, &EventClient::reopen_event, rpc, 200);
}

Outcome answer_slots(Exchange& exchange) {
  v1::AnswerSlotsRequest rpc;
  rpc.set_id(exchange.id);
  if (Outcome error = from_body(exchange, rpc, answers_request_from_json)) {
    return error;
  }
  if (Outcome error = read_precondition(exchange, rpc)) {
    return error;
  }
  return answer_event(exchange, &EventClient::answer_slots, rpc, 200);
}

Outcome get_event_log(Exchange& exchange) {
  Paging paging;
  v1::GetEventLogRequest rpc;
  rpc.set_id(exchange.id);
  if (Outcome error = read_page(exchange, paging, rpc)) {
    return error;
  }
  ArenaReply<v1::EventLog> reply;
  return answer(exchange.client.get_event_log(exchange.meta, rpc, reply.get()), [&] {
    send_page(exchange, paging, reply->next_page_token(), event_log_body(*reply, exchange.id, exchange.base));
  });
}

// A file name fit for a quoted Content-Disposition parameter: the service's
// when it is plain, else one made here.
std::string attachment_name(const std::string& offered, std::int64_t id) {
  const bool plain =
      !offered.empty() && offered.size() <= 64 &&
      offered.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
          std::string::npos;
  return plain ? offered : "calndro-" + std::to_string(id) + ".ics";
}

Outcome get_event_calendar(Exchange& exchange) {
  v1::GetEventCalendarRequest rpc;
  rpc.set_id(exchange.id);
  v1::EventCalendar reply;
  return answer(exchange.client.get_event_calendar(exchange.meta, rpc, &reply), [&] {
    exchange.response.status = 200;
    exchange.response.set_header(
        "Content-Disposition",
        "attachment; filename=\"" + attachment_name(reply.file_name(), exchange.id) + "\"");
    exchange.response.set_content(reply.ics(), "text/calendar; charset=utf-8");
  });
}

Outcome create_api_token(Exchange& exchange) {
  v1::CreateApiTokenRequest rpc;
  if (Outcome error = from_body(exchange, rpc, api_token_request_from_json)) {
    return error;
  }
  v1::CreateApiTokenResponse reply;
  return answer(exchange.client.create_api_token(exchange.meta, rpc, &reply), [&] {
    nlohmann::json body{{"token", reply.token()}};
    if (reply.has_expires()) {
      body["expires"] = format_instant(instant_from_proto(reply.expires()));
    }
    send_json(exchange.response, 200, dump(body));
  });
}

Outcome revoke_api_token(Exchange& exchange) {
  return answer(exchange.client.revoke_api_token(exchange.meta, v1::RevokeApiTokenRequest()),
                [&] { exchange.response.status = 204; });
}

Outcome get_log_key(Exchange& exchange) {
  v1::LogKey reply;
  return answer(exchange.client.get_log_key(exchange.meta, &reply), [&] {
    send_json(exchange.response, 200,
              dump({{"alg", reply.alg()}, {"key_id", reply.key_id()}, {"public_key", reply.public_key()}}));
  });
}

// A route's handlers, one per method it takes (route_table.cc's Allow).
struct RouteHandlers {
  Route route;
  std::array<HandlerSpec, 3> methods;  // unused places have no handler
};

constexpr RouteHandlers kHandlers[] = {
    {Route::kEvents, {{{"GET", Needs::kCall, &list_events}, {"POST", Needs::kCall, &create_event}}}},
    {Route::kHealth, {{{"GET", Needs::kNothing, &health}}}},
    {Route::kReady, {{{"GET", Needs::kNothing, &ready}}}},
    {Route::kOpenApi, {{{"GET", Needs::kNothing, &openapi}}}},
    {Route::kApiToken,
     {{{"POST", Needs::kCall, &create_api_token}, {"DELETE", Needs::kCall, &revoke_api_token}}}},
    {Route::kStatic, {{{"GET", Needs::kNothing, &static_asset}}}},
    {Route::kLogKey, {{{"GET", Needs::kCall, &get_log_key}}}},
    {Route::kEvent,
     {{{"GET", Needs::kPageOrCall, &get_event},
       {"PATCH", Needs::kCall, &update_event},
       {"DELETE", Needs::kCall, &delete_event}}}},
    {Route::kNotify, {{{"POST", Needs::kCall, &notify_parties}}}},
    {Route::kLog, {{{"GET", Needs::kPageOrCall, &get_event_log}}}},
    {Route::kAgree, {{{"POST", Needs::kCall, &agree_event}}}},
    {Route::kReopen, {{{"POST", Needs::kCall, &reopen_event}}}},
    {Route::kAnswers, {{{"PUT", Needs::kCall, &answer_slots}}}},
    {Route::kCalendar, {{{"GET", Needs::kCall, &get_event_calendar}}}},
    {Route::kChanges, {{{"GET", Needs::kCall, &watch_changes}}}},
    {Route::kWebhooks, {{{"GET", Needs::kCall, &list_webhooks}, {"POST", Needs::kCall, &create_webhook}}}},
    {Route::kWebhook, {{{"DELETE", Needs::kCall, &delete_webhook}}}},
    {Route::kWebhookDeliveries, {{{"GET", Needs::kCall, &list_webhook_deliveries}}}},
};

}  // namespace

const HandlerSpec* find_handler(Route route, std::string_view method) {
  for (const RouteHandlers& row : kHandlers) {
    if (row.route != route) {
      continue;
    }
    for (const HandlerSpec& spec : row.methods) {
      if (spec.handler != nullptr && spec.method == method) {
        return &spec;
      }
    }
  }
  return nullptr;
}

}  // namespace calndro::gateway
