// Test harness for runtime tests: a Runtime with real shard threads and storage in a temp data
// dir, a client loop standing in for a Worker, and helpers to send fetches to objects and wait on
// conditions. Header-only, for *_test.cc files in this folder.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "ids/id_factory.h"
#include "runtime/env_impl.h"
#include "runtime/namespace_binding.h"
#include "runtime/runtime.h"

namespace duro::runtime::testing {

using namespace std::chrono_literals;

class RuntimeHarness {
 public:
  RuntimeHarness() {
    dataDir_ = std::filesystem::temp_directory_path() /
               ("duro-runtime-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dataDir_);
    std::filesystem::create_directories(dataDir_);
  }
  ~RuntimeHarness() {
    if (runtime_) runtime_->stop();
    client_.stop();
    if (clientThread_.joinable()) clientThread_.join();
    runtime_.reset();
    std::filesystem::remove_all(dataDir_);
  }

  // Starts a runtime with one namespace "TEST" of objects made by `factory`.
  void start(RuntimeOptions options, ObjectFactory factory,
             StorageBackend backend = StorageBackend::kKeyValue) {
    options.storage.dataDir = dataDir_;
    runtime_ = std::make_unique<Runtime>(options, env_);
    NamespaceIndex index = runtime_->addNamespace("TEST", std::move(factory), backend);
    ids::NamespaceSecret secret{};
    secret.fill(7);
    auto binding =
        std::make_unique<NamespaceBinding>(*runtime_, index, ids::IdFactory("TEST", secret));
    ns_ = binding.get();
    env_.bind("TEST", std::move(binding));
    ASSERT_TRUE(runtime_->start().isOk());
    clientThread_ = std::thread([this] { client_.run(); });
  }

  // Sends GET <pathAndQuery> to object `name`; the future yields the body or "error: ...".
  std::future<std::string> send(const std::string& name, const std::string& pathAndQuery) {
    auto promise = std::make_shared<std::promise<std::string>>();
    auto future = promise->get_future();
    client_.post([this, promise, name, pathAndQuery] {
      Request req{"GET", "http://test" + pathAndQuery, {}, {}, {}};
      startTask<Response>(ns_->getByName(name).fetch(std::move(req)),
                          [promise](std::optional<Response> r, std::exception_ptr e) {
                            if (r) {
                              promise->set_value(r->body);
                              return;
                            }
                            try {
                              std::rethrow_exception(e);
                            } catch (const Error& err) {
                              promise->set_value(std::string(err.status().isOverloaded()
                                                                 ? "overloaded: "
                                                                 : "error: ") +
                                                 err.what());
                            } catch (const std::exception& err) {
                              promise->set_value(std::string("error: ") + err.what());
                            }
                          });
    });
    return future;
  }
  // Sends GET <pathAndQuery> to object `name` and waits for the whole Response (status 0 and the
  // message as body on an error or a timeout).
  Response fetchFull(const std::string& name, const std::string& pathAndQuery) {
    auto promise = std::make_shared<std::promise<Response>>();
    auto future = promise->get_future();
    client_.post([this, promise, name, pathAndQuery] {
      Request req{"GET", "http://test" + pathAndQuery, {}, {}, {}};
      startTask<Response>(ns_->getByName(name).fetch(std::move(req)),
                          [promise](std::optional<Response> r, std::exception_ptr e) {
                            if (r) {
                              promise->set_value(std::move(*r));
                              return;
                            }
                            Response failed;
                            failed.status = 0;
                            try {
                              std::rethrow_exception(e);
                            } catch (const std::exception& err) {
                              failed.body = err.what();
                            }
                            promise->set_value(std::move(failed));
                          });
    });
    if (future.wait_for(10s) != std::future_status::ready) {
      Response timedOut;
      timedOut.status = 0;
      timedOut.body = "timeout";
      return timedOut;
    }
    return future.get();
  }

  std::string call(const std::string& name, const std::string& path) {
    auto f = send(name, path);
    if (f.wait_for(10s) != std::future_status::ready) return "timeout";
    return f.get();
  }

  // Polls `pred` (a condition, not a timing) until it holds or 10 s pass.
  template <typename Pred>
  static bool eventually(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(1ms);
    }
    return pred();
  }

  Runtime& runtime() { return *runtime_; }
  const std::filesystem::path& dataDir() const { return dataDir_; }

 private:
  std::filesystem::path dataDir_;
  EnvImpl env_;
  std::unique_ptr<Runtime> runtime_;
  Namespace* ns_ = nullptr;
  base::EventLoop client_;
  std::thread clientThread_;
};

}  // namespace duro::runtime::testing
