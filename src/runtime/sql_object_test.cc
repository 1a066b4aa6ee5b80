// A native C++ object on SQL storage (the SDK's Storage::sql(), kv() and transactionSync()): a
// task queue whose take is exactly-once, through the runtime with real shards and storage.
#include <gtest/gtest.h>

#include <string>

#include "duro/object.h"
#include "runtime/runtime_test_harness.h"

namespace duro::runtime {
namespace {

using testing::RuntimeHarness;

class TaskQueue final : public DurableObject {
 public:
  TaskQueue(ObjectState& state, Env&) : storage_(state.storage()) {
    if (SqlStorage* sql = storage_.sql()) {
      sql->exec("CREATE TABLE IF NOT EXISTS tasks(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    }
  }

  Task<Response> fetch(Request request) override {
    SqlStorage* sql = storage_.sql();
    if (sql == nullptr) co_return Response::text("no sql");
    std::string body(request.queryParam("body").value_or(""));
    if (request.path() == "/add") {
      SqlResult r = sql->exec("INSERT INTO tasks(body) VALUES (?) RETURNING id", {body});
      storage_.kv()->put("last-added", body);
      co_return Response::text(std::to_string(std::get<int64_t>(r.rows.at(0).at(0))));
    }
    if (request.path() == "/take") {
      // The oldest task, removed as it is handed out: one transaction.
      std::string taken = "none";
      storage_.transactionSync([&] {
        SqlResult r = sql->exec("SELECT id, body FROM tasks ORDER BY id LIMIT 1");
        if (r.rows.empty()) return;
        sql->exec("DELETE FROM tasks WHERE id = ?", {r.rows[0][0]});
        taken = std::get<std::string>(r.rows[0][1]);
      });
      co_return Response::text(taken);
    }
    if (request.path() == "/add-then-fail") {
      try {
        storage_.transactionSync([&] {
          sql->exec("INSERT INTO tasks(body) VALUES (?)", {body});
          storage_.kv()->put("last-added", body);
          throw Error(Status::invalidArgument("changed my mind"));
        });
      } catch (const Error& e) {
        co_return Response::text(e.status().message());
      }
      co_return Response::text("committed");
    }
    if (request.path() == "/state") {
      SqlResult r = sql->exec("SELECT count(*) FROM tasks");
      std::optional<std::string> last = storage_.kv()->get("last-added");
      co_return Response::text(std::to_string(std::get<int64_t>(r.rows.at(0).at(0))) + " " +
                               last.value_or("-"));
    }
    co_return Response::text("not found", 404);
  }

 private:
  Storage& storage_;
};

ObjectFactory taskQueues() {
  return [](ObjectState& state, Env& env) -> std::unique_ptr<DurableObject> {
    return std::make_unique<TaskQueue>(state, env);
  };
}

TEST(SqlObjectTest, ATaskQueueHandsEachTaskOutOnceInOrder) {
  RuntimeHarness harness;
  RuntimeOptions options;
  options.threads = 2;
  harness.start(options, taskQueues(), StorageBackend::kSqlite);
  EXPECT_EQ(harness.call("q", "/add?body=first"), "1");
  EXPECT_EQ(harness.call("q", "/add?body=second"), "2");
  EXPECT_EQ(harness.call("q", "/add-then-fail?body=never"), "changed my mind");
  EXPECT_EQ(harness.call("q", "/state"), "2 second");
  EXPECT_EQ(harness.call("q", "/take"), "first");
  EXPECT_EQ(harness.call("q", "/take"), "second");
  EXPECT_EQ(harness.call("q", "/take"), "none");
  EXPECT_EQ(harness.call("other", "/state"), "0 -");  // each object has its own database
}

TEST(SqlObjectTest, KeyValueBackedObjectsHaveNoSql) {
  RuntimeHarness harness;
  harness.start(RuntimeOptions{}, taskQueues());
  EXPECT_EQ(harness.call("q", "/add?body=x"), "no sql");
}

}  // namespace
}  // namespace duro::runtime
