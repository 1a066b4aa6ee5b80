// JsWorker: a JavaScript Worker project as the server runs it: the Worker's fetch handler (the
// module's default export) and a factory for each Durable Object class it exports. The only
// entry point from the server layer into the JavaScript layer; nothing outside src/js sees V8.
#pragma once

#include <memory>
#include <string>

#include "duro/object.h"
#include "duro/status.h"
#include "js/script.h"

namespace duro::js {

struct WorkerEdgeOptions {
  // Take CF-Connecting-IP / X-Forwarded-For from the incoming request (a trusted proxy in front)
  // instead of setting CF-Connecting-IP from the client's address.
  bool trustProxy = false;
};

class JsWorker {
 public:
  // Loads the script once on the calling thread to report errors early (syntax errors, missing
  // modules, classes the config binds but the main module does not export).
  static Result<std::shared_ptr<JsWorker>> load(ScriptOptions options, WorkerEdgeOptions edge = {});

  // The Worker's fetch handler; runs on the shard thread that accepted the request.
  WorkerFetch workerFetch();
  // Makes instances of the exported class `className`.
  ObjectFactory objectFactory(std::string className);

  const Script& script() const { return *script_; }

 private:
  JsWorker(std::shared_ptr<const Script> script, WorkerEdgeOptions edge)
      : script_(std::move(script)), edge_(edge) {}
  std::shared_ptr<const Script> script_;
  WorkerEdgeOptions edge_;
};

}  // namespace duro::js
