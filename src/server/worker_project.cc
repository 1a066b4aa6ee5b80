// Implementation of defineWorkerProject (worker_project.h).
#include "server/worker_project.h"

#include "js/js_worker.h"

namespace duro::server {

namespace {
std::optional<js::ModuleKind> toModuleKind(config::ModuleType type) {
  switch (type) {
    case config::ModuleType::kESModule:
      return js::ModuleKind::kESModule;
    case config::ModuleType::kText:
      return js::ModuleKind::kText;
    case config::ModuleType::kData:
      return js::ModuleKind::kData;
    case config::ModuleType::kJson:
      return js::ModuleKind::kJson;
    case config::ModuleType::kCompiledWasm:
      return js::ModuleKind::kCompiledWasm;
    case config::ModuleType::kCommonJS:
      return std::nullopt;  // not supported: the loader reports the module as untyped
  }
  return std::nullopt;
}
}  // namespace

Status defineWorkerProject(const config::WorkerConfig& config, Server& server) {
  js::ScriptOptions options;
  options.main = config.main;
  options.baseDir = config.moduleRoot;
  auto shared = std::make_shared<config::WorkerConfig>(config);
  options.moduleKind = [shared](std::string_view relativePath) -> std::optional<js::ModuleKind> {
    std::optional<config::ModuleType> type = config::moduleTypeFor(*shared, relativePath);
    if (!type) return std::nullopt;
    return toModuleKind(*type);
  };
  for (const config::DurableObjectBinding& binding : config.durableObjects) {
    if (binding.scriptName) continue;  // another Worker's class: not supported (warned by config)
    options.classes.push_back({binding.name, binding.className});
  }
  for (const config::Var& var : config.vars) {
    options.vars.push_back({var.name, var.isText, var.value});
  }
  options.compatibilityDate = config.compatibilityDate;
  options.compatibilityFlags = config.compatibilityFlags;
  if (config.duro.cpuLimitMs) options.cpuLimit = std::chrono::milliseconds(*config.duro.cpuLimitMs);
  if (config.duro.heapLimitMb) {
    options.heapLimitBytes = static_cast<size_t>(*config.duro.heapLimitMb) << 20;
  }
  js::WorkerEdgeOptions edge;
  edge.trustProxy = config.duro.trustProxy.value_or(false);

  Result<std::shared_ptr<js::JsWorker>> worker = js::JsWorker::load(std::move(options), edge);
  if (!worker) return worker.status();
  for (const js::ScriptClass& cls : (*worker)->script().options().classes) {
    std::optional<config::StorageBackend> backend = config.storageBackendOf(cls.className);
    server.defineObject(cls.binding, (*worker)->objectFactory(cls.className),
                        backend == config::StorageBackend::kSqlite ? StorageBackend::kSqlite
                                                                   : StorageBackend::kKeyValue);
  }
  server.setWorker((*worker)->workerFetch());
  return Status::ok();
}

}  // namespace duro::server
