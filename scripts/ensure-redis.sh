#!/usr/bin/env bash
# `npm test` runs the ledger's tests against a real redis-server (Debian's package). On a fresh machine where it is
# missing and we are root with apt-get (CI, the project's dev machines), it is installed; elsewhere we say how.
set -euo pipefail
command -v redis-server >/dev/null && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "redis-server is missing: installing Debian's package (the ledger's tests need it)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  exit 0
fi
echo "npm test needs redis-server for the ledger's tests: install it (e.g. sudo apt-get install redis-server, brew install redis)" >&2
exit 1
