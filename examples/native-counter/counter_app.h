// The native-counter example: two Durable Object classes written in C++ and the Worker that
// routes to them.
//   GET /counter/<name>  increments the counter object <name> (stored durably) and answers it.
//   GET /limit/<name>    a token bucket per name: 200 while tokens remain, 429 after.
//   GET /                a short usage text (a stateless route).
// registerNativeCounter() adds both classes and the Worker to a duro::Server; both the example
// program and `duro serve` (until it runs JavaScript) use it.
#pragma once

#include "duro/server.h"

namespace examples {

// Token bucket settings for /limit: a full bucket holds kBucketCapacity tokens, refilled at
// kRefillPerSecond.
inline constexpr double kBucketCapacity = 10;
inline constexpr double kRefillPerSecond = 1;

// Defines the COUNTER and LIMITER classes.
void defineCounterClasses(duro::Server& server);
// The Worker: routes /counter/<name> and /limit/<name> to their objects.
duro::Task<duro::Response> counterWorker(duro::Request request, duro::Env& env);
// Both of the above.
void registerNativeCounter(duro::Server& server);

}  // namespace examples
