// EventServiceImpl's reading RPCs: ListEvents, GetEvent, GetEventCalendar
// (both write a VIEW entry), GetEventLog and GetLogKey.
#include "events/event_service.h"

#include "common/rpc/rpc_call.h"
#include "events/event_calendar.h"
#include "events/event_checks.h"
#include "events/event_mapping.h"
#include "events/paging.h"

namespace calndro::events {

grpc::Status EventServiceImpl::ListEvents(grpc::ServerContext* context, const v1::ListEventsRequest* request,
                                          v1::ListEventsResponse* response) {
  // One read statement after authentication: no transaction needed.
  return serve_as_caller(
      context, "ListEvents", Atomicity::kPerStatement,
      [&](Repositories& stores, const Caller& caller) -> absl::Status {
        if (absl::Status allowed = require_allowed(Action::kList, caller); !allowed.ok()) {
          return allowed;
        }
        const auto page_request = read_page_request(request->page_size(), request->page_token());
        if (!page_request.ok()) {
          return page_request.status();
        }
        event_page_to_proto(caller.staff ? stores.events.list_all(page_request->after, page_request->limit)
                                         : stores.events.list_for_user(caller.user_id, page_request->after,
                                                                       page_request->limit),
                            caller, *response);
        return absl::OkStatus();
      });
}

grpc::Status EventServiceImpl::view_event(grpc::ServerContext* context, std::string_view method,
                                          std::int64_t id, v1::Event& out, ViewWork respond) {
  // The VIEW entry is the only write, one statement: it needs no transaction
  // around the reads before it (two round trips fewer on the commonest call).
  return serve_on_event(
      context, method, Atomicity::kPerStatement, id, {.action = Action::kDetail},
      [&](Repositories& stores, const Caller& caller, const EventRecord& event) -> absl::Status {
        event_to_proto(event, caller, out);
        // Checked before the entry is written: a refused request logs nothing.
        if (absl::Status valid = respond(out, ViewStep::kBeforeEntry); !valid.ok()) {
          return valid;
        }
        append_log(stores.events, event, Occurrence::kView, caller, nlohmann::json::object());
        return respond(out, ViewStep::kAfterEntry);
      });
}

grpc::Status EventServiceImpl::GetEvent(grpc::ServerContext* context, const v1::GetEventRequest* request,
                                        v1::Event* response) {
  return view_event(context, "GetEvent", request->id(), *response,
                    [](const v1::Event&, ViewStep) { return absl::OkStatus(); });
}

grpc::Status EventServiceImpl::GetEventCalendar(grpc::ServerContext* context,
                                                const v1::GetEventCalendarRequest* request,
                                                v1::EventCalendar* response) {
  v1::Event event;
  absl::StatusOr<v1::EventCalendar> calendar;
  return view_event(context, "GetEventCalendar", request->id(), event,
                    [&](const v1::Event& viewed, ViewStep step) -> absl::Status {
                      if (step == ViewStep::kBeforeEntry) {
                        calendar = event_calendar(viewed, options_.public_base_url, clock_.now());
                        return calendar.status();
                      }
                      *response = *std::move(calendar);
                      return absl::OkStatus();
                    });
}

grpc::Status EventServiceImpl::GetEventLog(grpc::ServerContext* context,
                                           const v1::GetEventLogRequest* request, v1::EventLog* response) {
  // Reads only: the event (for the access check and its parties), then a page.
  return serve_as_caller(
      context, "GetEventLog", Atomicity::kPerStatement,
      [&](Repositories& stores, const Caller& caller) -> absl::Status {
        const auto page_request = read_page_request(request->page_size(), request->page_token());
        if (!page_request.ok()) {
          return page_request.status();
        }
        const auto event =
            load_authorized(stores.events, request->id(),
                            {.action = Action::kReadLog, .deleted = DeletedEvent::kShownToStaff}, caller);
        if (!event.ok()) {
          return event.status();
        }
        auto page = stores.events.read_log(event->id, page_request->after, page_request->limit);
        response->Clear();
        response->set_event_id(event->id);
        for (const auto& party : event->parties) {
          response->add_parties(party);
        }
        response->mutable_entries()->Reserve(static_cast<int>(page.entries.items.size()));
        for (auto& entry : page.entries.items) {
          log_entry_to_proto(std::move(entry), *response->add_entries());
        }
        if (page.entries.next_after) {
          response->set_next_page_token(std::to_string(*page.entries.next_after));
        }
        if (page.head) {
          log_head_to_proto(*page.head, *response->mutable_head());
        }
        return absl::OkStatus();
      });
}

grpc::Status EventServiceImpl::GetLogKey(grpc::ServerContext* context,
                                         const v1::GetLogKeyRequest* /*request*/, v1::LogKey* response) {
  return serve_rpc(*context, "GetLogKey", [&] {
    *response = options_.log_key;
    return absl::OkStatus();
  });
}

}  // namespace calndro::events
