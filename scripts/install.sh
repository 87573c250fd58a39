#!/usr/bin/env bash
# Install everything Threadline needs into .venv (Python packages from PyPI) and, with
# --test, the system packages the tests use (Debian: Dovecot for the email channel tests,
# Chromium for the browser tests). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=0
[ "${1:-}" = "--test" ] && with_test=1

if [ "$with_test" = 1 ]; then
  need=()
  command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
      echo "install these Debian packages first: ${need[*]}" >&2
    fi
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$with_test" = 1 ]; then
  .venv/bin/pip install -q -e ".[test]"
else
  .venv/bin/pip install -q -e .
fi
# The desktop's front-end libraries (package.json) from the npm registry; never committed.
if command -v npm >/dev/null 2>&1; then
  npm install --no-audit --no-fund --silent
else
  echo "npm is missing: install Node.js (Debian: nodejs npm) for the agent desktop" >&2
fi
