// Implementation of ensureV8Initialized (engine.h).
#include "js/engine.h"

#include <libplatform/libplatform.h>
#include <v8.h>

#include <cstdlib>
#include <memory>
#include <mutex>

namespace duro::js {

v8::Platform& ensureV8Initialized() {
  static std::once_flag once;
  static std::unique_ptr<v8::Platform> platform;
  std::call_once(once, [] {
    // For profiling and diagnosis, e.g. DURO_V8_FLAGS=--perf-basic-prof (JIT symbols for perf).
    if (const char* flags = std::getenv("DURO_V8_FLAGS")) v8::V8::SetFlagsFromString(flags);
    platform = v8::platform::NewDefaultPlatform(
        0, v8::platform::IdleTaskSupport::kDisabled,
        v8::platform::InProcessStackDumping::kDisabled, nullptr);
    v8::V8::InitializePlatform(platform.get());
    v8::V8::Initialize();
  });
  return *platform;
}

}  // namespace duro::js
