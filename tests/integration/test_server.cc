// duro-test-server: the native-counter example plus a PROBE class whose routes let integration
// tests create exactly the situations they check (a throwing handler, a held input gate, a slow
// in-flight request) and observe the runtime (/stats). Same flags as `duro serve`.
//
//   /probe/<name>/count            in-memory counter of this instance (starts over after eviction)
//   /probe/<name>/throw            the handler throws
//   /probe/<name>/hold             locks the input gate (blockConcurrencyWhile) until /release/<name>
//   /probe/<name>/slow?ms=N        answers after N ms without locking the gate
//   /release/<name>                releases a /hold (handled by the Worker, not the object)
//   /waiting                       how many handlers are inside /hold or /slow right now
//   /ledger/<name>/write?n=N       puts a=N and b=N without a suspension between (one commit)
//   /ledger/<name>/txn?n=N         puts c=N and d=N in a transaction
//   /ledger/<name>/read            "a b c d" (-1 for a missing key)
//   /alarm/<name>/set?in=MS[&fail=N]  sets the alarm MS from now (its first N runs throw)
//   /alarm/<name>/set?at=MS        sets the alarm at MS since the epoch
//   /alarm/<name>/delete           deletes the alarm
//   /alarm/<name>/status           "fired=<runs that succeeded> alarm=<time or none>"
//   /alarmstats                    {"fired":N,"p50Ms":..,"p99Ms":..,"maxMs":..}: lateness of alarm runs
//   /stats                         the server's counters as JSON
#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>
#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>

#include "cli/serve_flags.h"
#include "counter_app.h"
#include "duro/server.h"
#include "runtime/deferred.h"

namespace {

duro::Server* gServer = nullptr;
std::atomic<int> gWaiting{0};

// Latches that /hold waits on and /release completes, from any shard.
class Latches {
 public:
  duro::Task<void> wait(std::string name) {
    duro::runtime::Deferred<int> latch(*duro::base::EventLoop::current());
    {
      std::lock_guard lock(mu_);
      latches_.emplace(std::move(name), latch);
    }
    co_await latch;
  }
  bool release(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = latches_.find(name);
    if (it == latches_.end()) return false;
    it->second.complete(1);
    latches_.erase(it);
    return true;
  }

 private:
  std::mutex mu_;
  std::multimap<std::string, duro::runtime::Deferred<int>> latches_;
};
Latches gLatches;

std::string_view segment(std::string_view path, size_t index) {
  for (size_t i = 0;; ++i) {
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    size_t slash = path.find('/');
    if (i == index) return path.substr(0, slash);
    if (slash == std::string_view::npos) return {};
    path.remove_prefix(slash);
  }
}

class Probe final : public duro::DurableObject {
 public:
  Probe(duro::ObjectState& state, duro::Env&) : state_(state) {}

  duro::Task<duro::Response> fetch(duro::Request request) override {
    std::string_view action = segment(request.path(), 2);
    if (action == "count") co_return duro::Response::text(std::to_string(++count_));
    if (action == "throw") throw std::runtime_error("probe handler failed on purpose");
    if (action == "hold") {
      std::string name(segment(request.path(), 1));
      ++gWaiting;
      co_await state_.blockConcurrencyWhile(
          [name]() -> duro::Task<void> { co_await gLatches.wait(name); });
      --gWaiting;
      co_return duro::Response::text("released");
    }
    if (action == "slow") {
      int ms = std::stoi(std::string(request.queryParam("ms").value_or("100")));
      ++gWaiting;
      co_await duro::sleepFor(std::chrono::milliseconds(ms));
      --gWaiting;
      co_return duro::Response::text("slow done");
    }
    co_return duro::Response::text("unknown probe action\n", 404);
  }

 private:
  duro::ObjectState& state_;
  int count_ = 0;
};

// Writes pairs of keys that must always be seen together: a/b in one coalesced batch (no
// suspension between the puts), c/d in one transaction. Used by the crash tests.
class Ledger final : public duro::DurableObject {
 public:
  Ledger(duro::ObjectState& state, duro::Env&) : storage_(state.storage()) {}

  duro::Task<duro::Response> fetch(duro::Request request) override {
    std::string_view action = segment(request.path(), 2);
    std::string n(request.queryParam("n").value_or("0"));
    if (action == "write") {
      storage_.put("a", n);
      storage_.put("b", n);
      co_return duro::Response::text("ok " + n);
    }
    if (action == "txn") {
      co_await storage_.transaction([n](duro::StorageTransaction& txn) -> duro::Task<void> {
        txn.put("c", n);
        txn.put("d", n);
        co_return;
      });
      co_return duro::Response::text("ok " + n);
    }
    if (action == "read") {
      std::string out;
      for (const char* key : {"a", "b", "c", "d"}) {
        std::optional<std::string> v = co_await storage_.get(key);
        out += (out.empty() ? "" : " ") + v.value_or("-1");
      }
      co_return duro::Response::text(out);
    }
    co_return duro::Response::text("unknown ledger action\n", 404);
  }

 private:
  duro::Storage& storage_;
};

// Alarm probes: lateness of every alarm run, across all objects.
class AlarmStats {
 public:
  void record(int64_t latenessMs) {
    std::lock_guard lock(mu_);
    lateness_.push_back(latenessMs);
  }
  std::string json() {
    std::lock_guard lock(mu_);
    std::vector<int64_t> v = lateness_;
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) -> int64_t {
      if (v.empty()) return -1;
      return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
    };
    return "{\"fired\":" + std::to_string(v.size()) + ",\"p50Ms\":" + std::to_string(pct(0.5)) +
           ",\"p99Ms\":" + std::to_string(pct(0.99)) +
           ",\"maxMs\":" + std::to_string(v.empty() ? -1 : v.back()) + "}";
  }

 private:
  std::mutex mu_;
  std::vector<int64_t> lateness_;
};
AlarmStats gAlarmStats;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An object with an alarm: /set?in=MS (or ?at=MS) sets it and remembers when it is due; the
// handler counts its runs in storage and records how late it ran. ?fail=N makes the first N runs
// throw.
class AlarmProbe final : public duro::DurableObject {
 public:
  AlarmProbe(duro::ObjectState& state, duro::Env&) : storage_(state.storage()) {}

  duro::Task<duro::Response> fetch(duro::Request request) override {
    std::string_view action = segment(request.path(), 2);
    if (action == "set") {
      int64_t at = request.queryParam("at") ? std::stoll(std::string(*request.queryParam("at")))
                                            : nowMs() + std::stoll(std::string(
                                                            request.queryParam("in").value_or("0")));
      storage_.setAlarm(at);
      storage_.put("due", std::to_string(at));
      storage_.put("fail", std::string(request.queryParam("fail").value_or("0")));
      co_return duro::Response::text(std::to_string(at));
    }
    if (action == "delete") {
      storage_.deleteAlarm();
      co_return duro::Response::text("deleted");
    }
    if (action == "status") {
      std::optional<int64_t> alarm = co_await storage_.getAlarm();
      std::optional<std::string> fired = co_await storage_.get("fired");
      co_return duro::Response::text("fired=" + fired.value_or("0") +
                                     " alarm=" + (alarm ? std::to_string(*alarm) : "none"));
    }
    co_return duro::Response::text("unknown alarm action\n", 404);
  }

  duro::Task<void> alarm(duro::AlarmInfo info) override {
    std::optional<std::string> due = co_await storage_.get("due");
    std::optional<std::string> fail = co_await storage_.get("fail");
    int failures = fail ? std::stoi(*fail) : 0;
    if (info.retryCount < failures) throw std::runtime_error("alarm probe fails on purpose");
    if (due) gAlarmStats.record(nowMs() - std::stoll(*due));
    std::optional<std::string> fired = co_await storage_.get("fired");
    storage_.put("fired", std::to_string((fired ? std::stoi(*fired) : 0) + 1));
  }

 private:
  duro::Storage& storage_;
};

duro::Task<duro::Response> testWorker(duro::Request request, duro::Env& env) {
  std::string_view first = segment(request.path(), 0);
  if (first == "probe") {
    duro::Stub stub = env.ns("PROBE").getByName(segment(request.path(), 1));
    co_return co_await stub.fetch(std::move(request));
  }
  if (first == "ledger") {
    duro::Stub stub = env.ns("LEDGER").getByName(segment(request.path(), 1));
    co_return co_await stub.fetch(std::move(request));
  }
  if (first == "alarm") {
    duro::Stub stub = env.ns("ALARM").getByName(segment(request.path(), 1));
    co_return co_await stub.fetch(std::move(request));
  }
  if (first == "alarmstats") co_return duro::Response::json(gAlarmStats.json());
  if (first == "release") {
    bool ok = gLatches.release(std::string(segment(request.path(), 1)));
    co_return duro::Response::text(ok ? "ok" : "nothing held", ok ? 200 : 404);
  }
  if (first == "waiting") co_return duro::Response::text(std::to_string(gWaiting.load()));
  if (first == "stats") {
    duro::ServerStats s = gServer->stats();
    co_return duro::Response::json(
        "{\"liveObjects\":" + std::to_string(s.liveObjects) +
        ",\"objectsConstructed\":" + std::to_string(s.objectsConstructed) +
        ",\"objectsEvicted\":" + std::to_string(s.objectsEvicted) +
        ",\"overloadRejections\":" + std::to_string(s.overloadRejections) +
        ",\"commits\":" + std::to_string(s.commits) + ",\"logSyncs\":" + std::to_string(s.logSyncs) +
        ",\"openDatabases\":" + std::to_string(s.openDatabases) +
        ",\"alarmsPending\":" + std::to_string(s.alarmsPending) +
        ",\"alarmsFired\":" + std::to_string(s.alarmsFired) + "}");
  }
  co_return co_await examples::counterWorker(std::move(request), env);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"duro-test-server: native-counter plus probes for integration tests",
               "duro-test-server"};
  duro::cli::ServeFlags flags;
  flags.addTo(app);
  if (int code = duro::cli::parseOrExit(app, argc, argv); code >= 0) return code;
  duro::ServerOptions options;
  if (duro::Status s = flags.toOptions(options); !s) {
    std::cerr << "duro-test-server: " << s.message() << "\n";
    return 2;
  }
  duro::Server server(options);
  gServer = &server;
  examples::defineCounterClasses(server);
  server.defineObject<Probe>("PROBE");
  server.defineObject<Ledger>("LEDGER");
  server.defineObject<AlarmProbe>("ALARM");
  server.setWorker(testWorker);
  return server.run();
}
