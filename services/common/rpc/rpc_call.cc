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

std::optional<std::string> metadata_value(const grpc::ServerContextBase& context, std::string_view key) {
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (found == metadata.end()) {
    return std::nullopt;
  }
  return std::string(found->second.data(), found->second.size());
}

std::string request_id(const grpc::ServerContextBase& context) {
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

CallContext call_context(const grpc::ServerContext& context) {
  CallContext call;
  if (context.deadline() != std::chrono::system_clock::time_point::max()) {
    call.deadline = context.deadline();
  }
  call.cancelled = [&context] { return context.IsCancelled(); };
  return call;
}

grpc::Status serve_rpc(const grpc::ServerContext& context, std::string_view method,
                       absl::FunctionRef<absl::Status()> body) {
  const auto started = std::chrono::steady_clock::now();
  const std::string id = request_id(context);
  absl::Status status = call_context(context).within_deadline();
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
