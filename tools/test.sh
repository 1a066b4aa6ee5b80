#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh RelWithDebInfo
ctest --test-dir "${DURO_BUILD_DIR:-build}" --output-on-failure --parallel 2 --timeout 600
