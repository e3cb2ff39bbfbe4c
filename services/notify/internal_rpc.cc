#include "notify/internal_rpc.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "common/base/log.h"
#include "common/crypto/crypto.h"
#include "common/rpc/rpc_call.h"
#include "common/text/limits.h"

namespace calndro::notify {

absl::Status check_internal_credential(const grpc::ServerContext& context, std::string_view expected,
                                       const nlohmann::json& fields) {
  const std::optional<std::string> offered = metadata_value(context, "x-calndro-internal");
  absl::Status status;
  if (!offered) {
    status = absl::UnauthenticatedError("The internal credential (metadata x-calndro-internal) is missing.");
  } else if (!constant_time_equal(sha256_hex(*offered), sha256_hex(expected))) {
    status = absl::PermissionDeniedError("The internal credential is wrong.");
  }
  if (!status.ok()) {
    nlohmann::json refused = fields;
    refused["code"] = static_cast<int>(status.code());
    log::warn("call refused", refused);
  }
  return status;
}

std::string encode_page_token(std::int64_t scope, std::int64_t last_id) {
  const std::string raw = "v1:" + std::to_string(scope) + ":" + std::to_string(last_id);
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::int64_t> decode_page_token(const std::string& token, std::int64_t scope) {
  if (token.size() > limits::kMaxPageTokenLength) {
    return std::nullopt;
  }
  std::string raw(token.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), token.data(), token.size(),
                        nullptr, &length, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  raw.resize(length);
  const std::string prefix = "v1:" + std::to_string(scope) + ":";
  if (!raw.starts_with(prefix)) {
    return std::nullopt;
  }
  const std::string number = raw.substr(prefix.size());
  if (number.empty() || number.size() > 18 || number.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const std::int64_t last_id = std::stoll(number);
  if (last_id <= 0) {
    return std::nullopt;
  }
  return last_id;
}

ListPage read_list_page(std::int32_t page_size, const std::string& page_token, std::int64_t scope,
                        std::string_view token_description, std::vector<FieldViolation>& violations) {
  ListPage page;
  if (page_size < 0) {
    violations.push_back({"page_size", "Must not be negative."});
  }
  if (!page_token.empty()) {
    const std::optional<std::int64_t> last_id = decode_page_token(page_token, scope);
    if (last_id) {
      page.before_id = *last_id;
    } else {
      violations.push_back({"page_token", std::string(token_description)});
    }
  }
  page.size = page_size <= 0 ? limits::kDefaultPageSize : std::min(page_size, limits::kMaxPageSize);
  return page;
}

}  // namespace calndro::notify
