#pragma once

// SmtpSink: a real SMTP server (Debian's python3-aiosmtpd, started by
// tests/support/smtp_sink.py) delivering into a Maildir, for tests that check
// what calndro mails.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/harness.h"

namespace calndro::testing {

struct MailMessage {
  std::filesystem::path path;
  std::string raw;
  // Header names in lower case; repeated headers joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;  // as transmitted (after the blank line)
  // Body with Content-Transfer-Encoding (base64, quoted-printable) undone,
  // and the text part when the message is multipart.
  std::string text() const;
  std::string header(const std::string& name) const;
  std::string body_without_cr() const;
};

MailMessage parse_mail(const std::string& raw);

class SmtpSink {
 public:
  // Maildir under `dir` (created); port 0: the kernel chooses one (read back
  // from the sink's log, see port()). Starts at once.
  // A non-zero `data_delay` holds every answer to the end of DATA that long
  // (tests/support/slow_mailbox.py), so a mail stays in the sender's hand.
  // `server_args` go to aiosmtpd as they are (e.g. --tlscert/--tlskey for
  // STARTTLS, --smtpscert/--smtpskey for smtps://).
  explicit SmtpSink(std::filesystem::path dir, int port = 0,
                    std::chrono::milliseconds data_delay = std::chrono::milliseconds(0),
                    std::vector<std::string> server_args = {});
  ~SmtpSink();

  void start();  // again on the same port after stop()
  void stop();
  bool running() const;
  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& maildir() const { return dir_; }
  // The sink's own log: a line {"msg": "data received", ...} each time a
  // sender has sent a mail's DATA (before any `data_delay`).
  std::string log() const;

  // Every message delivered so far, oldest first (by file time, then name).
  std::vector<MailMessage> messages() const;
  // Messages whose To header contains `recipient` (case-insensitive).
  std::vector<MailMessage> messages_to(const std::string& recipient) const;
  // Waits until at least n messages are there; throws on timeout.
  std::vector<MailMessage> wait_for(size_t n, std::chrono::milliseconds timeout = 30s) const;
  std::vector<MailMessage> wait_for_to(const std::string& recipient, size_t n,
                                       std::chrono::milliseconds timeout = 30s) const;

 private:
  std::filesystem::path dir_;
  int port_;
  std::chrono::milliseconds data_delay_;
  std::vector<std::string> server_args_;
  std::unique_ptr<Process> process_;
};

}  // namespace calndro::testing
