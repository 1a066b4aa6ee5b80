// Implementation of JsWorker (js_worker.h): the Worker's fetch handler and the object factories.
#include "js/js_worker.h"

#include "base/log.h"
#include "js/js_object.h"
#include "js/shard_isolate.h"

namespace duro::js {

using v8::Local;
using v8::Value;

namespace {

// What the client sees when the Worker throws: as workerd answers.
Response uncaughtErrorResponse() {
  Response response = Response::text("Internal Server Error", 500);
  return response;
}

// Adds the headers Cloudflare's edge adds, where they make sense on one machine.
void addEdgeHeaders(Request& request, const WorkerEdgeOptions& edge) {
  if (edge.trustProxy && request.headers.has("CF-Connecting-IP")) return;
  if (request.clientAddress.empty()) return;
  request.headers.set("CF-Connecting-IP", request.clientAddress);
}

Task<Response> runWorkerFetch(std::shared_ptr<const Script> script, WorkerEdgeOptions edge,
                              Request request, Env& env) {
  ShardIsolate* jsPtr = nullptr;
  try {
    jsPtr = &ShardIsolate::forCurrentThread(script, env);
  } catch (const Error& e) {
    base::logError("worker", "cannot load the Worker: " + e.status().message());
    co_return uncaughtErrorResponse();
  }
  ShardIsolate& js = *jsPtr;
  addEdgeHeaders(request, edge);
  std::optional<ShardIsolate::SettleAwaiter> awaiter;
  {
    ShardIsolate::Scope scope(js, nullptr, 0);
    v8::Isolate* isolate = js.isolate();
    Local<v8::Context> context = js.context();
    Local<Value> handler;
    if (!js.mainExports()->Get(context, js.name("default")).ToLocal(&handler) ||
        handler->IsUndefined()) {
      base::logError("worker", "the main module has no default export with a fetch() handler");
      co_return uncaughtErrorResponse();
    }
    Local<Value> receiver = handler;
    Local<Value> ctx = js.workerContext();
    Local<Value> jsRequest = js.makeRequest(request);
    Local<Value> fetch;
    v8::TryCatch tryCatch(isolate);
    if (handler->IsFunction()) {
      // export default class extends WorkerEntrypoint { fetch(request) {...} }
      Local<Value> args[] = {ctx, js.jsEnv()};
      Local<v8::Object> instance;
      if (!handler.As<v8::Function>()->NewInstance(context, 2, args).ToLocal(&instance)) {
        if (!tryCatch.HasTerminated()) js.reportError(tryCatch.Exception());
        co_return uncaughtErrorResponse();
      }
      receiver = instance;
    }
    if (!receiver.As<v8::Object>()->Get(context, js.name("fetch")).ToLocal(&fetch) ||
        !fetch->IsFunction()) {
      base::logError("worker", "the main module's default export has no fetch() handler");
      co_return uncaughtErrorResponse();
    }
    JsErrorInfo error;
    Local<Value> result;
    std::vector<Local<Value>> argv = {jsRequest, js.jsEnv(), ctx};
    if (!fetch.As<v8::Function>()
             ->Call(context, receiver, static_cast<int>(argv.size()), argv.data())
             .ToLocal(&result)) {
      // A termination (CPU or heap limit) is logged with its reason when the scope closes.
      if (!tryCatch.HasTerminated()) js.reportError(tryCatch.Exception());
      co_return uncaughtErrorResponse();
    }
    awaiter.emplace(js.settle(result));
  }
  Settled settled = co_await std::move(*awaiter);
  if (!settled.fulfilled) {
    ShardIsolate::Scope scope(js, nullptr, 0);
    js.reportError(settled.value.Get(js.isolate()));
    co_return uncaughtErrorResponse();
  }
  try {
    co_return co_await js.toResponse(std::move(settled.value));
  } catch (const Error& e) {
    base::logError("worker", "Uncaught " + e.status().message());
  }
  co_return uncaughtErrorResponse();
}

}  // namespace

Result<std::shared_ptr<JsWorker>> JsWorker::load(ScriptOptions options, WorkerEdgeOptions edge) {
  auto script = std::make_shared<const Script>(std::move(options));
  if (Status s = ShardIsolate::validate(script); !s) return s;
  return std::shared_ptr<JsWorker>(new JsWorker(std::move(script), edge));
}

WorkerFetch JsWorker::workerFetch() {
  return [script = script_, edge = edge_](Request request, Env& env) {
    return runWorkerFetch(script, edge, std::move(request), env);
  };
}

ObjectFactory JsWorker::objectFactory(std::string className) {
  return [script = script_, className = std::move(className)](
             ObjectState& state, Env& env) -> std::unique_ptr<DurableObject> {
    ShardIsolate& js = ShardIsolate::forCurrentThread(script, env);
    return std::make_unique<JsDurableObject>(js, className, state);
  };
}

}  // namespace duro::js
