#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "gateway/api/handlers.h"
#include "gateway/api/http_errors.h"
#include "gateway/api/http_response.h"
#include "gateway/api/paging.h"

// What every handler of handlers.cc and webhook_handlers.cc does around its
// call: the service's status into an answer, and the list endpoints' paging.
namespace calndro::gateway {

// The answer to a call: `on_success` writes it when the service said OK.
template <typename Write>
Outcome answer(const grpc::Status& status, Write on_success) {
  if (!status.ok()) {
    return http_error_from_status(status);
  }
  on_success();
  return std::nullopt;
}

// ?limit and ?after into a list request's page fields.
template <typename Rpc>
Outcome read_page(const Exchange& exchange, Paging& paging, Rpc& rpc) {
  Outcome error = read_paging(exchange.request, paging);
  rpc.set_page_size(paging.page_size);
  rpc.set_page_token(paging.page_token);
  return error;
}

// A page of a list, with the next page in Link.
inline void send_page(Exchange& exchange, const Paging& paging, const std::string& next_token,
                      const std::string& body) {
  add_next_link(exchange.response, exchange.base, exchange.request.path, paging, next_token);
  send_json(exchange.response, 200, body);
}

}  // namespace calndro::gateway
