// Tests for loadWorkerConfig, findConfigFile and moduleTypeFor: real config files in a temporary
// folder per test, in both TOML and JSONC, checking parsed values, every error and warning form,
// migrations, module rules and the config file search order.
#include "config/worker_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace duro::config {
namespace {
namespace fs = std::filesystem;

class WorkerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("duro-config-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write("src/index.js", "export default {};\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path write(const std::string& name, std::string_view text) {
    fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  Result<WorkerConfig> load(const std::string& name, std::string_view text) {
    return loadWorkerConfig(write(name, text));
  }
  // The path as messages name it.
  std::string at(const std::string& name) const { return (dir_ / name).string(); }
  // The error message of a load that must fail.
  std::string errorOf(const std::string& name, std::string_view text) {
    Result<WorkerConfig> config = load(name, text);
    EXPECT_FALSE(config.isOk()) << "expected an error for:\n" << text;
    if (config.isOk()) return "";
    EXPECT_TRUE(config.status().isInvalidArgument()) << config.status().toString();
    return config.status().message();
  }

  fs::path dir_;
};

constexpr std::string_view kMinimalToml =
    "main = \"src/index.js\"\n"
    "compatibility_date = \"2024-09-23\"\n";

// --- values -------------------------------------------------------------------------------------

TEST_F(WorkerConfigTest, ReadsACompleteTomlConfig) {
  Result<WorkerConfig> config = load("wrangler.toml", R"(
name = "counter-app"
main = "src/index.js"
compatibility_date = "2024-09-23"
compatibility_flags = ["nodejs_compat", "streams_enable_constructors"]

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[durable_objects.bindings]]
name = "CHAT"
class_name = "ChatRoom"

[[migrations]]
tag = "v1"
new_classes = ["Counter"]

[[migrations]]
tag = "v2"
new_sqlite_classes = ["ChatRoom"]

[vars]
GREETING = "hello"

[duro]
listen = "0.0.0.0:9000"
data = "state/../data"
threads = 4
idle_timeout_ms = 5000
shutdown_timeout_ms = 0
max_queue = 50
max_header_bytes = 4096
max_body_bytes = 1048576
cache_bytes = 0
max_open_databases = 16
max_database_bytes = 1048576
log_level = "debug"
trust_proxy = true
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_TRUE(config->warnings.empty()) << ::testing::PrintToString(config->warnings);
  EXPECT_EQ(config->file, dir_ / "wrangler.toml");
  EXPECT_EQ(config->baseDir, dir_);
  EXPECT_EQ(config->name, "counter-app");
  EXPECT_EQ(config->main, dir_ / "src/index.js");
  EXPECT_EQ(config->moduleRoot, dir_ / "src");
  EXPECT_EQ(config->compatibilityDate, "2024-09-23");
  EXPECT_EQ(config->compatibilityFlags,
            (std::vector<std::string>{"nodejs_compat", "streams_enable_constructors"}));
  ASSERT_EQ(config->durableObjects.size(), 2u);
  EXPECT_EQ(config->durableObjects[0].name, "COUNTER");
  EXPECT_EQ(config->durableObjects[0].className, "Counter");
  EXPECT_FALSE(config->durableObjects[0].scriptName.has_value());
  EXPECT_EQ(config->durableObjects[1].name, "CHAT");
  EXPECT_EQ(config->durableObjects[1].className, "ChatRoom");
  ASSERT_EQ(config->migrations.size(), 2u);
  EXPECT_EQ(config->migrations[0].tag, "v1");
  EXPECT_EQ(config->migrations[0].newClasses, std::vector<std::string>{"Counter"});
  EXPECT_EQ(config->migrations[1].tag, "v2");
  EXPECT_EQ(config->migrations[1].newSqliteClasses, std::vector<std::string>{"ChatRoom"});
  EXPECT_EQ(config->storageBackendOf("Counter"), StorageBackend::kKeyValue);
  EXPECT_EQ(config->storageBackendOf("ChatRoom"), StorageBackend::kSqlite);
  EXPECT_EQ(config->storageBackendOf("Nobody"), std::nullopt);
  ASSERT_EQ(config->vars.size(), 1u);
  EXPECT_EQ(config->vars[0].name, "GREETING");
  EXPECT_TRUE(config->vars[0].isText);
  EXPECT_EQ(config->vars[0].value, "hello");

  const DuroSettings& duro = config->duro;
  EXPECT_EQ(duro.listen, "0.0.0.0:9000");
  EXPECT_EQ(duro.data, dir_ / "data");
  EXPECT_EQ(duro.threads, 4u);
  EXPECT_EQ(duro.idleTimeoutMs, 5000);
  EXPECT_EQ(duro.shutdownTimeoutMs, 0);
  EXPECT_EQ(duro.maxQueue, 50u);
  EXPECT_EQ(duro.maxHeaderBytes, 4096u);
  EXPECT_EQ(duro.maxBodyBytes, 1048576u);
  EXPECT_EQ(duro.cacheBytes, 0u);
  EXPECT_EQ(duro.maxOpenDatabases, 16u);
  EXPECT_EQ(duro.maxDatabaseBytes, 1048576u);
  EXPECT_EQ(duro.logLevel, "debug");
  EXPECT_EQ(duro.trustProxy, true);
}

TEST_F(WorkerConfigTest, UnsetDuroSettingsStayUnset) {
  Result<WorkerConfig> config = load("wrangler.toml", kMinimalToml);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_TRUE(config->warnings.empty()) << ::testing::PrintToString(config->warnings);
  EXPECT_EQ(config->name, "");
  EXPECT_FALSE(config->duro.listen.has_value());
  EXPECT_FALSE(config->duro.data.has_value());
  EXPECT_FALSE(config->duro.threads.has_value());
  EXPECT_FALSE(config->duro.trustProxy.has_value());
  EXPECT_TRUE(config->durableObjects.empty());
  EXPECT_TRUE(config->vars.empty());
}

TEST_F(WorkerConfigTest, TomlInlineTablesMultiLineArraysAndCommentsMeanTheSame) {
  Result<WorkerConfig> config = load("wrangler.toml", R"(# the Worker
main = "src/index.js"   # entry
compatibility_date = "2024-09-23"
compatibility_flags = [
  "a",  # first
  "b",
]

[durable_objects]
bindings = [
  { name = "ONE", class_name = "One" },  # comment between elements
  { name = "TWO", class_name = "Two", },
]

[[migrations]]
tag = "v1"
new_sqlite_classes = [
  "One",
  "Two",
]
renamed_classes = []
)");
  // TOML 1.0 has no trailing comma in inline tables; toml++ says so.
  ASSERT_FALSE(config.isOk());
  EXPECT_NE(config.status().message().find(at("wrangler.toml") + ":12:"), std::string::npos)
      << config.status().message();

  config = load("wrangler.toml", R"(# the Worker
main = "src/index.js"   # entry
compatibility_date = "2024-09-23"
compatibility_flags = [
  "a",  # first
  "b",
]

[durable_objects]
bindings = [
  { name = "ONE", class_name = "One" },  # comment between elements
  { name = "TWO", class_name = "Two", script_name = "other" },
]

[[migrations]]
tag = "v1"
new_sqlite_classes = [
  "One",
]
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->compatibilityFlags, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(config->durableObjects.size(), 2u);
  EXPECT_EQ(config->durableObjects[0].name, "ONE");
  EXPECT_EQ(config->durableObjects[1].className, "Two");
  EXPECT_EQ(config->durableObjects[1].scriptName, "other");
  EXPECT_EQ(config->storageBackendOf("One"), StorageBackend::kSqlite);
  ASSERT_EQ(config->warnings.size(), 1u) << ::testing::PrintToString(config->warnings);
  EXPECT_EQ(config->warnings[0],
            at("wrangler.toml") +
                ":12: key \"durable_objects.bindings[1].script_name\" is not supported by duro "
                "(Durable Objects of other Workers); this binding will not work");
}

TEST_F(WorkerConfigTest, JsoncWithCommentsAndTrailingCommasReadsLikeToml) {
  Result<WorkerConfig> config = load("wrangler.jsonc", R"({
  "$schema": "node_modules/wrangler/config-schema.json",
  // the Worker
  "name": "counter-app",
  "main": "src/index.js", /* the entry module */
  "compatibility_date": "2024-09-23",
  "compatibility_flags": ["nodejs_compat",],
  "durable_objects": {
    "bindings": [
      { "name": "COUNTER", "class_name": "Counter", },
    ],
  },
  "migrations": [
    { "tag": "v1", "new_sqlite_classes": ["Counter"] },
  ],
  "vars": { "GREETING": "hi, there", "URL": "http://x/*y*/", },
  "duro": { "listen": "[::1]:8788", "threads": 2, },
}
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_TRUE(config->warnings.empty()) << ::testing::PrintToString(config->warnings);
  EXPECT_EQ(config->name, "counter-app");
  EXPECT_EQ(config->main, dir_ / "src/index.js");
  EXPECT_EQ(config->compatibilityDate, "2024-09-23");
  EXPECT_EQ(config->compatibilityFlags, std::vector<std::string>{"nodejs_compat"});
  ASSERT_EQ(config->durableObjects.size(), 1u);
  EXPECT_EQ(config->durableObjects[0].name, "COUNTER");
  EXPECT_EQ(config->storageBackendOf("Counter"), StorageBackend::kSqlite);
  ASSERT_EQ(config->vars.size(), 2u);
  EXPECT_EQ(config->vars[0].value, "hi, there");
  EXPECT_EQ(config->vars[1].value, "http://x/*y*/");
  EXPECT_EQ(config->duro.listen, "[::1]:8788");
  EXPECT_EQ(config->duro.threads, 2u);
}

TEST_F(WorkerConfigTest, DotJsonIsReadAsJsoncLikeWranglerDoes) {
  Result<WorkerConfig> config = load("wrangler.json",
                                     "{ // comment\n"
                                     "  \"main\": \"src/index.js\",\n"
                                     "  \"compatibility_date\": \"2024-09-23\",\n"
                                     "}\n");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->main, dir_ / "src/index.js");
}

TEST_F(WorkerConfigTest, VarsAreTextOrJsonInFileOrder) {
  Result<WorkerConfig> config = load("wrangler.toml", std::string(kMinimalToml) + R"(
[vars]
Z_TEXT = "plain \"quoted\""
COUNT = 42
RATIO = 1.5
WHOLE = 3.0
ENABLED = false
LIST = [1, "two", 3.25]

[vars.NESTED]
b = 1
a = { deep = true }
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  const std::vector<Var>& vars = config->vars;
  ASSERT_EQ(vars.size(), 7u);
  EXPECT_EQ(vars[0].name, "Z_TEXT");
  EXPECT_TRUE(vars[0].isText);
  EXPECT_EQ(vars[0].value, "plain \"quoted\"");
  EXPECT_EQ(vars[1].name, "COUNT");
  EXPECT_FALSE(vars[1].isText);
  EXPECT_EQ(vars[1].value, "42");
  EXPECT_EQ(vars[2].value, "1.5");
  EXPECT_EQ(vars[3].value, "3");  // JavaScript numbers: 3.0 is 3
  EXPECT_EQ(vars[4].value, "false");
  EXPECT_EQ(vars[5].value, "[1,\"two\",3.25]");
  EXPECT_EQ(vars[6].name, "NESTED");
  EXPECT_EQ(vars[6].value, "{\"b\":1,\"a\":{\"deep\":true}}");

  config = load("wrangler.jsonc", R"({
  "main": "src/index.js", "compatibility_date": "2024-09-23",
  "vars": { "B": {"y": [true, null], "x": 2.50}, "A": "text", "N": -7 }
})");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  ASSERT_EQ(config->vars.size(), 3u);
  EXPECT_EQ(config->vars[0].name, "B");
  EXPECT_FALSE(config->vars[0].isText);
  EXPECT_EQ(config->vars[0].value, "{\"y\":[true,null],\"x\":2.5}");
  EXPECT_TRUE(config->vars[1].isText);
  EXPECT_EQ(config->vars[2].value, "-7");
}

TEST_F(WorkerConfigTest, MainAndBaseDirResolveAgainstTheConfigFolder) {
  write("project/worker/main.mjs", "export default {};\n");
  Result<WorkerConfig> config = load("project/wrangler.toml",
                                     "main = \"./worker/main.mjs\"\n"
                                     "compatibility_date = \"2024-09-23\"\n");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->baseDir, dir_ / "project");
  EXPECT_EQ(config->main, dir_ / "project/worker/main.mjs");
  EXPECT_EQ(config->moduleRoot, dir_ / "project/worker");

  config = load("project/wrangler.toml",
                "main = \"worker/main.mjs\"\n"
                "base_dir = \".\"\n"
                "compatibility_date = \"2024-09-23\"\n");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->moduleRoot, dir_ / "project");
}

// --- migrations ---------------------------------------------------------------------------------

TEST_F(WorkerConfigTest, MigrationsDecideEachClassesStorageBackend) {
  Result<WorkerConfig> config = load("wrangler.toml", std::string(kMinimalToml) + R"(
[[durable_objects.bindings]]
name = "A"
class_name = "Renamed"

[[durable_objects.bindings]]
name = "B"
class_name = "Sql"

[[migrations]]
tag = "v1"
new_classes = ["Old", "Doomed"]

[[migrations]]
tag = "v2"
new_sqlite_classes = ["Sql"]
renamed_classes = [{ from = "Old", to = "Renamed" }]

[[migrations]]
tag = "v3"
deleted_classes = ["Doomed"]
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_TRUE(config->warnings.empty()) << ::testing::PrintToString(config->warnings);
  EXPECT_EQ(config->storageBackendOf("Renamed"), StorageBackend::kKeyValue);  // kept from "Old"
  EXPECT_EQ(config->storageBackendOf("Sql"), StorageBackend::kSqlite);
  EXPECT_EQ(config->storageBackendOf("Old"), std::nullopt);
  EXPECT_EQ(config->storageBackendOf("Doomed"), std::nullopt);
  ASSERT_EQ(config->migrations.size(), 3u);
  EXPECT_EQ(config->migrations[0].newClasses, (std::vector<std::string>{"Old", "Doomed"}));
  ASSERT_EQ(config->migrations[1].renamedClasses.size(), 1u);
  EXPECT_EQ(config->migrations[1].renamedClasses[0],
            (std::pair<std::string, std::string>{"Old", "Renamed"}));
  EXPECT_EQ(config->migrations[2].deletedClasses, std::vector<std::string>{"Doomed"});
}

TEST_F(WorkerConfigTest, RenamedSqliteClassStaysSqlite) {
  Result<WorkerConfig> config = load("wrangler.toml", std::string(kMinimalToml) + R"(
[[migrations]]
tag = "v1"
new_sqlite_classes = ["A"]
[[migrations]]
tag = "v2"
renamed_classes = [{ from = "A", to = "B" }]
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->storageBackendOf("B"), StorageBackend::kSqlite);
  EXPECT_EQ(config->storageBackendOf("A"), std::nullopt);
}

TEST_F(WorkerConfigTest, BoundClassWithoutMigrationWarnsAndIsKeyValue) {
  Result<WorkerConfig> config = load("wrangler.toml", std::string(kMinimalToml) +
                                                          "[[durable_objects.bindings]]\n"
                                                          "name = \"C\"\n"
                                                          "class_name = \"Counter\"\n");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->storageBackendOf("Counter"), StorageBackend::kKeyValue);
  ASSERT_EQ(config->warnings.size(), 1u);
  EXPECT_EQ(config->warnings[0],
            at("wrangler.toml") +
                ":5: durable_objects.bindings[0].class_name: class \"Counter\" is not created by "
                "any migration; duro keeps it as a KV-backed class (add a migration with "
                "new_sqlite_classes or new_classes to choose)");
}

TEST_F(WorkerConfigTest, InconsistentMigrationsAreErrors) {
  std::string message = errorOf("wrangler.toml", std::string(kMinimalToml) + R"(
[[migrations]]
tag = "v1"
new_classes = ["A"]
deleted_classes = ["Ghost"]
[[migrations]]
tag = "v1"
new_sqlite_classes = ["A"]
renamed_classes = [{ from = "Nope", to = "X" }, { from = "A" }]
[[migrations]]
new_classes = ["B"]
)");
  std::string file = at("wrangler.toml");
  EXPECT_EQ(
      message,
      file +
          ":7: migrations[0].deleted_classes: cannot delete \"Ghost\": no earlier "
          "migration creates it\n" +
          file + ":9: migrations[1].tag: tag \"v1\" is already used by migrations[0]\n" + file +
          ":11: migrations[1].renamed_classes[1]: expected both \"from\" and \"to\"\n" + file +
          ":10: migrations[1].new_sqlite_classes: class \"A\" already exists "
          "(created by an earlier migration)\n" +
          file +
          ":11: migrations[1].renamed_classes: cannot rename \"Nope\": no earlier "
          "migration creates it\n" +
          file + ":12: migrations[2].tag: missing (each migration needs a unique tag)");
}

TEST_F(WorkerConfigTest, BindingToDeletedOrRenamedClassIsAnError) {
  std::string message = errorOf("wrangler.toml", std::string(kMinimalToml) + R"(
[[durable_objects.bindings]]
name = "A"
class_name = "Gone"
[[durable_objects.bindings]]
name = "B"
class_name = "Before"
[[migrations]]
tag = "v1"
new_classes = ["Gone", "Before"]
[[migrations]]
tag = "v2"
deleted_classes = ["Gone"]
renamed_classes = [{ from = "Before", to = "After" }]
)");
  std::string file = at("wrangler.toml");
  EXPECT_EQ(message, file +
                         ":6: durable_objects.bindings[0].class_name: class \"Gone\" was "
                         "deleted by migration \"v2\"\n" +
                         file +
                         ":9: durable_objects.bindings[1].class_name: class \"Before\" "
                         "was renamed to \"After\" by migration \"v2\"");
}

// --- errors -------------------------------------------------------------------------------------

TEST_F(WorkerConfigTest, TypeErrorNamesFileLineAndKeyPath) {
  std::string message = errorOf("wrangler.toml",
                                "main = \"src/index.js\"\n"
                                "compatibility_date = \"2024-09-23\"\n"
                                "[[durable_objects.bindings]]\n"
                                "name = \"A\"\n"
                                "class_name = \"A\"\n"
                                "[[durable_objects.bindings]]\n"
                                "class_name = 42\n"
                                "name = \"B\"\n");
  EXPECT_EQ(message, at("wrangler.toml") +
                         ":7: durable_objects.bindings[1].class_name: expected a string, got an "
                         "integer");
}

TEST_F(WorkerConfigTest, JsonTypeErrorsHaveLinesToo) {
  std::string message = errorOf("wrangler.jsonc",
                                "{\n"
                                "  \"main\": \"src/index.js\",\n"
                                "  \"compatibility_date\": \"2024-09-23\",\n"
                                "  \"durable_objects\": {\"bindings\": [\n"
                                "    {\"name\": \"A\", \"class_name\": \"A\"},\n"
                                "    {\"name\": \"B\", \"class_name\": [\"B\"]}\n"
                                "  ]},\n"
                                "  \"migrations\": {}\n"
                                "}\n");
  std::string file = at("wrangler.jsonc");
  EXPECT_EQ(message,
            file + ":6: durable_objects.bindings[1].class_name: expected a string, got an array\n" +
                file + ":8: migrations: expected an array, got an object");
}

TEST_F(WorkerConfigTest, SyntaxErrorsGiveLineAndColumn) {
  std::string message = errorOf("wrangler.toml", "main = \"src/index.js\"\nname = \n");
  EXPECT_EQ(message.rfind(at("wrangler.toml") + ":2:8: TOML syntax error: ", 0), 0u) << message;

  message = errorOf("wrangler.jsonc", "{\n  \"main\": \"src/index.js\"\n  \"name\": \"x\"\n}\n");
  EXPECT_EQ(message.rfind(at("wrangler.jsonc") + ":3:3: JSON syntax error: ", 0), 0u) << message;
}

TEST_F(WorkerConfigTest, MainIsRequiredAndMustExist) {
  std::string message = errorOf("wrangler.toml", "compatibility_date = \"2024-09-23\"\n");
  EXPECT_EQ(message, at("wrangler.toml") +
                         ": main: missing: duro needs the Worker's entry module, e.g. main = "
                         "\"src/index.js\"");

  message =
      errorOf("wrangler.toml", "compatibility_date = \"2024-09-23\"\nmain = \"src/nope.js\"\n");
  EXPECT_EQ(message, at("wrangler.toml") + ":2: main: \"" + (dir_ / "src/nope.js").string() +
                         "\" does not exist");

  message = errorOf("wrangler.toml", "compatibility_date = \"2024-09-23\"\nmain = \"src\"\n");
  EXPECT_EQ(message,
            at("wrangler.toml") + ":2: main: \"" + (dir_ / "src").string() + "\" is not a file");
}

TEST_F(WorkerConfigTest, BindingNamesMustBeUniqueIdentifiersAndNotClashWithVars) {
  std::string message = errorOf("wrangler.toml", std::string(kMinimalToml) + R"(
[[durable_objects.bindings]]
name = "COUNTER"
class_name = "A"
[[durable_objects.bindings]]
name = "COUNTER"
class_name = "B"
[[durable_objects.bindings]]
name = "my-binding"
class_name = "C"
[[durable_objects.bindings]]
class_name = "D"
[[migrations]]
tag = "v1"
new_classes = ["A", "B", "C", "D"]
[vars]
COUNTER = "x"
)");
  std::string file = at("wrangler.toml");
  EXPECT_EQ(message,
            file +
                ":11: durable_objects.bindings[2].name: \"my-binding\" is not a valid "
                "JavaScript identifier (letters, digits, _ and $, not starting with a digit)\n" +
                file +
                ":13: durable_objects.bindings[3].name: missing (the binding's name in env)\n" +
                file +
                ":8: durable_objects.bindings[1].name: \"COUNTER\" is already used by "
                "durable_objects.bindings[0]\n" +
                file +
                ":19: vars.COUNTER: the name \"COUNTER\" is already used by "
                "durable_objects.bindings[0]");
}

TEST_F(WorkerConfigTest, CompatibilityDateMustBeARealYyyyMmDd) {
  std::string file = at("wrangler.toml");
  for (std::string bad : {"2024-1-01", "2024-13-01", "2023-02-29", "24-01-01", "2024/01/01"}) {
    std::string message =
        errorOf("wrangler.toml", "main = \"src/index.js\"\ncompatibility_date = \"" + bad + "\"\n");
    EXPECT_EQ(message, file + ":2: compatibility_date: \"" + bad +
                           "\" is not a valid date in the form YYYY-MM-DD");
  }
  // A leap day that exists.
  Result<WorkerConfig> config =
      load("wrangler.toml", "main = \"src/index.js\"\ncompatibility_date = \"2024-02-29\"\n");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->compatibilityDate, "2024-02-29");

  // An unquoted TOML date is not a string, for wrangler either.
  EXPECT_EQ(errorOf("wrangler.toml", "main = \"src/index.js\"\ncompatibility_date = 2024-01-01\n"),
            file +
                ":2: compatibility_date: expected a string, got a date/time (write it in "
                "quotes: compatibility_date = \"2024-01-01\")");

  config = load("wrangler.toml", "main = \"src/index.js\"\n");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->compatibilityDate, "");
  EXPECT_EQ(config->warnings,
            std::vector<std::string>{file +
                                     ": no compatibility_date is set; duro uses its default date"});
}

TEST_F(WorkerConfigTest, BadDuroSettingsNameTheKey) {
  std::string message = errorOf("wrangler.toml", std::string(kMinimalToml) + R"(
[duro]
listen = "localhost"
threads = 0
idle_timeout_ms = -1
shutdown_timeout_ms = -5
log_level = "verbose"
max_queue = "10"
data = ""
trust_proxy = "yes"
max_database_bytes = 1000
)");
  std::string file = at("wrangler.toml");
  EXPECT_EQ(
      message,
      file + ":5: duro.listen: expected HOST:PORT, e.g. \"127.0.0.1:8787\", got \"localhost\"\n" +
          file + ":6: duro.threads: must be from 1 to 1024, got 0\n" + file +
          ":7: duro.idle_timeout_ms: must be from 1 to 86400000, got -1\n" + file +
          ":8: duro.shutdown_timeout_ms: must be from 0 to 3600000, got -5\n" + file +
          ":9: duro.log_level: unknown log level \"verbose\" (expected debug, info, "
          "warn, error or off)\n" +
          file + ":10: duro.max_queue: expected an integer, got a string\n" + file +
          ":11: duro.data: must not be empty\n" + file +
          ":12: duro.trust_proxy: expected a boolean, got a string\n" + file +
          ":13: duro.max_database_bytes: must be from 65536 to 17592186044416, got 1000");
}

TEST_F(WorkerConfigTest, ListenAddressForms) {
  auto listenError = [&](const std::string& listen) {
    Result<WorkerConfig> config =
        load("wrangler.toml", std::string(kMinimalToml) + "[duro]\nlisten = \"" + listen + "\"\n");
    return config.isOk() ? std::string() : config.status().message();
  };
  EXPECT_EQ(listenError("127.0.0.1:0"), "");
  EXPECT_EQ(listenError("example.com:65535"), "");
  EXPECT_EQ(listenError("[::]:8787"), "");
  EXPECT_NE(listenError("127.0.0.1:65536").find("the port must be a number from 0 to 65535"),
            std::string::npos);
  EXPECT_NE(listenError("127.0.0.1:http").find("the port must be"), std::string::npos);
  EXPECT_NE(listenError(":8787").find("expected HOST:PORT"), std::string::npos);
  EXPECT_NE(listenError("::1:8787").find("an IPv6 host must be in brackets"), std::string::npos);
}

TEST_F(WorkerConfigTest, AllProblemsAreReportedAtOnce) {
  std::string message = errorOf("wrangler.toml",
                                "name = 1\n"
                                "compatibility_flags = [\"a\", 2]\n"
                                "[duro]\n"
                                "threads = 2000\n");
  std::string file = at("wrangler.toml");
  EXPECT_EQ(message, file + ":1: name: expected a string, got an integer\n" + file +
                         ":2: compatibility_flags[1]: expected a string, got an integer\n" + file +
                         ":4: duro.threads: must be from 1 to 1024, got 2000\n" + file +
                         ": main: missing: duro needs the Worker's entry module, e.g. "
                         "main = \"src/index.js\"");
}

TEST_F(WorkerConfigTest, ConfigFileThatCannotBeReadIsAnError) {
  Result<WorkerConfig> config = loadWorkerConfig(dir_ / "missing.toml");
  ASSERT_FALSE(config.isOk());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(config.status().message(), at("missing.toml") + ": config file does not exist");

  fs::create_directories(dir_ / "folder.toml");
  config = loadWorkerConfig(dir_ / "folder.toml");
  ASSERT_FALSE(config.isOk());
  EXPECT_EQ(config.status().message(), at("folder.toml") + ": is a folder, not a config file");

  config = loadWorkerConfig(write("wrangler.yaml", "main: x\n"));
  ASSERT_FALSE(config.isOk());
  EXPECT_EQ(config.status().message(),
            at("wrangler.yaml") +
                ": unknown config file type \".yaml\" (expected .toml, .json or .jsonc)");

  EXPECT_EQ(errorOf("wrangler.json", "[1, 2]"),
            at("wrangler.json") + ": expected an object at the top level, got an array");
}

// --- warnings -----------------------------------------------------------------------------------

TEST_F(WorkerConfigTest, UnsupportedAndUnknownKeysWarnWithTheirPath) {
  Result<WorkerConfig> config =
      load("wrangler.toml", std::string(kMinimalToml) + R"(account_id = "abc"
workers_dev = true
colour = "blue"
kv_namespaces = [{ binding = "KV", id = "x" }]

[[durable_objects.bindings]]
name = "A"
class_name = "A"
environment = "prod"
foo = 1

[durable_objects.extra]
x = 1

[[migrations]]
tag = "v1"
new_sqlite_classes = ["A"]
transferred_classes = []
bar = 2

[[rules]]
type = "Text"
globs = ["**/*.md"]
fallthrough = true
baz = 3

[duro]
qux = 4

[env.production]
name = "prod"

[observability]
enabled = true
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  std::string file = at("wrangler.toml");
  EXPECT_EQ(config->warnings,
            (std::vector<std::string>{
                file + ":3: key \"account_id\" is not supported by duro and is ignored",
                file + ":4: key \"workers_dev\" is not supported by duro and is ignored",
                file + ":5: unknown key \"colour\"",
                file + ":6: key \"kv_namespaces\" is not supported by duro and is ignored",
                file + ":11: key \"durable_objects.bindings[0].environment\" is not supported by "
                       "duro and is ignored",
                file + ":12: unknown key \"durable_objects.bindings[0].foo\"",
                file + ":14: unknown key \"durable_objects.extra\"",
                file + ":20: key \"migrations[0].transferred_classes\" is not supported by duro "
                       "and is ignored",
                file + ":21: unknown key \"migrations[0].bar\"",
                file + ":27: unknown key \"rules[0].baz\"",
                file + ":30: unknown key \"duro.qux\"",
                file + ":32: key \"env\" is not supported by duro and is ignored",
                file + ":35: key \"observability\" is not supported by duro and is ignored",
            }));
}

TEST_F(WorkerConfigTest, JsonWarningsAndNumbersBehaveLikeToml) {
  Result<WorkerConfig> config = load("wrangler.jsonc", R"({
  "main": "src/index.js",
  "compatibility_date": "2024-09-23",
  "routes": ["example.com/*"],
  "durable_objects": { "bindings": [ { "name": "A", "class_name": "A", "colour": 1 } ] },
  "migrations": [ { "tag": "v1", "new_classes": ["A"] } ],
  "duro": { "threads": 2.0, "max_queue": 1e3 }
})");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  std::string file = at("wrangler.jsonc");
  EXPECT_EQ(config->warnings,
            (std::vector<std::string>{
                file + ":4: key \"routes\" is not supported by duro and is ignored",
                file + ":5: unknown key \"durable_objects.bindings[0].colour\"",
            }));
  // JavaScript has one number type: 2.0 and 1e3 are integers.
  EXPECT_EQ(config->duro.threads, 2u);
  EXPECT_EQ(config->duro.maxQueue, 1000u);
  EXPECT_EQ(config->storageBackendOf("A"), StorageBackend::kKeyValue);

  EXPECT_EQ(errorOf("wrangler.jsonc", "{\"main\": \"src/index.js\", \"duro\": {\"threads\": 1.5}}"),
            file + ":1: duro.threads: expected an integer, got a float");
}

TEST_F(WorkerConfigTest, JsonDuplicateKeysWarn) {
  Result<WorkerConfig> config = load("wrangler.json",
                                     "{\"main\": \"src/nope.js\", \"compatibility_date\": "
                                     "\"2024-09-23\",\n \"main\": \"src/index.js\"}");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->main, dir_ / "src/index.js");
  EXPECT_EQ(
      config->warnings,
      std::vector<std::string>{at("wrangler.json") +
                               ":2: key \"main\" appears more than once; the last value is used"});
}

// --- rules --------------------------------------------------------------------------------------

TEST_F(WorkerConfigTest, UserRulesComeFirstThenWranglerDefaultsThenDuros) {
  Result<WorkerConfig> config = load("wrangler.toml", std::string(kMinimalToml) + R"(
[[rules]]
type = "Data"
globs = ["**/*.txt"]
fallthrough = true

[[rules]]
type = "ESModule"
globs = ["vendor/**/*.js"]

[[rules]]
type = "CommonJS"
globs = ["legacy/*.js"]
fallthrough = false
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  // The Data rule falls through, so the default Data rule stays; the others have no same-type
  // defaults to drop (duro's own defaults are never dropped).
  EXPECT_TRUE(config->warnings.empty()) << ::testing::PrintToString(config->warnings);
  std::vector<std::pair<ModuleType, std::vector<std::string>>> rules;
  for (const ModuleRule& r : config->rules) rules.emplace_back(r.type, r.globs);
  using V = std::vector<std::string>;
  EXPECT_EQ(rules, (std::vector<std::pair<ModuleType, V>>{
                       {ModuleType::kData, V{"**/*.txt"}},
                       {ModuleType::kESModule, V{"vendor/**/*.js"}},
                       {ModuleType::kCommonJS, V{"legacy/*.js"}},
                       {ModuleType::kText, V{"**/*.txt", "**/*.html"}},
                       {ModuleType::kData, V{"**/*.bin"}},
                       {ModuleType::kCompiledWasm, V{"**/*.wasm", "**/*.wasm?module"}},
                       {ModuleType::kESModule, V{"**/*.js", "**/*.mjs"}},
                       {ModuleType::kCommonJS, V{"**/*.cjs"}},
                       {ModuleType::kJson, V{"**/*.json"}},
                   }));
  EXPECT_TRUE(config->rules[0].fallthrough);
  EXPECT_FALSE(config->rules[1].fallthrough);
  EXPECT_EQ(moduleTypeFor(*config, "notes.txt"), ModuleType::kData);  // the user's rule wins
  EXPECT_EQ(moduleTypeFor(*config, "page.html"), ModuleType::kText);
  EXPECT_EQ(moduleTypeFor(*config, "legacy/old.js"), ModuleType::kCommonJS);
  EXPECT_EQ(moduleTypeFor(*config, "legacy/sub/old.js"), ModuleType::kESModule);
  EXPECT_EQ(moduleTypeFor(*config, "vendor/a/b.js"), ModuleType::kESModule);
  EXPECT_EQ(moduleTypeFor(*config, "m.wasm"), ModuleType::kCompiledWasm);
  EXPECT_EQ(moduleTypeFor(*config, "data.json"), ModuleType::kJson);
  EXPECT_EQ(moduleTypeFor(*config, "README"), std::nullopt);
}

TEST_F(WorkerConfigTest, RuleWithoutFallthroughReplacesTheDefaultOfItsType) {
  Result<WorkerConfig> config = load("wrangler.toml", std::string(kMinimalToml) + R"(
[[rules]]
type = "Text"
globs = ["**/*.md"]
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(moduleTypeFor(*config, "a.md"), ModuleType::kText);
  EXPECT_EQ(moduleTypeFor(*config, "a.txt"), std::nullopt);  // the default Text rule is gone
  EXPECT_EQ(config->warnings,
            std::vector<std::string>{
                at("wrangler.toml") +
                ": rules[0] (Text: **/*.md) has no fallthrough = true, so these later Text rules "
                "are ignored: the default rule (Text: **/*.txt, **/*.html). Set fallthrough = true "
                "to keep them, or fallthrough = false to silence this"});
}

TEST_F(WorkerConfigTest, RuleTypesAreCheckedAndPythonRulesAreSkipped) {
  std::string file = at("wrangler.toml");
  EXPECT_EQ(errorOf("wrangler.toml", std::string(kMinimalToml) + R"(
[[rules]]
type = "JSON"
globs = ["**/*.json"]
[[rules]]
globs = "**/*.x"
)"),
            file +
                ":5: rules[0].type: unknown module type \"JSON\" (expected ESModule, CommonJS, "
                "CompiledWasm, Text or Data)\n" +
                file + ":8: rules[1].globs: expected an array, got a string\n" + file +
                ":7: rules[1].type: missing (ESModule, CommonJS, CompiledWasm, Text or Data)");

  Result<WorkerConfig> config = load("wrangler.toml", std::string(kMinimalToml) + R"(
[[rules]]
type = "PythonModule"
globs = ["**/*.py"]
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->rules.size(), 6u);  // the defaults only
  EXPECT_EQ(
      config->warnings,
      std::vector<std::string>{file + ":5: rules[0].type: \"PythonModule\" rules are not "
                                      "supported by duro (Python Workers); the rule is ignored"});
}

TEST_F(WorkerConfigTest, ModuleTypeForIsRelativeToTheModuleRoot) {
  Result<WorkerConfig> config = load("wrangler.toml", std::string(kMinimalToml) + R"(
[[rules]]
type = "Text"
globs = ["templates/*.tpl"]
fallthrough = true
)");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->moduleRoot, dir_ / "src");
  EXPECT_EQ(moduleTypeFor(*config, "templates/a.tpl"), ModuleType::kText);
  EXPECT_EQ(moduleTypeFor(*config, "src/templates/a.tpl"), std::nullopt);
}

// --- findConfigFile -----------------------------------------------------------------------------

TEST_F(WorkerConfigTest, FindConfigFileUsesWranglersOrderThenDuroToml) {
  Result<fs::path> found = findConfigFile(dir_);
  ASSERT_FALSE(found.isOk());
  EXPECT_EQ(found.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(found.status().message(),
            "no config file in \"" + dir_.string() +
                "\" (looked for wrangler.json, wrangler.jsonc, wrangler.toml, duro.toml)");

  for (const char* name : {"duro.toml", "wrangler.toml", "wrangler.jsonc", "wrangler.json"}) {
    write(name, "");
    found = findConfigFile(dir_);
    ASSERT_TRUE(found.isOk()) << found.status().toString();
    EXPECT_EQ(*found, dir_ / name);
  }
  fs::remove(dir_ / "wrangler.json");
  EXPECT_EQ(*findConfigFile(dir_), dir_ / "wrangler.jsonc");
  fs::remove(dir_ / "wrangler.jsonc");
  EXPECT_EQ(*findConfigFile(dir_), dir_ / "wrangler.toml");
  // A folder with a config file's name is not a config file.
  fs::remove(dir_ / "wrangler.toml");
  fs::remove(dir_ / "duro.toml");
  fs::create_directories(dir_ / "wrangler.toml");
  EXPECT_FALSE(findConfigFile(dir_).isOk());
}

}  // namespace
}  // namespace duro::config
