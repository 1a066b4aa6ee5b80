// The `duro` command: `duro serve ...`, `duro --help`, `duro --version`. Thin: parses flags and
// hands over to duro::Server. Exit codes: 0 success, 1 runtime failure, 2 bad usage.
#include <iostream>
#include <string_view>

#include "cli/serve_flags.h"
#include "counter_app.h"
#include "duro/server.h"

namespace {
constexpr const char* kVersion = "duro 0.1.0";
}

int main(int argc, char** argv) {
  CLI::App app{"duro: a self-hosted Durable Objects server", "duro"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);

  duro::cli::ServeFlags flags;
  CLI::App* serve = app.add_subcommand(
      "serve", "serve the built-in native example classes (COUNTER, LIMITER) over HTTP");
  flags.addTo(*serve);

  if (argc > 1 && argv[1][0] != '-' && std::string_view(argv[1]) != "serve") {
    std::cerr << "duro: unknown command \"" << argv[1] << "\" (commands: serve)\n"
              << "Run with --help for usage.\n";
    return 2;
  }
  if (int code = duro::cli::parseOrExit(app, argc, argv); code >= 0) return code;

  duro::ServerOptions options;
  if (duro::Status s = flags.toOptions(options); !s) {
    std::cerr << "duro serve: " << s.message() << "\n";
    return 2;
  }
  duro::Server server(options);
  examples::registerNativeCounter(server);
  return server.run();
}
