#!/usr/bin/env bash
# Install everything Threadline needs into .venv: the Python packages at the versions pinned in
# uv.lock (runtime only; with --test the test tools and the `train` extra too), the desktop's
# front-end libraries at the versions pinned in package-lock.json, copied into the package by
# scripts/build_assets.py, and with --test the system packages the tests use (Debian: Dovecot
# for the email channel tests, Chromium for the browser tests, Tesseract for the OCR of images
# in public posts). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=0
[ "${1:-}" = "--test" ] && with_test=1

if [ "$with_test" = 1 ]; then
  need=()
  command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
  command -v clamd >/dev/null 2>&1 || [ -x /usr/sbin/clamd ] || need+=(clamav-daemon)
  if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
      echo "install these Debian packages first: ${need[*]}" >&2
    fi
  fi
fi

# uv reads the lock; it comes from PyPI at this exact version (docs/decisions/0300).
UV_VERSION=0.13.8
python3 -m venv .venv
if [ "$(.venv/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION" ]; then
  .venv/bin/python -m pip install -q "uv==$UV_VERSION"
fi
# --locked: refuse a lock that no longer matches pyproject.toml (relock with `uv lock`);
# --inexact: keep pip and uv themselves in the environment.
extras=()
[ "$with_test" = 1 ] && extras=(--extra test)
.venv/bin/uv sync --quiet --locked --inexact --no-dev "${extras[@]}"
# The desktop's front-end libraries (package.json) from the npm registry; never committed.
.venv/bin/python scripts/build_assets.py
