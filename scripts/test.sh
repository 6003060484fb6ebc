#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test three times: a gcc
# build, a clang build, and an AddressSanitizer + UndefinedBehaviorSanitizer
# build (gcc). Build directories: build/, build-clang/, build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
CC=gcc bash scripts/build.sh build
(cd build && ctest --output-on-failure -j2)
CC=clang bash scripts/build.sh build-clang
(cd build-clang && ctest --output-on-failure -j2)
CC=gcc bash scripts/build.sh build-asan -DAHEAD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
# ASan's leak checker is on by default; abort on the first UBSan report.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   ctest --output-on-failure -j2)
