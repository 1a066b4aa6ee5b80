// Serving a Worker project (wrangler.toml / wrangler.json[c]): turns the parsed config into the
// JavaScript Worker and its Durable Object classes on a duro::Server, and the [duro] section and
// compatibility date into ServerOptions.
#pragma once

#include "config/worker_config.h"
#include "duro/server.h"

namespace duro::server {

// Loads the project's JavaScript (reporting syntax errors, missing modules or classes) and defines
// every Durable Object binding and the Worker's fetch handler on `server` (before start()).
Status defineWorkerProject(const config::WorkerConfig& config, Server& server);

}  // namespace duro::server
