// JsDurableObject: a Durable Object whose class is JavaScript. It is the runtime's
// duro::DurableObject for an instance of an exported class living in the shard's isolate: events
// (fetch, alarm, RPC calls) become calls on the JS instance, and their promises become the
// event's Task. Constructed and destroyed on the object's shard thread.
#pragma once

#include <string>

#include "duro/object.h"
#include "js/shard_isolate.h"

namespace duro::js {

class JsDurableObject final : public DurableObject {
 public:
  // Runs the class's constructor (ctx, env). Throws duro::Error if it throws.
  JsDurableObject(ShardIsolate& js, const std::string& className, ObjectState& state);
  ~JsDurableObject() override;

  Task<Response> fetch(Request request) override;
  Task<void> alarm(AlarmInfo info) override;
  Task<MethodResult> callMethod(std::string name, std::string serializedArgs) override;
  Task<void> webSocketMessage(WebSocket& socket, std::string data, bool binary) override;
  Task<void> webSocketClose(WebSocket& socket, int code, std::string reason,
                            bool wasClean) override;
  Task<void> webSocketError(WebSocket& socket, std::string error) override;
  // The runtime discarded this instance (a WebSocket event ran past its timeout): what its
  // handlers are waiting for fails and its timers are cancelled, so they end without effects.
  void abandoned(const Status& why) override;

 private:
  // Calls instance[method](args) inside a scope; returns the awaiter of its result.
  ShardIsolate::SettleAwaiter invoke(const char* method, std::initializer_list<v8::Local<v8::Value>> args);

  // Hands a socket event to runtime.js (handler methods or event listeners) and awaits it.
  Task<void> socketEvent(WebSocket& socket, const char* kind,
                         std::function<std::vector<v8::Local<v8::Value>>()> args);
  // A promise rejected with what `tryCatch` caught (after a call that threw synchronously); a
  // termination resets the object and throws instead.
  v8::Local<v8::Value> rejectedWith(v8::TryCatch& tryCatch);
  // JavaScript was terminated (CPU or memory limit) while this object ran: reset it and fail.
  [[noreturn]] void terminated();

  ShardIsolate& js_;
  ObjectState& state_;
  std::string tag_;
  uint32_t handle_ = 0;
  bool acceptsRpc_ = false;
  v8::Global<v8::Object> instance_;
};

}  // namespace duro::js
