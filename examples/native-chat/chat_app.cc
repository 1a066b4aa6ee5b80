// The native-chat example's object class and Worker (chat_app.h).
#include "chat_app.h"

#include <optional>
#include <string>
#include <string_view>

namespace examples {

namespace {

class ChatRoom final : public duro::DurableObject {
 public:
  ChatRoom(duro::ObjectState& state, duro::Env&) : state_(state) {
    // Answered by the runtime itself: a hibernated room stays asleep for keep-alive pings.
    state_.setWebSocketAutoResponse(std::make_pair(std::string("ping"), std::string("pong")));
  }

  duro::Task<duro::Response> fetch(duro::Request request) override {
    std::string_view path = request.path();
    if (path.ends_with("/ws")) {
      if (!request.headers.get("upgrade")) {
        co_return duro::Response::text("expected a WebSocket upgrade\n", 426);
      }
      std::string user(request.queryParam("user").value_or("anonymous"));
      // Hibernatable: tagged with the user; the attachment (the name) survives hibernation.
      duro::WebSocketPair pair = state_.acceptWebSocket({"user:" + user});
      pair.server->setAttachment(user);
      duro::Response response;
      response.status = 101;
      response.webSocket = pair.client;
      co_return response;
    }
    if (path.ends_with("/who")) {
      std::string names;
      for (const auto& socket : state_.getWebSockets()) names += socket->attachment() + "\n";
      co_return duro::Response::text(names);
    }
    co_return duro::Response::text("not found\n", 404);
  }

  // May run on a new instance after hibernation: everything it needs is in storage or on the
  // socket.
  duro::Task<void> webSocketMessage(duro::WebSocket& socket, std::string data,
                                    bool binary) override {
    if (binary) co_return;
    std::optional<std::string> stored = co_await state_.storage().get("seq");
    std::string seq = std::to_string(stored ? std::stoll(*stored) + 1 : 1);
    state_.storage().put("seq", seq);
    // The sends leave once the new number is durable (the output gate), in this order.
    std::string line = "#" + seq + " " + socket.attachment() + ": " + data;
    for (const auto& other : state_.getWebSockets()) other->send(line);
  }

  duro::Task<void> webSocketClose(duro::WebSocket& socket, int code, std::string reason,
                                  bool wasClean) override {
    // Answer the client's close frame (1005 and 1006 cannot be sent back).
    if (socket.state() == duro::WebSocket::State::kClosing) {
      socket.close(code == 1005 || code == 1006 ? 1000 : code, reason);
    }
    for (const auto& other : state_.getWebSockets()) {
      if (other.get() != &socket) other->send(socket.attachment() + " left");
    }
    co_return;
  }

 private:
  duro::ObjectState& state_;
};

// "/room/lobby/ws" -> "lobby"; empty if the path is not under /room/.
std::string_view roomName(std::string_view path) {
  constexpr std::string_view kPrefix = "/room/";
  if (!path.starts_with(kPrefix)) return {};
  path.remove_prefix(kPrefix.size());
  return path.substr(0, path.find('/'));
}

duro::Task<duro::Response> chatWorker(duro::Request request, duro::Env& env) {
  std::string_view name = roomName(request.path());
  if (name.empty()) {
    co_return duro::Response::text(
        "duro native-chat: GET /room/<name>/ws?user=<u> (WebSocket) joins a room, "
        "GET /room/<name>/who lists its members\n");
  }
  co_return co_await env.ns("CHAT").getByName(name).fetch(std::move(request));
}

}  // namespace

void registerNativeChat(duro::Server& server) {
  server.defineObject<ChatRoom>("CHAT");
  server.setWorker(chatWorker);
}

}  // namespace examples
