#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// What the text of a request may hold: ids in paths and lengths, JSON
// content types, values that may become gRPC metadata.
namespace calndro::gateway {

// A positive decimal integer that fits in int64, else 0.
int64_t parse_id(std::string_view text);

// A Content-Type acceptable for a request body: application/json, with
// parameters, a charset only if utf-8.
bool json_content_type(std::string_view content_type);

// gRPC metadata values must be printable ASCII.
bool printable_ascii(std::string_view text);

// A client's text quoted in an error: printable ASCII, at most 64 characters.
std::string quoted_for_error(std::string_view text);

}  // namespace calndro::gateway
