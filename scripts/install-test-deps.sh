#!/usr/bin/env bash
# Installs what `make test` needs when it is missing: redis-server and Chromium
# (Debian packages) and the browser tests' npm packages. Says plainly what it
# could not install; the test run then fails on that part with a clear message.
set -uo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The test kit makes its TLS certificates with the openssl CLI.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The contract check: schemathesis in a private virtualenv, curl to wait for the server.
command -v curl >/dev/null 2>&1 || missing+=(curl)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-test-deps: installing ${missing[*]} with apt-get"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/tmp/passport-apt.log 2>&1; then
    echo "install-test-deps: could not install ${missing[*]} (see /tmp/passport-apt.log)" >&2
  fi
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-test-deps: npm is missing; install Node.js 20+ (apt-get install nodejs npm)" >&2
  exit 1
fi
# npm writes node_modules/.package-lock.json on install: a lock file newer than
# it means the installed packages are out of date.
if [ ! -f web/tests/node_modules/.package-lock.json ] \
   || [ web/tests/package-lock.json -nt web/tests/node_modules/.package-lock.json ]; then
  echo "install-test-deps: npm ci in web/tests"
  (cd web/tests && npm ci --no-audit --no-fund --loglevel=error) || {
    echo "install-test-deps: npm ci failed in web/tests" >&2
    exit 1
  }
fi
command -v redis-server >/dev/null 2>&1 || { echo "install-test-deps: redis-server still missing" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "install-test-deps: /usr/bin/chromium still missing" >&2; exit 1; }
echo "install-test-deps: redis-server, chromium and playwright-core are present"
