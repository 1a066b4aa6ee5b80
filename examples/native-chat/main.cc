// native-chat: a chat room as a native C++ Durable Object with hibernatable WebSockets.
//   native-chat --listen 127.0.0.1:8787 --data ./data
//   then connect WebSocket clients to ws://127.0.0.1:8787/room/lobby/ws?user=alice
#include <iostream>

#include "chat_app.h"
#include "cli/serve_flags.h"

int main(int argc, char** argv) {
  CLI::App app{"native-chat: chat rooms as native C++ Durable Objects with WebSockets",
               "native-chat"};
  duro::cli::ServeFlags flags;
  flags.addTo(app);
  if (int code = duro::cli::parseOrExit(app, argc, argv); code >= 0) return code;

  duro::ServerOptions options;
  if (duro::Status s = flags.toOptions(options); !s) {
    std::cerr << "native-chat: " << s.message() << "\n";
    return 2;
  }
  duro::Server server(options);
  examples::registerNativeChat(server);
  return server.run();
}
