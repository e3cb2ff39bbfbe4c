#include "notify/smtp_mailer.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "common/text/ip_address.h"
#include "common/text/text.h"

namespace calndro::notify {
namespace {

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t room = size * count;
  const std::size_t left = upload->data->size() - upload->offset;
  const std::size_t n = std::min(room, left);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

SmtpTls smtp_tls_policy(std::string_view url, const std::vector<std::string>& plaintext_hosts) {
  const std::string lower = to_lower_ascii(url);
  if (lower.starts_with("smtps://")) {
    return SmtpTls::kImplicit;
  }
  const std::size_t scheme = lower.find("://");
  if (scheme == std::string::npos) {
    return SmtpTls::kRequired;
  }
  std::string_view authority(lower);
  authority.remove_prefix(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return SmtpTls::kRequired;
    }
    const auto address = parse_ip(authority.substr(0, close + 1));
    return address && is_loopback(*address) ? SmtpTls::kOpportunistic : SmtpTls::kRequired;
  }
  const std::string host(authority.substr(0, authority.find(':')));
  if (host == "localhost" || (!host.empty() && std::find(plaintext_hosts.begin(), plaintext_hosts.end(),
                                                         host) != plaintext_hosts.end())) {
    return SmtpTls::kOpportunistic;
  }
  const auto address = parse_ip(host);
  return address && is_loopback(*address) ? SmtpTls::kOpportunistic : SmtpTls::kRequired;
}

std::vector<std::string> parse_plaintext_hosts(std::string_view list) {
  std::vector<std::string> names;
  for (const std::string_view entry : split_list(list)) {
    std::string name = to_lower_ascii(entry);
    if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-_") != std::string::npos) {
      throw std::runtime_error("CALNDRO_SMTP_PLAINTEXT_HOSTS: '" + name + "' is not a host name");
    }
    names.push_back(std::move(name));
  }
  return names;
}

void init_curl() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("libcurl failed to initialise");
  }
}

std::string redact_url(std::string_view url) {
  const std::size_t scheme = url.find("://");
  const std::size_t at = url.find('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) {
    return std::string(url);
  }
  const std::string_view userinfo = url.substr(scheme + 3, at - scheme - 3);
  const std::size_t colon = userinfo.find(':');
  std::string out(url.substr(0, scheme + 3));
  out += userinfo.substr(0, colon);
  if (colon != std::string_view::npos) {
    out += ":***";
  }
  out += url.substr(at);
  return out;
}

SendResult SmtpMailer::send(const Envelope& envelope) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    return {.accepted = false, .error = "cannot create an SMTP client"};
  }
  CURL* handle = curl.get();
  const std::string from = "<" + envelope.mail_from + ">";
  std::unique_ptr<curl_slist, SlistDeleter> recipients(
      curl_slist_append(nullptr, ("<" + envelope.rcpt_to + ">").c_str()));
  Upload upload{&envelope.message};

  curl_easy_setopt(handle, CURLOPT_URL, settings_.url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  // A server that does not offer STARTTLS (or one stripped by a network
  // attacker) gets nothing unless it is on this machine.
  const SmtpTls tls = smtp_tls_policy(settings_.url, settings_.plaintext_hosts);
  curl_easy_setopt(handle, CURLOPT_USE_SSL,
                   static_cast<long>(tls == SmtpTls::kOpportunistic ? CURLUSESSL_TRY : CURLUSESSL_ALL));
  if (!settings_.ca_file.empty()) {
    curl_easy_setopt(handle, CURLOPT_CAINFO, settings_.ca_file.c_str());
  }
  if (!settings_.user.empty()) {
    curl_easy_setopt(handle, CURLOPT_USERNAME, settings_.user.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(handle, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(handle, CURLOPT_READDATA, &upload);
  curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(envelope.message.size()));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count()));

  const CURLcode code = curl_easy_perform(handle);
  if (code == CURLE_OK) {
    return {.accepted = true, .error = ""};
  }
  long reply = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply);
  std::string error = curl_easy_strerror(code);
  if (reply != 0) {
    error += " (SMTP reply " + std::to_string(reply) + ")";
  }
  return {.accepted = false, .error = error};
}

}  // namespace calndro::notify
