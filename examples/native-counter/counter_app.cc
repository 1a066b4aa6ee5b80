// The native-counter example's object classes and Worker (counter_app.h).
#include "counter_app.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

namespace examples {

namespace {

// One counter per name, stored durably: the response leaves only once the new value is on disk,
// and concurrent requests never lose an increment (the read and the write run without a
// suspension in between, so no other request of this object can interleave).
class Counter final : public duro::DurableObject {
 public:
  Counter(duro::ObjectState& state, duro::Env&) : storage_(state.storage()) {}

  duro::Task<duro::Response> fetch(duro::Request) override {
    std::optional<std::string> stored = co_await storage_.get("value");
    int64_t value = stored ? std::stoll(*stored) : 0;
    storage_.put("value", std::to_string(++value));
    co_return duro::Response::text(std::to_string(value));
  }

 private:
  duro::Storage& storage_;
};

// A token bucket per name: each request takes a token; tokens refill continuously.
class TokenBucket final : public duro::DurableObject {
 public:
  TokenBucket(duro::ObjectState&, duro::Env&) : lastRefill_(Clock::now()) {}

  duro::Task<duro::Response> fetch(duro::Request) override {
    auto now = Clock::now();
    double elapsed = std::chrono::duration<double>(now - lastRefill_).count();
    tokens_ = std::min(kBucketCapacity, tokens_ + elapsed * kRefillPerSecond);
    lastRefill_ = now;
    if (tokens_ < 1) {
      duro::Response r = duro::Response::text("rate limited\n", 429);
      r.headers.set("retry-after", "1");
      co_return r;
    }
    tokens_ -= 1;
    co_return duro::Response::text("ok " + std::to_string(static_cast<int>(tokens_)) +
                                   " tokens left\n");
  }

 private:
  using Clock = std::chrono::steady_clock;
  double tokens_ = kBucketCapacity;
  Clock::time_point lastRefill_;
};

// "/counter/alice" -> "alice"; empty if the path has no name after the prefix.
std::string_view nameAfter(std::string_view path, std::string_view prefix) {
  if (path.substr(0, prefix.size()) != prefix) return {};
  path.remove_prefix(prefix.size());
  return path.substr(0, path.find('/'));
}

}  // namespace

duro::Task<duro::Response> counterWorker(duro::Request request, duro::Env& env) {
  std::string_view path = request.path();
  if (path == "/") {
    co_return duro::Response::text(
        "duro native-counter: GET /counter/<name> increments a counter, "
        "GET /limit/<name> takes a token from a bucket\n");
  }
  if (std::string_view name = nameAfter(path, "/counter/"); !name.empty()) {
    duro::Stub stub = env.ns("COUNTER").getByName(name);
    co_return co_await stub.fetch(std::move(request));
  }
  if (std::string_view name = nameAfter(path, "/limit/"); !name.empty()) {
    duro::Stub stub = env.ns("LIMITER").getByName(name);
    co_return co_await stub.fetch(std::move(request));
  }
  co_return duro::Response::text("not found\n", 404);
}

void defineCounterClasses(duro::Server& server) {
  server.defineObject<Counter>("COUNTER");
  server.defineObject<TokenBucket>("LIMITER");
}

void registerNativeCounter(duro::Server& server) {
  defineCounterClasses(server);
  server.setWorker(counterWorker);
}

}  // namespace examples
