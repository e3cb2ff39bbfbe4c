#include "support/mail.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <thread>

#include "support/wait.h"

namespace calndro::testing {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) {
    return "";
  }
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string decode_base64(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (unsigned char c : in) {
    auto p = chars.find(static_cast<char>(c));
    if (p == std::string::npos) {
      continue;  // newlines, '=' padding
    }
    val = (val << 6) + static_cast<int>(p);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string decode_qp(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && i + 1 < in.size()) {
      if (in[i + 1] == '\n') {
        i += 1;
        continue;
      }
      if (in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n') {
        i += 2;
        continue;
      }
      if (i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
        out.push_back(static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16)));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

std::string decode_body(const std::string& body, const std::string& encoding) {
  std::string enc = lower(trim(encoding));
  if (enc == "base64") {
    return decode_base64(body);
  }
  if (enc == "quoted-printable") {
    return decode_qp(body);
  }
  return body;
}

}  // namespace

MailMessage parse_mail(const std::string& raw_in) {
  MailMessage m;
  m.raw = raw_in;
  std::string raw = raw_in;
  raw.erase(std::remove(raw.begin(), raw.end(), '\r'), raw.end());
  size_t sep = raw.find("\n\n");
  std::string head = sep == std::string::npos ? raw : raw.substr(0, sep);
  m.body = sep == std::string::npos ? "" : raw.substr(sep + 2);
  std::string name, value;
  auto flush = [&] {
    if (!name.empty()) {
      auto key = lower(name);
      auto& slot = m.headers[key];
      slot = slot.empty() ? trim(value) : slot + ", " + trim(value);
    }
    name.clear();
    value.clear();
  };
  size_t pos = 0;
  while (pos <= head.size()) {
    size_t nl = head.find('\n', pos);
    std::string line = head.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      value += " " + trim(line);
    } else if (!line.empty()) {
      flush();
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        name = line.substr(0, colon);
        value = line.substr(colon + 1);
      }
    }
    if (nl == std::string::npos) {
      break;
    }
    pos = nl + 1;
  }
  flush();
  return m;
}

std::string MailMessage::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? "" : it->second;
}

std::string MailMessage::text() const {
  std::string ctype = lower(header("content-type"));
  if (ctype.rfind("multipart/", 0) == 0) {
    auto b = ctype.find("boundary=");
    if (b != std::string::npos) {
      // Take the boundary from the original (case kept) header.
      std::string orig = header("content-type");
      std::string boundary = orig.substr(b + 9);
      if (!boundary.empty() && boundary[0] == '"') {
        boundary = boundary.substr(1, boundary.find('"', 1) - 1);
      } else {
        boundary = boundary.substr(0, boundary.find_first_of("; "));
      }
      std::string body = body_without_cr();
      std::string delim = "--" + boundary;
      size_t p = body.find(delim);
      std::string first_part;
      while (p != std::string::npos) {
        size_t start = body.find('\n', p);
        if (start == std::string::npos) {
          break;
        }
        size_t next = body.find(delim, start);
        std::string part =
            body.substr(start + 1, next == std::string::npos ? std::string::npos : next - start - 1);
        MailMessage sub = parse_mail(part);
        if (first_part.empty()) {
          first_part = sub.text();
        }
        if (lower(sub.header("content-type")).find("text/plain") != std::string::npos) {
          return sub.text();
        }
        p = next;
      }
      return first_part;
    }
  }
  return decode_body(body_without_cr(), header("content-transfer-encoding"));
}

std::string MailMessage::body_without_cr() const {
  std::string b = body;
  b.erase(std::remove(b.begin(), b.end(), '\r'), b.end());
  return b;
}

// ---- SmtpSink ----

SmtpSink::SmtpSink(fs::path dir, int port, std::chrono::milliseconds data_delay,
                   std::vector<std::string> server_args)
    : dir_(std::move(dir)), port_(port), data_delay_(data_delay), server_args_(std::move(server_args)) {
  // aiosmtpd's Mailbox makes the Maildir only when the folder is missing:
  // make the whole layout so an existing empty folder works too.
  for (const char* sub : {"tmp", "new", "cur"}) {
    fs::create_directories(dir_ / sub);
  }
  start();
}

SmtpSink::~SmtpSink() {
  stop();
}

void SmtpSink::start() {
  if (process_ && process_->running()) {
    return;
  }
  // Port 0 the first time: the kernel chooses and the sink says which.
  // Started again, it takes that port back, as a restarted mail server would.
  std::vector<std::string> args{std::string(CALNDRO_SOURCE_DIR) + "/tests/support/smtp_sink.py", "-n", "-l",
                                loopback(port_)};
  args.insert(args.end(), server_args_.begin(), server_args_.end());
  Env env;
  env["PYTHONPATH"] = std::string(CALNDRO_SOURCE_DIR) + "/tests/support";
  args.insert(args.end(), {"-c", "slow_mailbox.SlowMailbox", dir_.string(),
                           std::to_string(static_cast<double>(data_delay_.count()) / 1000.0)});
  process_ = std::make_unique<Process>("/usr/bin/python3", std::move(args), std::move(env),
                                       dir_.parent_path() / ("smtp-" + dir_.filename().string() + ".log"));
  process_->start();
  if (port_ == 0) {
    port_ = process_->wait_reported_port("listening", 30s);
  } else {
    process_->wait_port(port_, 30s);
  }
}

void SmtpSink::stop() {
  if (process_) {
    process_->terminate(5s);
  }
}

std::string SmtpSink::log() const {
  return process_ ? process_->log() : "";
}

bool SmtpSink::running() const {
  return process_ && process_->running();
}

std::vector<MailMessage> SmtpSink::messages() const {
  std::vector<std::pair<std::pair<fs::file_time_type, std::string>, fs::path>> files;
  for (const char* sub : {"new", "cur"}) {
    fs::path d = dir_ / sub;
    std::error_code ec;
    if (!fs::exists(d, ec)) {
      continue;
    }
    for (const auto& entry : fs::directory_iterator(d, ec)) {
      if (entry.is_regular_file()) {
        files.push_back({{entry.last_write_time(), entry.path().filename().string()}, entry.path()});
      }
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<MailMessage> out;
  for (const auto& [key, path] : files) {
    MailMessage m = parse_mail(read_file(path));
    m.path = path;
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<MailMessage> SmtpSink::messages_to(const std::string& recipient) const {
  std::vector<MailMessage> out;
  for (auto& m : messages()) {
    if (lower(m.header("to")).find(lower(recipient)) != std::string::npos) {
      out.push_back(std::move(m));
    }
  }
  return out;
}

std::vector<MailMessage> SmtpSink::wait_for(size_t n, std::chrono::milliseconds timeout) const {
  std::vector<MailMessage> msgs;
  const auto arrived = wait_until(
      [&] {
        msgs = messages();
        return msgs.size() >= n;
      },
      timeout, std::to_string(n) + " messages");
  if (!arrived) {
    throw std::runtime_error("SMTP sink: " + std::string(arrived.message()) + ", got " +
                             std::to_string(msgs.size()));
  }
  return msgs;
}

std::vector<MailMessage> SmtpSink::wait_for_to(const std::string& recipient, size_t n,
                                               std::chrono::milliseconds timeout) const {
  std::vector<MailMessage> msgs;
  const auto arrived = wait_until(
      [&] {
        msgs = messages_to(recipient);
        return msgs.size() >= n;
      },
      timeout, std::to_string(n) + " messages to " + recipient);
  if (!arrived) {
    throw std::runtime_error("SMTP sink: " + std::string(arrived.message()) + ", got " +
                             std::to_string(msgs.size()));
  }
  return msgs;
}

}  // namespace calndro::testing
