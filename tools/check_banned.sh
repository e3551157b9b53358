#!/usr/bin/env bash
# Fails on uses CONTRIBUTING.md and STYLE.md ban, printing why and what to use instead.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
ban() {  # ban REGEX WHERE_EXCLUDED_REGEX REASON
  local hits
  hits=$(grep -rnE "$1" src --include='*.h' --include='*.cc' | grep -vE "$2" | grep -vE '^\S+:[0-9]+:\s*//')
  if [ -n "$hits" ]; then
    printf '%s\n  -> %s\n' "$hits" "$3"
    status=1
  fi
}
ban '(system|steady|high_resolution)_clock::now\(\)' '^src/core/' \
  'read time from the injected mg::Clock (core/clock.h), so tests can control it'
ban 'asio::detached' '^$' \
  'track what you spawn (server::Server::Spawn / a completion handler): shutdown must await it'
ban 'std::cout|[^sfn]printf\(' '^src/(main\.cc|cli/)' \
  'log through core/log.h; only main.cc and the CLI print to stdout'
ban 'std::rand\(|[^_]rand\(\)' '^$' 'use crypto/ for randomness'
ban 'sqlite3_' '^src/store/sqlite/' 'SQLite calls belong to store/sqlite/'
ban '#include <openssl/' '^src/(crypto|net|boost_impl)/' \
  'OpenSSL is wrapped by crypto/ (and used for TLS by net/)'
ban '\? *co_await|: *co_await|(&&|\|\|) *!?co_await' '^$' \
  'GCC 12 miscompiles co_await in ?: and on the right of &&/||: use an if (CONTRIBUTING.md)'
[ $status = 0 ] && echo "check_banned: no banned use"
exit $status
