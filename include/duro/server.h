// duro::Server: embeds a whole duro server in a C++ program. Define the object classes and the
// Worker, then run():
//
//   int main(int argc, char** argv) {
//     duro::ServerOptions options;               // or parse them from flags
//     duro::Server server(options);
//     server.defineObject<Counter>("COUNTER");
//     server.setWorker([](duro::Request req, duro::Env& env) -> duro::Task<duro::Response> {
//       co_return co_await env.ns("COUNTER").getByName("x").fetch(std::move(req));
//     });
//     return server.run();                       // serves until SIGTERM/SIGINT, then drains
//   }
//
// Threading: define*, setWorker and start are called on one thread before serving; stats() and
// shutdown() are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "duro/object.h"
#include "duro/status.h"

namespace duro {

struct ServerOptions {
  // Where to listen for HTTP. Port 0 picks a free port (see Server::port()).
  std::string host = "127.0.0.1";
  uint16_t port = 8787;
  // The data directory (namespace secrets, later each object's storage). Created if missing.
  // One server at a time may use it (it is locked).
  std::filesystem::path dataDir = "./data";
  // Shard threads; 0 means one per core.
  unsigned threads = 0;
  // An object with no activity for this long is evicted (Cloudflare: about 10 s).
  std::chrono::milliseconds idleTimeout{10000};
  // Events waiting for one object beyond this are refused as overloaded (HTTP 503).
  size_t maxQueuedEventsPerObject = 1000;
  // Request limits at the HTTP edge: larger headers give 431, larger bodies 413.
  size_t maxHeaderBytes = 32 * 1024;
  size_t maxBodyBytes = 16 * 1024 * 1024;
  // Storage, per shard: bytes of cached keys and values, and open object databases (the least
  // recently used beyond this is closed).
  size_t cacheBytesPerShard = 32 << 20;
  size_t maxOpenDatabasesPerShard = 512;
  // SQLite-backed objects: the most storage one object may use (SQLITE_FULL beyond).
  uint64_t maxSqlDatabaseBytes = 10ull << 30;
  // One sql.exec() may run this long (an endless recursive query), then fails with
  // SQLITE_INTERRUPT; `duro serve` sets it to the project's cpu_limit_ms.
  std::chrono::milliseconds maxSqlExecTime{30000};
  // On SIGTERM/SIGINT, in-flight requests get this long to finish before the server exits anyway.
  std::chrono::milliseconds shutdownTimeout{30000};
  // Behaviour that Cloudflare ties to a compatibility date (YYYY-MM-DD). From 2026-02-24,
  // deleteAll() also deletes the alarm.
  std::string compatibilityDate = "2026-11-01";
  // Variables visible through Env::var.
  std::map<std::string, std::string> vars;
};

// Counters for diagnostics and tests. Each is a snapshot summed over shards.
struct ServerStats {
  uint64_t liveObjects = 0;          // objects with a constructed instance right now
  uint64_t objectsConstructed = 0;   // instances constructed since start
  uint64_t objectsEvicted = 0;       // instances evicted after their idle timeout
  uint64_t overloadRejections = 0;   // events refused because an object's queue was full
  uint64_t inFlightRequests = 0;     // HTTP requests being handled
  uint64_t commits = 0;              // object commits written to the commit logs
  uint64_t logSyncs = 0;             // fdatasync calls on the commit logs (group commit)
  uint64_t openDatabases = 0;        // object databases open right now
  uint64_t alarmsPending = 0;        // alarms waiting to fire
  uint64_t alarmsFired = 0;          // alarm runs started (first runs and retries)
};

// Parses "HOST:PORT" (IPv4 or a host name; "[::1]:PORT" for IPv6) as used by --listen.
Status parseListenAddress(std::string_view text, ServerOptions& options);

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers an object class under `binding` (also its namespace name: letters, digits, '_', '-').
  // `backend`: kSqlite gives its objects the SQL API (Storage::sql(), include/duro/sql.h).
  void defineObject(std::string binding, ObjectFactory factory,
                    StorageBackend backend = StorageBackend::kKeyValue);
  template <typename T>
  void defineObject(std::string binding, StorageBackend backend = StorageBackend::kKeyValue) {
    defineObject(
        std::move(binding),
        [](ObjectState& state, Env& env) -> std::unique_ptr<DurableObject> {
          return std::make_unique<T>(state, env);
        },
        backend);
  }
  // Sets the Worker (required before start).
  void setWorker(WorkerFetch worker);

  // Opens the data dir, starts the shards and listens. Returns once serving, or an error.
  Status start();
  // The listening port (after start).
  uint16_t port() const;
  // Graceful stop, callable from any thread: stop accepting, finish in-flight requests, stop the
  // shards. `wait()` returns when done.
  void shutdown();
  // Blocks until the server has stopped; true if every in-flight request finished in time.
  bool wait();
  // start(), then serve until SIGTERM or SIGINT, then shut down gracefully. Returns the process
  // exit code: 0 after a clean drain, 1 if start failed or the drain timed out.
  int run();

  ServerStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duro
