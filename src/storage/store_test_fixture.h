// The fixture of the storage tests (object_store_test.cc, sql_store_test.cc): a shard's storage in
// a temporary directory, stepped by hand on the test thread (the commit and retirer threads are
// real), with fake runtime hooks that record what storage asks of the object.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "storage/object_store.h"
#include "storage/shard_storage.h"

namespace duro::storage {

using namespace std::chrono_literals;

// Records what storage asks of the runtime; plays a minimal output gate.
class FakeHooks final : public ObjectStoreHooks {
 public:
  class Lock final : public InputLock {
   public:
    explicit Lock(int& n) : n_(n) { ++n_; }
    ~Lock() override { --n_; }

   private:
    int& n_;
  };
  uint64_t beginWrite() override { return ++issued; }
  void writesDurableThrough(uint64_t n) override {
    durable = std::max(durable, n);
    release();
  }
  void whenDurable(std::function<void(const Status&)> fn) override {
    waiting.emplace_back(issued, std::move(fn));
    release();
  }
  std::unique_ptr<InputLock> lockInput() override { return std::make_unique<Lock>(inputLocks); }
  void storageFailed(const Status& s) override { failures.push_back(s.message()); }
  void storageBusyChanged() override { ++busyChanges; }

  void release() {
    while (!waiting.empty() && waiting.front().first <= durable) {
      auto fn = std::move(waiting.front().second);
      waiting.erase(waiting.begin());
      fn(Status::ok());
    }
  }

  uint64_t issued = 0;
  uint64_t durable = 0;
  int inputLocks = 0;
  int busyChanges = 0;
  std::vector<std::string> failures;
  std::vector<std::pair<uint64_t, std::function<void(const Status&)>>> waiting;
};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("duro-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "NS");
    openShard();
  }
  void TearDown() override {
    stores_.clear();
    shard_.reset();
    std::filesystem::remove_all(dir_);
  }

  void openShard(ShardStorageOptions options = {}) {
    stores_.clear();
    shard_.reset();
    options.dataDir = dir_;
    options.shard = 0;
    if (options.firstLogGeneration == 1) options.firstLogGeneration = nextGeneration_;
    nextGeneration_ = options.firstLogGeneration + 100;
    shard_ = std::make_unique<ShardStorage>(loop_, options);
    ASSERT_TRUE(shard_->start().isOk());
  }

  ObjectId idOf(uint8_t n) {
    ObjectId::Bytes b{};
    b.fill(n);
    return ObjectId(b);
  }
  ObjectStore& store(uint8_t n = 1) {
    auto& slot = stores_[n];
    if (!slot) slot = shard_->createStore("NS", idOf(n), hooks_);
    return *slot;
  }
  // A SQLite-backed object (ids 100 and up, so they never meet key-value ones).
  ObjectStore& sqlStore(uint8_t n = 100) {
    auto& slot = stores_[n];
    if (!slot) slot = shard_->createStore("NS", idOf(n), hooks_, /*sqlBacked=*/true);
    return *slot;
  }

  // Runs loop handlers until `pred` holds (or 10 s pass).
  template <typename Pred>
  bool runUntil(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      loop_.io().run_one_for(5ms);
    }
    return pred();
  }
  void runPending() {
    loop_.io().poll();
    loop_.io().restart();
  }

  // Runs a task to completion, stepping the loop if it suspends.
  template <typename T>
  T await(Task<T> task) {
    std::optional<T> value;
    std::exception_ptr error;
    bool done = false;
    startTask<T>(std::move(task), [&](std::optional<T> v, std::exception_ptr e) {
      value = std::move(v);
      error = e;
      done = true;
    });
    EXPECT_TRUE(runUntil([&] { return done; }));
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
  void await(Task<void> task) {
    std::exception_ptr error;
    bool done = false;
    startTask(std::move(task), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    EXPECT_TRUE(runUntil([&] { return done; }));
    if (error) std::rethrow_exception(error);
  }
  void waitDurable() {
    ASSERT_TRUE(runUntil([&] { return hooks_.durable == hooks_.issued && !store().busy(); }));
  }
  std::filesystem::path dbPath(uint8_t n) { return dir_ / "NS" / (idOf(n).toString() + ".sqlite"); }

  std::filesystem::path dir_;
  uint64_t nextGeneration_ = 1;
  base::EventLoop loop_;
  FakeHooks hooks_;
  std::unique_ptr<ShardStorage> shard_;
  std::map<uint8_t, std::unique_ptr<ObjectStore>> stores_;
};

}  // namespace duro::storage
