#pragma once

#include <netinet/in.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

// One HTTP POST of a webhook message (SPEC §11), behind an interface so
// the dispatcher is tested without a network.
namespace calndro::notify {

struct WebhookPost {
  std::string url;
  in6_addr address{};  // the address checked (webhook_address.h): the only one connected to
  int port = 0;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

// What the receiver answered: its status, or why there was none.
struct WebhookAnswer {
  std::optional<int> status;
  std::optional<std::string> error;
};

class WebhookPoster {
 public:
  virtual ~WebhookPoster() = default;
  virtual WebhookAnswer post(const WebhookPost& post) = 0;
};

// libcurl: connects only to `address` (CURLOPT_CONNECT_TO, so no second
// DNS lookup can lead elsewhere; TLS still verifies the URL's host name),
// no proxy, no redirect followed, http and https only, at most `timeout`
// for the whole exchange and at most 1 KiB of the answer read.
class CurlWebhookPoster final : public WebhookPoster {
 public:
  explicit CurlWebhookPoster(std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : timeout_(timeout) {}
  WebhookAnswer post(const WebhookPost& post) override;

 private:
  const std::chrono::milliseconds timeout_;
};

inline constexpr std::size_t kMaxWebhookAnswerBytes = 1024;

}  // namespace calndro::notify
