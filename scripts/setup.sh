#!/usr/bin/env bash
# Installs everything intraday needs on a fresh Debian 12 machine, then builds it.
#   - Debian packages: compiler toolchain and the C++ libraries listed in docs/dependencies.md
#   - .venv: the pinned Python packages of requirements.txt (pyarrow carries Arrow C++)
#   - build/release: the intraday binary and the unit tests
# Idempotent: re-running only does what is missing. Set INTRADAY_SKIP_APT=1 to skip apt-get.
# Build settings: BUILD_TYPE (Release), BUILD_DIR (build/release), CMAKE_EXTRA_ARGS, and
# BUILD_TARGET (default: everything; scripts/test.sh builds only unit_tests for the sanitizers).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build python3-venv clang-format
  libyaml-cpp-dev libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ] && [ -z "${INTRADAY_SKIP_APT:-}" ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import sys; sys.exit(0)" 2>/dev/null || \
   ! cmp -s requirements.txt .venv/.requirements.installed; then
  echo "setup: installing Python packages (requirements.txt)"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/.requirements.installed
fi

BUILD_TYPE=${BUILD_TYPE:-Release}
BUILD_DIR=${BUILD_DIR:-build/release}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
  -DPython3_EXECUTABLE="$PWD/.venv/bin/python" ${CMAKE_EXTRA_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
echo "setup: built $BUILD_DIR (${BUILD_TARGET:-all targets})"
