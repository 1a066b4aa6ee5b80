// Implementation of the `native` object (natives.h).
//
// NOTES
//  1. V8 is built without C++ exceptions: every callback runs inside guarded(), which turns a
//     C++ exception into a JS exception (JsThrow picks the JS error type; duro::Error maps
//     kInvalidArgument to TypeError and kLimitExceeded to RangeError).
//  2. An asynchronous native result (a storage read that waits for its database, a stub call)
//     comes back as a promise settled later from the event loop, inside a ShardIsolate::Scope so
//     that the microtasks it unblocks run at once. A result that is already there when the call
//     returns (the usual storage case) is returned as a plain value: runtime.js wraps it in a
//     resolved promise, so JS sees the same API either way and the input gate is not opened.
//  3. Objects and transactions are named by handles (numbers); a call whose handle is gone (the
//     object was reset, the transaction finished) throws instead of touching freed memory.
#include "js/natives.h"
#include "js/v8_strings.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>

#include "base/log.h"
#include "runtime/method_call_event.h"
#include "runtime/namespace_binding.h"
#include "runtime/object_host.h"
#include "runtime/websocket_event.h"

namespace duro::js {

using v8::Array;
using v8::ArrayBuffer;
using v8::Context;
using v8::External;
using v8::Function;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::MaybeLocal;
using v8::Object;
using v8::Promise;
using v8::String;
using v8::Value;

namespace {

// A JS exception to throw from a native function.
struct JsThrow {
  enum Kind { kError, kTypeError, kRangeError } kind;
  std::string message;
};
// The exception is already pending in the isolate.
struct JsPending {};

std::string toStd(Isolate* isolate, Local<Value> value) {
  String::Utf8Value utf8(isolate, value);
  if (*utf8 == nullptr) throw JsPending{};
  return std::string(*utf8, utf8.length());
}

Local<Value> makeException(Isolate* isolate, JsThrow::Kind kind, const std::string& message) {
  switch (kind) {
    case JsThrow::kTypeError:
      return v8::Exception::TypeError(str(isolate, message));
    case JsThrow::kRangeError:
      return v8::Exception::RangeError(str(isolate, message));
    default:
      return v8::Exception::Error(str(isolate, message));
  }
}

Local<Value> exceptionFor(Isolate* isolate, const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return makeException(isolate, JsThrow::kTypeError, status.message());
    case StatusCode::kLimitExceeded:
      return makeException(isolate, JsThrow::kRangeError, status.message());
    default:
      return makeException(isolate, JsThrow::kError, status.message());
  }
}

Local<Value> exceptionFor(Isolate* isolate, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return exceptionFor(isolate, e.status());
  } catch (const std::exception& e) {
    return makeException(isolate, JsThrow::kError, e.what());
  } catch (...) {
    return makeException(isolate, JsThrow::kError, "unknown error");
  }
}

using NativeFn = void (*)(const FunctionCallbackInfo<Value>&, ShardIsolate&);

template <NativeFn F>
void guarded(const FunctionCallbackInfo<Value>& info) {
  ShardIsolate& js = *static_cast<ShardIsolate*>(info.Data().As<External>()->Value());
  Isolate* isolate = info.GetIsolate();
  try {
    F(info, js);
  } catch (const JsPending&) {
  } catch (const JsThrow& t) {
    isolate->ThrowException(makeException(isolate, t.kind, t.message));
  } catch (const Error& e) {
    isolate->ThrowException(exceptionFor(isolate, e.status()));
  } catch (const std::exception& e) {
    isolate->ThrowException(makeException(isolate, JsThrow::kError, e.what()));
  } catch (...) {
    isolate->ThrowException(makeException(isolate, JsThrow::kError, "internal error"));
  }
}

uint32_t toUint32(const FunctionCallbackInfo<Value>& info, int i) {
  return info[i]->Uint32Value(info.GetIsolate()->GetCurrentContext()).FromMaybe(0);
}

Local<v8::Uint8Array> bytesToJs(Isolate* isolate, std::string_view bytes) {
  Local<ArrayBuffer> buffer = ArrayBuffer::New(isolate, bytes.size());
  if (!bytes.empty()) std::memcpy(buffer->Data(), bytes.data(), bytes.size());
  return v8::Uint8Array::New(buffer, 0, bytes.size());
}

// The bytes of an ArrayBufferView or ArrayBuffer.
std::string_view viewBytes(Local<Value> value) {
  if (value->IsArrayBufferView()) {
    Local<v8::ArrayBufferView> view = value.As<v8::ArrayBufferView>();
    const char* base = static_cast<const char*>(view->Buffer()->Data());
    return std::string_view(base + view->ByteOffset(), view->ByteLength());
  }
  if (value->IsArrayBuffer()) {
    Local<ArrayBuffer> buffer = value.As<ArrayBuffer>();
    return std::string_view(static_cast<const char*>(buffer->Data()), buffer->ByteLength());
  }
  throw JsThrow{JsThrow::kTypeError, "expected an ArrayBuffer or ArrayBufferView"};
}

// ---- pending native results (note 2) ------------------------------------------------------------

// Converts a native result to JS; returns false to reject with *out instead of resolving.
template <typename T>
using Convert = std::function<bool(ShardIsolate&, T&, Local<Value>* out)>;

template <typename T>
struct Pending {
  ShardIsolate* js = nullptr;
  std::string tag;
  uint32_t owner = 0;
  bool done = false;
  std::optional<T> value;
  std::exception_ptr error;
  Convert<T> convert;
  v8::Global<Promise::Resolver> resolver;
};

template <typename T>
void settleResolver(Pending<T>& p) {
  ShardIsolate& js = *p.js;
  ShardIsolate::Scope scope(js, &p.tag, p.owner);
  Isolate* isolate = js.isolate();
  Local<Context> context = js.context();
  Local<Promise::Resolver> resolver = p.resolver.Get(isolate);
  p.resolver.Reset();
  if (p.error) {
    (void)resolver->Reject(context, exceptionFor(isolate, p.error));
    return;
  }
  v8::TryCatch tryCatch(isolate);
  Local<Value> out;
  bool ok = false;
  try {
    ok = p.convert(js, *p.value, &out);
  } catch (const JsThrow& t) {
    out = makeException(isolate, t.kind, t.message);
  } catch (const JsPending&) {
    out = tryCatch.Exception();
  } catch (const std::exception& e) {
    out = makeException(isolate, JsThrow::kError, e.what());
  }
  if (out.IsEmpty()) out = v8::Undefined(isolate);
  if (ok) {
    (void)resolver->Resolve(context, out);
  } else {
    (void)resolver->Reject(context, out);
  }
}

// Starts `task`; returns its converted result if it finished at once, else a promise.
template <typename T>
Local<Value> resultOrPromise(ShardIsolate& js, Task<T> task, Convert<T> convert) {
  auto p = std::make_shared<Pending<T>>();
  p->js = &js;
  p->tag = js.currentTag();
  p->owner = js.currentOwner();
  p->convert = std::move(convert);
  startTask<T>(std::move(task), [p](std::optional<T> value, std::exception_ptr error) {
    p->done = true;
    p->value = std::move(value);
    p->error = error;
    if (!p->resolver.IsEmpty()) settleResolver(*p);
  });
  Isolate* isolate = js.isolate();
  if (p->done) {
    if (p->error) std::rethrow_exception(p->error);
    Local<Value> out;
    if (!p->convert(js, *p->value, &out)) {
      isolate->ThrowException(out);
      throw JsPending{};
    }
    return out.IsEmpty() ? Local<Value>(v8::Undefined(isolate)) : out;
  }
  Local<Promise::Resolver> resolver = Promise::Resolver::New(js.context()).ToLocalChecked();
  p->resolver.Reset(isolate, resolver);
  return resolver->GetPromise();
}

// A Task<void> variant carried as Task<bool>.
Task<bool> asBool(Task<void> task) {
  co_await std::move(task);
  co_return true;
}

Convert<bool> toUndefined() {
  return [](ShardIsolate& js, bool&, Local<Value>* out) {
    *out = v8::Undefined(js.isolate());
    return true;
  };
}

// ---- Web API natives ---------------------------------------------------------------------------

void utf8Encode(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  Local<String> s;
  if (!info[0]->ToString(isolate->GetCurrentContext()).ToLocal(&s)) throw JsPending{};
  size_t length = static_cast<size_t>(s->Utf8Length(isolate));
  Local<ArrayBuffer> buffer = ArrayBuffer::New(isolate, length);
  s->WriteUtf8(isolate, static_cast<char*>(buffer->Data()), static_cast<int>(length), nullptr,
               String::NO_NULL_TERMINATION | String::REPLACE_INVALID_UTF8);
  info.GetReturnValue().Set(v8::Uint8Array::New(buffer, 0, length));
}

void utf8EncodeInto(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  Local<String> s;
  if (!info[0]->ToString(isolate->GetCurrentContext()).ToLocal(&s)) throw JsPending{};
  if (!info[1]->IsUint8Array()) throw JsThrow{JsThrow::kTypeError, "expected a Uint8Array"};
  Local<v8::Uint8Array> view = info[1].As<v8::Uint8Array>();
  char* base = static_cast<char*>(view->Buffer()->Data()) + view->ByteOffset();
  int read = 0;
  int written = s->WriteUtf8(isolate, base, static_cast<int>(view->ByteLength()), &read,
                             String::NO_NULL_TERMINATION | String::REPLACE_INVALID_UTF8);
  Local<Value> pair[] = {v8::Integer::New(isolate, read), v8::Integer::New(isolate, written)};
  info.GetReturnValue().Set(Array::New(isolate, pair, 2));
}

// Whether `bytes` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool validUtf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > n) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

void utf8Decode(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  std::string_view bytes = viewBytes(info[0]);
  bool fatal = info[1]->BooleanValue(isolate);
  bool ignoreBOM = info[2]->BooleanValue(isolate);
  if (fatal && !validUtf8(bytes)) {
    throw JsThrow{JsThrow::kTypeError, "The encoded data was not valid for encoding utf-8"};
  }
  if (!ignoreBOM && bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") {
    bytes.remove_prefix(3);
  }
  Local<String> out;
  if (!String::NewFromUtf8(isolate, bytes.data(), v8::NewStringType::kNormal,
                           static_cast<int>(bytes.size()))
           .ToLocal(&out)) {
    throw JsThrow{JsThrow::kRangeError, "string too long"};
  }
  info.GetReturnValue().Set(out);
}

void getRandomValues(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  if (!info[0]->IsArrayBufferView()) {
    throw JsThrow{JsThrow::kTypeError, "expected an integer typed array"};
  }
  Local<v8::ArrayBufferView> view = info[0].As<v8::ArrayBufferView>();
  auto* base = static_cast<unsigned char*>(view->Buffer()->Data()) + view->ByteOffset();
  if (view->ByteLength() > 0 && RAND_bytes(base, static_cast<int>(view->ByteLength())) != 1) {
    throw JsThrow{JsThrow::kError, "the random source failed"};
  }
  info.GetReturnValue().Set(info[0]);
}

void randomUUID(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw JsThrow{JsThrow::kError, "the random source failed"};
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[b[i] >> 4]);
    out.push_back(hex[b[i] & 15]);
  }
  info.GetReturnValue().Set(str(info.GetIsolate(), out));
}

// The hash named as WebCrypto names it ("SHA-256"); MD5 only where `allowMd5`.
const EVP_MD* hashByName(const std::string& algorithm, bool allowMd5) {
  if (algorithm == "SHA-1") return EVP_sha1();
  if (algorithm == "SHA-256") return EVP_sha256();
  if (algorithm == "SHA-384") return EVP_sha384();
  if (algorithm == "SHA-512") return EVP_sha512();
  if (allowMd5 && algorithm == "MD5") return EVP_md5();
  throw JsThrow{JsThrow::kError, "Unrecognized name."};
}

void digest(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  const EVP_MD* md = hashByName(toStd(isolate, info[0]), /*allowMd5=*/true);
  std::string_view bytes = viewBytes(info[1]);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out, &length, md, nullptr) != 1) {
    throw JsThrow{JsThrow::kError, "digest failed"};
  }
  Local<ArrayBuffer> buffer = ArrayBuffer::New(isolate, length);
  std::memcpy(buffer->Data(), out, length);
  info.GetReturnValue().Set(buffer);
}

void hmac(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  const EVP_MD* md = hashByName(toStd(isolate, info[0]), /*allowMd5=*/false);
  std::string_view key = viewBytes(info[1]);
  std::string_view bytes = viewBytes(info[2]);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out, &length) ==
      nullptr) {
    throw JsThrow{JsThrow::kError, "HMAC failed"};
  }
  Local<ArrayBuffer> buffer = ArrayBuffer::New(isolate, length);
  std::memcpy(buffer->Data(), out, length);
  info.GetReturnValue().Set(buffer);
}

void serialize(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  std::optional<std::string> bytes = serializeValue(js, info[0]);
  if (!bytes) throw JsPending{};
  Local<ArrayBuffer> buffer = ArrayBuffer::New(info.GetIsolate(), bytes->size());
  if (!bytes->empty()) std::memcpy(buffer->Data(), bytes->data(), bytes->size());
  info.GetReturnValue().Set(buffer);
}

void deserialize(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Local<Value> out;
  if (!deserializeValue(js, viewBytes(info[0])).ToLocal(&out)) throw JsPending{};
  info.GetReturnValue().Set(out);
}

void log(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  std::string level = toStd(isolate, info[0]);
  base::LogLevel l = base::LogLevel::kInfo;
  if (level == "debug") l = base::LogLevel::kDebug;
  if (level == "warn") l = base::LogLevel::kWarn;
  if (level == "error") l = base::LogLevel::kError;
  if (l < base::logLevel()) return;
  base::log(l, js.currentTag(), toStd(isolate, info[1]));
}

void setTimerNative(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  if (!info[0]->IsFunction()) throw JsThrow{JsThrow::kTypeError, "the callback is not a function"};
  double delay = info[1]->NumberValue(info.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  uint32_t id = js.setTimer(info[0].As<Function>(), delay, info[2]->BooleanValue(info.GetIsolate()));
  info.GetReturnValue().Set(v8::Integer::NewFromUnsigned(info.GetIsolate(), id));
}

void clearTimerNative(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  if (info[0]->IsNumber()) js.clearTimer(toUint32(info, 0));
}

void enqueueMicrotask(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  if (!info[0]->IsFunction()) throw JsThrow{JsThrow::kTypeError, "the callback is not a function"};
  info.GetIsolate()->EnqueueMicrotask(info[0].As<Function>());
}

void reportErrorNative(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  js.reportError(info[0]);
}

void now(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  auto ms = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  info.GetReturnValue().Set(static_cast<double>(ms) / 1000.0);
}

// ---- IDs, stubs and RPC ------------------------------------------------------------------------

Namespace& namespaceArg(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  uint32_t index = toUint32(info, 0);
  if (index >= js.namespaceCount()) throw JsThrow{JsThrow::kTypeError, "unknown namespace"};
  return js.ns(index);
}

void idFromName(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Namespace& ns = namespaceArg(info, js);
  info.GetReturnValue().Set(
      str(info.GetIsolate(), ns.idFromName(toStd(info.GetIsolate(), info[1])).toString()));
}

void newUniqueId(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Namespace& ns = namespaceArg(info, js);
  info.GetReturnValue().Set(str(info.GetIsolate(), ns.newUniqueId().toString()));
}

void idFromString(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Namespace& ns = namespaceArg(info, js);
  info.GetReturnValue().Set(
      str(info.GetIsolate(), ns.idFromString(toStd(info.GetIsolate(), info[1])).toString()));
}

// The ObjectId for (namespace, hex, name) from a stub. The hex comes from a DurableObjectId that
// only the namespace's own methods can make (runtime.js guards the constructor), so it was
// validated when it was minted or parsed: decoding it again skips a second keyed hash.
ObjectId objectIdArg(const FunctionCallbackInfo<Value>& info, Namespace& ns) {
  Isolate* isolate = info.GetIsolate();
  std::string hex = toStd(isolate, info[1]);
  ObjectId::Bytes bytes{};
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  bool ok = hex.size() == 2 * ObjectId::kSize;
  for (size_t i = 0; ok && i < ObjectId::kSize; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  if (!ok) bytes = ns.idFromString(hex).bytes();  // not ours: validate (throws)
  std::optional<std::string> name;
  if (info[2]->IsString()) name = toStd(isolate, info[2]);
  return ObjectId(bytes, std::move(name));
}

// Marks an error that crossed from another object (Cloudflare's `remote` property).
void markRemote(ShardIsolate& js, Local<Value> error) {
  if (!error->IsObject()) return;
  v8::TryCatch ignore(js.isolate());
  (void)error.As<Object>()->Set(js.context(), str(js.isolate(), "remote"),
                                v8::True(js.isolate()));
}

// The outcome of a call to another object, errors included, so that they reject the JS promise.
template <typename T>
Task<Result<T>> captureErrors(Task<T> call) {
  try {
    co_return co_await std::move(call);
  } catch (const Error& e) {
    co_return e.status();
  } catch (const std::exception& e) {
    co_return Status::internal(e.what());
  }
}

// What a failed call to another object rejects with: the thrown JS error when the status carries
// it, else an error for the status (`overloaded` set when it is that); `remote` either way.
Local<Value> remoteFailure(ShardIsolate& js, const Status& status) {
  if (const std::string* detail = status.detail()) return deserializeThrown(js, *detail);
  Isolate* isolate = js.isolate();
  Local<Value> error = exceptionFor(isolate, status);
  if (status.code() == StatusCode::kOverloaded) {
    (void)error.As<Object>()->Set(js.context(), str(isolate, "overloaded"), v8::True(isolate));
  }
  markRemote(js, error);
  return error;
}

void stubFetch(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  Local<Context> context = isolate->GetCurrentContext();
  Namespace& ns = namespaceArg(info, js);
  ObjectId id = objectIdArg(info, ns);
  Request request;
  request.method = toStd(isolate, info[3]);
  request.url = toStd(isolate, info[4]);
  if (info[5]->IsArray()) {
    Local<Array> headers = info[5].As<Array>();
    for (uint32_t i = 0; i + 1 < headers->Length(); i += 2) {
      request.headers.append(toStd(isolate, headers->Get(context, i).ToLocalChecked()),
                             toStd(isolate, headers->Get(context, i + 1).ToLocalChecked()));
    }
  }
  if (info[6]->IsString()) {
    request.body = toStd(isolate, info[6]);
  } else if (!info[6]->IsNullOrUndefined()) {
    request.body = std::string(viewBytes(info[6]));
  }
  // A failure of the call itself (the object threw, overload) rejects with a remote error.
  Task<Result<Response>> wrapped =
      captureErrors(ns.fetchObject(std::move(id), std::move(request)));
  info.GetReturnValue().Set(resultOrPromise<Result<Response>>(
      js, std::move(wrapped), [](ShardIsolate& js, Result<Response>& r, Local<Value>* out) {
        Isolate* isolate = js.isolate();
        Local<Context> context = js.context();
        if (!r.isOk()) {
          *out = remoteFailure(js, r.status());
          return false;
        }
        Response& response = *r;
        const auto& fields = response.headers.fields();
        Local<Array> headers = Array::New(isolate, static_cast<int>(fields.size() * 2));
        uint32_t i = 0;
        for (const auto& [name, value] : fields) {
          (void)headers->Set(context, i++, str(isolate, name));
          (void)headers->Set(context, i++, str(isolate, value));
        }
        Local<Value> body = v8::Null(isolate);
        if (!response.body.empty()) body = bytesToJs(isolate, response.body);
        Local<Value> socket = v8::Undefined(isolate);
        if (response.webSocket) {
          // The object accepted a WebSocket: its client end waits here for the Worker's Response.
          uint64_t id = js.nextClientEndId++;
          js.clientEnds[id] = std::move(response.webSocket);
          socket = v8::Number::New(isolate, static_cast<double>(id));
        }
        Local<Value> parts[] = {v8::Integer::New(isolate, response.status),
                                str(isolate, reasonPhrase(response.status)), headers, body, socket};
        *out = Array::New(isolate, parts, 5);
        return true;
      }));
}

void callMethod(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  Namespace& ns = namespaceArg(info, js);
  auto* binding = dynamic_cast<runtime::NamespaceBinding*>(&ns);
  if (binding == nullptr) throw JsThrow{JsThrow::kError, "this namespace does not take RPC calls"};
  ObjectId id = objectIdArg(info, ns);
  std::string method = toStd(isolate, info[3]);
  // No argument list: a property read (`await stub.name`), sent as empty arguments.
  std::optional<std::string> args =
      info[4]->IsUndefined() ? std::optional<std::string>(std::string()) : serializeValue(js, info[4]);
  if (!args) throw JsPending{};
  Task<Result<MethodResult>> wrapped =
      captureErrors(runtime::callObjectMethod(binding->runtime(), binding->index(), std::move(id),
                                              std::move(method), std::move(*args)));
  info.GetReturnValue().Set(resultOrPromise<Result<MethodResult>>(
      js, std::move(wrapped), [](ShardIsolate& js, Result<MethodResult>& r, Local<Value>* out) {
        Isolate* isolate = js.isolate();
        if (!r.isOk()) {
          *out = remoteFailure(js, r.status());
          return false;
        }
        if (r->threw) {
          *out = deserializeThrown(js, r->serialized);
          return false;
        }
        v8::TryCatch tryCatch(isolate);
        if (!deserializeValue(js, r->serialized).ToLocal(out)) {
          *out = tryCatch.Exception();
          return false;
        }
        return true;
      }));
}

// ---- storage -----------------------------------------------------------------------------------

struct StorageTarget {
  StorageOps* ops;
  Storage* storage;
  StorageTransaction* txn;
  ObjectSlot* slot;
};

StorageTarget storageArg(const FunctionCallbackInfo<Value>& info, ShardIsolate& js,
                         const char* op = nullptr) {
  if (op != nullptr && js.isRolledBack(toUint32(info, 0))) {
    throw JsThrow{JsThrow::kError, std::string("Cannot ") + op + "() on rolled back transaction"};
  }
  StorageTarget t{};
  t.ops = js.storageOps(toUint32(info, 0), &t.storage, &t.txn, &t.slot);
  if (t.ops == nullptr) {
    throw JsThrow{JsThrow::kError,
                  "This storage object is no longer usable (its Durable Object was reset or its "
                  "transaction has finished)."};
  }
  return t;
}

bool boolOption(Isolate* isolate, Local<Value> options, const char* name) {
  if (!options->IsObject()) return false;
  Local<Value> v;
  if (!options.As<Object>()->Get(isolate->GetCurrentContext(), str(isolate, name)).ToLocal(&v)) {
    throw JsPending{};
  }
  return v->BooleanValue(isolate);
}

std::optional<std::string> stringOption(Isolate* isolate, Local<Value> options, const char* name) {
  if (!options->IsObject()) return std::nullopt;
  Local<Value> v;
  if (!options.As<Object>()->Get(isolate->GetCurrentContext(), str(isolate, name)).ToLocal(&v)) {
    throw JsPending{};
  }
  if (v->IsUndefined()) return std::nullopt;
  return toStd(isolate, v);
}

StorageGetOptions getOptions(Isolate* isolate, Local<Value> options) {
  StorageGetOptions o;
  o.allowConcurrency = boolOption(isolate, options, "allowConcurrency");
  o.noCache = boolOption(isolate, options, "noCache");
  return o;
}

StoragePutOptions putOptions(Isolate* isolate, Local<Value> options) {
  StoragePutOptions o;
  o.allowConcurrency = boolOption(isolate, options, "allowConcurrency");
  o.allowUnconfirmed = boolOption(isolate, options, "allowUnconfirmed");
  o.noCache = boolOption(isolate, options, "noCache");
  return o;
}

std::vector<std::string> keyList(Isolate* isolate, Local<Array> array) {
  std::vector<std::string> keys;
  keys.reserve(array->Length());
  Local<Context> context = isolate->GetCurrentContext();
  for (uint32_t i = 0; i < array->Length(); ++i) {
    Local<Value> v;
    if (!array->Get(context, i).ToLocal(&v)) throw JsPending{};
    keys.push_back(toStd(isolate, v));
  }
  return keys;
}

// A Map of key -> deserialized value, in the order given.
bool entriesToMap(ShardIsolate& js, StorageEntries& entries, Local<Value>* out) {
  Isolate* isolate = js.isolate();
  Local<Context> context = js.context();
  Local<v8::Map> map = v8::Map::New(isolate);
  for (auto& [key, bytes] : entries) {
    Local<Value> value;
    if (!deserializeValue(js, bytes).ToLocal(&value)) throw JsPending{};
    if (map->Set(context, str(isolate, key), value).IsEmpty()) throw JsPending{};
  }
  *out = map;
  return true;
}

void storageGet(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  StorageTarget t = storageArg(info, js, "get");
  StorageGetOptions options = getOptions(isolate, info[2]);
  if (info[1]->IsArray()) {
    std::vector<std::string> keys = keyList(isolate, info[1].As<Array>());
    info.GetReturnValue().Set(resultOrPromise<StorageEntries>(
        js, t.ops->get(std::move(keys), options), entriesToMap));
    return;
  }
  info.GetReturnValue().Set(resultOrPromise<std::optional<std::string>>(
      js, t.ops->get(toStd(isolate, info[1]), options),
      [](ShardIsolate& js, std::optional<std::string>& bytes, Local<Value>* out) {
        if (!bytes) {
          *out = v8::Undefined(js.isolate());
          return true;
        }
        if (!deserializeValue(js, *bytes).ToLocal(out)) throw JsPending{};
        return true;
      }));
}

void storagePut(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  Local<Context> context = isolate->GetCurrentContext();
  StorageTarget t = storageArg(info, js, "put");
  int argc = info[4]->Int32Value(context).FromMaybe(0);
  if (info[1]->IsObject() && !info[1]->IsString()) {
    // put(entries, options)
    Local<Object> object = info[1].As<Object>();
    Local<Array> names;
    if (!object->GetOwnPropertyNames(context).ToLocal(&names)) throw JsPending{};
    StorageEntries entries;
    entries.reserve(names->Length());
    for (uint32_t i = 0; i < names->Length(); ++i) {
      Local<Value> name, value;
      if (!names->Get(context, i).ToLocal(&name) || !object->Get(context, name).ToLocal(&value)) {
        throw JsPending{};
      }
      if (value->IsUndefined()) continue;  // as workerd: an undefined value is skipped
      std::optional<std::string> bytes = serializeValue(js, value);
      if (!bytes) throw JsPending{};
      entries.emplace_back(toStd(isolate, name), std::move(*bytes));
    }
    t.ops->put(std::move(entries), putOptions(isolate, info[2]));
    return;
  }
  if (argc < 2 || info[2]->IsUndefined()) {
    throw JsThrow{JsThrow::kTypeError, "put() called with undefined value."};
  }
  std::string key = toStd(isolate, info[1]);
  std::optional<std::string> bytes = serializeValue(js, info[2]);
  if (!bytes) throw JsPending{};
  t.ops->put(std::move(key), std::move(*bytes), putOptions(isolate, info[3]));
}

void storageDelete(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  StorageTarget t = storageArg(info, js, "delete");
  StoragePutOptions options = putOptions(isolate, info[2]);
  if (info[1]->IsArray()) {
    info.GetReturnValue().Set(resultOrPromise<size_t>(
        js, t.ops->delete_(keyList(isolate, info[1].As<Array>()), options),
        [](ShardIsolate& js, size_t& n, Local<Value>* out) {
          *out = v8::Number::New(js.isolate(), static_cast<double>(n));
          return true;
        }));
    return;
  }
  info.GetReturnValue().Set(resultOrPromise<bool>(
      js, t.ops->delete_(toStd(isolate, info[1]), options),
      [](ShardIsolate& js, bool& existed, Local<Value>* out) {
        *out = v8::Boolean::New(js.isolate(), existed);
        return true;
      }));
}

// list()'s options object, as both KV APIs take it.
StorageListOptions listOptions(Isolate* isolate, Local<Value> options) {
  StorageListOptions o;
  o.start = stringOption(isolate, options, "start");
  o.startAfter = stringOption(isolate, options, "startAfter");
  o.end = stringOption(isolate, options, "end");
  o.prefix = stringOption(isolate, options, "prefix");
  o.reverse = boolOption(isolate, options, "reverse");
  o.allowConcurrency = boolOption(isolate, options, "allowConcurrency");
  o.noCache = boolOption(isolate, options, "noCache");
  if (options->IsObject()) {
    Local<Value> limit;
    if (!options.As<Object>()->Get(isolate->GetCurrentContext(), str(isolate, "limit")).ToLocal(&limit)) {
      throw JsPending{};
    }
    if (!limit->IsUndefined()) {
      double n = limit->NumberValue(isolate->GetCurrentContext()).FromMaybe(0);
      if (!(n > 0)) throw JsThrow{JsThrow::kTypeError, "List limit must be positive."};
      o.limit = static_cast<size_t>(n);
    }
  }
  return o;
}

void storageList(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  StorageTarget t = storageArg(info, js, "list");
  StorageListOptions o = listOptions(info.GetIsolate(), info[1]);
  info.GetReturnValue().Set(
      resultOrPromise<StorageEntries>(js, t.ops->list(std::move(o)), entriesToMap));
}

void storageDeleteAll(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  StorageTarget t = storageArg(info, js);
  if (t.storage == nullptr) throw JsThrow{JsThrow::kError, "deleteAll() is not available in a transaction"};
  info.GetReturnValue().Set(resultOrPromise<bool>(
      js, asBool(t.storage->deleteAll(putOptions(info.GetIsolate(), info[1]))), toUndefined()));
}

void storageSync(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  StorageTarget t = storageArg(info, js);
  if (t.storage == nullptr) throw JsThrow{JsThrow::kError, "sync() is not available in a transaction"};
  info.GetReturnValue().Set(resultOrPromise<bool>(js, asBool(t.storage->sync()), toUndefined()));
}

// Alarm operations exist on Storage; a transaction uses its object's storage for them.
Storage& alarmStorage(StorageTarget& t) {
  if (t.storage != nullptr) return *t.storage;
  if (t.slot == nullptr) throw JsThrow{JsThrow::kError, "the Durable Object is gone"};
  return t.slot->state->storage();
}

void storageGetAlarm(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  StorageTarget t = storageArg(info, js, "getAlarm");
  info.GetReturnValue().Set(resultOrPromise<std::optional<int64_t>>(
      js, alarmStorage(t).getAlarm(getOptions(info.GetIsolate(), info[1])),
      [](ShardIsolate& js, std::optional<int64_t>& time, Local<Value>* out) {
        *out = time ? Local<Value>(v8::Number::New(js.isolate(), static_cast<double>(*time)))
                    : Local<Value>(v8::Null(js.isolate()));
        return true;
      }));
}

void storageSetAlarm(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  StorageTarget t = storageArg(info, js, "setAlarm");
  if (!info[1]->IsNumber()) {
    throw JsThrow{JsThrow::kTypeError,
                  "setAlarm() requires a time: a Date or milliseconds since the epoch"};
  }
  double ms = info[1].As<v8::Number>()->Value();
  if (!std::isfinite(ms)) throw JsThrow{JsThrow::kTypeError, "setAlarm() requires a finite time"};
  if (ms <= 0) {
    throw JsThrow{JsThrow::kTypeError, "setAlarm() cannot be called with an alarm time <= 0"};
  }
  alarmStorage(t).setAlarm(static_cast<int64_t>(ms), putOptions(info.GetIsolate(), info[2]));
}

void storageDeleteAlarm(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  StorageTarget t = storageArg(info, js, "deleteAlarm");
  alarmStorage(t).deleteAlarm(putOptions(info.GetIsolate(), info[1]));
}

void storageRollback(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  StorageTarget t = storageArg(info, js);
  if (t.txn == nullptr) throw JsThrow{JsThrow::kError, "rollback() outside a transaction"};
  t.txn->rollback();
  js.markRolledBack(toUint32(info, 0));
}

// ---- SQL storage (SQLite-backed objects) ---------------------------------------------------------

constexpr const char* kSqlNotEnabled =
    "SQL is not enabled for this Durable Object class. To enable it, change `new_classes` to "
    "`new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or wrangler.toml "
    "file. If using workerd directly,set `enableSql = true` in your workerd config for the class. "
    "Note that this change cannot be made after the class is already deployed to production.";
constexpr const char* kSyncKvNotEnabled =
    "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects, but "
    "this object's namespace is not declared to use SQLite. You can use the older, asyncronous "
    "interface via methods of `storage` itself (e.g. `storage.get()`). Alternatively, to enable "
    "SQLite, change `new_classes` to `new_sqlite_classes` within the 'migrations' field in your "
    "wrangler.jsonc or wrangler.toml file. If using workerd directly, set `enableSql = true` in your "
    "workerd config for the class. Note that this change cannot be made after the class is already "
    "deployed to production.";

SqlStorage& sqlOf(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  StorageTarget t = storageArg(info, js);
  SqlStorage* sql = t.storage ? t.storage->sql() : nullptr;
  if (sql == nullptr) throw JsThrow{JsThrow::kError, kSqlNotEnabled};
  return *sql;
}

SyncKv& syncKvOf(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  StorageTarget t = storageArg(info, js);
  SyncKv* kv = t.storage ? t.storage->kv() : nullptr;
  if (kv == nullptr) throw JsThrow{JsThrow::kError, kSyncKvNotEnabled};
  return *kv;
}

// A binding as workerd converts it: every number is REAL (NaN is NULL), strings TEXT, buffers
// and views BLOB, null and undefined NULL, anything else its string form (true -> "true").
SqlValue sqlBinding(Isolate* isolate, Local<Value> v) {
  if (v->IsNullOrUndefined()) return nullptr;
  if (v->IsNumber()) {
    double d = v.As<v8::Number>()->Value();
    if (std::isnan(d)) return nullptr;
    return d == 0 ? 0.0 : d;  // -0 is 0
  }
  if (v->IsString()) return toStd(isolate, v);
  if (v->IsArrayBufferView() || v->IsArrayBuffer()) return SqlBlob{std::string(viewBytes(v))};
  if (v->IsBigInt()) throw JsThrow{JsThrow::kTypeError, "Cannot convert a BigInt value to a number"};
  if (v->IsSymbol()) throw JsThrow{JsThrow::kTypeError, "Cannot convert a Symbol value to a string"};
  Local<v8::String> text;
  if (!v->ToString(isolate->GetCurrentContext()).ToLocal(&text)) throw JsPending{};
  return toStd(isolate, text);
}

Local<Value> sqlValueToJs(Isolate* isolate, const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return v8::Number::New(isolate, static_cast<double>(*i));
  if (const auto* d = std::get_if<double>(&v)) return v8::Number::New(isolate, *d);
  if (const auto* s = std::get_if<std::string>(&v)) return str(isolate, *s);
  if (const auto* b = std::get_if<SqlBlob>(&v)) {
    Local<ArrayBuffer> buffer = ArrayBuffer::New(isolate, b->bytes.size());
    if (!b->bytes.empty()) std::memcpy(buffer->Data(), b->bytes.data(), b->bytes.size());
    return buffer;
  }
  return v8::Null(isolate);
}

// sqlExec(handle, query, bindings[]) -> [columnNames, rows (arrays), rowsRead, rowsWritten].
void sqlExec(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  Local<Context> context = isolate->GetCurrentContext();
  SqlStorage& sql = sqlOf(info, js);
  std::string query = toStd(isolate, info[1]);
  std::vector<SqlValue> bindings;
  if (info[2]->IsArray()) {
    Local<Array> array = info[2].As<Array>();
    bindings.reserve(array->Length());
    for (uint32_t i = 0; i < array->Length(); ++i) {
      Local<Value> v;
      if (!array->Get(context, i).ToLocal(&v)) throw JsPending{};
      bindings.push_back(sqlBinding(isolate, v));
    }
  }
  SqlResult result;
  try {
    result = sql.exec(query, std::move(bindings));
  } catch (const Error& e) {
    // SQL errors are plain Errors in Workers, whatever their cause.
    throw JsThrow{JsThrow::kError, e.status().message()};
  }
  Local<Array> names = Array::New(isolate, static_cast<int>(result.columnNames.size()));
  for (size_t c = 0; c < result.columnNames.size(); ++c) {
    if (names->Set(context, static_cast<uint32_t>(c), str(isolate, result.columnNames[c])).IsNothing()) {
      throw JsPending{};
    }
  }
  Local<Array> rows = Array::New(isolate, static_cast<int>(result.rows.size()));
  std::vector<Local<Value>> cells;
  for (size_t r = 0; r < result.rows.size(); ++r) {
    cells.clear();
    for (const SqlValue& v : result.rows[r]) cells.push_back(sqlValueToJs(isolate, v));
    Local<Array> row = Array::New(isolate, cells.data(), cells.size());
    if (rows->Set(context, static_cast<uint32_t>(r), row).IsNothing()) throw JsPending{};
  }
  std::array<Local<Value>, 4> out{names, rows,
                                  v8::Number::New(isolate, static_cast<double>(result.rowsRead)),
                                  v8::Number::New(isolate, static_cast<double>(result.rowsWritten))};
  info.GetReturnValue().Set(Array::New(isolate, out.data(), out.size()));
}

void sqlDatabaseSize(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  SqlStorage& sql = sqlOf(info, js);
  info.GetReturnValue().Set(v8::Number::New(info.GetIsolate(), static_cast<double>(sql.databaseSize())));
}

void kvGet(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  SyncKv& kv = syncKvOf(info, js);
  std::optional<std::string> bytes = kv.get(toStd(info.GetIsolate(), info[1]));
  if (!bytes) return;  // undefined
  Local<Value> value;
  if (!deserializeValue(js, *bytes).ToLocal(&value)) throw JsPending{};
  info.GetReturnValue().Set(value);
}

void kvPut(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  SyncKv& kv = syncKvOf(info, js);
  std::string key = toStd(info.GetIsolate(), info[1]);
  std::optional<std::string> bytes = serializeValue(js, info[2]);
  if (!bytes) throw JsPending{};
  kv.put(std::move(key), std::move(*bytes));
}

void kvDelete(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  SyncKv& kv = syncKvOf(info, js);
  info.GetReturnValue().Set(kv.delete_(toStd(info.GetIsolate(), info[1])));
}

// kvList(handle, options) -> [[key, value], ...]
void kvList(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  Local<Context> context = isolate->GetCurrentContext();
  SyncKv& kv = syncKvOf(info, js);
  StorageListOptions o = listOptions(isolate, info[1]);
  StorageEntries entries = kv.list(std::move(o));
  Local<Array> out = Array::New(isolate, static_cast<int>(entries.size()));
  for (size_t i = 0; i < entries.size(); ++i) {
    Local<Value> value;
    if (!deserializeValue(js, entries[i].second).ToLocal(&value)) throw JsPending{};
    std::array<Local<Value>, 2> pair{str(isolate, entries[i].first), value};
    if (out->Set(context, static_cast<uint32_t>(i), Array::New(isolate, pair.data(), 2)).IsNothing()) {
      throw JsPending{};
    }
  }
  info.GetReturnValue().Set(out);
}

// transactionSync(handle, fn): fn's result; if fn throws, its writes are undone and the very
// same value is thrown again.
struct JsThrew {};

void storageTransactionSync(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  StorageTarget t = storageArg(info, js);
  if (t.storage == nullptr) throw JsThrow{JsThrow::kError, "transactionSync() cannot be nested in transaction()"};
  Local<Function> fn = info[1].As<Function>();
  v8::TryCatch tryCatch(isolate);
  Local<Value> result = v8::Undefined(isolate);
  try {
    t.storage->transactionSync([&] {
      if (!fn->Call(js.context(), v8::Undefined(isolate), 0, nullptr).ToLocal(&result)) throw JsThrew{};
    });
  } catch (const JsThrew&) {
    tryCatch.ReThrow();
    return;
  }
  info.GetReturnValue().Set(result);
}

// transaction(closure): the closure runs with a transaction handle; its promise's outcome is the
// transaction's outcome (a rejection rolls back and is rethrown to the caller).
struct TxnOutcome {
  v8::Global<Value> value;
  bool rejected = false;
};

void storageTransaction(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  StorageTarget t = storageArg(info, js);
  if (t.storage == nullptr) throw JsThrow{JsThrow::kError, "transactions cannot be nested"};
  uint32_t objectHandle = toUint32(info, 0);
  auto closure = std::make_shared<v8::Global<Function>>(info.GetIsolate(), info[1].As<Function>());
  auto outcome = std::make_shared<TxnOutcome>();
  ShardIsolate* self = &js;
  Task<void> txnTask = t.storage->transaction(
      [self, closure, outcome, objectHandle](StorageTransaction& txn) -> Task<void> {
        ShardIsolate& js = *self;
        uint32_t handle = js.registerTransaction(&txn, objectHandle);
        std::optional<ShardIsolate::SettleAwaiter> awaiter;
        {
          ShardIsolate::Scope scope(js);
          Isolate* isolate = js.isolate();
          JsErrorInfo error;
          v8::TryCatch tryCatch(isolate);
          Local<Value> result;
          if (!closure->Get(isolate)
                   ->Call(js.context(), v8::Undefined(isolate), 1,
                          std::array<Local<Value>, 1>{v8::Integer::NewFromUnsigned(isolate, handle)}
                              .data())
                   .ToLocal(&result)) {
            outcome->rejected = true;
            outcome->value.Reset(isolate, tryCatch.HasCaught() ? tryCatch.Exception()
                                                               : Local<Value>(v8::Undefined(isolate)));
          } else {
            awaiter.emplace(js.settle(result));
          }
        }
        if (awaiter) {
          Settled settled = co_await std::move(*awaiter);
          outcome->rejected = !settled.fulfilled;
          outcome->value = std::move(settled.value);
        }
        js.unregisterTransaction(handle);
        if (outcome->rejected) throw Error(Status::invalidArgument("transaction closure threw"));
      });
  info.GetReturnValue().Set(resultOrPromise<bool>(
      js,
      [](Task<void> t, std::shared_ptr<TxnOutcome> outcome) -> Task<bool> {
        try {
          co_await std::move(t);
        } catch (...) {
          if (!outcome->rejected) throw;  // a storage failure, not the closure's error
        }
        co_return true;
      }(std::move(txnTask), outcome),
      [outcome](ShardIsolate& js, bool&, Local<Value>* out) {
        *out = outcome->value.IsEmpty() ? Local<Value>(v8::Undefined(js.isolate()))
                                        : outcome->value.Get(js.isolate());
        return !outcome->rejected;
      }));
}

// ---- ctx ---------------------------------------------------------------------------------------

ObjectSlot& objectArg(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot* slot = js.object(toUint32(info, 0));
  if (slot == nullptr) {
    throw JsThrow{JsThrow::kError, "This Durable Object's state is no longer usable (it was reset)."};
  }
  return *slot;
}

void blockConcurrencyWhile(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot& slot = objectArg(info, js);
  auto callback = std::make_shared<v8::Global<Function>>(info.GetIsolate(), info[1].As<Function>());
  auto outcome = std::make_shared<TxnOutcome>();
  ShardIsolate* self = &js;
  Started started = slot.state->blockConcurrencyWhile([self, callback, outcome]() -> Task<void> {
    ShardIsolate& js = *self;
    std::optional<ShardIsolate::SettleAwaiter> awaiter;
    std::string thrown;
    {
      ShardIsolate::Scope scope(js);
      Isolate* isolate = js.isolate();
      v8::TryCatch tryCatch(isolate);
      Local<Value> result;
      if (!callback->Get(isolate)->Call(js.context(), v8::Undefined(isolate), 0, nullptr)
               .ToLocal(&result)) {
        outcome->rejected = true;
        outcome->value.Reset(isolate, tryCatch.Exception());
        thrown = js.describe(tryCatch.Exception()).message;
      } else {
        awaiter.emplace(js.settle(result));
      }
    }
    if (awaiter) {
      Settled settled = co_await std::move(*awaiter);
      outcome->rejected = !settled.fulfilled;
      outcome->value = std::move(settled.value);
      if (outcome->rejected) {
        ShardIsolate::Scope scope(js);
        thrown = js.describe(outcome->value.Get(js.isolate())).message;
      }
    }
    if (outcome->rejected) throw Error(Status::internal(thrown));
  });
  info.GetReturnValue().Set(resultOrPromise<bool>(
      js,
      [](Started s, std::shared_ptr<TxnOutcome> outcome) -> Task<bool> {
        try {
          co_await std::move(s);
        } catch (...) {
          if (!outcome->rejected) throw;
        }
        co_return true;
      }(std::move(started), outcome),
      [outcome](ShardIsolate& js, bool&, Local<Value>* out) {
        *out = outcome->value.IsEmpty() ? Local<Value>(v8::Undefined(js.isolate()))
                                        : outcome->value.Get(js.isolate());
        return !outcome->rejected;
      }));
}

void waitUntil(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot& slot = objectArg(info, js);
  auto awaiter = std::make_shared<ShardIsolate::SettleAwaiter>(js.settle(info[1]));
  ShardIsolate* self = &js;
  std::string tag = slot.logTag;
  slot.state->waitUntil([](std::shared_ptr<ShardIsolate::SettleAwaiter> a, ShardIsolate* js,
                           std::string tag) -> Task<void> {
    Settled settled = co_await std::move(*a);
    if (!settled.fulfilled) {
      ShardIsolate::Scope scope(*js, &tag);
      js->reportError(settled.value.Get(js->isolate()));
    }
  }(awaiter, self, std::move(tag)));
}

// ---- WebSockets --------------------------------------------------------------------------------

runtime::ObjectHost& hostOf(ObjectSlot& slot) {
  auto* host = dynamic_cast<runtime::ObjectHost*>(slot.state);
  if (host == nullptr) throw JsThrow{JsThrow::kError, "WebSockets need a Durable Object"};
  return *host;
}

std::shared_ptr<runtime::ObjectSocket> socketArg(const FunctionCallbackInfo<Value>& info,
                                                 ShardIsolate& js, int index = 0) {
  double id = info[index]->NumberValue(info.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  auto it = js.sockets.find(static_cast<uint64_t>(id));
  std::shared_ptr<runtime::ObjectSocket> socket =
      it == js.sockets.end() ? nullptr : it->second.lock();
  if (!socket) throw JsThrow{JsThrow::kError, "This WebSocket is no longer usable."};
  return socket;
}

void wsPair(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot* slot = js.object(js.currentOwner());
  std::shared_ptr<runtime::ObjectSocket> socket;
  if (slot == nullptr) {
    // The stateless Worker's own socket: events go straight to its listeners on this thread.
    base::EventLoop* loop = base::EventLoop::current();
    if (loop == nullptr) throw JsThrow{JsThrow::kError, "WebSockets need an event loop"};
    ShardIsolate* self = &js;
    socket = std::make_shared<runtime::ObjectSocket>(
        [self](std::unique_ptr<runtime::WebSocketEvent> event) { self->deliverWorkerSocketEvent(std::move(event)); },
        *loop, runtime::ObjectHost::nextWebSocketId());
  } else {
    socket = hostOf(*slot).newSocket();
  }
  js.rememberSocket(socket);
  js.clientEnds[socket->id()] = socket;
  Isolate* isolate = info.GetIsolate();
  Local<Value> ids[] = {v8::Number::New(isolate, static_cast<double>(socket->id())),
                        v8::Number::New(isolate, static_cast<double>(socket->id()))};
  info.GetReturnValue().Set(Array::New(isolate, ids, 2));
}

void wsAccept(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  std::shared_ptr<runtime::ObjectSocket> socket = socketArg(info, js);
  if (socket->accepted()) {
    if (socket->hibernatable()) {
      throw JsThrow{JsThrow::kTypeError, "Can't accept() WebSocket after enabling hibernation."};
    }
    return;  // accept() twice is allowed
  }
  socket->accept(false, {}, js.autoReplyToClose);
}

void wsAcceptHibernatable(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot& slot = objectArg(info, js);
  std::shared_ptr<runtime::ObjectSocket> socket = socketArg(info, js, 1);
  if (hostOf(slot).socket(socket->id()) == nullptr) {
    throw JsThrow{JsThrow::kError, "This WebSocket belongs to another Durable Object."};
  }
  if (socket->accepted()) {
    throw JsThrow{JsThrow::kError,
                  "Cannot call `acceptWebSocket()` if the WebSocket was already accepted via "
                  "`accept()`"};
  }
  std::vector<std::string> tags;
  if (info[2]->IsArray()) tags = keyList(info.GetIsolate(), info[2].As<Array>());
  socket->accept(true, std::move(tags));
}

void wsSend(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  std::shared_ptr<runtime::ObjectSocket> socket = socketArg(info, js);
  if (info[1]->IsString()) {
    socket->send(toStd(info.GetIsolate(), info[1]), false);
  } else if (info[1]->IsArrayBuffer() || info[1]->IsArrayBufferView()) {
    socket->send(std::string(viewBytes(info[1])), true);
  } else {
    socket->send(toStd(info.GetIsolate(), info[1]), false);
  }
}

void wsClose(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  Isolate* isolate = info.GetIsolate();
  std::shared_ptr<runtime::ObjectSocket> socket = socketArg(info, js);
  if (!socket->accepted()) {
    throw JsThrow{JsThrow::kTypeError,
                  "You must call one of accept() or state.acceptWebSocket() on this WebSocket "
                  "before sending messages."};
  }
  // No code: an empty close frame (the client sees 1005).
  int code = info[1]->IsUndefined() ? 0
                                    : info[1]->Int32Value(isolate->GetCurrentContext()).FromMaybe(0);
  std::string reason = info[2]->IsUndefined() ? std::string() : toStd(isolate, info[2]);
  socket->close(code, std::move(reason));
}

void wsState(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  double id = info[0]->NumberValue(info.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  auto it = js.sockets.find(static_cast<uint64_t>(id));
  std::shared_ptr<runtime::ObjectSocket> socket =
      it == js.sockets.end() ? nullptr : it->second.lock();
  int state = socket ? static_cast<int>(socket->state()) : 3;
  info.GetReturnValue().Set(v8::Integer::New(info.GetIsolate(), state));
}

void wsSetAttachment(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  std::shared_ptr<runtime::ObjectSocket> socket = socketArg(info, js);
  std::optional<std::string> bytes = serializeValue(js, info[1]);
  if (!bytes) throw JsPending{};
  if (bytes->size() > WebSocket::kMaxAttachmentBytes) {
    throw JsThrow{JsThrow::kError, "A WebSocket 'attachment' cannot be larger than 16384 bytes."
                                   "'attachment' was " +
                                       std::to_string(bytes->size()) + " bytes."};
  }
  socket->setAttachment(std::move(*bytes));
}

void wsGetAttachment(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  std::shared_ptr<runtime::ObjectSocket> socket = socketArg(info, js);
  if (socket->attachment().empty()) {
    info.GetReturnValue().SetNull();
    return;
  }
  Local<Value> value;
  if (!deserializeValue(js, socket->attachment()).ToLocal(&value)) throw JsPending{};
  info.GetReturnValue().Set(value);
}

void wsTags(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  std::shared_ptr<runtime::ObjectSocket> socket = socketArg(info, js);
  if (!socket->accepted()) {
    throw JsThrow{JsThrow::kError,
                  "you must call 'acceptWebSocket()' before attempting to access the tags of a "
                  "WebSocket."};
  }
  if (!socket->hibernatable()) {
    throw JsThrow{JsThrow::kError, "only hibernatable websockets can have tags."};
  }
  Isolate* isolate = info.GetIsolate();
  std::vector<Local<Value>> tags;
  for (const std::string& tag : socket->tags()) tags.push_back(str(isolate, tag));
  info.GetReturnValue().Set(Array::New(isolate, tags.data(), tags.size()));
}

void wsList(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot& slot = objectArg(info, js);
  Isolate* isolate = info.GetIsolate();
  std::optional<std::string> tag;
  if (info[1]->IsString()) tag = toStd(isolate, info[1]);
  std::vector<Local<Value>> ids;
  for (const auto& socket : hostOf(slot).getWebSockets(tag)) {
    js.rememberSocket(std::static_pointer_cast<runtime::ObjectSocket>(socket));
    ids.push_back(v8::Number::New(isolate, static_cast<double>(socket->id())));
  }
  info.GetReturnValue().Set(Array::New(isolate, ids.data(), ids.size()));
}

void wsSetAutoResponse(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot& slot = objectArg(info, js);
  Isolate* isolate = info.GetIsolate();
  if (info[1]->IsUndefined()) {
    hostOf(slot).setWebSocketAutoResponse(std::nullopt);
    return;
  }
  hostOf(slot).setWebSocketAutoResponse(
      std::make_pair(toStd(isolate, info[1]), toStd(isolate, info[2])));
}

void wsGetAutoResponse(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot& slot = objectArg(info, js);
  Isolate* isolate = info.GetIsolate();
  const auto& pair = hostOf(slot).webSocketAutoResponse();
  if (!pair) {
    info.GetReturnValue().SetNull();
    return;
  }
  Local<Value> parts[] = {str(isolate, pair->first), str(isolate, pair->second)};
  info.GetReturnValue().Set(Array::New(isolate, parts, 2));
}

void wsAutoResponseTime(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  std::shared_ptr<runtime::ObjectSocket> socket = socketArg(info, js);
  auto time = socket->autoResponseTime();
  if (!time) {
    info.GetReturnValue().SetNull();
    return;
  }
  double ms = static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(time->time_since_epoch()).count());
  info.GetReturnValue().Set(ms);
}

void wsSetEventTimeout(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot& slot = objectArg(info, js);
  // runtime.js checked the range with workerd's messages.
  if (info[1]->IsNullOrUndefined()) {
    slot.state->setHibernatableWebSocketEventTimeout(std::nullopt);
    return;
  }
  double ms = info[1]->NumberValue(info.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  if (!(ms >= 0) || ms > 7 * 24 * 3600 * 1000.0) {
    throw JsThrow{JsThrow::kRangeError, "The timeout must be between 0 and 604800000 ms."};
  }
  slot.state->setHibernatableWebSocketEventTimeout(
      std::chrono::milliseconds(static_cast<int64_t>(ms)));
}

void wsGetEventTimeout(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot& slot = objectArg(info, js);
  auto timeout = slot.state->hibernatableWebSocketEventTimeout();
  if (timeout) {
    info.GetReturnValue().Set(static_cast<double>(timeout->count()));
  } else {
    info.GetReturnValue().SetNull();
  }
}

void abortObject(const FunctionCallbackInfo<Value>& info, ShardIsolate& js) {
  ObjectSlot& slot = objectArg(info, js);
  slot.state->abort(toStd(info.GetIsolate(), info[1]));
}

}  // namespace

// ---- serialization -----------------------------------------------------------------------------

std::optional<std::string> serializeValue(ShardIsolate& js, Local<Value> value) {
  Isolate* isolate = js.isolate();
  v8::ValueSerializer serializer(isolate);
  serializer.WriteHeader();
  Local<Value> replacement;
  {
  v8::TryCatch tryCatch(isolate);
  if (!serializer.WriteValue(js.context(), value).FromMaybe(false)) {
    // V8 throws a plain Error "... could not be cloned."; the platform's is a DOMException
    // named DataCloneError.
    if (tryCatch.HasCaught() && !tryCatch.HasTerminated()) {
      Local<Value> exception = tryCatch.Exception();
      std::string message = js.describe(exception).message;
      Local<Value> domException;
      Local<Value> error;
      if (js.context()->Global()->Get(js.context(), str(isolate, "DOMException")).ToLocal(&domException) &&
          domException->IsFunction()) {
        Local<Value> args[] = {str(isolate, message), str(isolate, "DataCloneError")};
        if (domException.As<Function>()->NewInstance(js.context(), 2, args).ToLocal(&error)) {
          exception = error;
        }
      }
      replacement = exception;
    } else {
      tryCatch.ReThrow();
      return std::nullopt;
    }
  }
  }
  if (!replacement.IsEmpty()) {
    isolate->ThrowException(replacement);
    return std::nullopt;
  }
  std::pair<uint8_t*, size_t> buffer = serializer.Release();
  std::string out(reinterpret_cast<const char*>(buffer.first), buffer.second);
  free(buffer.first);
  return out;
}

MaybeLocal<Value> deserializeValue(ShardIsolate& js, std::string_view bytes) {
  v8::ValueDeserializer deserializer(js.isolate(), reinterpret_cast<const uint8_t*>(bytes.data()),
                                     bytes.size());
  if (!deserializer.ReadHeader(js.context()).FromMaybe(false)) return {};
  return deserializer.ReadValue(js.context());
}

std::string serializeThrown(ShardIsolate& js, Local<Value> thrown) {
  Isolate* isolate = js.isolate();
  Local<Context> context = js.context();
  v8::TryCatch ignore(isolate);
  Local<Value> payload = thrown;
  if (thrown->IsNativeError()) {
    // {duroError: 1, name, message, stack}: rebuilt by deserializeThrown.
    JsErrorInfo info = js.describe(thrown);
    Local<Object> envelope = Object::New(isolate);
    (void)envelope->Set(context, str(isolate, "duroError"), v8::Integer::New(isolate, 1));
    (void)envelope->Set(context, str(isolate, "name"), str(isolate, info.name));
    (void)envelope->Set(context, str(isolate, "message"), str(isolate, info.message));
    (void)envelope->Set(context, str(isolate, "stack"), str(isolate, info.stack));
    payload = envelope;
  }
  std::optional<std::string> bytes = serializeValue(js, payload);
  if (!bytes) {
    ignore.Reset();
    bytes = serializeValue(js, str(isolate, js.describe(thrown).message));
  }
  return bytes.value_or(std::string());
}

Local<Value> deserializeThrown(ShardIsolate& js, std::string_view bytes) {
  Isolate* isolate = js.isolate();
  Local<Context> context = js.context();
  v8::TryCatch ignore(isolate);
  Local<Value> value;
  if (!deserializeValue(js, bytes).ToLocal(&value)) {
    value = v8::Exception::Error(str(isolate, "an error that could not be deserialized"));
  }
  if (value->IsObject() && !value->IsNativeError()) {
    Local<Object> envelope = value.As<Object>();
    Local<Value> marker;
    if (envelope->Get(context, str(isolate, "duroError")).ToLocal(&marker) && marker->IsNumber()) {
      std::string name = toStd(isolate, checked(envelope->Get(context, str(isolate, "name"))));
      Local<String> message =
          checked(checked(envelope->Get(context, str(isolate, "message")))->ToString(context));
      Local<Value> error;
      if (name == "TypeError") {
        error = v8::Exception::TypeError(message);
      } else if (name == "RangeError") {
        error = v8::Exception::RangeError(message);
      } else if (name == "SyntaxError") {
        error = v8::Exception::SyntaxError(message);
      } else if (name == "ReferenceError") {
        error = v8::Exception::ReferenceError(message);
      } else {
        error = v8::Exception::Error(message);
      }
      Local<Object> object = error.As<Object>();
      if (name != "Error" && name != "TypeError" && name != "RangeError" &&
          name != "SyntaxError" && name != "ReferenceError") {
        (void)object->Set(context, str(isolate, "name"), str(isolate, name));
      }
      Local<Value> stack;
      if (envelope->Get(context, str(isolate, "stack")).ToLocal(&stack) && stack->IsString()) {
        (void)object->Set(context, str(isolate, "stack"), stack);
      }
      value = error;
    }
  }
  markRemote(js, value);
  return value;
}

void throwJsException(ShardIsolate& js, Local<Value> exception) {
  JsErrorInfo info = js.describe(exception);
  std::string message = info.name.empty() ? info.message : info.name + ": " + info.message;
  throw Error(Status::internal(message).withDetail(serializeThrown(js, exception)));
}

Local<Object> ShardIsolate::makeNativeObject() {
  Local<Context> context = this->context();
  Local<Object> native = Object::New(isolate_);
  Local<External> self = External::New(isolate_, this);
  auto add = [&](const char* name, v8::FunctionCallback fn) {
    Local<Function> f = Function::New(context, fn, self).ToLocalChecked();
    (void)native->Set(context, str(isolate_, name), f);
  };
  add("utf8Encode", guarded<utf8Encode>);
  add("utf8EncodeInto", guarded<utf8EncodeInto>);
  add("utf8Decode", guarded<utf8Decode>);
  add("getRandomValues", guarded<getRandomValues>);
  add("randomUUID", guarded<randomUUID>);
  add("digest", guarded<digest>);
  add("hmac", guarded<hmac>);
  add("serialize", guarded<serialize>);
  add("deserialize", guarded<deserialize>);
  add("log", guarded<log>);
  add("setTimer", guarded<setTimerNative>);
  add("clearTimer", guarded<clearTimerNative>);
  add("enqueueMicrotask", guarded<enqueueMicrotask>);
  add("reportError", guarded<reportErrorNative>);
  add("now", guarded<now>);
  add("idFromName", guarded<idFromName>);
  add("newUniqueId", guarded<newUniqueId>);
  add("idFromString", guarded<idFromString>);
  add("stubFetch", guarded<stubFetch>);
  add("callMethod", guarded<callMethod>);
  add("storageGet", guarded<storageGet>);
  add("storagePut", guarded<storagePut>);
  add("storageDelete", guarded<storageDelete>);
  add("storageList", guarded<storageList>);
  add("storageDeleteAll", guarded<storageDeleteAll>);
  add("storageSync", guarded<storageSync>);
  add("storageGetAlarm", guarded<storageGetAlarm>);
  add("storageSetAlarm", guarded<storageSetAlarm>);
  add("storageDeleteAlarm", guarded<storageDeleteAlarm>);
  add("storageRollback", guarded<storageRollback>);
  add("storageTransaction", guarded<storageTransaction>);
  add("storageTransactionSync", guarded<storageTransactionSync>);
  add("sqlExec", guarded<sqlExec>);
  add("sqlDatabaseSize", guarded<sqlDatabaseSize>);
  add("kvGet", guarded<kvGet>);
  add("kvPut", guarded<kvPut>);
  add("kvDelete", guarded<kvDelete>);
  add("kvList", guarded<kvList>);
  add("blockConcurrencyWhile", guarded<blockConcurrencyWhile>);
  add("waitUntil", guarded<waitUntil>);
  add("abort", guarded<abortObject>);
  add("wsPair", guarded<wsPair>);
  add("wsAccept", guarded<wsAccept>);
  add("wsAcceptHibernatable", guarded<wsAcceptHibernatable>);
  add("wsSend", guarded<wsSend>);
  add("wsClose", guarded<wsClose>);
  add("wsState", guarded<wsState>);
  add("wsSetAttachment", guarded<wsSetAttachment>);
  add("wsGetAttachment", guarded<wsGetAttachment>);
  add("wsTags", guarded<wsTags>);
  add("wsList", guarded<wsList>);
  add("wsSetAutoResponse", guarded<wsSetAutoResponse>);
  add("wsGetAutoResponse", guarded<wsGetAutoResponse>);
  add("wsAutoResponseTime", guarded<wsAutoResponseTime>);
  add("wsSetEventTimeout", guarded<wsSetEventTimeout>);
  add("wsGetEventTimeout", guarded<wsGetEventTimeout>);
  return native;
}

}  // namespace duro::js
