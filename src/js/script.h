// Script: one Worker project as the JavaScript layer runs it: where its modules are, which
// exported classes are bound as Durable Object namespaces, its vars and compatibility settings.
// Immutable and shared by every shard's isolate. Module files are read once and kept (so every
// shard runs the same code even if the files change on disk).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duro/status.h"

namespace duro::js {

enum class ModuleKind { kESModule, kText, kData, kJson, kCompiledWasm };

struct ScriptClass {
  std::string binding;    // env.<binding>
  std::string className;  // the exported class of the main module
};

struct ScriptVar {
  std::string name;
  bool isText = true;  // a string; otherwise `value` is JSON text
  std::string value;
};

struct ScriptOptions {
  std::filesystem::path main;     // absolute path of the main module
  std::filesystem::path baseDir;  // module names are paths relative to this folder
  // The kind of a module file (by wrangler's module rules); nullopt: not importable.
  std::function<std::optional<ModuleKind>(std::string_view relativePath)> moduleKind;
  std::vector<ScriptClass> classes;
  std::vector<ScriptVar> vars;
  std::string compatibilityDate;
  std::vector<std::string> compatibilityFlags;
  // The JavaScript heap of each shard's isolate. A handler that needs more is terminated.
  size_t heapLimitBytes = 256u << 20;
  // A handler (or anything else) that runs JavaScript this long without returning to the event
  // loop is terminated: an infinite loop costs its own request, not the shard.
  std::chrono::milliseconds cpuLimit{30000};
};

// Whether behaviour Cloudflare ties to a compatibility date is on: from `sinceDate`, unless the
// Worker sets `disableFlag`; before it, only if the Worker sets `enableFlag`.
bool compatibilityEnabled(const ScriptOptions& options, std::string_view sinceDate,
                          std::string_view enableFlag, std::string_view disableFlag);

class Script {
 public:
  explicit Script(ScriptOptions options) : options_(std::move(options)) {}
  const ScriptOptions& options() const noexcept { return options_; }

  // The module's name (its path relative to baseDir, '/'-separated) for an absolute path.
  std::string moduleName(const std::filesystem::path& path) const;
  // The file's contents, read on first use and kept. Thread-safe.
  Result<std::shared_ptr<const std::string>> source(const std::filesystem::path& path) const;

 private:
  ScriptOptions options_;
  mutable std::mutex mu_;
  mutable std::map<std::filesystem::path, std::shared_ptr<const std::string>> sources_;
};

}  // namespace duro::js
