// WorkerConfig and loadWorkerConfig: reads a Worker project's wrangler.toml / wrangler.json(c) the
// way wrangler does, for the part that describes a Worker with Durable Objects (entry module,
// compatibility date and flags, Durable Object bindings, migrations, vars, module rules), plus
// duro's own [duro] section. Keys wrangler knows but duro does not implement, and unknown keys, are
// never silently dropped: each gives one line in WorkerConfig::warnings.
//
// Errors are Status values (no exceptions): kInvalidArgument for anything wrong in the file, each
// line "<file>[:<line>]: <key path>: <what is wrong>", all problems found at once, one per line;
// kNotFound when the file does not exist. A WorkerConfig is a plain value, safe to copy and share.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/module_rules.h"
#include "duro/status.h"

namespace duro::config {

// [[durable_objects.bindings]]: env.<name> is a namespace of class <className>.
struct DurableObjectBinding {
  std::string name;       // a JavaScript identifier, unique among the Worker's bindings
  std::string className;  // the exported class
  // Another Worker's class. Parsed but not supported by duro (a warning says so).
  std::optional<std::string> scriptName;
};

enum class StorageBackend { kKeyValue, kSqlite };

// [[migrations]]: one step in the history of the Worker's Durable Object classes.
struct Migration {
  std::string tag;
  std::vector<std::string> newClasses;        // KV-backed
  std::vector<std::string> newSqliteClasses;  // SQLite-backed
  std::vector<std::string> deletedClasses;
  std::vector<std::pair<std::string, std::string>> renamedClasses;  // {from, to}
};

// [vars]: a plain-text or JSON environment variable.
struct Var {
  std::string name;
  bool isText = true;
  // The string itself if isText; otherwise the value as JSON text (JSON.stringify's form), which
  // the Worker sees parsed, as on Cloudflare.
  std::string value;
};

// duro's own settings: [duro] in TOML, "duro": {...} in JSON. Every field is optional; an unset
// field leaves the server's default (the `duro serve` flag defaults) in place. Values are checked
// against the same ranges as the flags.
struct DuroSettings {
  std::optional<std::string> listen;          // "HOST:PORT" (IPv6 as "[::1]:8787")
  std::optional<std::filesystem::path> data;  // absolute; written relative to the config folder
  std::optional<unsigned> threads;            // 1..1024
  std::optional<int64_t> idleTimeoutMs;       // 1..86400000
  std::optional<int64_t> cpuLimitMs;          // 1..3600000: JavaScript running this long is stopped
  std::optional<int64_t> heapLimitMb;         // 16..65536: each shard isolate's JavaScript heap
  std::optional<int64_t> shutdownTimeoutMs;   // 0..3600000
  std::optional<uint64_t> maxQueue;           // 1..10000000
  std::optional<uint64_t> maxHeaderBytes;     // 1024..16 MiB
  std::optional<uint64_t> maxBodyBytes;       // 0..4 GiB
  std::optional<uint64_t> cacheBytes;         // 0..1 TiB
  std::optional<uint64_t> maxOpenDatabases;   // 1..1000000
  std::optional<uint64_t> maxDatabaseBytes;   // 64 KiB..16 TiB: storage per SQLite-backed object
  std::optional<std::string> logLevel;        // debug | info | warn | error | off
  // Take the client address from CF-Connecting-IP / X-Forwarded-For instead of the peer address
  // (only behind a proxy that sets them).
  std::optional<bool> trustProxy;
};

struct WorkerConfig {
  std::filesystem::path file;     // the config file (absolute, normalized)
  std::filesystem::path baseDir;  // its folder: relative paths in the file resolve against it
  std::string name;               // "" when not given
  std::filesystem::path main;     // the entry module (absolute; checked to exist)
  // Where module names and rule globs are relative to: base_dir if given (relative to baseDir),
  // else the folder of `main`, as wrangler does.
  std::filesystem::path moduleRoot;
  std::string compatibilityDate;  // YYYY-MM-DD, a real date; "" when not given (with a warning)
  std::vector<std::string> compatibilityFlags;
  std::vector<DurableObjectBinding> durableObjects;
  std::vector<Migration> migrations;
  std::vector<Var> vars;  // in file order
  // The rules in effect, in matching order: the user's, then wrangler's defaults, minus those
  // dropped by fallthrough, then duro's defaults (module_rules.h).
  std::vector<ModuleRule> rules;
  DuroSettings duro;
  // One line per ignored setting, unknown key or questionable value, each naming the file (and
  // line when known) and the key.
  std::vector<std::string> warnings;
  // Each Durable Object class that exists after applying the migrations in order (new_classes ->
  // KV, new_sqlite_classes -> SQLite, renamed classes keep theirs, deleted ones are gone), plus
  // bound classes that no migration mentions (KV, with a warning).
  std::map<std::string, StorageBackend, std::less<>> classStorage;

  // The storage backend of a class per classStorage; nullopt for a class that does not exist.
  std::optional<StorageBackend> storageBackendOf(std::string_view className) const;
};

// Reads and validates `file` (.toml as TOML; .json and .jsonc as JSONC). Relative paths resolve
// against the file's folder. See the file comment for errors.
Result<WorkerConfig> loadWorkerConfig(const std::filesystem::path& file);

// The config file in `dir`, tried in wrangler's order: wrangler.json, wrangler.jsonc,
// wrangler.toml, then duro.toml. kNotFound naming the folder and the names tried. Only `dir` itself
// is searched (wrangler also walks up to the parent folders).
Result<std::filesystem::path> findConfigFile(const std::filesystem::path& dir);

// The module type of a file per config.rules; `relativePath` is '/'-separated and relative to
// config.moduleRoot. nullopt if no rule matches.
std::optional<ModuleType> moduleTypeFor(const WorkerConfig& config, std::string_view relativePath);

}  // namespace duro::config
