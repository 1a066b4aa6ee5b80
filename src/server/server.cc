// duro::Server (include/duro/server.h): wires the pieces together. The data dir (locked), one
// IdFactory per namespace, the Runtime's shards, and the HTTP front end, whose requests run the
// Worker on the accepting shard. Also maps errors that escape the Worker to HTTP responses.
#include "duro/server.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <tuple>

#include "base/log.h"
#include "ids/id_factory.h"
#include "net/http_server.h"
#include "runtime/env_impl.h"
#include "runtime/namespace_binding.h"
#include "runtime/object_socket.h"
#include "runtime/runtime.h"
#include "server/data_dir.h"
#include "storage/recovery.h"

namespace duro {

namespace {

// The response for an error that escaped the Worker. Overload and shutdown are the caller's cue to
// retry (503); everything else is the Worker's fault (500) and says what went wrong.
Response errorResponse(std::exception_ptr error) {
  Status status;
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    status = e.status();
  } catch (const std::exception& e) {
    status = Status::internal(e.what());
  } catch (...) {
    status = Status::internal("a non-standard exception");
  }
  int code = 500;
  if (status.code() == StatusCode::kOverloaded || status.code() == StatusCode::kUnavailable) {
    code = 503;
  }
  if (code == 500) base::logError("worker", "uncaught exception: " + status.message());
  return Response::text("Error: " + status.message() + "\n", code);
}

}  // namespace

namespace {
// Every connection (a WebSocket may stay open for days) and every open object database (two
// files) is a descriptor: the soft limit, often 1,024, is raised to the hard one, as servers do.
void raiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    base::logInfo("server", "open file limit raised from " + std::to_string(before) + " to " +
                                 std::to_string(limit.rlim_cur));
  }
}
}  // namespace

class Server::Impl {
 public:
  explicit Impl(ServerOptions options) : options_(std::move(options)) {}

  ~Impl() {
    // Loops stopped and joined first; then the HTTP server (which must go before its loops).
    if (runtime_) runtime_->stop();
    http_.reset();
    runtime_.reset();
  }

  Status start() {
    if (!worker_) return Status::invalidArgument("no Worker was set (Server::setWorker)");
    if (started_) return Status::invalidArgument("the server was already started");
    raiseOpenFileLimit();
    Result<std::unique_ptr<server::DataDir>> dir = server::DataDir::open(options_.dataDir);
    if (!dir) return dir.status();
    dataDir_ = std::move(dir).value();

    runtime::RuntimeOptions ro;
    ro.threads = options_.threads != 0 ? options_.threads
                                       : std::max(1u, std::thread::hardware_concurrency());
    ro.idleTimeout = options_.idleTimeout;
    ro.maxQueuedEventsPerObject = options_.maxQueuedEventsPerObject;

    // Commits logged but possibly not yet in the databases (a crash) are replayed first.
    Result<storage::RecoveryResult> recovered = storage::recoverCommitLog(dataDir_->path());
    if (!recovered) return recovered.status();
    ro.storage.dataDir = dataDir_->path();
    ro.storage.firstLogGeneration = recovered->nextGeneration;
    ro.storage.cacheBytes = options_.cacheBytesPerShard;
    ro.storage.maxOpenDatabases = options_.maxOpenDatabasesPerShard;
    ro.storage.deleteAllDeletesAlarm = options_.compatibilityDate >= "2026-02-24";
    ro.storage.sqlLimits.maxDatabaseBytes = options_.maxSqlDatabaseBytes;
    ro.storage.sqlLimits.maxExecMs = options_.maxSqlExecTime.count();
    runtime_ = std::make_unique<runtime::Runtime>(ro, env_);

    for (auto& [binding, factory, backend] : classes_) {
      Result<ids::NamespaceSecret> secret =
          ids::loadOrCreateNamespaceSecret(dataDir_->path(), binding);
      if (!secret) return secret.status();
      runtime::NamespaceIndex index = runtime_->addNamespace(binding, factory, backend);
      env_.bind(binding, std::make_unique<runtime::NamespaceBinding>(
                             *runtime_, index, ids::IdFactory(binding, *secret)));
    }
    for (const auto& [name, value] : options_.vars) env_.setVar(name, value);
    runtime_->setInitialAlarms(std::move(recovered->alarms));

    std::vector<base::EventLoop*> loops;
    for (size_t i = 0; i < runtime_->shardCount(); ++i) loops.push_back(&runtime_->shard(i).loop());
    net::HttpServerOptions ho;
    ho.host = options_.host;
    ho.port = options_.port;
    ho.maxHeaderBytes = options_.maxHeaderBytes;
    ho.maxBodyBytes = options_.maxBodyBytes;
    // A Durable Object's WebSocket runs on the object's shard: its messages and sends take no
    // thread hop.
    ho.webSocketLoop = [](const WebSocketEndpoint& endpoint) -> base::EventLoop* {
      const auto* socket = dynamic_cast<const runtime::ObjectSocket*>(&endpoint);
      return socket != nullptr ? &socket->loop() : nullptr;
    };
    http_ = std::make_unique<net::HttpServer>(
        loops, ho, [this](Request request, net::Responder respond) {
          handle(std::move(request), std::move(respond));
        });
    if (Status s = runtime_->start(); !s) return s;
    if (Status s = http_->start(); !s) {
      runtime_->stop();
      return s;
    }
    started_ = true;
    base::logInfo("server", "listening on http://" + options_.host + ":" +
                                std::to_string(http_->port()) + " with " +
                                std::to_string(runtime_->shardCount()) + " shards, data in " +
                                dataDir_->path().string());
    return Status::ok();
  }

  void handle(Request request, net::Responder respond) {
    Task<Response> task;
    try {
      task = worker_(std::move(request), env_);
    } catch (...) {
      respond(errorResponse(std::current_exception()));
      return;
    }
    startTask<Response>(std::move(task),
                        [respond](std::optional<Response> response, std::exception_ptr error) {
                          respond(response ? std::move(*response) : errorResponse(error));
                        });
  }

  void shutdown() {
    {
      std::lock_guard lock(mu_);
      if (shutdownRequested_ || !started_) {
        shutdownRequested_ = true;
        cv_.notify_all();
        return;
      }
      shutdownRequested_ = true;
      shutdownDeadline_ = std::chrono::steady_clock::now() + options_.shutdownTimeout;
    }
    base::logInfo("server", "shutting down: no new connections, finishing in-flight requests");
    http_->shutdown([this] {
      std::lock_guard lock(mu_);
      drained_ = true;
      cv_.notify_all();
    });
  }

  bool wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return shutdownRequested_; });
    bool drained = true;
    if (started_) {
      drained = cv_.wait_until(lock, shutdownDeadline_, [this] { return drained_; });
    }
    lock.unlock();
    if (!drained) {
      base::logWarn("server", "shutdown timed out with " +
                                  std::to_string(http_->inFlightRequests()) +
                                  " requests still in flight");
    }
    if (runtime_ && runtime_->stop()) {
      // Every shard wrote its own alarm snapshot: the consolidated one from start-up is redundant.
      storage::removeConsolidatedAlarmSnapshot(dataDir_->path());
    }
    return drained;
  }

  ServerOptions options_;
  std::vector<std::tuple<std::string, ObjectFactory, StorageBackend>> classes_;
  WorkerFetch worker_;
  runtime::EnvImpl env_;
  std::unique_ptr<server::DataDir> dataDir_;
  std::unique_ptr<runtime::Runtime> runtime_;
  std::unique_ptr<net::HttpServer> http_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool shutdownRequested_ = false;
  bool drained_ = false;
  std::chrono::steady_clock::time_point shutdownDeadline_;
};

Status parseListenAddress(std::string_view text, ServerOptions& options) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::invalidArgument("listen address \"" + std::string(text) +
                                   "\" must be HOST:PORT, e.g. 127.0.0.1:8787");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || value > 65535) {
      return Status::invalidArgument("listen port \"" + std::string(port) +
                                     "\" must be a number from 0 to 65535");
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) {
    return Status::invalidArgument("listen port \"" + std::string(port) +
                                   "\" must be a number from 0 to 65535");
  }
  options.host = std::string(host);
  options.port = static_cast<uint16_t>(value);
  return Status::ok();
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Server::~Server() = default;

void Server::defineObject(std::string binding, ObjectFactory factory, StorageBackend backend) {
  impl_->classes_.emplace_back(std::move(binding), std::move(factory), backend);
}

void Server::setWorker(WorkerFetch worker) { impl_->worker_ = std::move(worker); }

Status Server::start() {
  for (const auto& [binding, factory, backend] : impl_->classes_) {
    if (Status s = ids::validateNamespaceName(binding); !s) return s;
  }
  return impl_->start();
}

uint16_t Server::port() const { return impl_->http_ ? impl_->http_->port() : 0; }

void Server::shutdown() { impl_->shutdown(); }

bool Server::wait() { return impl_->wait(); }

int Server::run() {
  // Block the stop signals before any thread starts, so every thread inherits the mask and only
  // sigwait below sees them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  if (Status s = start(); !s) {
    base::logError("server", s.message());
    return 1;
  }
  int signal = 0;
  sigwait(&stopSignals, &signal);
  base::logInfo("server", std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
  shutdown();
  return wait() ? 0 : 1;
}

ServerStats Server::stats() const {
  ServerStats out;
  if (impl_->runtime_) {
    runtime::RuntimeStats r = impl_->runtime_->stats();
    out.liveObjects = r.liveObjects;
    out.objectsConstructed = r.objectsConstructed;
    out.objectsEvicted = r.objectsEvicted;
    out.overloadRejections = r.overloadRejections;
    out.commits = r.commits;
    out.logSyncs = r.logSyncs;
    out.openDatabases = r.openDatabases;
    out.alarmsPending = r.alarmsPending;
    out.alarmsFired = r.alarmsFired;
  }
  if (impl_->http_) out.inFlightRequests = impl_->http_->inFlightRequests();
  return out;
}

}  // namespace duro
