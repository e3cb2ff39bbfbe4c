#include "events/event_service.h"

#include <charconv>
#include <chrono>

#include "common/email.h"
#include "common/grpc_channel.h"
#include "common/log.h"
#include "common/rich_status.h"
#include "events/request_validation.h"
#include "events/rpc_error.h"
#include "events/title_generator.h"
#include "events/user_store.h"

namespace calndro::events {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
const char* kNotFound = "Not found.";
const char* kForbidden = "You do not have permission to perform this action.";

std::optional<std::string> metadata_value(const grpc::ServerContext& context, const char* key) {
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find(key);
  if (found == metadata.end()) {
    return std::nullopt;
  }
  return std::string(found->second.data(), found->second.size());
}

Credentials read_credentials(const grpc::ServerContext& context) {
  Credentials credentials;
  credentials.authorization = metadata_value(context, "authorization");
  credentials.email_token = metadata_value(context, "x-email-token");
  credentials.request_id = metadata_value(context, "x-request-id").value_or("");
  if (credentials.request_id.size() > 128) {
    credentials.request_id.resize(128);
  }
  // The gateway sends the HTTP client's address; a direct gRPC caller is
  // keyed by its own peer address.
  std::optional<std::string> address;
  if (const auto forwarded = metadata_value(context, "x-calndro-client-addr")) {
    address = client_address_key(*forwarded);
  }
  if (!address) {
    address = client_address_key(context.peer());
  }
  credentials.client_address = address.value_or("unknown");
  return credentials;
}

void event_to_proto(const EventRecord& event, v1::Event& out) {
  out.Clear();
  out.set_id(event.id);
  out.set_title(event.title);
  for (const auto& party : event.parties) {
    out.add_parties(party);
  }
  for (const auto& slot : event.slots) {
    slot_to_proto(slot, *out.add_slots());
  }
}

void check_event_id(std::int64_t id) {
  if (id <= 0) {
    throw RpcError(grpc::StatusCode::NOT_FOUND, kNotFound);
  }
}

struct PageRequest {
  std::int64_t after = 0;
  int limit = kDefaultPageSize;
};

PageRequest read_page_request(int page_size, const std::string& page_token) {
  std::vector<FieldViolation> violations;
  PageRequest page;
  if (page_size < 0 || page_size > kMaxPageSize) {
    violations.push_back({"limit", "Must be a whole number from 1 to 1000."});
  } else if (page_size > 0) {
    page.limit = page_size;
  }
  if (!page_token.empty()) {
    const auto* end = page_token.data() + page_token.size();
    const auto [ptr, ec] = std::from_chars(page_token.data(), end, page.after);
    if (ec != std::errc() || ptr != end || page.after <= 0) {
      violations.push_back({"after", "Invalid cursor; use the one from the previous page's Link header."});
    }
  }
  if (!violations.empty()) {
    throw RpcError(invalid_argument(std::move(violations)));
  }
  return page;
}

void occurrence_to_proto(Occurrence occurrence, v1::LogEntry& out) {
  switch (occurrence) {
    case Occurrence::Update:
      out.set_occurrence(v1::OCCURRENCE_UPDATE);
      break;
    case Occurrence::Notify:
      out.set_occurrence(v1::OCCURRENCE_NOTIFY);
      break;
    case Occurrence::View:
      out.set_occurrence(v1::OCCURRENCE_VIEW);
      break;
  }
}

// nlohmann → google.protobuf.Value, for the log entries' `data`.
void json_to_value(const nlohmann::json& in, google::protobuf::Value& out) {
  if (in.is_null()) {
    out.set_null_value(google::protobuf::NULL_VALUE);
  } else if (in.is_boolean()) {
    out.set_bool_value(in.get<bool>());
  } else if (in.is_number()) {
    out.set_number_value(in.get<double>());
  } else if (in.is_string()) {
    out.set_string_value(in.get<std::string>());
  } else if (in.is_array()) {
    auto* list = out.mutable_list_value();
    for (const auto& item : in) {
      json_to_value(item, *list->add_values());
    }
  } else {
    auto* fields = out.mutable_struct_value()->mutable_fields();
    for (const auto& [key, value] : in.items()) {
      json_to_value(value, (*fields)[key]);
    }
  }
}

// Runs the write statement of an Atomicity::PerStatement call. If the
// connection breaks during it, it may or may not have committed: that is
// not the "nothing happened" on which the pool runs the call again.
template <typename Write>
void committing_on_its_own(Write&& write) {
  try {
    write();
  } catch (const pqxx::broken_connection& error) {
    throw pqxx::in_doubt_error(error.what());
  }
}

// What a log entry's `data` holds: the action's own fields, and for a caller
// with an email token that token's fingerprint (never the token).
nlohmann::json log_data(const Caller& caller, nlohmann::json data) {
  if (caller.uses_email_token()) {
    data["token"] = caller.token_fingerprint;
  }
  return data;
}

}  // namespace

EventServiceImpl::EventServiceImpl(DbPool& pool, Authenticator& authenticator,
                                   NotificationClient& notifications, const Clock& clock,
                                   RandomSource& random, EventServiceOptions options)
    : pool_(pool),
      authenticator_(authenticator),
      notifications_(notifications),
      clock_(clock),
      random_(random),
      options_(options) {}

grpc::Status EventServiceImpl::guarded(grpc::ServerContext* context, const char* method,
                                       const std::function<void(const Credentials&)>& body) {
  const auto started = std::chrono::steady_clock::now();
  const Credentials credentials = read_credentials(*context);
  grpc::Status status;
  try {
    body(credentials);
  } catch (const RpcError& error) {
    status = error.status();
  } catch (const DatabaseUnavailable& error) {
    log::error("database unavailable",
               {{"method", method}, {"request_id", credentials.request_id}, {"error", error.what()}});
    status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "The database is unavailable; try again later.");
  } catch (const pqxx::broken_connection& error) {
    log::error("database connection lost", {{"method", method}, {"request_id", credentials.request_id}});
    status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "The database is unavailable; try again later.");
  } catch (const pqxx::in_doubt_error& error) {
    log::error("commit in doubt", {{"method", method}, {"request_id", credentials.request_id}});
    status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "The database connection broke during commit; check "
                          "the result before retrying.");
  } catch (const std::exception& error) {
    // The caller learns nothing of SQL or internals; the log has the detail.
    log::error("internal error",
               {{"method", method}, {"request_id", credentials.request_id}, {"error", error.what()}});
    status = grpc::Status(grpc::StatusCode::INTERNAL, "Internal error.");
  }
  const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  log::info("rpc", {{"method", method},
                    {"code", static_cast<int>(status.error_code())},
                    {"request_id", credentials.request_id},
                    {"duration_ms", elapsed.count()}});
  return status;
}

void EventServiceImpl::in_connection(Atomicity atomicity,
                                     const std::function<void(pqxx::transaction_base&)>& work) {
  pool_.run([&](pqxx::connection& connection) {
    if (atomicity == Atomicity::PerStatement) {
      pqxx::nontransaction statements(connection);
      work(statements);
      return;
    }
    pqxx::work tx(connection);
    work(tx);
    tx.commit();
  });
}

grpc::Status EventServiceImpl::run(grpc::ServerContext* context, const char* method, Atomicity atomicity,
                                   const Work& work) {
  return guarded(context, method, [&](const Credentials& credentials) {
    in_connection(atomicity, [&](pqxx::transaction_base& tx) { work(tx, credentials); });
  });
}

grpc::Status EventServiceImpl::run_authenticated(grpc::ServerContext* context, const char* method,
                                                 Atomicity atomicity, const AuthenticatedWork& work) {
  return guarded(context, method, [&](const Credentials& credentials) {
    const std::optional<PasswordLogin> login = authenticator_.password_login(credentials);
    if (login) {
      // A throttled login is refused before it costs a connection.
      authenticator_.screen(*login, credentials.client_address);
    }
    std::optional<VerifiedPassword> verified;
    // A password not verified recently is checked between two connection
    // leases: the first looks the user up, the second does the call's work.
    // A third round happens only when the password changed in between.
    for (int round = 0;; ++round) {
      std::optional<PasswordCheckNeeded> needed;
      try {
        in_connection(atomicity, [&](pqxx::transaction_base& tx) {
          const Caller caller = authenticator_.authenticate(tx, credentials, verified ? &*verified : nullptr);
          work(tx, caller, credentials);
        });
        return;
      } catch (PasswordCheckNeeded& check) {
        needed = std::move(check);
      }
      if (round == 2) {
        throw RpcError(grpc::StatusCode::UNAVAILABLE, "The password changed during the request; try again.");
      }
      verified = authenticator_.check_password(*login, credentials.client_address, needed->user,
                                               "Invalid username/password.");
    }
  });
}

EventRecord EventServiceImpl::load_authorized(pqxx::transaction_base& tx, std::int64_t id, Action action,
                                              const Caller& caller, bool lock, bool allow_deleted) {
  check_event_id(id);
  auto event = EventStore::load(tx, id, lock);
  if (!event || (event->deleted && !allow_deleted)) {
    throw RpcError(grpc::StatusCode::NOT_FOUND, kNotFound);
  }
  if (event->deleted && caller.relation_to(&*event) != Relation::Staff) {
    throw RpcError(grpc::StatusCode::NOT_FOUND, kNotFound);
  }
  if (decide(action, caller.relation_to(&*event)) != Decision::Allow) {
    throw RpcError(grpc::StatusCode::PERMISSION_DENIED, kForbidden);
  }
  return *event;
}

void EventServiceImpl::append_log(pqxx::transaction_base& tx, const EventRecord& event, Occurrence occurrence,
                                  const Caller& caller, nlohmann::json data) {
  EventStore::append_log(tx, event.id, clock_.now(), occurrence, caller.email, event.slots,
                         log_data(caller, std::move(data)));
}

grpc::Status EventServiceImpl::ListEvents(grpc::ServerContext* context, const v1::ListEventsRequest* request,
                                          v1::ListEventsResponse* response) {
  // One read statement after authentication: no transaction needed.
  return run_authenticated(
      context, "ListEvents", Atomicity::PerStatement,
      [&](pqxx::transaction_base& tx, const Caller& caller, const Credentials&) {
        if (decide(Action::List, caller.relation_to(nullptr)) != Decision::Allow) {
          throw RpcError(grpc::StatusCode::PERMISSION_DENIED, kForbidden);
        }
        const PageRequest page_request = read_page_request(request->page_size(), request->page_token());
        const auto page = caller.staff ? EventStore::list_all(tx, page_request.after, page_request.limit)
                                       : EventStore::list_for_user(tx, caller.user_id, page_request.after,
                                                                   page_request.limit);
        response->Clear();
        // A page of long events (100 parties of 254-character addresses) can
        // outgrow a gRPC message: it ends early, under kMaxListPageBytes, and
        // the cursor continues after its last event.
        std::size_t bytes = 0;
        bool cut_short = false;
        for (const auto& event : page.items) {
          v1::Event& out = *response->add_events();
          event_to_proto(event, out);
          bytes += out.ByteSizeLong() + 8;  // and the field's tag and length
          if (bytes > kMaxListPageBytes && response->events_size() > 1) {
            response->mutable_events()->RemoveLast();
            cut_short = true;
            break;
          }
        }
        if (cut_short) {
          response->set_next_page_token(std::to_string(page.items[response->events_size() - 1].id));
        } else if (page.next_after) {
          response->set_next_page_token(std::to_string(*page.next_after));
        }
      });
}

grpc::Status EventServiceImpl::CreateEvent(grpc::ServerContext* context,
                                           const v1::CreateEventRequest* request, v1::Event* response) {
  // The event, its parties and its log entry are one statement; the users
  // for new parties are made just before. No BEGIN/COMMIT round trips.
  return run_authenticated(
      context, "CreateEvent", Atomicity::PerStatement,
      [&](pqxx::transaction_base& tx, const Caller& caller, const Credentials&) {
        if (decide(Action::Create, caller.relation_to(nullptr)) != Decision::Allow) {
          throw RpcError(grpc::StatusCode::PERMISSION_DENIED, kForbidden);
        }
        std::vector<FieldViolation> violations;
        EventRecord event;
        event.parties = validate_parties(request->parties(), violations, /*required=*/true);
        event.slots = validate_slots(request->slots(), violations);
        event.title = validate_title(request->title(), violations);
        if (!violations.empty()) {
          throw RpcError(invalid_argument(std::move(violations)));
        }
        if (!event.has_party(caller.email)) {
          event.parties.insert(event.parties.begin(), caller.email);
          if (event.parties.size() > static_cast<std::size_t>(kMaxParties)) {
            throw RpcError(invalid_argument("parties", "At most 100 parties, including you."));
          }
        }
        if (event.title.empty()) {
          event.title = generate_title(random_);
        }
        // Committed on its own: party rows without an event are harmless (the
        // same rows a retry or a later event would make). Skipped when this
        // process has seen every party stored already.
        const auto ensure_users = [&] {
          UserStore::ensure_users(tx, event.parties);
          known_users_.add(event.parties);
        };
        const auto create = [&] {
          committing_on_its_own([&] {
            event.id = EventStore::create_logged(tx, event, caller.user_id, clock_.now(), caller.email,
                                                 log_data(caller, {{"opened", "created"}}));
          });
        };
        if (!known_users_.contain_all(event.parties)) {
          ensure_users();
          create();
        } else {
          try {
            create();
          } catch (const pqxx::not_null_violation&) {
            // A party this process took for stored has no user row: the
            // database was replaced under it. The statement wrote nothing.
            known_users_.forget_all();
            ensure_users();
            create();
          }
        }
        event_to_proto(event, *response);
      });
}

grpc::Status EventServiceImpl::GetEvent(grpc::ServerContext* context, const v1::GetEventRequest* request,
                                        v1::Event* response) {
  // The VIEW entry is the only write, one statement: it needs no transaction
  // around the reads before it (two round trips fewer on the commonest call).
  return run_authenticated(context, "GetEvent", Atomicity::PerStatement,
                           [&](pqxx::transaction_base& tx, const Caller& caller, const Credentials&) {
                             const EventRecord event =
                                 load_authorized(tx, request->id(), Action::Detail, caller, /*lock=*/false);
                             committing_on_its_own([&] {
                               append_log(tx, event, Occurrence::View, caller, nlohmann::json::object());
                             });
                             event_to_proto(event, *response);
                           });
}

grpc::Status EventServiceImpl::UpdateEvent(grpc::ServerContext* context,
                                           const v1::UpdateEventRequest* request, v1::Event* response) {
  // The access check reads the event unlocked: what it depends on (parties,
  // creator) never changes, and the change itself applies only to a live
  // event. The change and its log entry are one statement.
  return run_authenticated(
      context, "UpdateEvent", Atomicity::PerStatement,
      [&](pqxx::transaction_base& tx, const Caller& caller, const Credentials&) {
        const EventRecord event = load_authorized(tx, request->id(), Action::Update, caller, /*lock=*/false);
        if (!request->has_title() && !request->has_slots()) {
          // Thrown before any write: an empty PATCH changes and logs nothing.
          throw RpcError(invalid_argument(std::vector<FieldViolation>{
              {"slots", "Provide slots and/or title."}, {"title", "Provide slots and/or title."}}));
        }
        std::vector<FieldViolation> violations;
        std::optional<std::vector<Slot>> slots;
        std::optional<std::string> title;
        if (request->has_slots()) {
          slots = validate_slots(request->slots().slots(), violations);
        }
        if (request->has_title()) {
          title = validate_title(request->title(), violations);
          if (title->empty()) {
            violations.push_back({"title", "This field may not be blank."});
          }
        }
        if (!violations.empty()) {
          throw RpcError(invalid_argument(std::move(violations)));
        }
        nlohmann::json data = nlohmann::json::object();
        if (title) {
          data["title"] = *title;
        }
        std::optional<EventRecord> changed;
        committing_on_its_own([&] {
          changed = EventStore::update_logged(tx, event.id, title, slots, clock_.now(), caller.email,
                                              log_data(caller, std::move(data)));
        });
        if (!changed) {
          throw RpcError(grpc::StatusCode::NOT_FOUND, kNotFound);  // deleted meanwhile
        }
        event_to_proto(*changed, *response);
      });
}

grpc::Status EventServiceImpl::DeleteEvent(grpc::ServerContext* context,
                                           const v1::DeleteEventRequest* request,
                                           google::protobuf::Empty* response) {
  return run_authenticated(context, "DeleteEvent", Atomicity::Transaction,
                           [&](pqxx::transaction_base& tx, const Caller& caller, const Credentials&) {
                             const EventRecord event =
                                 load_authorized(tx, request->id(), Action::Delete, caller, /*lock=*/true);
                             EventStore::mark_deleted(tx, event.id, clock_.now());
                             append_log(tx, event, Occurrence::Update, caller, {{"closed", "deleted"}});
                           });
}

grpc::Status EventServiceImpl::NotifyParties(grpc::ServerContext* context,
                                             const v1::NotifyPartiesRequest* request,
                                             v1::NotifyPartiesResponse* response) {
  return run_authenticated(
      context, "NotifyParties", Atomicity::Transaction,
      [&](pqxx::transaction_base& tx, const Caller& caller, const Credentials& credentials) {
        // The row lock keeps a concurrent PATCH from changing the slots between
        // the staleness check and the log entries.
        const EventRecord event = load_authorized(tx, request->id(), Action::Notify, caller, /*lock=*/true);
        std::vector<FieldViolation> violations;
        const std::vector<std::string> recipients =
            validate_parties(request->parties(), violations, /*required=*/true);
        for (const auto& recipient : recipients) {
          if (!event.has_party(recipient)) {
            violations.push_back({"parties", "Not in event: " + recipient});
          }
        }
        const std::size_t slot_errors = violations.size();
        const std::vector<Slot> slots = validate_slots(request->slots(), violations);
        if (violations.size() == slot_errors && slots != event.slots) {
          violations.push_back({"slots", "Mismatch with event"});
        }
        std::string sender = caller.email;
        if (request->has_sender()) {
          const auto canonical = normalize_email(request->sender());
          if (!canonical.ok()) {
            violations.push_back({"sender", std::string(canonical.status().message())});
          } else if (!event.has_party(*canonical) && !UserStore::is_staff_email(tx, *canonical)) {
            violations.push_back({"sender", "Not a party of the event or staff: " + *canonical});
          } else {
            sender = *canonical;
          }
        }
        if (!violations.empty()) {
          throw RpcError(invalid_argument(std::move(violations)));
        }
        check_notify_limit(tx, event, caller, recipients.size());

        calndro::notify::v1::QueueNotificationsRequest queue;
        const std::string request_id =
            credentials.request_id.empty() ? random_hex(random_, 16) : credentials.request_id;
        queue.set_request_id(request_id + "/event/" + std::to_string(event.id));
        queue.set_event_id(event.id);
        queue.set_event_title(event.title);
        queue.set_sender(sender);
        for (const auto& recipient : recipients) {
          queue.add_recipients(recipient);
        }
        for (const auto& slot : event.slots) {
          slot_to_proto(slot, *queue.add_slots());
        }
        queue.set_invitation(request->invitation());
        queue.set_link_base_url(request->link_base_url());
        calndro::notify::v1::QueueNotificationsResponse queued;
        const grpc::Status status = notifications_.queue_notifications(queue, credentials.request_id, queued);
        if (!status.ok()) {
          log::error("notification service refused or failed",
                     {{"code", static_cast<int>(status.error_code())},
                      {"request_id", credentials.request_id},
                      {"message", status.error_message()}});
          if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
              status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
            throw RpcError(grpc::StatusCode::UNAVAILABLE,
                           "The notification service is unavailable; nothing was sent. Try again later.");
          }
          if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
            throw RpcError(
                grpc::StatusCode::ALREADY_EXISTS,
                "This request id was already used for a different notification; send a new X-Request-Id.");
          }
          throw RpcError(grpc::StatusCode::INTERNAL, "Internal error.");
        }
        for (const auto& recipient : recipients) {
          nlohmann::json data = {{"recipient", recipient}, {"sender", sender}};
          if (request->invitation()) {
            data["invitation"] = true;
          }
          append_log(tx, event, Occurrence::Notify, caller, std::move(data));
        }
        response->Clear();
        for (const auto& recipient : recipients) {
          response->add_parties(recipient);
        }
        for (const auto& slot : event.slots) {
          slot_to_proto(slot, *response->add_slots());
        }
        response->set_sender(sender);
      });
}

void EventServiceImpl::check_notify_limit(pqxx::transaction_base& tx, const EventRecord& event,
                                          const Caller& caller, std::size_t mails) {
  // Counted from the log under the event's row lock: concurrent notifies of
  // one event wait for each other, on any replica.
  const Instant now = clock_.now();
  const auto window = std::chrono::hours(1);
  const std::vector<Instant> sent = EventStore::notifications_since(tx, event.id, caller.email, now - window);
  const std::size_t limit = static_cast<std::size_t>(options_.notify_mails_per_hour);
  if (sent.size() + mails <= limit) {
    return;
  }
  // Allowed once enough of the earlier mails have left the hour.
  std::chrono::seconds wait = window;
  if (mails <= limit) {
    const Instant frees = sent[sent.size() + mails - limit - 1] + window;
    wait = std::max(std::chrono::ceil<std::chrono::seconds>(frees - now), std::chrono::seconds(1));
  }
  throw RpcError(resource_exhausted("At most " + std::to_string(limit) +
                                        " mails per event and sender in an hour; try again in " +
                                        std::to_string(wait.count()) + " seconds.",
                                    wait));
}

grpc::Status EventServiceImpl::GetEventLog(grpc::ServerContext* context,
                                           const v1::GetEventLogRequest* request, v1::EventLog* response) {
  // Reads only: the event (for the access check and its parties), then a page.
  return run_authenticated(
      context, "GetEventLog", Atomicity::PerStatement,
      [&](pqxx::transaction_base& tx, const Caller& caller, const Credentials&) {
        const PageRequest page_request = read_page_request(request->page_size(), request->page_token());
        const EventRecord event = load_authorized(tx, request->id(), Action::ReadLog, caller, /*lock=*/false,
                                                  /*allow_deleted=*/true);
        const auto page = EventStore::read_log(tx, event.id, page_request.after, page_request.limit);
        response->Clear();
        response->set_event_id(event.id);
        for (const auto& party : event.parties) {
          response->add_parties(party);
        }
        for (const auto& entry : page.items) {
          auto* out = response->add_entries();
          out->set_id(entry.id);
          const long long micros = entry.when.time_since_epoch().count();
          out->mutable_when()->set_seconds(micros / 1000000);
          out->mutable_when()->set_nanos(static_cast<int>(micros % 1000000 * 1000));
          occurrence_to_proto(entry.occurrence, *out);
          out->set_effector(entry.effector);
          for (const auto& slot : entry.slots) {
            slot_to_proto(slot, *out->add_slots());
          }
          google::protobuf::Value data;
          json_to_value(entry.data, data);
          *out->mutable_data() = data.struct_value();
        }
        if (page.next_after) {
          response->set_next_page_token(std::to_string(*page.next_after));
        }
      });
}

grpc::Status EventServiceImpl::CreateApiToken(grpc::ServerContext* context,
                                              const v1::CreateApiTokenRequest* request,
                                              v1::CreateApiTokenResponse* response) {
  return guarded(context, "CreateApiToken", [&](const Credentials& credentials) {
    std::vector<FieldViolation> violations;
    if (request->username().empty()) {
      violations.push_back({"username", "This field is required."});
    }
    if (request->password().empty()) {
      violations.push_back({"password", "This field is required."});
    }
    if (!violations.empty()) {
      throw RpcError(invalid_argument(std::move(violations)));
    }
    const PasswordLogin login{request->username(), request->password()};
    const std::string refusal = "Unable to log in with provided credentials.";
    authenticator_.screen(login, credentials.client_address);
    std::optional<User> user;
    in_connection(Atomicity::PerStatement,
                  [&](pqxx::transaction_base& tx) { user = UserStore::find_by_login(tx, login.login); });
    const VerifiedPassword verified =
        authenticator_.check_password(login, credentials.client_address, user, refusal);
    const std::string token = random_hex(random_, 20);
    const Instant expires = clock_.now() + options_.api_token_lifetime;
    bool minted = false;
    in_connection(Atomicity::PerStatement, [&](pqxx::transaction_base& tx) {
      // Only while the password is still the one just verified and the
      // user still active: a change in between revoked every key.
      committing_on_its_own([&] {
        minted =
            UserStore::add_api_token(tx, verified.user_id, verified.stored_hash, sha256_hex(token), expires);
      });
    });
    if (!minted) {
      throw RpcError(grpc::StatusCode::UNAUTHENTICATED, refusal);
    }
    response->set_token(token);
    const long long micros = expires.time_since_epoch().count();
    response->mutable_expires()->set_seconds(micros / 1000000);
    response->mutable_expires()->set_nanos(static_cast<int>(micros % 1000000 * 1000));
  });
}

grpc::Status EventServiceImpl::RevokeApiToken(grpc::ServerContext* context, const v1::RevokeApiTokenRequest*,
                                              google::protobuf::Empty*) {
  return run(context, "RevokeApiToken", Atomicity::PerStatement,
             [&](pqxx::transaction_base& tx, const Credentials& credentials) {
               const auto token = api_token_of(credentials);
               if (!token) {
                 throw RpcError(grpc::StatusCode::UNAUTHENTICATED,
                                "Send the key to revoke as Authorization: Token KEY.");
               }
               (void)authenticator_.authenticate(tx,
                                                 credentials);  // a valid, unexpired key of an active user
               bool revoked = false;
               committing_on_its_own([&] { revoked = UserStore::revoke_api_token(tx, sha256_hex(*token)); });
               if (!revoked) {
                 throw RpcError(grpc::StatusCode::UNAUTHENTICATED, "Invalid token.");  // revoked meanwhile
               }
             });
}

}  // namespace calndro::events
