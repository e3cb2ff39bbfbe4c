#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

// Hands one finished RFC 5322 message to an SMTP server (libcurl).
namespace calndro::notify {

struct Envelope {
  std::string mail_from;  // envelope sender (bounces), a bare address
  std::string rcpt_to;    // a bare address
  std::string message;    // the whole message, CRLF line ends
};

struct SendResult {
  bool accepted = false;
  // For the outbox's last_error and logs: libcurl's wording and the SMTP
  // reply code; never the URL or credentials.
  std::string error;
};

// The dispatcher's view of a mail transport (tests may put in their own).
class Mailer {
 public:
  virtual ~Mailer() = default;
  virtual SendResult send(const Envelope& envelope) = 0;
};

// How a mail travels to the SMTP server (SPEC §6: credentials and links never
// in clear to a server that is not on the loopback).
enum class SmtpTls {
  kImplicit,       // smtps://: TLS from the first byte
  kRequired,       // smtp:// to anything but the loopback: STARTTLS or no mail
  kOpportunistic,  // smtp:// to the loopback: STARTTLS when the server offers it
};

// Decided from the URL's host alone: 127.0.0.0/8, ::1 and "localhost" are
// the loopback; every other name (even one that resolves to the loopback)
// gets kRequired, so a name nobody checked never lets mail go in clear.
// `plaintext_hosts` (CALNDRO_SMTP_PLAINTEXT_HOSTS, exact lower-case names)
// are treated like the loopback: for a mail catcher on a private network,
// such as compose's mailpit.
SmtpTls smtp_tls_policy(std::string_view url, const std::vector<std::string>& plaintext_hosts = {});

// CALNDRO_SMTP_PLAINTEXT_HOSTS: comma-separated host names, lower-cased.
// Throws std::runtime_error naming the variable on anything but names.
std::vector<std::string> parse_plaintext_hosts(std::string_view list);

struct SmtpSettings {
  std::string url = "smtp://127.0.0.1:1025";  // smtp:// or smtps://; see smtp_tls_policy
  std::string user;
  std::string password;
  // PEM bundle to verify the server's certificate with (a private CA);
  // empty: the system's CAs. The certificate and host name are always checked.
  std::string ca_file;
  std::vector<std::string> plaintext_hosts;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{60000};
};

// One connection per mail: simple, and a broken connection never carries
// over to the next mail. Thread-safe (no shared handle).
class SmtpMailer final : public Mailer {
 public:
  explicit SmtpMailer(SmtpSettings settings) : settings_(std::move(settings)) {}
  SendResult send(const Envelope& envelope) override;

 private:
  SmtpSettings settings_;
};

// "smtp://user:***@host:port" with any password hidden, for logs.
std::string redact_url(std::string_view url);

// Call once in main before any thread starts.
void init_curl();

}  // namespace calndro::notify
