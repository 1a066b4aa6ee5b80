// Implementation of ShardIsolate (shard_isolate.h): isolate and context creation, module loading,
// scopes with microtask draining, awaiting promises from coroutines, timers, and the handle tables
// that native functions use.
//
// NOTES
//  1. Module names: a user module is named by its path relative to the project folder; the
//     internal modules are "duro:web" (the Web API bundle), "duro:runtime" (runtime.js) and
//     "cloudflare:workers". "duro:*" resolves only from internal modules.
//  2. A Waiter is owned by the coroutine frame that awaits it. Promise callbacks point to it
//     through an External. Frames die only after completing, so a waiter outlives its callbacks,
//     except at process shutdown, when no JavaScript runs any more.
//  3. Lambdas posted to event loops or stored in timers carry ids and this ShardIsolate's address,
//     never V8 handles: the loop may outlive the isolate.
//  4. Limits. JavaScript "runs" from the outermost Scope's opening until it has closed and the
//     microtasks are drained (watchEnter/watchExit). A process-wide watchdog thread terminates an
//     isolate whose JavaScript has run longer than the CPU limit; the near-heap-limit callback
//     terminates it when the heap is full (and grants room to unwind). Both set
//     terminateRequested_ under watchMu_, and watchExit cancels the termination under the same
//     lock, once nothing is on the JS stack: a late watchdog can never terminate the next entry
//     (V8's termination is sticky). The caller of the terminated handler gets an error and the
//     object is reset (ObjectState::abort), so its heap can be collected.
//  5. Cancelling an owner (cancelOwner: a WebSocket event past its timeout, or after a
//     termination): the C++ side of every promise it awaits rejects, so the events waiting for
//     them finish, and its timers are dropped; JavaScript still queued for it never runs.
//  6. Giving memory back. Evicted and hibernated instances become garbage that V8 collects only
//     when something allocates; an idle server would keep it. unregisterObject() counts released
//     instances and, once they are a quarter of the live ones, asks for a full collection
//     (LowMemoryNotification) one second later: one collection per idle sweep, at most one per
//     second. With 5,000 hibernated WebSockets this is about 1.3 KB per connection.
#include "js/shard_isolate.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <set>
#include <thread>

#include "base/log.h"
#include "js/engine.h"
#include "js/natives.h"
#include "js/v8_strings.h"

extern const char kDuroWebJs[];
extern const size_t kDuroWebJsSize;
extern const char kDuroRuntimeJs[];
extern const size_t kDuroRuntimeJsSize;
extern const char kCloudflareWorkersJs[];
extern const size_t kCloudflareWorkersJsSize;

namespace duro::js {

using v8::Context;
using v8::External;
using v8::Function;
using v8::FunctionCallbackInfo;
using v8::HandleScope;
using v8::Isolate;
using v8::Local;
using v8::MaybeLocal;
using v8::Module;
using v8::Object;
using v8::Promise;
using v8::String;
using v8::Value;

namespace {

thread_local ShardIsolate* tCurrent = nullptr;
thread_local std::unique_ptr<ShardIsolate> tOwned;

void onPromiseReject(v8::PromiseRejectMessage message) {
  ShardIsolate* js = ShardIsolate::current();
  if (js == nullptr) return;
  js->onPromiseRejectEvent(message);
}

int64_t steadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct ShardIsolate::Waiter {
  ~Waiter() {
    if (js != nullptr && !done) {
      js->pendingWaiters_.erase(this);
      if (!promise.IsEmpty()) std::erase(js->deferred_, this);
    }
  }
  v8::Global<Promise> promise;  // while deferred (see settle())
  ShardIsolate* js = nullptr;
  uint32_t owner = 0;
  bool done = false;
  bool fulfilled = true;
  v8::Global<Value> value;
  std::coroutine_handle<> handle;
};

// The watchdog thread (note 4): one per process, started with the first isolate, checking every
// 10 ms. It never exits (isolates come and go; the process ends it).
class Watchdog {
 public:
  static Watchdog& instance() {
    static Watchdog* watchdog = new Watchdog();  // never destroyed: the thread runs until exit
    return *watchdog;
  }
  void add(ShardIsolate* js) {
    std::lock_guard lock(mu_);
    isolates_.insert(js);
  }
  void remove(ShardIsolate* js) {
    std::lock_guard lock(mu_);
    isolates_.erase(js);
  }

 private:
  Watchdog() {
    std::thread([this] { run(); }).detach();
  }
  void run() {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::lock_guard lock(mu_);
      int64_t now = steadyNanos();
      for (ShardIsolate* js : isolates_) {
        std::lock_guard watch(js->watchMu_);
        int64_t limit = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            js->script().options().cpuLimit)
                            .count();
        if (js->enteredAtNanos_ != 0 && !js->terminateRequested_ &&
            now - js->enteredAtNanos_ > limit) {
          js->terminateRequested_ = true;
          js->terminationReason_ = "Worker exceeded CPU time limit.";
          js->culprit_ = js->currentOwner_.load();
          js->isolate_->TerminateExecution();
        }
      }
    }
  }
  std::mutex mu_;
  std::set<ShardIsolate*> isolates_;
};

void ShardIsolate::watchEnter() {
  std::lock_guard lock(watchMu_);
  enteredAtNanos_ = steadyNanos();
}

std::optional<std::pair<uint32_t, std::string>> ShardIsolate::watchExit() {
  std::lock_guard lock(watchMu_);
  enteredAtNanos_ = 0;
  std::optional<std::pair<uint32_t, std::string>> culprit;
  if (terminateRequested_) {
    culprit.emplace(culprit_, terminationReason_);
    terminateRequested_ = false;
    terminationReason_.clear();
    isolate_->CancelTerminateExecution();
    // A heap that hit its limit got temporary room to unwind: collect, then restore the limit.
    if (heapLimit_ != 0) {
      isolate_->LowMemoryNotification();
      isolate_->RemoveNearHeapLimitCallback(&ShardIsolate::nearHeapLimit, heapLimit_);
      isolate_->AddNearHeapLimitCallback(&ShardIsolate::nearHeapLimit, this);
    }
  }
  return culprit;
}

void ShardIsolate::failOwner(uint32_t owner, const std::string& reason) {
  base::logError(owner == 0 ? workerTag_ : *currentTag_, reason);
  cancelOwner(owner, reason);
  if (owner != 0) {
    if (ObjectSlot* slot = object(owner)) slot->state->abort(reason);
  }
}

void ShardIsolate::cancelOwner(uint32_t owner, const std::string& reason) {
  // An object's timers never fire (the Worker's, owner 0, belong to every request in flight).
  if (owner != 0) {
    std::erase_if(timers_, [&](const auto& entry) { return entry.second->owner == owner; });
  }
  HandleScope handles(isolate_);
  Context::Scope contextScope(context());
  std::vector<Waiter*> failed;
  for (Waiter* waiter : pendingWaiters_) {
    if (waiter->owner == owner) failed.push_back(waiter);
  }
  for (Waiter* waiter : failed) {
    pendingWaiters_.erase(waiter);
    if (!waiter->promise.IsEmpty()) {
      std::erase(deferred_, waiter);
      waiter->promise.Reset();
    }
    waiter->done = true;
    waiter->fulfilled = false;
    waiter->value.Reset(isolate_, v8::Exception::Error(str(isolate_, reason)));
    if (waiter->handle) markReady(waiter);
  }
}

std::string ShardIsolate::terminationReason() {
  std::lock_guard lock(watchMu_);
  return terminationReason_;
}

size_t ShardIsolate::nearHeapLimit(void* data, size_t current, size_t initial) {
  auto* js = static_cast<ShardIsolate*>(data);
  std::lock_guard lock(js->watchMu_);
  if (!js->terminateRequested_) {
    js->terminateRequested_ = true;
    js->terminationReason_ = "Worker exceeded its memory limit.";
    js->culprit_ = js->currentOwner_.load();
    js->isolate_->TerminateExecution();
  }
  js->heapLimit_ = initial;
  return current + (64u << 20);  // room to unwind
}

struct ShardIsolate::ModuleRecord {
  std::string name;
  std::filesystem::path path;  // empty for internal modules
  bool internal = false;
  v8::Global<Module> module;
  v8::Global<Value> syntheticDefault;  // text, data, JSON and Wasm modules
};


struct ShardIsolate::TimerSlot {
  explicit TimerSlot(base::EventLoop& loop) : timer(loop) {}
  v8::Global<Function> callback;
  base::Timer timer;
  bool repeat = false;
  std::chrono::nanoseconds delay{0};
  std::string tag;
  uint32_t owner = 0;
};

// ---- creation ----------------------------------------------------------------------------------

ShardIsolate& ShardIsolate::forCurrentThread(const std::shared_ptr<const Script>& script,
                                             Env& env) {
  if (tCurrent != nullptr && tCurrent->script_ == script) return *tCurrent;
  if (tCurrent != nullptr) {
    throw Error(Status::internal("a shard thread can run only one JavaScript Worker"));
  }
  std::unique_ptr<ShardIsolate> made(new ShardIsolate(script, &env));
  tCurrent = made.get();
  try {
    made->load();
  } catch (...) {
    tCurrent = nullptr;
    throw;
  }
  tOwned = std::move(made);
  return *tCurrent;
}

ShardIsolate* ShardIsolate::current() { return tCurrent; }

Status ShardIsolate::validate(const std::shared_ptr<const Script>& script) {
  ShardIsolate* previous = tCurrent;
  try {
    std::unique_ptr<ShardIsolate> js(new ShardIsolate(script, nullptr));
    tCurrent = js.get();
    js->load();
    js.reset();
    tCurrent = previous;
    return Status::ok();
  } catch (const Error& e) {
    tCurrent = previous;
    return e.status();
  }
}

bool compatibilityEnabled(const ScriptOptions& options, std::string_view sinceDate,
                          std::string_view enableFlag, std::string_view disableFlag) {
  const auto& flags = options.compatibilityFlags;
  if (std::find(flags.begin(), flags.end(), disableFlag) != flags.end()) return false;
  if (std::find(flags.begin(), flags.end(), enableFlag) != flags.end()) return true;
  return !options.compatibilityDate.empty() && options.compatibilityDate >= sinceDate;
}

uint32_t ShardIsolate::namespaceIndexOf(const std::string& binding) const {
  const auto& classes = script_->options().classes;
  for (size_t i = 0; i < classes.size() && i < namespaces_.size(); ++i) {
    if (classes[i].binding == binding) return static_cast<uint32_t>(i);
  }
  throw Error(Status::notFound("no Durable Object namespace is bound as " + binding));
}

ShardIsolate::ShardIsolate(std::shared_ptr<const Script> script, Env* env)
    : script_(std::move(script)), env_(env) {
  ensureV8Initialized();
  allocator_.reset(v8::ArrayBuffer::Allocator::NewDefaultAllocator());
  Isolate::CreateParams params;
  params.array_buffer_allocator = allocator_.get();
  params.constraints.ConfigureDefaultsFromHeapSize(0, script_->options().heapLimitBytes);
  isolate_ = Isolate::New(params);
  isolate_->SetMicrotasksPolicy(v8::MicrotasksPolicy::kExplicit);
  isolate_->SetPromiseRejectCallback(onPromiseReject);
  // As on Cloudflare: WebAssembly comes from CompiledWasm modules (compiled by duro at load),
  // never from bytes at run time.
  isolate_->SetAllowWasmCodeGenerationCallback([](Local<Context>, Local<String>) {
    ShardIsolate* js = current();
    return js != nullptr && js->compilingWasmModule_;
  });
  // The isolate stays entered on this thread for its whole life (one isolate per thread): V8
  // finds it through thread-local state in GC and in some API calls.
  isolate_->Enter();
  isolate_->AddNearHeapLimitCallback(&ShardIsolate::nearHeapLimit, this);
  Watchdog::instance().add(this);
  HandleScope handles(isolate_);
  Local<Context> context = Context::New(isolate_);
  // As on Cloudflare: no eval() and no new Function(string).
  context->AllowCodeGenerationFromStrings(false);
  context_.Reset(isolate_, context);
}

ShardIsolate::~ShardIsolate() {
  Watchdog::instance().remove(this);
  gcTimer_.reset();
  {
    timers_.clear();
    modulesByHash_.clear();
    modulesByName_.clear();
    unhandledRejections_.clear();
    native_.Reset();
    webExports_.Reset();
    runtimeExports_.Reset();
    mainExports_.Reset();
    env_js_.Reset();
    makeRequest_.Reset();
    responseParts_.Reset();
    workerContext_.Reset();
    cf_.Reset();
    context_.Reset();
  }
  isolate_->Exit();
  isolate_->Dispose();
}

void ShardIsolate::load() {
  Scope scope(*this);
  Local<Context> context = this->context();

  // Web APIs: the bundle's install(globalThis, native).
  Local<Object> nativeObject = makeNativeObject();
  native_.Reset(isolate_, nativeObject);
  ModuleRecord* web = loadModule("duro:web", {}, true);
  Local<Object> webExports = evaluateModule(*web);
  webExports_.Reset(isolate_, webExports);
  auto exportedFunction = [&](Local<Object> exports, const char* name) {
    Local<Value> value = exports->Get(context, str(isolate_, name)).ToLocalChecked();
    if (!value->IsFunction()) {
      throw Error(Status::internal(std::string("internal module lacks ") + name));
    }
    return value.As<Function>();
  };
  JsErrorInfo error;
  Local<Value> installArgs[] = {context->Global(), nativeObject};
  {
    v8::TryCatch tryCatch(isolate_);
    if (exportedFunction(webExports, "install")
            ->Call(context, v8::Undefined(isolate_), 2, installArgs)
            .IsEmpty()) {
      throw Error(Status::internal("installing the Web APIs failed: " +
                                   describe(tryCatch.Exception()).message));
    }
  }
  makeRequest_.Reset(isolate_, exportedFunction(webExports, "makeRequest"));
  responseParts_.Reset(isolate_, exportedFunction(webExports, "responseParts"));

  // The bindings (runtime.js).
  ModuleRecord* runtime = loadModule("duro:runtime", {}, true);
  Local<Object> runtimeExports = evaluateModule(*runtime);
  runtimeExports_.Reset(isolate_, runtimeExports);
  {
    v8::TryCatch tryCatch(isolate_);
    Local<Value> args[] = {nativeObject, webExports};
    if (exportedFunction(runtimeExports, "init")
            ->Call(context, v8::Undefined(isolate_), 2, args)
            .IsEmpty()) {
      throw Error(Status::internal("initializing the bindings failed: " +
                                   describe(tryCatch.Exception()).message));
    }
  }

  // Behaviour tied to the compatibility date (and flags that override it).
  {
    const ScriptOptions& o = script_->options();
    Local<Object> compat = Object::New(isolate_);
    (void)compat->Set(context, name("binaryTypeBlob"),
                      v8::Boolean::New(isolate_, compatibilityEnabled(o, "2026-03-17",
                                                                      "websocket_standard_binary_type",
                                                                      "no_websocket_standard_binary_type")));
    autoReplyToClose = compatibilityEnabled(o, "2026-04-07", "web_socket_auto_reply_to_close",
                                            "web_socket_manual_reply_to_close");
    Local<Value> args[] = {compat};
    (void)checked(runtimeExport("setCompatibility").As<Function>()->Call(
        context, v8::Undefined(isolate_), 1, args));
  }

  // Globals defined by runtime.js (WebSockets and their events).
  for (const char* name : {"WebSocketPair", "WebSocket", "WebSocketRequestResponsePair",
                           "MessageEvent", "CloseEvent", "ErrorEvent"}) {
    Local<String> key = this->name(name);
    Local<Object> global = context->Global();
    if (global->HasOwnProperty(context, key).FromMaybe(false)) continue;
    Local<Value> value = checked(runtimeExports->Get(context, key));
    (void)global->DefineOwnProperty(context, key, value, v8::DontEnum);
  }

  // env: namespaces (by index) and vars.
  Local<v8::Array> nsList = v8::Array::New(isolate_);
  for (const ScriptClass& cls : script_->options().classes) {
    if (env_ == nullptr) break;  // validating: no bindings
    Namespace& ns = env_->ns(cls.binding);
    uint32_t index = static_cast<uint32_t>(namespaces_.size());
    namespaces_.push_back(&ns);
    Local<Value> pair[] = {str(isolate_, cls.binding), v8::Integer::NewFromUnsigned(isolate_, index)};
    (void)nsList->Set(context, nsList->Length(), v8::Array::New(isolate_, pair, 2));
  }
  Local<v8::Array> varList = v8::Array::New(isolate_);
  for (const ScriptVar& var : script_->options().vars) {
    Local<Value> value;
    if (var.isText) {
      value = str(isolate_, var.value);
    } else {
      v8::TryCatch tryCatch(isolate_);
      if (!v8::JSON::Parse(context, str(isolate_, var.value)).ToLocal(&value)) {
        throw Error(Status::invalidArgument("var " + var.name + " is not valid JSON"));
      }
    }
    Local<Value> pair[] = {str(isolate_, var.name), value};
    (void)varList->Set(context, varList->Length(), v8::Array::New(isolate_, pair, 2));
  }
  {
    v8::TryCatch tryCatch(isolate_);
    Local<Value> args[] = {nsList, varList};
    Local<Value> envValue;
    if (!exportedFunction(runtimeExports, "makeEnv")
             ->Call(context, v8::Undefined(isolate_), 2, args)
             .ToLocal(&envValue)) {
      throw Error(Status::internal("building env failed: " +
                                   describe(tryCatch.Exception()).message));
    }
    env_js_.Reset(isolate_, envValue.As<Object>());
  }

  // The Worker's main module.
  const std::filesystem::path& main = script_->options().main;
  ModuleRecord* mainRecord = loadModule(script_->moduleName(main), main, false);
  Local<Object> mainExports = evaluateModule(*mainRecord);
  mainExports_.Reset(isolate_, mainExports);
  for (const ScriptClass& cls : script_->options().classes) {
    Local<Value> value;
    if (!mainExports->Get(context, str(isolate_, cls.className)).ToLocal(&value) ||
        !value->IsFunction()) {
      throw Error(Status::invalidArgument(
          "the main module " + script_->moduleName(main) + " does not export a class named \"" +
          cls.className + "\" (bound as " + cls.binding + ")"));
    }
  }
}

Local<Function> ShardIsolate::objectClass(const std::string& className) {
  return mainExports()->Get(context(), str(isolate_, className)).ToLocalChecked().As<Function>();
}

Local<Value> ShardIsolate::runtimeExport(const char* name) {
  return checked(runtimeExports()->Get(context(), this->name(name)));
}

Local<String> ShardIsolate::name(const char* literal) {
  auto it = names_.find(literal);
  if (it != names_.end()) return it->second.Get(isolate_);
  Local<String> value =
      String::NewFromUtf8(isolate_, literal, v8::NewStringType::kInternalized).ToLocalChecked();
  names_.emplace(literal, v8::Eternal<String>(isolate_, value));
  return value;
}

Local<Object> ShardIsolate::workerContext() {
  if (workerContext_.IsEmpty()) {
    Local<Value> cls = runtimeExport("ExecutionContext");
    workerContext_.Reset(isolate_, checked(cls.As<Function>()->NewInstance(context())));
  }
  return workerContext_.Get(isolate_);
}

// ---- modules -----------------------------------------------------------------------------------

ShardIsolate::ModuleRecord* ShardIsolate::recordOf(Local<Module> module) {
  auto [begin, end] = modulesByHash_.equal_range(module->GetIdentityHash());
  for (auto it = begin; it != end; ++it) {
    if (it->second->module.Get(isolate_) == module) return it->second;
  }
  return nullptr;
}

namespace {
// Throws duro::Error for a failed compile/instantiate/evaluate, naming file and line.
[[noreturn]] void throwModuleError(ShardIsolate& js, v8::TryCatch& tryCatch,
                                   const std::string& what) {
  Isolate* isolate = js.isolate();
  std::string where;
  Local<v8::Message> message = tryCatch.Message();
  // Errors from the resolve callback (a missing import) have no script: no file:line then.
  if (!message.IsEmpty() && message->GetScriptResourceName()->IsString()) {
    where = toStdString(isolate, message->GetScriptResourceName());
    int line = message->GetLineNumber(js.context()).FromMaybe(0);
    if (line > 0) where += ":" + std::to_string(line);
    where += ": ";
  }
  JsErrorInfo info = js.describe(tryCatch.Exception());
  std::string text = info.name.empty() ? info.message : info.name + ": " + info.message;
  throw Error(Status::invalidArgument(what + ": " + where + text));
}

std::optional<std::pair<const char*, size_t>> internalSource(const std::string& name) {
  if (name == "duro:web") return std::make_pair(kDuroWebJs, kDuroWebJsSize);
  if (name == "duro:runtime") return std::make_pair(kDuroRuntimeJs, kDuroRuntimeJsSize);
  if (name == "cloudflare:workers") {
    return std::make_pair(kCloudflareWorkersJs, kCloudflareWorkersJsSize);
  }
  return std::nullopt;
}
}  // namespace

ShardIsolate::ModuleRecord* ShardIsolate::loadModule(const std::string& name,
                                                     const std::filesystem::path& path,
                                                     bool internal) {
  auto found = modulesByName_.find(name);
  if (found != modulesByName_.end()) return found->second.get();

  Local<Context> context = this->context();
  auto record = std::make_unique<ModuleRecord>();
  record->name = name;
  record->path = path;
  record->internal = internal;
  Local<Module> module;
  ModuleKind kind = ModuleKind::kESModule;
  std::shared_ptr<const std::string> fileSource;
  std::string_view source;
  if (internal) {
    auto src = internalSource(name);
    if (!src) throw Error(Status::notFound("no internal module " + name));
    source = std::string_view(src->first, src->second);
  } else {
    std::optional<ModuleKind> k = script_->options().moduleKind
                                      ? script_->options().moduleKind(name)
                                      : std::optional<ModuleKind>(ModuleKind::kESModule);
    if (!k) {
      throw Error(Status::invalidArgument(
          "module " + name + " has no module type: no rule in the config matches it"));
    }
    kind = *k;
    Result<std::shared_ptr<const std::string>> text = script_->source(path);
    if (!text) throw Error(text.status());
    fileSource = *text;
    source = *fileSource;
  }

  v8::TryCatch tryCatch(isolate_);
  if (kind == ModuleKind::kESModule) {
    v8::ScriptOrigin origin(isolate_, str(isolate_, name), 0, 0, false, -1, Local<Value>(), false,
                            false, true);
    v8::ScriptCompiler::Source compilerSource(str(isolate_, source), origin);
    if (!v8::ScriptCompiler::CompileModule(isolate_, &compilerSource).ToLocal(&module)) {
      throwModuleError(*this, tryCatch, "cannot compile module " + name);
    }
  } else {
    Local<Value> value;
    switch (kind) {
      case ModuleKind::kText:
        value = str(isolate_, source);
        break;
      case ModuleKind::kData: {
        auto buffer = v8::ArrayBuffer::New(isolate_, source.size());
        if (!source.empty()) std::memcpy(buffer->Data(), source.data(), source.size());
        value = buffer;
        break;
      }
      case ModuleKind::kJson:
        if (!v8::JSON::Parse(context, str(isolate_, source)).ToLocal(&value)) {
          throwModuleError(*this, tryCatch, "cannot parse JSON module " + name);
        }
        break;
      case ModuleKind::kCompiledWasm: {
        Local<v8::WasmModuleObject> wasm;
        compilingWasmModule_ = true;
        MaybeLocal<v8::WasmModuleObject> compiled = v8::WasmModuleObject::Compile(
            isolate_, v8::MemorySpan<const uint8_t>(
                          reinterpret_cast<const uint8_t*>(source.data()), source.size()));
        compilingWasmModule_ = false;
        if (!compiled.ToLocal(&wasm)) {
          throwModuleError(*this, tryCatch, "cannot compile WebAssembly module " + name);
        }
        value = wasm;
        break;
      }
      case ModuleKind::kESModule:
        break;
    }
    record->syntheticDefault.Reset(isolate_, value);
    std::vector<Local<String>> exports = {str(isolate_, "default")};
    module = Module::CreateSyntheticModule(isolate_, str(isolate_, name), exports,
                                           &ShardIsolate::evaluateSynthetic);
  }
  record->module.Reset(isolate_, module);
  ModuleRecord* raw = record.get();
  modulesByHash_.emplace(module->GetIdentityHash(), raw);
  modulesByName_.emplace(name, std::move(record));
  return raw;
}

MaybeLocal<Value> ShardIsolate::evaluateSynthetic(Local<Context> context, Local<Module> module) {
  ShardIsolate* js = current();
  Isolate* isolate = context->GetIsolate();
  ModuleRecord* record = js->recordOf(module);
  if (record == nullptr) return {};
  if (module
          ->SetSyntheticModuleExport(isolate, str(isolate, "default"),
                                     record->syntheticDefault.Get(isolate))
          .IsNothing()) {
    return {};
  }
  Local<Promise::Resolver> resolver = Promise::Resolver::New(context).ToLocalChecked();
  (void)resolver->Resolve(context, v8::Undefined(isolate));
  return resolver->GetPromise();
}

MaybeLocal<Module> ShardIsolate::resolveModule(Local<Context> context, Local<String> specifier,
                                               Local<v8::FixedArray> assertions,
                                               Local<Module> referrer) {
  ShardIsolate* js = current();
  Isolate* isolate = context->GetIsolate();
  ModuleRecord* from = js->recordOf(referrer);
  std::string spec = toStdString(isolate, specifier);
  try {
    ModuleRecord* target = nullptr;
    if (spec == "cloudflare:workers") {
      target = js->loadModule(spec, {}, true);
    } else if (spec.rfind("duro:", 0) == 0 && from != nullptr && from->internal) {
      target = js->loadModule(spec, {}, true);
    } else if (from != nullptr && !from->internal &&
               (spec.rfind("./", 0) == 0 || spec.rfind("../", 0) == 0 || spec.rfind("/", 0) == 0)) {
      std::filesystem::path path =
          spec[0] == '/' ? js->script().options().baseDir / spec.substr(1)
                         : from->path.parent_path() / spec;
      path = path.lexically_normal();
      target = js->loadModule(js->script().moduleName(path), path, false);
    } else {
      throw Error(Status::notFound("No such module \"" + spec + "\"" +
                                   (from != nullptr ? " imported from \"" + from->name + "\"" : "")));
    }
    return target->module.Get(isolate);
  } catch (const Error& e) {
    isolate->ThrowException(v8::Exception::Error(str(isolate, e.status().message())));
    return {};
  }
}

Local<Object> ShardIsolate::evaluateModule(ModuleRecord& record) {
  Local<Context> context = this->context();
  Local<Module> module = record.module.Get(isolate_);
  v8::TryCatch tryCatch(isolate_);
  if (module->GetStatus() < Module::kInstantiated) {
    if (!module->InstantiateModule(context, &ShardIsolate::resolveModule).FromMaybe(false)) {
      throwModuleError(*this, tryCatch, "cannot load module " + record.name);
    }
  }
  Local<Value> result;
  if (!module->Evaluate(context).ToLocal(&result)) {
    throwModuleError(*this, tryCatch, "module " + record.name + " threw");
  }
  isolate_->PerformMicrotaskCheckpoint();
  if (module->GetStatus() == Module::kErrored) {
    tryCatch.Reset();
    JsErrorInfo info = describe(module->GetException());
    throw Error(Status::invalidArgument("module " + record.name + " threw: " +
                                        (info.name.empty() ? "" : info.name + ": ") +
                                        info.message));
  }
  if (result->IsPromise() && result.As<Promise>()->State() == Promise::kPending) {
    throw Error(Status::invalidArgument("module " + record.name +
                                        " did not finish evaluating (a top-level await that "
                                        "never settles)"));
  }
  return module->GetModuleNamespace().As<Object>();
}

// ---- scopes and microtasks ---------------------------------------------------------------------

ShardIsolate::Scope::Scope(ShardIsolate& js, const std::string* logTag, int64_t owner)
    : js_(js),
      handles_(js.isolate_),
      context_(js.context()),
      previousTag_(js.currentTag_),
      previousOwner_(js.currentOwner()) {
  if (js_.depth_++ == 0 && !js_.draining_) js_.watchEnter();
  if (logTag != nullptr) js_.currentTag_ = logTag;
  if (owner >= 0) js_.currentOwner_.store(static_cast<uint32_t>(owner), std::memory_order_relaxed);
}

ShardIsolate::Scope::~Scope() {
  if (--js_.depth_ == 0) {
    js_.drain();
    while (!js_.draining_) {
      auto culprit = js_.watchExit();
      if (!culprit) break;
      // Terminated: what the culprit was waiting for fails, then those waiters run.
      js_.watchEnter();
      js_.failOwner(culprit->first, culprit->second);
      js_.drain();
    }
  }
  js_.currentTag_ = previousTag_;
  js_.currentOwner_.store(previousOwner_, std::memory_order_relaxed);
}

void ShardIsolate::drain() {
  if (draining_) {
    isolate_->PerformMicrotaskCheckpoint();
    return;
  }
  draining_ = true;
  for (;;) {
    isolate_->PerformMicrotaskCheckpoint();
    resolveDeferred();
    if (ready_.empty()) break;
    std::vector<Waiter*> batch;
    batch.swap(ready_);
    for (Waiter* waiter : batch) {
      if (auto handle = std::exchange(waiter->handle, {})) handle.resume();
    }
  }
  draining_ = false;
  if (!unhandledRejections_.empty()) {
    std::vector<v8::Global<Promise>> pending;
    pending.swap(unhandledRejections_);
    HandleScope handles(isolate_);
    for (auto& global : pending) {
      Local<Promise> promise = global.Get(isolate_);
      if (!promise->HasHandler()) {
        JsErrorInfo info = describe(promise->Result());
        base::logError(*currentTag_, "Uncaught (in promise) " +
                                         (info.stack.empty() ? info.name + ": " + info.message
                                                             : info.stack));
      }
    }
  }
}

void ShardIsolate::onPromiseRejectEvent(v8::PromiseRejectMessage message) {
  if (message.GetEvent() == v8::kPromiseRejectWithNoHandler) {
    unhandledRejections_.emplace_back(isolate_, message.GetPromise());
  }
}

void ShardIsolate::markReady(Waiter* waiter) { ready_.push_back(waiter); }

// ---- awaiting promises -------------------------------------------------------------------------

namespace {
void settleCallback(const FunctionCallbackInfo<Value>& info, bool fulfilled) {
  auto* waiter = static_cast<ShardIsolate::Waiter*>(info.Data().As<External>()->Value());
  if (waiter->done) return;
  waiter->js->forgetWaiter(waiter);
  waiter->done = true;
  waiter->fulfilled = fulfilled;
  waiter->value.Reset(info.GetIsolate(), info[0]);
  if (waiter->handle) waiter->js->markReady(waiter);
}
void onFulfilled(const FunctionCallbackInfo<Value>& info) { settleCallback(info, true); }
void onRejected(const FunctionCallbackInfo<Value>& info) { settleCallback(info, false); }
}  // namespace

ShardIsolate::SettleAwaiter ShardIsolate::settle(Local<Value> value) {
  auto waiter = std::make_unique<Waiter>();
  waiter->js = this;
  waiter->owner = currentOwner();
  if (!value->IsPromise()) {
    waiter->done = true;
    waiter->value.Reset(isolate_, value);
    return SettleAwaiter(std::move(waiter));
  }
  Local<Promise> promise = value.As<Promise>();
  if (promise->State() != Promise::kPending) {
    waiter->done = true;
    waiter->fulfilled = promise->State() == Promise::kFulfilled;
    waiter->value.Reset(isolate_, promise->Result());
    promise->MarkAsHandled();
    return SettleAwaiter(std::move(waiter));
  }
  pendingWaiters_.insert(waiter.get());
  if (depth_ > 0) {
    // Most promises a handler returns settle in the microtask drain that closes this entry
    // (an async function awaiting cache reads): look again then, before paying for reactions.
    waiter->promise.Reset(isolate_, promise);
    deferred_.push_back(waiter.get());
  } else if (!attachReactions(waiter.get(), promise)) {
    throw Error(Status::internal("JavaScript execution was terminated"));
  }
  return SettleAwaiter(std::move(waiter));
}

bool ShardIsolate::attachReactions(Waiter* waiter, Local<Promise> promise) {
  Local<Context> context = this->context();
  Local<External> data = External::New(isolate_, waiter);
  Local<Function> fulfilled, rejected;
  if (!Function::New(context, onFulfilled, data, 1).ToLocal(&fulfilled) ||
      !Function::New(context, onRejected, data, 1).ToLocal(&rejected)) {
    return false;  // execution is being terminated: try again once it is cancelled
  }
  return !promise->Then(context, fulfilled, rejected).IsEmpty();
}

// Called from drain() (so from Scope destructors): must not throw.
void ShardIsolate::resolveDeferred() {
  // While a termination unwinds nothing can be attached; failOwner() and the next drain finish.
  if (deferred_.empty() || isolate_->IsExecutionTerminating()) return;
  HandleScope handles(isolate_);
  std::vector<Waiter*> batch;
  batch.swap(deferred_);
  for (Waiter* waiter : batch) {
    Local<Promise> promise = waiter->promise.Get(isolate_);
    waiter->promise.Reset();
    if (promise->State() == Promise::kPending) {
      if (!attachReactions(waiter, promise)) {
        waiter->promise.Reset(isolate_, promise);
        deferred_.push_back(waiter);
      }
      continue;
    }
    promise->MarkAsHandled();
    forgetWaiter(waiter);
    waiter->done = true;
    waiter->fulfilled = promise->State() == Promise::kFulfilled;
    waiter->value.Reset(isolate_, promise->Result());
    if (waiter->handle) markReady(waiter);
  }
}

ShardIsolate::SettleAwaiter::SettleAwaiter(std::unique_ptr<Waiter> waiter)
    : waiter_(std::move(waiter)) {}
ShardIsolate::SettleAwaiter::SettleAwaiter(SettleAwaiter&&) noexcept = default;
ShardIsolate::SettleAwaiter::~SettleAwaiter() = default;

bool ShardIsolate::SettleAwaiter::await_ready() const noexcept { return waiter_->done; }

void ShardIsolate::SettleAwaiter::await_suspend(std::coroutine_handle<> h) noexcept {
  waiter_->handle = h;
}

Settled ShardIsolate::SettleAwaiter::await_resume() {
  Settled out;
  out.fulfilled = waiter_->fulfilled;
  out.value = std::move(waiter_->value);
  return out;
}

// ---- calling JS --------------------------------------------------------------------------------

MaybeLocal<Value> ShardIsolate::call(Local<Function> fn, Local<Value> receiver,
                                     std::initializer_list<Local<Value>> args,
                                     JsErrorInfo* error) {
  v8::TryCatch tryCatch(isolate_);
  std::vector<Local<Value>> argv(args);
  MaybeLocal<Value> result =
      fn->Call(context(), receiver, static_cast<int>(argv.size()), argv.data());
  if (result.IsEmpty() && error != nullptr) {
    *error = tryCatch.HasTerminated() ? JsErrorInfo{"Error", terminationReason(), ""}
                                      : describe(tryCatch.Exception());
  }
  return result;
}

JsErrorInfo ShardIsolate::describe(Local<Value> exception) {
  JsErrorInfo info;
  if (exception.IsEmpty()) {
    info.message = "unknown error";
    return info;
  }
  Local<Context> context = this->context();
  if (exception->IsObject()) {
    Local<Object> object = exception.As<Object>();
    v8::TryCatch ignore(isolate_);
    Local<Value> name, message, stack;
    if (object->Get(context, str(isolate_, "name")).ToLocal(&name) && name->IsString()) {
      info.name = toStdString(isolate_, name);
    }
    if (object->Get(context, str(isolate_, "message")).ToLocal(&message) &&
        !message->IsUndefined()) {
      info.message = toStdString(isolate_, message);
    } else {
      info.message = toStdString(isolate_, exception);
    }
    if (object->Get(context, str(isolate_, "stack")).ToLocal(&stack) && stack->IsString()) {
      info.stack = toStdString(isolate_, stack);
    }
  } else {
    info.message = toStdString(isolate_, exception);
  }
  return info;
}

void ShardIsolate::reportError(Local<Value> exception) {
  JsErrorInfo info = describe(exception);
  base::logError(*currentTag_, "Uncaught " + (info.stack.empty()
                                                  ? (info.name.empty() ? "" : info.name + ": ") +
                                                        info.message
                                                  : info.stack));
}

void throwJsError(const JsErrorInfo& error) {
  throw Error(Status::internal(error.name.empty() ? error.message
                                                  : error.name + ": " + error.message));
}

// ---- requests and responses --------------------------------------------------------------------

Local<Value> ShardIsolate::makeRequest(const Request& request) {
  Local<Context> context = this->context();
  const auto& fields = request.headers.fields();
  Local<v8::Array> headers = v8::Array::New(isolate_, static_cast<int>(fields.size() * 2));
  uint32_t i = 0;
  for (const auto& [name, value] : fields) {
    (void)headers->Set(context, i++, str(isolate_, name));
    (void)headers->Set(context, i++, str(isolate_, value));
  }
  Local<Value> body = v8::Null(isolate_);
  if (!request.body.empty()) {
    auto buffer = v8::ArrayBuffer::New(isolate_, request.body.size());
    std::memcpy(buffer->Data(), request.body.data(), request.body.size());
    body = v8::Uint8Array::New(buffer, 0, request.body.size());
  }
  if (cf_.IsEmpty()) {
    // What request.cf holds locally: no edge, so only what is true here. Frozen and shared.
    Local<Object> cf = Object::New(isolate_);
    (void)cf->Set(context, name("httpProtocol"), str(isolate_, "HTTP/1.1"));
    (void)cf->Set(context, name("colo"), str(isolate_, "LOCAL"));
    (void)cf->SetIntegrityLevel(context, v8::IntegrityLevel::kFrozen);
    cf_.Reset(isolate_, cf);
  }
  Local<Value> args[] = {str(isolate_, request.method), str(isolate_, request.url), headers, body,
                         cf_.Get(isolate_)};
  return checked(makeRequest_.Get(isolate_)->Call(context, v8::Undefined(isolate_), 5, args));
}

namespace {
// Appends the bytes of a string or a BufferSource to `out`; false for other values.
bool appendBody(Isolate* isolate, Local<Value> value, std::string& out) {
  if (value->IsString()) {
    Local<String> s = value.As<String>();
    size_t offset = out.size();
    out.resize(offset + static_cast<size_t>(s->Utf8Length(isolate)));
    s->WriteUtf8(isolate, out.data() + offset, static_cast<int>(out.size() - offset), nullptr,
                 String::NO_NULL_TERMINATION | String::REPLACE_INVALID_UTF8);
    return true;
  }
  if (value->IsArrayBufferView()) {
    Local<v8::ArrayBufferView> view = value.As<v8::ArrayBufferView>();
    size_t offset = out.size();
    out.resize(offset + view->ByteLength());
    view->CopyContents(out.data() + offset, view->ByteLength());
    return true;
  }
  if (value->IsArrayBuffer()) {
    Local<v8::ArrayBuffer> buffer = value.As<v8::ArrayBuffer>();
    out.append(static_cast<const char*>(buffer->Data()), buffer->ByteLength());
    return true;
  }
  return value->IsNullOrUndefined();
}
}  // namespace

Task<Response> ShardIsolate::toResponse(v8::Global<Value> value) {
  Response response;
  v8::Global<Value> pendingBody;
  {
    Scope scope(*this);
    Local<Context> context = this->context();
    Local<Value> partsValue;
    {
      v8::TryCatch tryCatch(isolate_);
      Local<Value> args[] = {value.Get(isolate_)};
      if (!responseParts_.Get(isolate_)
               ->Call(context, v8::Undefined(isolate_), 1, args)
               .ToLocal(&partsValue) ||
          !partsValue->IsArray()) {
        if (tryCatch.HasTerminated() || !tryCatch.HasCaught()) {
          throw Error(Status::internal("JavaScript execution was terminated"));
        }
        throwJsException(*this, tryCatch.Exception());
      }
    }
    Local<v8::Array> parts = partsValue.As<v8::Array>();
    response.status = checked(parts->Get(context, 0))->Int32Value(context).FromMaybe(500);
    Local<Value> headersValue = checked(parts->Get(context, 2));
    if (headersValue->IsArray()) {
      Local<v8::Array> headers = headersValue.As<v8::Array>();
      for (uint32_t i = 0; i + 1 < headers->Length(); i += 2) {
        response.headers.append(toStdString(isolate_, checked(headers->Get(context, i))),
                                toStdString(isolate_, checked(headers->Get(context, i + 1))));
      }
    }
    Local<Value> socket = checked(parts->Get(context, 4));
    if (!socket->IsNullOrUndefined()) {
      Local<Value> args[] = {socket};
      Local<Value> id = checked(
          runtimeExport("socketIdOf").As<Function>()->Call(context, v8::Undefined(isolate_), 1, args));
      auto it = id->IsNumber() ? clientEnds.find(static_cast<uint64_t>(id.As<v8::Number>()->Value()))
                               : clientEnds.end();
      if (it == clientEnds.end()) {
        throw Error(Status::invalidArgument(
            "the Response's webSocket is not the client end of a WebSocketPair (or was already "
            "used in another Response)"));
      }
      response.webSocket = std::move(it->second);
      clientEnds.erase(it);
    }
    Local<Value> body = checked(parts->Get(context, 3));
    if (body->IsPromise()) {
      pendingBody.Reset(isolate_, body);
    } else if (!appendBody(isolate_, body, response.body)) {
      throw Error(Status::internal("the response body has an unsupported type"));
    }
  }
  if (!pendingBody.IsEmpty()) {
    SettleAwaiter awaiter = [&] {
      Scope scope(*this);
      return settle(pendingBody.Get(isolate_));
    }();
    Settled body = co_await std::move(awaiter);
    Scope scope(*this);
    if (!body.fulfilled) throwJsException(*this, body.value.Get(isolate_));
    if (!appendBody(isolate_, body.value.Get(isolate_), response.body)) {
      throw Error(Status::internal("the response body stream produced an unsupported type"));
    }
  }
  co_return response;
}

// ---- the Worker's own WebSockets ---------------------------------------------------------------

void ShardIsolate::deliverWorkerSocketEvent(std::unique_ptr<runtime::WebSocketEvent> event) {
  using Kind = runtime::WebSocketEvent::Kind;
  {
    Scope scope(*this, nullptr, 0);
    Local<Context> context = this->context();
    std::vector<Local<Value>> argv = {
        v8::Undefined(isolate_),
        v8::Number::New(isolate_, static_cast<double>(event->socket()->id())),
        v8::False(isolate_)};
    if (event->kind() == Kind::kMessage) {
      argv.push_back(name("message"));
      if (event->binary()) {
        auto buffer = v8::ArrayBuffer::New(isolate_, event->data().size());
        if (!event->data().empty()) {
          std::memcpy(buffer->Data(), event->data().data(), event->data().size());
        }
        argv.push_back(buffer);
      } else {
        argv.push_back(str(isolate_, event->data()));
      }
    } else if (event->kind() == Kind::kClose) {
      argv.push_back(name("close"));
      argv.push_back(v8::Integer::New(isolate_, event->code()));
      argv.push_back(str(isolate_, event->data()));
      argv.push_back(v8::Boolean::New(isolate_, event->wasClean()));
    } else {
      argv.push_back(name("error"));
      argv.push_back(str(isolate_, event->data()));
    }
    v8::TryCatch tryCatch(isolate_);
    if (runtimeExport("deliverSocketEvent")
            .As<Function>()
            ->Call(context, v8::Undefined(isolate_), static_cast<int>(argv.size()), argv.data())
            .IsEmpty() &&
        tryCatch.HasCaught() && !tryCatch.HasTerminated()) {
      reportError(tryCatch.Exception());
    }
  }
  if (event->kind() == Kind::kClose) event->socket()->closeEventHandled();
}

void ShardIsolate::rememberSocket(const std::shared_ptr<runtime::ObjectSocket>& socket) {
  sockets[socket->id()] = socket;
  // Entries of sockets that are gone are swept now and then (the map holds weak pointers).
  if (sockets.size() >= socketSweepAt_) {
    std::erase_if(sockets, [](const auto& entry) { return entry.second.expired(); });
    socketSweepAt_ = std::max<size_t>(1024, 2 * sockets.size());
  }
}

// ---- handles -----------------------------------------------------------------------------------

uint32_t ShardIsolate::registerObject(ObjectSlot slot) {
  uint32_t handle = nextHandle_++;
  objects_.emplace(handle, std::move(slot));
  return handle;
}

void ShardIsolate::unregisterObject(uint32_t handle) {
  objects_.erase(handle);
  // Instances dropped by eviction or hibernation leave their JavaScript objects (and the wrappers
  // of their sockets) as garbage, and nothing allocates afterwards to make V8 collect it: an idle
  // server would keep that heap for good (NOTES 6). Once a good share of the instances is gone (a
  // quarter of those still live, at least kGcAfterReleasedObjects), a full collection gives the
  // memory back, kGcAfterReleaseDelay later (one collection for a whole sweep) and at most that
  // often.
  ++releasedSinceGc_;
  if (gcScheduled_ ||
      releasedSinceGc_ < std::max<size_t>(kGcAfterReleasedObjects, objects_.size() / 4)) {
    return;
  }
  base::EventLoop* loop = base::EventLoop::current();
  if (loop == nullptr) return;
  gcScheduled_ = true;
  if (!gcTimer_) gcTimer_ = std::make_unique<base::Timer>(*loop);
  gcTimer_->start(kGcAfterReleaseDelay, [this] {
    gcScheduled_ = false;
    releasedSinceGc_ = 0;
    isolate_->LowMemoryNotification();
  });
}

ObjectSlot* ShardIsolate::object(uint32_t handle) {
  auto it = objects_.find(handle);
  return it == objects_.end() ? nullptr : &it->second;
}

uint32_t ShardIsolate::registerTransaction(StorageTransaction* txn, uint32_t objectHandle) {
  uint32_t handle = nextHandle_++;
  transactions_.emplace(handle, TxnSlot{txn, objectHandle});
  return handle;
}

void ShardIsolate::unregisterTransaction(uint32_t handle) { transactions_.erase(handle); }

void ShardIsolate::markRolledBack(uint32_t handle) {
  if (auto it = transactions_.find(handle); it != transactions_.end()) it->second.rolledBack = true;
}

bool ShardIsolate::isRolledBack(uint32_t handle) const {
  auto it = transactions_.find(handle);
  return it != transactions_.end() && it->second.rolledBack;
}

StorageOps* ShardIsolate::storageOps(uint32_t handle, Storage** storage, StorageTransaction** txn,
                                     ObjectSlot** slot) {
  *storage = nullptr;
  *txn = nullptr;
  *slot = nullptr;
  if (auto it = objects_.find(handle); it != objects_.end()) {
    *slot = &it->second;
    *storage = &it->second.state->storage();
    return *storage;
  }
  if (auto it = transactions_.find(handle); it != transactions_.end()) {
    *txn = it->second.txn;
    *slot = object(it->second.object);
    return *txn;
  }
  return nullptr;
}

// ---- timers ------------------------------------------------------------------------------------

uint32_t ShardIsolate::setTimer(Local<Function> callback, double delayMs, bool repeat) {
  base::EventLoop* loop = base::EventLoop::current();
  if (loop == nullptr) {
    throw Error(Status::invalidArgument(
        "timers cannot be started while the Worker is loading (only while handling an event)"));
  }
  if (!(delayMs >= 0) || std::isinf(delayMs)) delayMs = 0;
  if (repeat && delayMs < 1) delayMs = 1;
  uint32_t id = nextTimer_++;
  auto slot = std::make_unique<TimerSlot>(*loop);
  slot->callback.Reset(isolate_, callback);
  slot->repeat = repeat;
  slot->delay = std::chrono::nanoseconds(static_cast<int64_t>(delayMs * 1e6));
  slot->tag = *currentTag_;
  slot->owner = currentOwner();
  slot->timer.start(slot->delay, [this, id] { fireTimer(id); });
  timers_.emplace(id, std::move(slot));
  return id;
}

void ShardIsolate::clearTimer(uint32_t id) { timers_.erase(id); }

void ShardIsolate::fireTimer(uint32_t id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  TimerSlot& slot = *it->second;
  std::string tag = slot.tag;
  Scope scope(*this, &tag, slot.owner);
  Local<Function> callback = slot.callback.Get(isolate_);
  if (slot.repeat) {
    slot.timer.start(slot.delay, [this, id] { fireTimer(id); });
  } else {
    timers_.erase(it);
  }
  v8::TryCatch tryCatch(isolate_);
  if (callback->Call(context(), v8::Undefined(isolate_), 0, nullptr).IsEmpty()) {
    reportError(tryCatch.Exception());
  }
}

}  // namespace duro::js
