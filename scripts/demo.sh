#!/usr/bin/env bash
# Install everything and start the demo: one process, one SQLite file, live traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export THREADLINE_DATABASE_URL="${THREADLINE_DATABASE_URL:-sqlite:///demo/threadline.db}"
export THREADLINE_DATA_DIR="${THREADLINE_DATA_DIR:-demo}"
mkdir -p demo
exec .venv/bin/threadline demo "$@"
