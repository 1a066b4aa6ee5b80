#!/usr/bin/env bash
# The README's run command: installs what is needed, builds, and serves the JavaScript counter
# example (examples/counter, a wrangler.toml project) on 127.0.0.1:8787 with its data in ./data.
# Extra arguments go to `duro serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh RelWithDebInfo
exec "${DURO_BUILD_DIR:-build}/src/cli/duro" serve --config examples/counter/wrangler.toml \
  --listen 127.0.0.1:8787 --data ./data "$@"
