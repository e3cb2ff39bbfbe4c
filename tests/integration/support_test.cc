// Checks the test harness itself: databases, the SMTP sink, processes.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "support/harness.h"
#include "support/mail.h"

using namespace calndro::testing;

TEST(Support, FreePortIsFree) {
  int p = free_port();
  EXPECT_GT(p, 0);
  EXPECT_FALSE(port_accepts(p));
}

TEST(Support, DatabaseIsFreshAndDropped) {
  std::string name;
  {
    Database db;
    name = db.name();
    EXPECT_EQ(db.scalar("SELECT current_database()"), name);
    db.exec("CREATE TABLE t (x int)");
  }
  Database other;
  EXPECT_EQ(other.scalar("SELECT count(*) FROM pg_database WHERE datname = '" + name + "'"), "0");
}

TEST(Support, RunCommandFeedsStdinAndCapturesOutput) {
  auto r = run_command("/bin/sh", {"-c", "cat; echo err >&2; exit 3"}, {}, "hello");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "hello");
  EXPECT_EQ(r.err, "err\n");
}

TEST(Support, ProcessWaitsForPortAndTerminates) {
  TempDir dir;
  int port = free_port();
  Process p("/usr/bin/python3", {"-m", "http.server", "-b", "127.0.0.1", std::to_string(port)},
            {{"CALNDRO_X", "1"}}, dir.path() / "log");
  p.start();
  p.wait_port(port);
  EXPECT_TRUE(p.running());
  EXPECT_GE(p.terminate(), 0);
  EXPECT_FALSE(p.running());
  p.start();
  p.wait_port(port);
  p.kill9();
  EXPECT_FALSE(p.running());
}

namespace {
size_t read_cb(char* buf, size_t size, size_t n, void* user) {
  auto* s = static_cast<std::string*>(user);
  size_t len = std::min(size * n, s->size());
  std::memcpy(buf, s->data(), len);
  s->erase(0, len);
  return len;
}

bool send_mail(int port, const std::string& to, const std::string& body) {
  CURL* c = curl_easy_init();
  std::string url = "smtp://127.0.0.1:" + std::to_string(port);
  std::string payload = "From: a@example.com\r\nTo: " + to +
                        "\r\nSubject: [calndro] hi\r\nContent-Transfer-Encoding: "
                        "quoted-printable\r\n\r\n" +
                        body + "\r\n";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, "<a@example.com>");
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &payload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(c);
  return rc == CURLE_OK;
}
}  // namespace

TEST(Support, SmtpSinkReceivesStopsAndRestarts) {
  TempDir dir;
  SmtpSink sink(dir.path() / "mail");
  ASSERT_TRUE(send_mail(sink.port(), "x@example.com", "link=3D http://h/1/?et=3Dabc"));
  auto msgs = sink.wait_for(1, 10s);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].header("Subject"), "[calndro] hi");
  EXPECT_NE(msgs[0].text().find("http://h/1/?et=abc"), std::string::npos) << msgs[0].text();
  sink.stop();
  EXPECT_FALSE(send_mail(sink.port(), "y@example.com", "down"));
  sink.start();
  ASSERT_TRUE(send_mail(sink.port(), "y@example.com", "up"));
  EXPECT_EQ(sink.wait_for_to("y@example.com", 1, 10s).size(), 1u);
}
