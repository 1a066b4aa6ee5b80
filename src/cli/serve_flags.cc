// Implementation of the serve flags (serve_flags.h).
#include "cli/serve_flags.h"

#include <iostream>

#include "base/log.h"

namespace duro::cli {

void ServeFlags::addTo(CLI::App& app, bool withConfig) {
  if (withConfig) {
    app.add_option("--config", config,
                   "Worker project config (wrangler.toml, wrangler.jsonc, wrangler.json); default: "
                   "the first of those in the current folder");
  }
  app.add_option("--listen", listen, "HOST:PORT to serve HTTP on")->capture_default_str();
  app.add_option("--data", data, "data directory (created if missing)")->capture_default_str();
  app.add_option("--threads", threads, "shard threads (0 = one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 1024u));
  app.add_option("--idle-timeout-ms", idleTimeoutMs, "evict objects idle this long")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86400000}));
  app.add_option("--max-queue", maxQueue,
                 "events waiting per object before callers get 503 overloaded")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  app.add_option("--max-header-bytes", maxHeaderBytes, "request header limit (431 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 24));
  app.add_option("--max-body-bytes", maxBodyBytes, "request body limit (413 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 32));
  app.add_option("--shutdown-timeout-ms", shutdownTimeoutMs,
                 "how long in-flight requests may take after SIGTERM")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  app.add_option("--cache-bytes", cacheBytes,
                 "bytes of stored keys and values cached in memory, per shard")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--max-open-databases", maxOpenDatabases,
                 "object databases kept open per shard (least recently used closed beyond)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  app.add_option("--max-database-bytes", maxDatabaseBytes,
                 "storage per SQLite-backed object (SQL writes beyond fail with SQLITE_FULL)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{65536}, int64_t{1} << 44));
  app.add_option("--compatibility-date", compatibilityDate,
                 "YYYY-MM-DD: Cloudflare behaviour of that date (from 2026-02-24 deleteAll() "
                 "also deletes the alarm)")
      ->capture_default_str();
  app.add_option("--log-level", logLevel, "debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
}

Status ServeFlags::toOptions(ServerOptions& options) const {
  if (Status s = parseListenAddress(listen, options); !s) return s;
  if (data.empty()) return Status::invalidArgument("--data must not be empty");
  options.dataDir = data;
  options.threads = threads;
  options.idleTimeout = std::chrono::milliseconds(idleTimeoutMs);
  options.maxQueuedEventsPerObject = static_cast<size_t>(maxQueue);
  options.maxHeaderBytes = static_cast<size_t>(maxHeaderBytes);
  options.maxBodyBytes = static_cast<size_t>(maxBodyBytes);
  options.shutdownTimeout = std::chrono::milliseconds(shutdownTimeoutMs);
  options.cacheBytesPerShard = static_cast<size_t>(cacheBytes);
  options.maxOpenDatabasesPerShard = static_cast<size_t>(maxOpenDatabases);
  options.maxSqlDatabaseBytes = static_cast<uint64_t>(maxDatabaseBytes);
  options.maxSqlExecTime = std::chrono::milliseconds(sqlExecMs);
  if (compatibilityDate.size() != 10 || compatibilityDate[4] != '-' || compatibilityDate[7] != '-') {
    return Status::invalidArgument("--compatibility-date must be YYYY-MM-DD, got \"" +
                                   compatibilityDate + "\"");
  }
  options.compatibilityDate = compatibilityDate;
  base::LogLevel level;
  if (!base::parseLogLevel(logLevel, &level)) {
    return Status::invalidArgument("--log-level: unknown level " + logLevel);
  }
  base::setLogLevel(level);
  return Status::ok();
}

void ServeFlags::applyProjectDefaults(const CLI::App& app, const config::WorkerConfig& project) {
  auto given = [&](const char* flag) { return app.count(flag) > 0; };
  const config::DuroSettings& d = project.duro;
  if (d.listen && !given("--listen")) listen = *d.listen;
  if (d.data && !given("--data")) data = d.data->string();
  if (d.threads && !given("--threads")) threads = *d.threads;
  if (d.idleTimeoutMs && !given("--idle-timeout-ms")) idleTimeoutMs = *d.idleTimeoutMs;
  if (d.shutdownTimeoutMs && !given("--shutdown-timeout-ms")) shutdownTimeoutMs = *d.shutdownTimeoutMs;
  if (d.maxQueue && !given("--max-queue")) maxQueue = static_cast<int64_t>(*d.maxQueue);
  if (d.maxHeaderBytes && !given("--max-header-bytes")) {
    maxHeaderBytes = static_cast<int64_t>(*d.maxHeaderBytes);
  }
  if (d.maxBodyBytes && !given("--max-body-bytes")) maxBodyBytes = static_cast<int64_t>(*d.maxBodyBytes);
  if (d.cacheBytes && !given("--cache-bytes")) cacheBytes = static_cast<int64_t>(*d.cacheBytes);
  if (d.maxOpenDatabases && !given("--max-open-databases")) {
    maxOpenDatabases = static_cast<int64_t>(*d.maxOpenDatabases);
  }
  // A query runs on the JavaScript's time: it gets the same limit.
  if (d.cpuLimitMs) sqlExecMs = *d.cpuLimitMs;
  if (d.maxDatabaseBytes && !given("--max-database-bytes")) {
    maxDatabaseBytes = static_cast<int64_t>(*d.maxDatabaseBytes);
  }
  if (d.logLevel && !given("--log-level")) logLevel = *d.logLevel;
  if (!project.compatibilityDate.empty() && !given("--compatibility-date")) {
    compatibilityDate = project.compatibilityDate;
  }
}

int parseOrExit(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": " << e.what() << "\n"
              << "Run with --help for usage.\n";
    return 2;
  }
  return -1;
}

}  // namespace duro::cli
