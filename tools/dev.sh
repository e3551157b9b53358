#!/usr/bin/env bash
# modelgate's single entry point for people and CI.
#
#   tools/dev.sh serve   install what is missing, build, run the server on ./var (SQLite)
#   tools/dev.sh test    install what is missing, build, run every test (unit, integration, SDK,
#                        browser, lint, bench smoke), then the main integration suites against
#                        an AddressSanitizer build (MG_SKIP_ASAN=1 skips that phase)
#   tools/dev.sh deps    only install what is missing
#   tools/dev.sh build   only build (release preset)
#
# Works on a fresh Debian 12 machine as root (or with sudo). Idempotent: installed packages and
# an existing build are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${MG_BUILD_DIR:-$ROOT/build/release}

APT_PACKAGES=(
  g++ cmake ninja-build pkg-config ccache git ca-certificates openssl
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libssl-dev libsqlite3-dev libpq-dev libtomlplusplus-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nginx  # bench/run's "proxy that does nothing" baseline (ctest -L bench)
  chromium fonts-liberation  # browser tests (tests/browser), driven by playwright-core
)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_deps() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
}

install_test_deps() {
  # npm packages the integration, SDK and browser tests use (versions pinned in package.json).
  local stamp="$ROOT/tests/node_modules/.modelgate-installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/tests/package.json" -nt "$stamp" ]; then
    echo "==> installing npm test dependencies"
    (cd "$ROOT/tests" && npm install --no-audit --no-fund --loglevel=error)
    mkdir -p "$ROOT/tests/node_modules"
    touch "$stamp"
  fi
}

build() {
  echo "==> building ($BUILD_DIR)"
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$BUILD_DIR" -j "$(nproc)"
}

serve() {
  install_deps
  build
  local data_dir=${MODELGATE_DATA_DIR:-$ROOT/var}
  mkdir -p "$data_dir"
  chmod 700 "$data_dir"
  # A stable admin key for this checkout, so the key printed below keeps working after restarts.
  if [ -z "${MODELGATE_ADMIN_KEY:-}" ]; then
    if [ ! -s "$data_dir/admin.key" ]; then
      (umask 077 && echo "mg_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')" > "$data_dir/admin.key")
    fi
    MODELGATE_ADMIN_KEY=$(cat "$data_dir/admin.key")
    export MODELGATE_ADMIN_KEY
  fi
  local listen=${MODELGATE_LISTEN:-127.0.0.1:8080}
  echo
  echo "  modelgate is starting on http://$listen/"
  echo "  admin API key: $MODELGATE_ADMIN_KEY"
  echo "  try: curl -H \"Authorization: Bearer \$KEY\" http://$listen/admin/v1/me"
  echo
  exec "$BUILD_DIR/modelgate" serve --listen "$listen" --data-dir "$data_dir" "$@"
}

# The gateway built with AddressSanitizer + UBSan, driven by the integration suites that
# exercise the most code (a memory error fails the run even when a release build survives it).
# MG_SKIP_ASAN=1 skips this phase.
run_sanitized() {
  [ "${MG_SKIP_ASAN:-0}" = 1 ] && return 0
  local asan_dir="$ROOT/build/asan"
  echo "==> building the AddressSanitizer gateway ($asan_dir)"
  if [ ! -f "$asan_dir/build.ninja" ]; then
    cmake --preset asan >/dev/null
  fi
  cmake --build "$asan_dir" -j "$(nproc)" --target modelgate
  echo "==> integration suites against the AddressSanitizer gateway"
  (cd "$ROOT/tests/integration" &&
    MODELGATE_BIN="$asan_dir/modelgate" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    node --test --test-reporter=spec journey.test.mjs data_plane.test.mjs health.test.mjs \
      vault.test.mjs server.test.mjs)
}

run_tests() {
  install_deps
  install_test_deps
  build
  echo "==> running tests"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" "$@"
  run_sanitized
}

case "${1:-}" in
  serve) shift; serve "$@" ;;
  test) shift; run_tests "$@" ;;
  deps) install_deps; install_test_deps ;;
  build) install_deps; build ;;
  *) echo "usage: tools/dev.sh serve|test|deps|build" >&2; exit 2 ;;
esac
