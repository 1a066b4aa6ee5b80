#!/usr/bin/env bash
# Configures and builds duro into build/ (or $DURO_BUILD_DIR) after installing what it needs.
# Usage: tools/build.sh [Release|RelWithDebInfo|Debug]. Safe to run again (incremental).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
build_type="${1:-RelWithDebInfo}"
build_dir="${DURO_BUILD_DIR:-build}"
# A build dir configured with another compiler (e.g. GCC from an older checkout) is started afresh.
if [ -f "$build_dir/CMakeCache.txt" ] && ! grep -q 'CMAKE_CXX_COMPILER:.*clang++-16' "$build_dir/CMakeCache.txt"; then
  rm -rf "$build_dir"
fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_CXX_COMPILER=clang++-16 >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)"
