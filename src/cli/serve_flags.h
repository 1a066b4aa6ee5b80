// The flags of `duro serve` (and of programs embedding duro::Server, like the native-counter
// example): --listen, --data, --threads, --idle-timeout-ms, limits, --log-level. Registers them on
// a CLI11 app and turns the parsed values into ServerOptions, with a clear error for bad values.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "config/worker_config.h"
#include "duro/server.h"

namespace duro::cli {

struct ServeFlags {
  std::string config;  // wrangler.toml / wrangler.json[c]; "" = look in the current folder
  std::string listen = "127.0.0.1:8787";
  std::string data = "./data";
  unsigned threads = 0;
  int64_t idleTimeoutMs = 10000;
  int64_t maxQueue = 1000;
  int64_t maxHeaderBytes = 32 * 1024;
  int64_t maxBodyBytes = 16 * 1024 * 1024;
  int64_t shutdownTimeoutMs = 30000;
  int64_t cacheBytes = 32 << 20;
  int64_t maxDatabaseBytes = int64_t{10} << 30;
  int64_t sqlExecMs = 30000;  // the project's cpu_limit_ms (no flag of its own)
  int64_t maxOpenDatabases = 512;
  std::string logLevel = "info";
  std::string compatibilityDate = "2026-11-01";

  // Adds the options to `app` (or a subcommand). `withConfig` adds --config too.
  void addTo(CLI::App& app, bool withConfig = false);
  // Takes the [duro] section's settings for every flag not given on the command line.
  // A project's compatibility_date likewise (unless --compatibility-date was given).
  void applyProjectDefaults(const CLI::App& app, const config::WorkerConfig& project);
  // Validates and converts; sets the process log level as a side effect.
  Status toOptions(ServerOptions& options) const;
};

// Parses argv with `app`; on --help/--version prints and returns 0, on a bad flag prints the
// error (and a hint) to stderr and returns 2, otherwise returns -1 (go on).
int parseOrExit(CLI::App& app, int argc, char** argv);

}  // namespace duro::cli
