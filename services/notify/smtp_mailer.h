#pragma once

#include <chrono>
#include <string>
#include <string_view>

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

struct SmtpSettings {
  std::string url = "smtp://127.0.0.1:1025";  // smtp:// (STARTTLS when offered) or smtps://
  std::string user;
  std::string password;
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
