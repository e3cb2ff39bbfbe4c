#pragma once

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "support/stack.h"

// One HTTP request to a stack's gateway, as the integration tests make it:
// the path sent as written (no URL encoding), an optional Authorization,
// a body as JSON unless the caller sets another Content-Type.
namespace calndro::testing {

struct HttpReply {
  int status = 0;  // 0: no HTTP answer (the test has already failed)
  std::string body;
  httplib::Headers headers;

  // The first header of that name, compared without case; "" when absent.
  std::string header(const std::string& name) const;
  // The body as JSON; a test failure and null when it is not JSON.
  nlohmann::json j() const;
};

std::ostream& operator<<(std::ostream& out, const HttpReply& reply);

struct HttpCall {
  std::string method;
  std::string path;
  std::string authorization;  // "" = none
  std::optional<std::string> body;
  httplib::Headers headers;
  std::chrono::seconds read_timeout{30};
};

HttpReply http_call(const Stack& stack, const HttpCall& call);

// A slot as the REST API spells it: {"begin": ..., "duration": ...}.
nlohmann::json slot_json(const std::string& begin, const std::string& duration);

// HttpCall::body for a JSON body: its text, or none.
std::optional<std::string> json_body(const std::optional<nlohmann::json>& body);

// `authorization` notifies `who` of event `id` about `slots` over REST; the
// email token in the mail `who` then gets ("" and a test failure when none).
std::string notify_for_token(Stack& stack, const std::string& id, const std::string& authorization,
                             const std::string& who, const nlohmann::json& slots);

}  // namespace calndro::testing
