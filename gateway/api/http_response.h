#pragma once

#include <httplib.h>

#include <string>

#include "gateway/api/http_errors.h"
#include "gateway/web/web_page.h"

// Writing responses: every JSON answer, error and asset goes out here.
namespace calndro::gateway {

// Writes `body` as JSON with `status`.
void send_json(httplib::Response& response, int status, const std::string& body);

// The error's headers and its JSON body.
void send_error(httplib::Response& response, const HttpError& error);

// A page asset with its caching headers (web_page.h), 200.
void send_asset(httplib::Response& response, const StaticAsset& asset);

}  // namespace calndro::gateway
