// Checks the test harness itself: databases, the SMTP sink, processes.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstring>

#include "support/harness.h"
#include "support/mail.h"
#include "support/wait.h"

using namespace calndro::testing;

TEST(Support, AClosedPortRefusesConnectionsWhileHeld) {
  int port = 0;
  {
    ClosedPort closed;
    port = closed.port();
    EXPECT_GT(port, 0);
    EXPECT_FALSE(port_accepts(port));
    // Held: nobody else gets it from the kernel meanwhile.
    ClosedPort other;
    EXPECT_NE(other.port(), port);
  }
}

TEST(Support, WaitUntilReturnsOnceTheConditionHoldsAndNamesWhatItWaitedFor) {
  int calls = 0;
  EXPECT_TRUE(wait_until([&] { return ++calls == 3; }, 5s, "the third call"));
  EXPECT_EQ(calls, 3);
  const auto started = std::chrono::steady_clock::now();
  const auto never = wait_until([] { return false; }, 100ms, "something that never happens");
  EXPECT_FALSE(never);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 100ms);
  EXPECT_NE(std::string(never.message()).find("something that never happens"), std::string::npos)
      << never.message();
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

// A server that listens on $PORT (0: the kernel chooses) and says where, as
// calndro's processes do.
const char* kReportingServer =
    "import json, os, socket\n"
    "s = socket.socket()\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(os.environ['PORT'])))\n"
    "s.listen()\n"
    "print(json.dumps({'msg': 'listening', 'port': s.getsockname()[1]}), flush=True)\n"
    "while True:\n"
    "    s.accept()[0].close()\n";

TEST(Support, ProcessReportsThePortTheKernelChoseAndTakesItBackOnRestart) {
  TempDir dir;
  Process p("/usr/bin/python3", {"-c", kReportingServer}, {{"PORT", "0"}}, dir.path() / "log");
  p.start();
  const int port = p.wait_reported_port("listening");
  EXPECT_GT(port, 0);
  EXPECT_TRUE(port_accepts(port));
  EXPECT_TRUE(p.running());
  EXPECT_GE(p.terminate(), 0);
  EXPECT_FALSE(p.running());
  EXPECT_FALSE(port_accepts(port));
  // Only what the new run logged counts: the old line is not read again.
  p.env()["PORT"] = std::to_string(port);
  p.start();
  p.wait_port(port);
  EXPECT_EQ(p.wait_reported_port("listening"), port);
  EXPECT_EQ(p.log_since_start().find("---- start"), std::string::npos);
  p.kill9();
  EXPECT_FALSE(p.running());
}

TEST(Support, WaitingForAReportFailsWithTheLogWhenTheProcessExits) {
  TempDir dir;
  Process p("/bin/sh", {"-c", "echo cannot listen; exit 3"}, {}, dir.path() / "log");
  p.start();
  try {
    p.wait_reported_port("listening", 10s);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exited (code 3)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot listen"), std::string::npos) << e.what();
  }
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
