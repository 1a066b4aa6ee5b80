// Implementation of JsDurableObject (js_object.h).
#include "js/js_object.h"

#include <cstring>

#include "js/natives.h"
#include "js/v8_strings.h"
#include "runtime/object_socket.h"

namespace duro::js {

using v8::Local;
using v8::Value;


JsDurableObject::JsDurableObject(ShardIsolate& js, const std::string& className,
                                 ObjectState& state)
    : js_(js), state_(state), tag_(state.namespaceName() + "/" + state.id().toString()) {
  handle_ = js_.registerObject(ObjectSlot{&state, tag_});
  try {
    ShardIsolate::Scope scope(js_, &tag_, handle_);
    v8::Isolate* isolate = js_.isolate();
    v8::Local<v8::Context> context = js_.context();
    const ObjectId& id = state.id();
    Local<Value> makeStateArgs[] = {
        v8::Integer::NewFromUnsigned(isolate, handle_),
        v8::Integer::NewFromUnsigned(isolate, js_.namespaceIndexOf(state.namespaceName())),
        str(isolate, id.toString()),
        id.name() ? Local<Value>(str(isolate, *id.name())) : Local<Value>(v8::Undefined(isolate))};
    Local<Value> ctx = checked(js_.runtimeExport("makeObjectState")
                                   .As<v8::Function>()
                                   ->Call(context, v8::Undefined(isolate), 4, makeStateArgs));
    Local<v8::Function> cls = js_.objectClass(className);
    Local<Value> check[] = {cls};
    acceptsRpc_ = checked(js_.runtimeExport("extendsDurableObject")
                              .As<v8::Function>()
                              ->Call(context, v8::Undefined(isolate), 1, check))
                      ->IsTrue();
    v8::TryCatch tryCatch(isolate);
    Local<Value> args[] = {ctx, js_.jsEnv()};
    Local<v8::Object> instance;
    if (!cls->NewInstance(context, 2, args).ToLocal(&instance)) {
      if (tryCatch.HasTerminated()) throw Error(Status::internal(js_.terminationReason()));
      js_.reportError(tryCatch.Exception());
      throwJsException(js_, tryCatch.Exception());
    }
    instance_.Reset(isolate, instance);
  } catch (...) {
    js_.unregisterObject(handle_);
    throw;
  }
}

JsDurableObject::~JsDurableObject() {
  js_.unregisterObject(handle_);
  instance_.Reset();
}

void JsDurableObject::abandoned(const Status& why) {
  ShardIsolate::Scope scope(js_, &tag_, handle_);
  js_.cancelOwner(handle_, why.message());
}

void JsDurableObject::terminated() {
  std::string reason = js_.terminationReason();
  if (reason.empty()) reason = "JavaScript execution was terminated.";
  state_.abort(reason);
  throw Error(Status::objectReset(reason));
}

Local<Value> JsDurableObject::rejectedWith(v8::TryCatch& tryCatch) {
  if (tryCatch.HasTerminated()) terminated();
  // A synchronous throw is a rejected promise to the awaiting side.
  v8::Isolate* isolate = js_.isolate();
  Local<v8::Promise::Resolver> rejected = checked(v8::Promise::Resolver::New(js_.context()));
  (void)rejected->Reject(js_.context(), tryCatch.HasCaught()
                                            ? tryCatch.Exception()
                                            : Local<Value>(v8::Undefined(isolate)));
  return rejected->GetPromise();
}

ShardIsolate::SettleAwaiter JsDurableObject::invoke(const char* method,
                                                    std::initializer_list<Local<Value>> args) {
  v8::Isolate* isolate = js_.isolate();
  Local<v8::Object> instance = instance_.Get(isolate);
  Local<Value> fn;
  if (!instance->Get(js_.context(), js_.name(method)).ToLocal(&fn) || !fn->IsFunction()) {
    // workerd's wording (for fetch; likewise for the other handlers).
    throwJsException(js_, v8::Exception::Error(str(
                              isolate, std::string("Handler does not export a ") + method +
                                           "() function.")));
  }
  JsErrorInfo error;
  Local<Value> result;
  v8::TryCatch tryCatch(isolate);
  std::vector<Local<Value>> argv(args);
  if (!fn.As<v8::Function>()
           ->Call(js_.context(), instance, static_cast<int>(argv.size()), argv.data())
           .ToLocal(&result)) {
    return js_.settle(rejectedWith(tryCatch));
  }
  return js_.settle(result);
}

Task<Response> JsDurableObject::fetch(Request request) {
  std::optional<ShardIsolate::SettleAwaiter> awaiter;
  {
    ShardIsolate::Scope scope(js_, &tag_, handle_);
    awaiter.emplace(invoke("fetch", {js_.makeRequest(request)}));
  }
  Settled settled = co_await std::move(*awaiter);
  if (!settled.fulfilled) {
    ShardIsolate::Scope scope(js_, &tag_, handle_);
    Local<Value> error = settled.value.Get(js_.isolate());
    js_.reportError(error);
    throwJsException(js_, error);
  }
  co_return co_await js_.toResponse(std::move(settled.value));
}

Task<void> JsDurableObject::alarm(AlarmInfo info) {
  std::optional<ShardIsolate::SettleAwaiter> awaiter;
  {
    ShardIsolate::Scope scope(js_, &tag_, handle_);
    v8::Isolate* isolate = js_.isolate();
    Local<v8::Object> alarmInfo = v8::Object::New(isolate);
    (void)alarmInfo->Set(js_.context(), str(isolate, "retryCount"),
                         v8::Integer::New(isolate, info.retryCount));
    (void)alarmInfo->Set(js_.context(), str(isolate, "isRetry"),
                         v8::Boolean::New(isolate, info.isRetry));
    awaiter.emplace(invoke("alarm", {alarmInfo}));
  }
  Settled settled = co_await std::move(*awaiter);
  if (!settled.fulfilled) {
    ShardIsolate::Scope scope(js_, &tag_, handle_);
    Local<Value> error = settled.value.Get(js_.isolate());
    js_.reportError(error);
    throwJsError(js_.describe(error));
  }
}

Task<void> JsDurableObject::socketEvent(WebSocket& socket, const char* kind,
                                        std::function<std::vector<Local<Value>>()> args) {
  std::optional<ShardIsolate::SettleAwaiter> awaiter;
  {
    ShardIsolate::Scope scope(js_, &tag_, handle_);
    v8::Isolate* isolate = js_.isolate();
    auto& objectSocket = static_cast<runtime::ObjectSocket&>(socket);
    js_.rememberSocket(objectSocket.shared_from_this());
    std::vector<Local<Value>> argv = {instance_.Get(isolate),
                                      v8::Number::New(isolate, static_cast<double>(socket.id())),
                                      v8::Boolean::New(isolate, objectSocket.hibernatable()),
                                      js_.name(kind)};
    for (Local<Value> a : args()) argv.push_back(a);
    v8::TryCatch tryCatch(isolate);
    Local<Value> result;
    if (!js_.runtimeExport("deliverSocketEvent")
             .As<v8::Function>()
             ->Call(js_.context(), v8::Undefined(isolate), static_cast<int>(argv.size()),
                    argv.data())
             .ToLocal(&result)) {
      if (tryCatch.HasTerminated()) terminated();
      js_.reportError(tryCatch.Exception());
      co_return;
    }
    awaiter.emplace(js_.settle(result));
  }
  Settled settled = co_await std::move(*awaiter);
  if (!settled.fulfilled) {
    ShardIsolate::Scope scope(js_, &tag_, handle_);
    js_.reportError(settled.value.Get(js_.isolate()));
  }
}

Task<void> JsDurableObject::webSocketMessage(WebSocket& socket, std::string data, bool binary) {
  return socketEvent(socket, "message", [this, data = std::move(data), binary] {
    v8::Isolate* isolate = js_.isolate();
    if (binary) {
      auto buffer = v8::ArrayBuffer::New(isolate, data.size());
      if (!data.empty()) std::memcpy(buffer->Data(), data.data(), data.size());
      return std::vector<Local<Value>>{buffer};
    }
    return std::vector<Local<Value>>{str(isolate, data)};
  });
}

Task<void> JsDurableObject::webSocketClose(WebSocket& socket, int code, std::string reason,
                                           bool wasClean) {
  return socketEvent(socket, "close", [this, code, reason = std::move(reason), wasClean] {
    v8::Isolate* isolate = js_.isolate();
    return std::vector<Local<Value>>{v8::Integer::New(isolate, code), str(isolate, reason),
                                     v8::Boolean::New(isolate, wasClean)};
  });
}

Task<void> JsDurableObject::webSocketError(WebSocket& socket, std::string error) {
  return socketEvent(socket, "error", [this, error = std::move(error)] {
    return std::vector<Local<Value>>{str(js_.isolate(), error)};
  });
}

Task<MethodResult> JsDurableObject::callMethod(std::string name, std::string serializedArgs) {
  if (!acceptsRpc_) {
    throw Error(Status::invalidArgument(
        "The receiving Durable Object does not support RPC, because its class was not declared "
        "with `extends DurableObject`. In order to enable RPC, make sure your class extends the "
        "special class `DurableObject`, which can be imported from the module "
        "\"cloudflare:workers\"."));
  }
  std::optional<ShardIsolate::SettleAwaiter> awaiter;
  {
    ShardIsolate::Scope scope(js_, &tag_, handle_);
    v8::Isolate* isolate = js_.isolate();
    Local<v8::Context> context = js_.context();
    v8::TryCatch tryCatch(isolate);
    Local<v8::Object> instance = instance_.Get(isolate);
    Local<v8::String> key = str(isolate, name);
    // Only what the class defines (methods, getters) is reachable, not instance fields.
    bool own = instance->HasRealNamedProperty(context, key).FromMaybe(false);
    bool reserved = name == "constructor" || name == "fetch" || name == "alarm" ||
                    name == "webSocketMessage" || name == "webSocketClose" ||
                    name == "webSocketError";
    if (serializedArgs.empty() && !own && !reserved) {
      // `await stub.name`: read a property (a getter) instead of calling a method.
      Local<Value> value;
      if (!instance->Get(context, key).ToLocal(&value)) {
        value = rejectedWith(tryCatch);
      }
      awaiter.emplace(js_.settle(value));
    }
    Local<Value> args;
    if (!awaiter && (!deserializeValue(js_, serializedArgs).ToLocal(&args) || !args->IsArray())) {
      throw Error(Status::invalidArgument("malformed RPC arguments"));
    }
    Local<Value> fn;
    if (awaiter) {
      // property read: nothing to call
    } else if (reserved || own || !instance->Get(context, key).ToLocal(&fn) ||
        !fn->IsFunction()) {
      Local<Value> error = v8::Exception::TypeError(
          str(isolate, "The RPC receiver does not implement the method \"" + name + "\"."));
      co_return MethodResult{serializeThrown(js_, error), true};
    }
    if (!awaiter) {
    Local<v8::Array> array = args.As<v8::Array>();
    std::vector<Local<Value>> argv;
    for (uint32_t i = 0; i < array->Length(); ++i) {
      argv.push_back(checked(array->Get(context, i)));
    }
    Local<Value> result;
    if (!fn.As<v8::Function>()
             ->Call(context, instance, static_cast<int>(argv.size()), argv.data())
             .ToLocal(&result)) {
      result = rejectedWith(tryCatch);
    }
    awaiter.emplace(js_.settle(result));
    }
  }
  Settled settled = co_await std::move(*awaiter);
  ShardIsolate::Scope scope(js_, &tag_, handle_);
  v8::Isolate* isolate = js_.isolate();
  v8::TryCatch tryCatch(isolate);
  std::optional<std::string> bytes = serializeValue(js_, settled.value.Get(isolate));
  if (!bytes) {
    // The value cannot cross (a function, a class instance with methods...): the caller gets
    // the DataCloneError instead.
    Local<Value> error = tryCatch.Exception();
    tryCatch.Reset();
    co_return MethodResult{serializeThrown(js_, error), true};
  }
  if (!settled.fulfilled) {
    co_return MethodResult{serializeThrown(js_, settled.value.Get(isolate)), true};
  }
  co_return MethodResult{std::move(*bytes), false};
}

}  // namespace duro::js
