// The process-wide V8 set-up: the platform (V8's worker threads for GC and compilation) and
// V8::Initialize, done once before the first isolate is created. Isolates themselves are per
// shard thread (shard_isolate.h).
#pragma once

namespace v8 {
class Platform;
}

namespace duro::js {

// Initializes V8 once per process (thread-safe, idempotent). V8 cannot be re-initialized after
// disposal, so it stays initialized until the process exits.
v8::Platform& ensureV8Initialized();

}  // namespace duro::js
