#include "gateway/api/http_response.h"

#include "gateway/api/json_mapping.h"

namespace calndro::gateway {

void send_json(httplib::Response& response, int status, const std::string& body) {
  response.status = status;
  response.set_content(body, "application/json");
}

void send_error(httplib::Response& response, const HttpError& error) {
  for (const auto& [name, value] : error.headers) {
    response.set_header(name, value);
  }
  send_json(response, error.status, dump(error.body));
}

void send_asset(httplib::Response& response, const StaticAsset& asset) {
  for (const auto& [name, value] : asset_headers(asset)) {
    response.set_header(name, value);
  }
  response.status = 200;
  response.set_content(std::string(asset.body), std::string(asset.content_type));
}

}  // namespace calndro::gateway
