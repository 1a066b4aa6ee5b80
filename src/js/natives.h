// The `native` object: the C++ functions that the JavaScript side (the Web API bundle in
// src/js/builtins and runtime.js) calls: UTF-8, randomness, digests, structured clone, logging,
// timers, and the Durable Object bindings (IDs, stub.fetch, RPC, storage, ctx). Also the
// structured-clone helpers used for RPC arguments and results.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <v8.h>

#include "js/shard_isolate.h"

namespace duro::js {

// V8's structured clone (ValueSerializer) of `value`; on failure (a function, a symbol, ...) the
// exception is pending in the isolate and nullopt is returned.
std::optional<std::string> serializeValue(ShardIsolate& js, v8::Local<v8::Value> value);
// The value back; an empty handle with a pending exception if the bytes are not a valid clone.
v8::MaybeLocal<v8::Value> deserializeValue(ShardIsolate& js, std::string_view bytes);

// A thrown value for another isolate: Errors keep their class (for the standard ones), name,
// message and stack, which V8's structured clone alone does not (custom names become "Error").
std::string serializeThrown(ShardIsolate& js, v8::Local<v8::Value> thrown);
// The thrown value back, marked `remote = true` as Cloudflare marks errors from other objects.
v8::Local<v8::Value> deserializeThrown(ShardIsolate& js, std::string_view bytes);

}  // namespace duro::js
