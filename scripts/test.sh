#!/usr/bin/env bash
# Builds with warnings as errors and runs every test (ctest).
# --sanitize: the same under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dir=$(bash scripts/build.sh "$@")
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
