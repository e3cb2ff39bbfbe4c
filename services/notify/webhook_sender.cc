#include "notify/webhook_sender.h"

#include <curl/curl.h>

#include <memory>

#include "common/text/ip_address.h"

namespace calndro::notify {
namespace {

// Keeps at most kMaxWebhookAnswerBytes of the answer; past that the
// transfer is ended (the status is known by then).
std::size_t keep_some(char* data, std::size_t size, std::size_t count, void* user) {
  auto* kept = static_cast<std::string*>(user);
  const std::size_t bytes = size * count;
  if (kept->size() + bytes > kMaxWebhookAnswerBytes) {
    return 0;  // CURLE_WRITE_ERROR: read no more
  }
  kept->append(data, bytes);
  return bytes;
}

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using CurlList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

// "::ADDRESS:PORT": every connection, whatever host it is for, goes there.
std::string connect_to(const in6_addr& address, int port) {
  const std::string text = ip_text(address);
  const bool v6 = text.find(':') != std::string::npos;
  return "::" + (v6 ? "[" + text + "]" : text) + ":" + std::to_string(port);
}

}  // namespace

WebhookAnswer CurlWebhookPoster::post(const WebhookPost& post) {
  WebhookAnswer answer;
  const CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    answer.error = "the HTTP client could not start";
    return answer;
  }
  CurlList headers(nullptr, &curl_slist_free_all);
  for (const std::string& header : post.headers) {
    headers.reset(curl_slist_append(headers.release(), header.c_str()));
  }
  // No 100-continue round trip: the body goes with the request.
  headers.reset(curl_slist_append(headers.release(), "Expect:"));
  CurlList pinned(curl_slist_append(nullptr, connect_to(post.address, post.port).c_str()),
                  &curl_slist_free_all);
  std::string kept;
  char error[CURL_ERROR_SIZE] = {};
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, post.url.c_str());
  curl_easy_setopt(handle, CURLOPT_CONNECT_TO, pinned.get());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, post.body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post.body.size()));
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "calndro-webhooks/1");
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &keep_some);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &kept);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(handle);
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  if (status > 0 && (code == CURLE_OK || code == CURLE_WRITE_ERROR)) {
    answer.status = static_cast<int>(status);  // a long answer cut short is still an answer
    return answer;
  }
  answer.error = std::string(curl_easy_strerror(code)) + (error[0] != '\0' ? std::string(": ") + error : "");
  return answer;
}

}  // namespace calndro::notify
