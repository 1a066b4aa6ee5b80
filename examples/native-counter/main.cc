// native-counter: a C++ program that defines Durable Objects natively and serves them.
//   native-counter --listen 127.0.0.1:8787 --data ./data
#include <iostream>

#include "cli/serve_flags.h"
#include "counter_app.h"

int main(int argc, char** argv) {
  CLI::App app{"native-counter: counters and token buckets as native C++ Durable Objects",
               "native-counter"};
  duro::cli::ServeFlags flags;
  flags.addTo(app);
  if (int code = duro::cli::parseOrExit(app, argc, argv); code >= 0) return code;

  duro::ServerOptions options;
  if (duro::Status s = flags.toOptions(options); !s) {
    std::cerr << "native-counter: " << s.message() << "\n";
    return 2;
  }
  duro::Server server(options);
  examples::registerNativeCounter(server);
  return server.run();
}
