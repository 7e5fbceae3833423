#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
#   1. set up and build a release tree of its own (build/test, a unity build: 5 minutes from
#      scratch on 2 cores where build/release takes 8; build/release, the binary
#      scripts/example.sh and users run, is left as it is), run the unit tests with ctest;
#   2. build the unit tests with AddressSanitizer + UndefinedBehaviorSanitizer, run them;
#   3. run the Python tests (CLI, S3 on a loopback moto server, generated lakes) on that release binary.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=build/test CMAKE_EXTRA_ARGS="-DCMAKE_UNITY_BUILD=ON" scripts/setup.sh
ctest --test-dir build/test --output-on-failure -j "$(nproc)"

# Only the unit tests: the Python tests run the release binary, so an ASan binary would go unused.
# A unity build (sources compiled in batches): 4 minutes from scratch on 2 cores (docs/status.md, "CI time").
BUILD_TYPE=Debug BUILD_DIR=build/asan BUILD_TARGET=unit_tests \
  CMAKE_EXTRA_ARGS="-DINTRADAY_SANITIZE=ON -DCMAKE_UNITY_BUILD=ON" scripts/setup.sh
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j "$(nproc)"

INTRADAY_BIN="$PWD/build/test/intraday" .venv/bin/python -m pytest tests/python -q
