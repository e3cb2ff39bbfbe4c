#include "support/http_call.h"

#include <gtest/gtest.h>
#include <strings.h>

#include <regex>

namespace calndro::testing {

std::string HttpReply::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) {
      return value;
    }
  }
  return "";
}

nlohmann::json HttpReply::j() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const std::exception& error) {
    ADD_FAILURE() << "response body is not JSON (" << error.what() << "): " << body;
    return nlohmann::json();
  }
}

std::ostream& operator<<(std::ostream& out, const HttpReply& reply) {
  return out << "HTTP " << reply.status << " " << reply.body;
}

std::optional<std::string> json_body(const std::optional<nlohmann::json>& body) {
  if (!body) {
    return std::nullopt;
  }
  return body->dump();
}

HttpReply http_call(const Stack& stack, const HttpCall& call) {
  httplib::Client client = stack.http();
  client.set_url_encode(false);
  client.set_read_timeout(call.read_timeout);
  httplib::Request request;
  request.method = call.method;
  request.path = call.path;
  request.headers = call.headers;
  if (!call.authorization.empty()) {
    request.headers.emplace("Authorization", call.authorization);
  }
  if (call.body) {
    request.body = *call.body;
    if (request.get_header_value("Content-Type").empty()) {
      request.headers.emplace("Content-Type", "application/json");
    }
  }
  const auto response = client.send(request);
  HttpReply reply;
  if (!response) {
    ADD_FAILURE() << call.method << " " << call.path << ": no HTTP answer ("
                  << httplib::to_string(response.error()) << "); gateway log:\n"
                  << stack.gateway().log_tail();
    return reply;
  }
  reply.status = response->status;
  reply.body = response->body;
  reply.headers = response->headers;
  return reply;
}

nlohmann::json slot_json(const std::string& begin, const std::string& duration) {
  return {{"begin", begin}, {"duration", duration}};
}

std::string notify_for_token(Stack& stack, const std::string& id, const std::string& authorization,
                             const std::string& who, const nlohmann::json& slots) {
  const std::size_t before = stack.smtp().messages_to(who).size();
  const std::string body = nlohmann::json{{"parties", {who}}, {"slots", slots}}.dump();
  const HttpReply notified = http_call(stack, {"POST", "/" + id + "/notify/", authorization, body, {}});
  EXPECT_EQ(notified.status, 202) << notified;
  const auto mails = stack.smtp().wait_for_to(who, before + 1, std::chrono::seconds(30));
  if (mails.size() <= before) {
    ADD_FAILURE() << "no mail to " << who;
    return "";
  }
  const std::string text = mails.back().text();
  std::smatch match;
  EXPECT_TRUE(std::regex_search(text, match, std::regex("/" + id + "/\\?et=([0-9a-f]{40})"))) << text;
  return match.size() > 1 ? match[1].str() : "";
}

}  // namespace calndro::testing
