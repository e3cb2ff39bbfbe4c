// GET /ID/changes/ end to end inside one process: the gateway's HTTP server
// on 127.0.0.1:0 in front of a fake EventService whose WatchEvent streams
// what the test pushes. The client is a plain socket, so the test sees the
// exact bytes and can stop reading.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/crypto/crypto.h"
#include "common/grpc/rich_status.h"
#include "gateway/api/event_client.h"
#include "gateway/api/json_mapping.h"
#include "gateway/api/routes.h"
#include "gateway/api/sse_frames.h"
#include "gateway/server/http_server.h"
#include "serving_gateway.h"
#include "support/raw_http.h"
#include "support/sse_client.h"

namespace calndro::gateway {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using StreamClient = testing::SseClient;

constexpr int64_t kCurrentVersion = 3;

v1::Event event_at(int64_t id, int64_t version, std::size_t title_bytes = 0) {
  v1::Event event;
  event.set_id(id);
  event.set_version(version);
  event.set_title(title_bytes == 0 ? "cybes v" + std::to_string(version) : std::string(title_bytes, 't'));
  event.add_parties("you@here.net");
  auto* slot = event.add_slots();
  slot->mutable_begin()->set_seconds(1667265082);
  slot->mutable_duration()->set_seconds(600);
  return event;
}

v1::EventChange change_to(int64_t version, std::size_t title_bytes = 0) {
  v1::EventChange change;
  *change.mutable_event() = event_at(7, version, title_bytes);
  return change;
}

// WatchEvent as the contract in events.proto says, fed by the test: the
// event at kCurrentVersion first (a heartbeat when the caller has it), then
// whatever push() sends, until finish() or the caller cancels.
class FakeWatchService final : public v1::EventService::Service {
 public:
  struct Call {
    std::map<std::string, std::string> metadata;
    v1::WatchEventRequest request;
  };

  // A new gateway in front: no call is to end yet.
  void reopen() {
    std::lock_guard lock(mutex_);
    finish_ = grpc::Status::OK;
  }
  void refuse_with(grpc::Status status) {
    std::lock_guard lock(mutex_);
    refusal_ = std::move(status);
  }
  void delay_first_message(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    first_delay_ = delay;
  }
  // To every open call.
  void push(const v1::EventChange& change) {
    std::lock_guard lock(mutex_);
    for (auto& [id, queue] : queues_) {
      queue.push_back(change);
    }
    changed_.notify_all();
  }
  // Ends every open call with `status`.
  void finish(grpc::Status status) {
    std::lock_guard lock(mutex_);
    finish_ = std::move(status);
    changed_.notify_all();
  }
  std::vector<Call> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  int open_calls() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(queues_.size());
  }
  int cancelled_calls() {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

  grpc::Status GetEvent(grpc::ServerContext*, const v1::GetEventRequest* request,
                        v1::Event* response) override {
    *response = event_at(request->id(), kCurrentVersion);
    return grpc::Status::OK;
  }

  grpc::Status WatchEvent(grpc::ServerContext* context, const v1::WatchEventRequest* request,
                          grpc::ServerWriter<v1::EventChange>* writer) override {
    const int id = open(context, *request);
    if (id < 0) {
      std::lock_guard lock(mutex_);
      return refusal_;
    }
    v1::EventChange first;
    if (request->after_version() >= kCurrentVersion) {
      first.mutable_heartbeat();
    } else {
      *first.mutable_event() = event_at(request->id(), kCurrentVersion);
    }
    grpc::Status status = writer->Write(first) ? serve(context, writer, id) : grpc::Status::CANCELLED;
    close(id, context->IsCancelled());
    return status;
  }

 private:
  // Records the call; -1 when it is to be refused.
  int open(grpc::ServerContext* context, const v1::WatchEventRequest& request) {
    Call call;
    for (const auto& [key, value] : context->client_metadata()) {
      call.metadata[std::string(key.data(), key.size())] = std::string(value.data(), value.size());
    }
    call.request = request;
    std::unique_lock lock(mutex_);
    calls_.push_back(call);
    if (!refusal_.ok()) {
      return -1;
    }
    const auto first_at = std::chrono::steady_clock::now() + first_delay_;
    while (std::chrono::steady_clock::now() < first_at && !context->IsCancelled()) {
      changed_.wait_for(lock, 10ms);
    }
    queues_[next_id_];
    return next_id_++;
  }

  grpc::Status serve(grpc::ServerContext* context, grpc::ServerWriter<v1::EventChange>* writer, int id) {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait_for(lock, 10ms);
      if (context->IsCancelled()) {
        return grpc::Status::CANCELLED;
      }
      if (!finish_.ok() || finish_.error_message() == "finish") {
        return finish_;
      }
      auto& queue = queues_[id];
      while (!queue.empty()) {
        const v1::EventChange change = queue.front();
        queue.pop_front();
        lock.unlock();
        const bool written = writer->Write(change);
        lock.lock();
        if (!written) {
          return grpc::Status::CANCELLED;
        }
        if (change.has_deleted()) {
          return grpc::Status::OK;
        }
      }
    }
  }

  void close(int id, bool cancelled) {
    std::lock_guard lock(mutex_);
    queues_.erase(id);
    cancelled_ += cancelled ? 1 : 0;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  grpc::Status refusal_ = grpc::Status::OK;
  grpc::Status finish_ = grpc::Status::OK;
  std::chrono::milliseconds first_delay_{0};
  std::vector<Call> calls_;
  std::map<int, std::deque<v1::EventChange>> queues_;
  int next_id_ = 0;
  int cancelled_ = 0;
};

class EventStreamTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void TearDown() override { stop(); }

  void start(std::chrono::milliseconds slow_reader = 30000ms, std::chrono::milliseconds timeout = 3000ms) {
    init_crypto();
    service_.reopen();
    int grpc_port = 0;
    grpc_server_ = serve_on_a_free_port(service_, grpc_port);
    ASSERT_NE(grpc_server_, nullptr);
    client_ = EventClient::connect("127.0.0.1:" + std::to_string(grpc_port), timeout);
    GatewayOptions options;
    options.allowed_hosts = "h,127.0.0.1";
    HttpServerOptions server_options;
    server_options.threads = 4;
    server_options.streams.slow_reader = slow_reader;
    gateway_ = std::make_unique<ServingGateway>(*client_, options, server_options);
    ASSERT_TRUE(gateway_->serving());
    port_ = gateway_->port();
  }

  void stop() {
    gateway_.reset();
    client_.reset();
    if (grpc_server_) {
      service_.finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "test over"));
      grpc_server_->Shutdown();
      grpc_server_.reset();
    }
  }

  // Waits until `condition` holds, for up to `timeout`.
  template <typename Condition>
  static bool eventually(Condition condition, std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  std::string get(const std::string& target, const std::string& headers = "") {
    return testing::raw_http(port_, "GET " + target +
                                        " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                                        "\r\nConnection: close\r\n" + headers + "\r\n");
  }

  FakeWatchService service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<EventClient> client_;
  std::unique_ptr<ServingGateway> gateway_;
  int port_ = 0;
};

std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

TEST(SseFrames, ChangeFrameCarriesTheVersionAndTheEventAsGetRendersIt) {
  const v1::Event event = event_at(7, 12);
  const std::string frame = change_frame(event, "http://h");
  EXPECT_EQ(frame, "event: change\nid: 12\ndata: " + event_body(event, "http://h") + "\n\n");
  EXPECT_EQ(std::count(frame.begin(), frame.end(), '\n'), 4) << "one data line";
  EXPECT_EQ(deleted_frame(7), "event: deleted\ndata: {\"id\": 7}\n\n");
  EXPECT_EQ(kKeepAliveFrame, ": keep-alive\n\n");
}

TEST(SseFrames, HeadIsAnUncachedCloseDelimitedEventStream) {
  const std::string head = event_stream_head("req-1");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  for (const char* line : {"Content-Type: text/event-stream\r\n", "Cache-Control: no-cache\r\n",
                           "X-Accel-Buffering: no\r\n", "Connection: close\r\n", "X-Request-Id: req-1\r\n"}) {
    EXPECT_NE(head.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
}

TEST_F(EventStreamTest, StartsWithTheCurrentEventExactlyAsGetRendersIt) {
  StreamClient stream(port_, "/7/changes/?et=t0ken", "Accept: text/event-stream\r\nX-Request-Id: sse-1\r\n");
  ASSERT_TRUE(stream.read_until("\n\n", 5000ms)) << stream.received();
  ASSERT_TRUE(stream.read_until("\r\n\r\nevent: change\n")) << stream.received();
  ASSERT_TRUE(stream.read_until("}\n\n")) << stream.received();
  EXPECT_EQ(status_line(stream.received()), "HTTP/1.1 200 OK");
  EXPECT_NE(stream.received().find("X-Request-Id: sse-1\r\n"), std::string::npos);
  const std::string get_body = json::parse(get("/7/").substr(get("/7/").find("\r\n\r\n") + 4)).dump();
  const std::string body = stream.body();
  ASSERT_EQ(body.rfind("event: change\nid: 3\ndata: ", 0), 0u) << body;
  const std::string data = body.substr(std::string("event: change\nid: 3\ndata: ").size());
  EXPECT_EQ(json::parse(data.substr(0, data.find('\n'))).dump(), get_body);
  EXPECT_EQ(data.substr(data.find('\n')), "\n\n");

  const auto calls = service_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].request.id(), 7);
  EXPECT_EQ(calls[0].request.after_version(), 0);
  EXPECT_EQ(calls[0].metadata.at("x-email-token"), "t0ken");
  EXPECT_EQ(calls[0].metadata.at("x-request-id"), "sse-1");
}

TEST_F(EventStreamTest, LaterVersionsAndHeartbeatsFollow) {
  StreamClient stream(port_, "/7/changes/", "Authorization: Token abc\r\n");
  ASSERT_TRUE(stream.read_until("id: 3\n")) << stream.received();
  service_.push(change_to(4));
  ASSERT_TRUE(stream.read_until("id: 4\n")) << stream.received();
  v1::EventChange heartbeat;
  heartbeat.mutable_heartbeat();
  service_.push(heartbeat);
  ASSERT_TRUE(stream.read_until(": keep-alive\n\n")) << stream.received();
  service_.push(change_to(5));
  ASSERT_TRUE(stream.read_until("id: 5\n")) << stream.received();
  EXPECT_EQ(service_.calls().at(0).metadata.at("authorization"), "Token abc");
}

TEST_F(EventStreamTest, LastEventIdResumesAfterThatVersion) {
  {
    StreamClient stream(port_, "/7/changes/", "Last-Event-ID: 3\r\n");
    ASSERT_TRUE(stream.read_until("\r\n\r\n")) << stream.received();
    EXPECT_EQ(status_line(stream.received()), "HTTP/1.1 200 OK");
    // Up to date: nothing until the next change.
    service_.push(change_to(4));
    ASSERT_TRUE(stream.read_until("id: 4\n")) << stream.received();
    EXPECT_EQ(stream.body().find("id: 3\n"), std::string::npos) << stream.body();
  }
  StreamClient by_query(port_, "/7/changes/?last_event_id=2");
  ASSERT_TRUE(by_query.read_until("id: 3\n")) << by_query.received();
  StreamClient both(port_, "/7/changes/?last_event_id=1", "Last-Event-ID: 2\r\n");
  ASSERT_TRUE(both.read_until("id: 3\n")) << both.received();
  const auto calls = service_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].request.after_version(), 3);
  EXPECT_EQ(calls[1].request.after_version(), 2);
  EXPECT_EQ(calls[2].request.after_version(), 2) << "the header wins over the query";
}

TEST_F(EventStreamTest, ABadLastEventIdIs400NamingIt) {
  for (const std::string id : {"abc", "-1", "3.0", "99999999999999999999"}) {
    const std::string response = get("/7/changes/", "Last-Event-ID: " + id + "\r\n");
    EXPECT_EQ(status_line(response), "HTTP/1.1 400 Bad Request") << id;
    EXPECT_NE(response.find("Last-Event-ID must be an event version"), std::string::npos) << response;
  }
  const std::string response = get("/7/changes/?last_event_id=x");
  EXPECT_EQ(status_line(response), "HTTP/1.1 400 Bad Request");
  EXPECT_NE(response.find("last_event_id must be an event version"), std::string::npos) << response;
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(EventStreamTest, AnAcceptWithoutEventStreamIs406NamingAccept) {
  for (const char* accept : {"application/json", "text/html", "text/event-stream;q=0"}) {
    const std::string response = get("/7/changes/", std::string("Accept: ") + accept + "\r\n");
    EXPECT_EQ(status_line(response), "HTTP/1.1 406 Not Acceptable") << accept;
    EXPECT_NE(response.find("the Accept header"), std::string::npos) << response;
  }
  EXPECT_TRUE(service_.calls().empty());
  for (const char* accept :
       {"*/*", "text/*", "text/event-stream", "application/json, text/event-stream;q=0.5"}) {
    StreamClient stream(port_, "/7/changes/", std::string("Accept: ") + accept + "\r\n");
    ASSERT_TRUE(stream.read_until("id: 3\n")) << accept << ": " << stream.received();
  }
}

TEST_F(EventStreamTest, RefusalsBeforeTheFirstMessageAreOrdinaryAnswers) {
  struct Case {
    grpc::Status status;
    std::string line;
    std::string header;
  };
  const Case cases[] = {
      {grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "Invalid token."), "HTTP/1.1 401 Unauthorized",
       "WWW-Authenticate: Basic realm=\"calndro\""},
      {to_grpc_status(token_expired(Instant(std::chrono::seconds(1667265082)))), "HTTP/1.1 401 Unauthorized",
       "\"detail\":\"Token expired\""},
      {grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "Not a party."), "HTTP/1.1 403 Forbidden",
       "Not a party."},
      {grpc::Status(grpc::StatusCode::NOT_FOUND, "No such event."), "HTTP/1.1 404 Not Found",
       "No such event."},
      {to_grpc_status(resource_exhausted("Too many open streams.", std::chrono::seconds(7))),
       "HTTP/1.1 429 Too Many Requests", "Retry-After: 7"},
      {grpc::Status(grpc::StatusCode::UNAVAILABLE, "db down at 10.0.0.1"), "HTTP/1.1 503 Service Unavailable",
       "Service temporarily unavailable"},
  };
  for (const Case& c : cases) {
    service_.refuse_with(c.status);
    const std::string response = get("/7/changes/?et=t0ken");
    EXPECT_EQ(status_line(response), c.line) << response;
    EXPECT_NE(response.find(c.header), std::string::npos) << response;
    EXPECT_NE(response.find("Content-Type: application/json"), std::string::npos) << response;
  }
}

TEST_F(EventStreamTest, NoFirstMessageInTimeIs504) {
  stop();
  start(30000ms, 300ms);
  service_.delay_first_message(2000ms);
  const std::string response = get("/7/changes/");
  EXPECT_EQ(status_line(response), "HTTP/1.1 504 Gateway Timeout") << response;
  EXPECT_TRUE(eventually([this] { return service_.cancelled_calls() == 1; }));
}

TEST_F(EventStreamTest, DeletedEndsTheStream) {
  StreamClient stream(port_, "/7/changes/");
  ASSERT_TRUE(stream.read_until("id: 3\n")) << stream.received();
  v1::EventChange deleted;
  deleted.mutable_deleted()->set_id(7);
  service_.push(deleted);
  EXPECT_TRUE(stream.closed_within(5000ms));
  const std::string ending = "\n\nevent: deleted\ndata: {\"id\": 7}\n\n";
  ASSERT_GT(stream.body().size(), ending.size());
  EXPECT_EQ(stream.body().substr(stream.body().size() - ending.size()), ending);
  EXPECT_TRUE(eventually([this] { return gateway_->http().open_streams() == 0; }));
}

TEST_F(EventStreamTest, AnErrorAfterTheStartClosesTheStream) {
  StreamClient stream(port_, "/7/changes/");
  ASSERT_TRUE(stream.read_until("id: 3\n")) << stream.received();
  service_.finish(to_grpc_status(token_expired(Instant(std::chrono::seconds(1667265082)))));
  EXPECT_TRUE(stream.closed_within(5000ms));
  EXPECT_EQ(stream.body().find("401"), std::string::npos);
  EXPECT_TRUE(eventually([this] { return gateway_->http().open_streams() == 0; }));
}

TEST_F(EventStreamTest, TheClientClosingCancelsTheCall) {
  StreamClient stream(port_, "/7/changes/");
  ASSERT_TRUE(stream.read_until("id: 3\n")) << stream.received();
  EXPECT_EQ(service_.open_calls(), 1);
  stream.close();
  EXPECT_TRUE(eventually([this] { return service_.cancelled_calls() == 1; }));
  EXPECT_TRUE(eventually([this] { return gateway_->http().open_streams() == 0; }));
}

TEST_F(EventStreamTest, StopEndsEveryStream) {
  StreamClient first(port_, "/7/changes/");
  StreamClient second(port_, "/7/changes/");
  ASSERT_TRUE(first.read_until("id: 3\n"));
  ASSERT_TRUE(second.read_until("id: 3\n"));
  gateway_->http().stop();
  EXPECT_TRUE(first.closed_within(5000ms));
  EXPECT_TRUE(second.closed_within(5000ms));
  EXPECT_TRUE(eventually([this] { return service_.cancelled_calls() == 2; }));
}

// A stream holds no worker: far more streams than workers (4) are served,
// and other requests still are.
TEST_F(EventStreamTest, StreamsHoldNoWorker) {
  std::vector<std::unique_ptr<StreamClient>> streams;
  for (int i = 0; i < 24; ++i) {
    streams.push_back(std::make_unique<StreamClient>(port_, "/7/changes/"));
    ASSERT_TRUE(streams.back()->read_until("id: 3\n")) << i << ": " << streams.back()->received();
  }
  EXPECT_EQ(gateway_->http().open_streams(), 24u);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(status_line(get("/7/")), "HTTP/1.1 200 OK");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1000ms);
  service_.push(change_to(4));
  for (auto& stream : streams) {
    EXPECT_TRUE(stream->read_until("id: 4\n")) << stream->received();
  }
}

// A client that reads nothing while big changes keep coming: the kernel's
// buffers fill, then the gateway keeps one frame at most and disconnects
// the client once it has left bytes unread for the limit.
TEST_F(EventStreamTest, ASlowReaderIsDisconnected) {
  stop();
  start(300ms);
  StreamClient stream(port_, "/7/changes/");
  ASSERT_TRUE(eventually([this] { return gateway_->http().open_streams() == 1; }));
  bool dropped = false;
  for (int version = 4; version < 400 && !dropped; ++version) {
    service_.push(change_to(version, 256 * 1024));
    dropped = eventually([this] { return gateway_->http().open_streams() == 0; }, 20ms);
  }
  EXPECT_TRUE(dropped);
  EXPECT_TRUE(eventually([this] { return service_.cancelled_calls() == 1; }));
}

// Changes faster than the client reads: versions in between are skipped,
// never the latest, and none comes twice or out of order.
TEST_F(EventStreamTest, ALaggingReaderGetsTheLatestVersionAndNoneTwice) {
  StreamClient stream(port_, "/7/changes/");
  ASSERT_TRUE(stream.read_until("id: 3\n"));
  constexpr int kLast = 60;
  for (int version = 4; version <= kLast; ++version) {
    service_.push(change_to(version, 128 * 1024));
  }
  ASSERT_TRUE(stream.read_until("id: " + std::to_string(kLast) + "\n", 20000ms));
  std::vector<int64_t> versions;
  const std::string& text = stream.received();
  for (auto at = text.find("\nid: "); at != std::string::npos; at = text.find("\nid: ", at + 1)) {
    versions.push_back(std::stoll(text.substr(at + 5)));
  }
  ASSERT_FALSE(versions.empty());
  EXPECT_EQ(versions.back(), kLast);
  for (std::size_t i = 1; i < versions.size(); ++i) {
    EXPECT_LT(versions[i - 1], versions[i]);
  }
}

TEST_F(EventStreamTest, OtherMethodsAre405AndTheBarePathRedirects) {
  const std::string post = testing::raw_http(
      port_, "POST /7/changes/ HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(post), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(post.find("Allow: GET"), std::string::npos);
  const std::string bare = get("/7/changes?et=t0ken");
  EXPECT_EQ(status_line(bare), "HTTP/1.1 301 Moved Permanently");
  EXPECT_NE(bare.find("Location: /7/changes/?et=t0ken"), std::string::npos) << bare;
  EXPECT_TRUE(service_.calls().empty());
}

}  // namespace
}  // namespace calndro::gateway
