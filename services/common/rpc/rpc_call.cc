#include "common/rpc/rpc_call.h"

#include <pqxx/pqxx>

#include <chrono>
#include <exception>

#include "common/base/log.h"
#include "common/db/db_pool.h"
#include "common/grpc/rich_status.h"

namespace calndro {
namespace {

constexpr const char* kDatabaseDown = "The database is unavailable; try again later.";

}  // namespace

std::optional<std::string> metadata_value(const grpc::ServerContext& context, std::string_view key) {
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (found == metadata.end()) {
    return std::nullopt;
  }
  return std::string(found->second.data(), found->second.size());
}

std::string request_id(const grpc::ServerContext& context) {
  std::string id = metadata_value(context, "x-request-id").value_or("");
  if (id.size() > kMaxRequestIdBytes) {
    id.resize(kMaxRequestIdBytes);
  }
  return id;
}

absl::Status status_from_exception(std::string_view method, const std::string& request_id) {
  const nlohmann::json fields = {{"method", method}, {"request_id", request_id}};
  auto with_error = [&fields](const std::exception& error) {
    nlohmann::json out = fields;
    out["error"] = error.what();
    return out;
  };
  try {
    throw;
  } catch (const CallAbandoned& abandoned) {
    log::warn("call abandoned by its caller; nothing changed", with_error(abandoned));
    return abandoned.status();
  } catch (const DatabaseUnavailable& error) {
    log::warn("database unavailable", with_error(error));
    return absl::UnavailableError(kDatabaseDown);
  } catch (const pqxx::broken_connection& error) {
    log::warn("database connection lost", with_error(error));
    return absl::UnavailableError(kDatabaseDown);
  } catch (const pqxx::in_doubt_error& error) {
    log::error("commit in doubt", with_error(error));
    return absl::UnavailableError(
        "The database connection broke during commit; check the result before retrying.");
  } catch (const std::exception& error) {
    log::error("internal error", with_error(error));
    return absl::InternalError("Internal error.");
  } catch (...) {
    log::error("internal error", fields);
    return absl::InternalError("Internal error.");
  }
}

namespace {

// The call the current thread serves, while serve_rpc runs its body.
thread_local const grpc::ServerContext* served_call = nullptr;

class ServedCall {
 public:
  explicit ServedCall(const grpc::ServerContext& context) : previous_(served_call) { served_call = &context; }
  ~ServedCall() { served_call = previous_; }
  ServedCall(const ServedCall&) = delete;
  ServedCall& operator=(const ServedCall&) = delete;

 private:
  const grpc::ServerContext* previous_;
};

}  // namespace

absl::Status call_within_deadline() {
  if (served_call != nullptr && std::chrono::system_clock::now() >= served_call->deadline()) {
    return absl::DeadlineExceededError("The call's deadline passed; nothing was changed.");
  }
  return absl::OkStatus();
}

absl::Status call_still_wanted() {
  if (absl::Status within = call_within_deadline(); !within.ok()) {
    return within;
  }
  if (served_call != nullptr && served_call->IsCancelled()) {
    return absl::CancelledError("The caller cancelled the call; nothing was changed.");
  }
  return absl::OkStatus();
}

std::optional<std::chrono::system_clock::time_point> call_deadline() {
  if (served_call == nullptr || served_call->deadline() == std::chrono::system_clock::time_point::max()) {
    return std::nullopt;
  }
  return served_call->deadline();
}

void throw_if_past_deadline() {
  if (absl::Status within = call_within_deadline(); !within.ok()) {
    throw CallAbandoned(std::move(within));
  }
}

grpc::Status serve_rpc(const grpc::ServerContext& context, std::string_view method,
                       absl::FunctionRef<absl::Status()> body) {
  const auto started = std::chrono::steady_clock::now();
  const std::string id = request_id(context);
  const ServedCall served(context);
  absl::Status status = call_within_deadline();
  try {
    if (status.ok()) {
      status = body();
    }
  } catch (...) {
    status = status_from_exception(method, id);
  }
  const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  log::info("rpc", {{"method", method},
                    {"code", static_cast<int>(status.code())},
                    {"request_id", id},
                    {"duration_ms", elapsed.count()}});
  return to_grpc_status(status);
}

}  // namespace calndro
