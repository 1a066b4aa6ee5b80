// The native-chat example: a chat room written in C++ with the WebSocket Hibernation API.
//   GET /room/<name>/ws?user=<u>   (an upgrade) joins room <name> as <u>
//   GET /room/<name>/who           lists who is connected (one name per line)
// Every message a client sends is numbered by the room (the number is stored, so it survives
// eviction) and sent to every client of the room, the sender included, in the same order for all.
// "ping" is answered "pong" by the runtime without waking the room. The room's sockets stay
// connected while the room is evicted (hibernation); the next message constructs it again.
#pragma once

#include "duro/server.h"

namespace examples {

// Defines the CHAT class and the Worker that routes /room/<name>/... to it.
void registerNativeChat(duro::Server& server);

}  // namespace examples
