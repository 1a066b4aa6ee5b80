// The `duro` command: `duro serve ...`, `duro --help`, `duro --version`. Thin: parses flags and
// hands over to duro::Server. Exit codes: 0 success, 1 runtime failure, 2 bad usage.
#include <iostream>
#include <string_view>

#include "base/log.h"
#include "cli/serve_flags.h"
#include "config/worker_config.h"
#include "counter_app.h"
#include "duro/server.h"
#include "server/worker_project.h"

namespace {
constexpr const char* kVersion = "duro 0.1.0";
}

int main(int argc, char** argv) {
  CLI::App app{"duro: a self-hosted Durable Objects server", "duro"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);

  duro::cli::ServeFlags flags;
  CLI::App* serve = app.add_subcommand(
      "serve",
      "serve a Worker project (--config, or wrangler.toml / wrangler.jsonc / wrangler.json in the "
      "current folder); without one, the built-in native example classes (COUNTER, LIMITER)");
  flags.addTo(*serve, /*withConfig=*/true);

  if (argc > 1 && argv[1][0] != '-' && std::string_view(argv[1]) != "serve") {
    std::cerr << "duro: unknown command \"" << argv[1] << "\" (commands: serve)\n"
              << "Run with --help for usage.\n";
    return 2;
  }
  if (int code = duro::cli::parseOrExit(app, argc, argv); code >= 0) return code;

  // The Worker project, if any: its [duro] section gives defaults that flags override.
  std::optional<duro::config::WorkerConfig> project;
  std::filesystem::path configPath = flags.config;
  if (configPath.empty()) {
    duro::Result<std::filesystem::path> found =
        duro::config::findConfigFile(std::filesystem::current_path());
    if (found) configPath = *found;
  }
  if (!configPath.empty()) {
    duro::Result<duro::config::WorkerConfig> loaded = duro::config::loadWorkerConfig(configPath);
    if (!loaded) {
      std::cerr << "duro serve: " << loaded.status().message() << "\n";
      return 2;
    }
    project = std::move(*loaded);
    flags.applyProjectDefaults(*serve, *project);
  }

  duro::ServerOptions options;
  if (duro::Status s = flags.toOptions(options); !s) {
    std::cerr << "duro serve: " << s.message() << "\n";
    return 2;
  }
  duro::Server server(options);
  if (project) {
    for (const std::string& warning : project->warnings) duro::base::logWarn("config", warning);
    if (duro::Status s = duro::server::defineWorkerProject(*project, server); !s) {
      std::cerr << "duro serve: " << s.message() << "\n";
      return 1;
    }
  } else {
    examples::registerNativeCounter(server);
  }
  return server.run();
}
