#include "common/rpc/grpc_server.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/base/log.h"
#include "common/grpc/grpc_channel.h"
#include "common/metrics/metrics.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace calndro {
namespace {

// Referencing the health descriptor links health.proto's descriptor into
// the binary, so reflection can describe grpc.health.v1.Health.
const google::protobuf::FileDescriptor* health_descriptor() {
  return grpc::health::v1::HealthCheckRequest::descriptor()->file();
}

// Counts every call in flight (for a shutdown that waits for them) and,
// when metrics are on, counts and times it by method and status code. The
// interceptor lives exactly as long as its call.
class CallTrackingInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallTrackingInterceptor(grpc::experimental::ServerRpcInfo* info, Metrics* metrics,
                          std::atomic<int>& in_flight)
      : method_(info->method() != nullptr ? info->method() : "unknown"),
        metrics_(metrics),
        in_flight_(in_flight),
        started_(std::chrono::steady_clock::now()) {
    in_flight_.fetch_add(1);
  }
  ~CallTrackingInterceptor() override { in_flight_.fetch_sub(1); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (metrics_ != nullptr &&
        methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
      metrics_->observe_rpc(method_, static_cast<int>(status.error_code()), elapsed.count());
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  Metrics* metrics_;
  std::atomic<int>& in_flight_;
  std::chrono::steady_clock::time_point started_;
};

class CallTrackingInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  CallTrackingInterceptorFactory(Metrics* metrics, std::atomic<int>& in_flight)
      : metrics_(metrics), in_flight_(in_flight) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new CallTrackingInterceptor(info, metrics_, in_flight_);
  }

 private:
  Metrics* metrics_;
  std::atomic<int>& in_flight_;
};

// Stops the server: no new calls from now on, calls in flight finish (up to
// `deadline`). grpc::Server::Shutdown also waits for every client to close
// its connection after the GOAWAY, which an idle pooled channel (the
// gateway's, say) may not do before the deadline: once no call is in flight,
// the remaining connections are cut, so an idle server stops at once.
void shutdown_server(grpc::Server& server, const std::atomic<int>& in_flight,
                     std::chrono::system_clock::time_point deadline) {
  std::thread shutdown([&server, deadline] { server.Shutdown(deadline); });
  // Shutdown refuses new calls as soon as it starts; give it that moment, so
  // the count below can no longer grow.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  while (in_flight.load() > 0 && std::chrono::system_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  grpc_server_cancel_all_calls(server.c_server());
  shutdown.join();
  server.Wait();
}

// Polls the readiness check and mirrors it into the health service.
class ReadinessWatcher {
 public:
  ReadinessWatcher(grpc::HealthCheckServiceInterface& health, std::function<bool()> check,
                   std::vector<std::string> names)
      : health_(health), check_(std::move(check)), names_(std::move(names)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~ReadinessWatcher() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void loop() {
    bool serving = true;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      bool ready = false;
      try {
        ready = check_();
      } catch (const std::exception&) {
        ready = false;
      }
      lock.lock();
      if (stopping_) {
        break;
      }
      if (ready != serving) {
        serving = ready;
        for (const auto& name : names_) {
          health_.SetServingStatus(name, serving);
        }
        log::warn(serving ? "ready again" : "not ready: health is NOT_SERVING");
      }
      wake_.wait_for(lock, std::chrono::seconds(2), [this] { return stopping_; });
    }
  }

  grpc::HealthCheckServiceInterface& health_;
  std::function<bool()> check_;
  std::vector<std::string> names_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

int probe_grpc_health(const std::string& listen_address) {
  // A wildcard listen address is reached on loopback.
  std::string target = listen_address;
  for (const char* wildcard : {"0.0.0.0:", "[::]:"}) {
    if (target.rfind(wildcard, 0) == 0) {
      target = "127.0.0.1:" + target.substr(std::string(wildcard).size());
    }
  }
  std::shared_ptr<grpc::Channel> channel;
  try {
    GrpcTls tls = grpc_tls();
    // The probe reaches the server on loopback: under TLS it expects the
    // configured server name, else "localhost" (docs/OPERATIONS.md).
    if (tls.enabled() && tls.server_name.empty()) {
      tls.server_name = "localhost";
    }
    channel = grpc::CreateCustomChannel(target, channel_credentials(tls), channel_arguments(tls));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "health check: %s\n", error.what());
    return 1;
  }
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "health check on %s failed: %s\n", target.c_str(), status.error_message().c_str());
    return 1;
  }
  const bool serving = response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  std::fprintf(stderr, "%s: %s\n", target.c_str(), serving ? "SERVING" : "NOT_SERVING");
  return serving ? 0 : 1;
}

namespace {

void apply_server_limits(grpc::ServerBuilder& builder) {
  // The sync server keeps at most max_pollers idle threads and starts a new
  // thread whenever no poller is left: with gRPC's default of 2, sixteen
  // concurrent callers would make it create and end a thread per call (task
  // switching would dominate the profile). Idle pollers cost nothing.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 32);
  // Explicit limits (common/grpc/grpc_channel.h), the same as our channels'.
  builder.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  builder.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, kMaxGrpcMetadataBytes);
}

// Every service, and the server as a whole (""), SERVING.
std::vector<std::string> announce_serving(grpc::HealthCheckServiceInterface& health,
                                          const std::vector<std::string>& service_names) {
  std::vector<std::string> names{""};
  names.insert(names.end(), service_names.begin(), service_names.end());
  for (const auto& name : names) {
    health.SetServingStatus(name, true);
  }
  return names;
}

// From the termination signal to a stopped server: NOT_SERVING first, so
// balancers stop sending before the server stops; background work (the mail
// dispatcher) finishes what it holds while the calls in flight drain.
void drain_after_signal(grpc::Server& server, grpc::HealthCheckServiceInterface& health,
                        std::unique_ptr<ReadinessWatcher> readiness, const GrpcServerOptions& options,
                        std::atomic<int>& in_flight) {
  const int signal_number = wait_for_termination_signal();
  log::info("shutting down", {{"signal", signal_number}});
  readiness.reset();
  health.SetServingStatus(false);
  const auto deadline = std::chrono::system_clock::now() + options.drain_timeout;
  std::thread background([&options] {
    if (options.on_shutdown) {
      options.on_shutdown();
    }
  });
  shutdown_server(server, in_flight, deadline);
  background.join();
}

}  // namespace

int run_grpc_server(GrpcServerOptions options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  (void)health_descriptor();

  grpc::ServerBuilder builder;
  apply_server_limits(builder);
  std::shared_ptr<grpc::ServerCredentials> credentials;
  try {
    credentials = server_credentials(grpc_tls());
  } catch (const std::exception& error) {
    log::error("cannot start", {{"error", error.what()}});
    return 1;
  }
  int selected_port = 0;
  builder.AddListeningPort(options.address, credentials, &selected_port);
  for (grpc::Service* service : options.services) {
    builder.RegisterService(service);
  }
  // Not "frequently polled" (each has a thread in Next() all the same): a
  // frequently polled queue, as a callback method, makes gRPC build a
  // hybrid server, whose synchronous queues then leave all network polling
  // to the others; the callback queue's threads nap 100 ms after an idle
  // second, which every synchronous call then waits out now and again
  // (docs/PERFORMANCE.md).
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> async_queues;
  for (std::size_t i = 0; i < options.async_calls.size(); ++i) {
    async_queues.push_back(builder.AddCompletionQueue(/*is_frequently_polled=*/false));
  }
  std::atomic<int> in_flight{0};
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<CallTrackingInterceptorFactory>(options.metrics, in_flight));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    log::error(
        "cannot listen",
        {{"address", options.address},
         {"tls", grpc_tls().enabled() ? "on (a certificate/key that do not match also end here)" : "off"}});
    return 1;
  }
  grpc::HealthCheckServiceInterface& health = *server->GetHealthCheckService();
  const std::vector<std::string> names = announce_serving(health, options.service_names);
  log::info("serving",
            {{"address", options.address}, {"port", selected_port}, {"tls", grpc_tls().enabled()}});
  std::unique_ptr<ReadinessWatcher> readiness;
  if (options.readiness_check) {
    readiness = std::make_unique<ReadinessWatcher>(health, options.readiness_check, names);
  }
  for (std::size_t i = 0; i < options.async_calls.size(); ++i) {
    options.async_calls[i]->start(*async_queues[i]);
  }
  drain_after_signal(*server, health, std::move(readiness), options, in_flight);
  for (AsyncCalls* calls : options.async_calls) {
    calls->stop();
  }
  log::info("stopped");
  return 0;
}

}  // namespace calndro
