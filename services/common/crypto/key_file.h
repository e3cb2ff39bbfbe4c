#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

// The files that hold a service's own keys (the log signing key, the
// webhook secrets' key): one line of standard base64, readable by the owner
// only, from a Kubernetes Secret, a compose volume or a first local start.
namespace calndro {

// Whether a missing key file is made (a first local start) or an error (a
// deployment whose key comes from a Secret: a missing key is a mistake).
enum class MissingKey { kCreate, kRefuse };

// The bytes the file at `path` holds: exactly `size` of them, or an error
// naming `what` ("the webhook key") and the file. A missing file is first
// made with `size` fresh random bytes (mode 0600; never overwriting one
// another process made meanwhile) when `missing` says so.
absl::StatusOr<std::string> read_key_file(const std::filesystem::path& path, std::size_t size,
                                          MissingKey missing, std::string_view what);

}  // namespace calndro
