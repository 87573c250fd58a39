#!/usr/bin/env bash
# Install everything and run the whole test suite: lock checks, lint, types, import rules, the
# wheel check (scripts/wheel_check.sh: short, so before the long runs), then pytest on
# SQLite and again on PostgreSQL with the Redis bus, then the self-hosting steps on them
# (scripts/selfhost_check.sh). With CI=true an unreachable PostgreSQL
# or Redis is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test

PG_URL="${THREADLINE_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}"
REDIS_URL="${THREADLINE_TEST_REDIS:-redis://127.0.0.1:6379/0}"
CI="${CI:-false}"

echo "== lock files current"
.venv/bin/uv lock --check
.venv/bin/python scripts/build_assets.py --check
echo "== ruff"
.venv/bin/ruff check .
echo "== mypy (strict)"
.venv/bin/mypy
echo "== import rules"
.venv/bin/lint-imports

echo "== wheel (built, installed outside the tree, demo in Chromium)"
scripts/wheel_check.sh

run_pytest() {
  local label="$1"; shift
  echo "== pytest ($label)"
  set +e
  "$@"
  local code=$?
  set -e
  if [ "$code" = 5 ]; then
    echo "pytest ($label) collected no tests: that is an error" >&2
    exit 1
  fi
  if [ "$code" != 0 ]; then
    echo "pytest ($label) failed with exit code $code" >&2
    exit "$code"
  fi
}

run_pytest sqlite env -u THREADLINE_TEST_DATABASE_URL -u THREADLINE_TEST_REDIS_URL \
  .venv/bin/pytest -n 2 -q -p no:cacheprovider

services_up() {
  .venv/bin/python - "$PG_URL" "$REDIS_URL" <<'PY'
import sys
import psycopg, redis
try:
    psycopg.connect(sys.argv[1], connect_timeout=5).close()
    redis.Redis.from_url(sys.argv[2], socket_connect_timeout=5).ping()
except Exception as exc:
    print(f"unreachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

if services_up; then
  run_pytest "postgresql + redis" env THREADLINE_TEST_DATABASE_URL="$PG_URL" \
    THREADLINE_TEST_REDIS_URL="$REDIS_URL" .venv/bin/pytest -n 2 -q -p no:cacheprovider
  echo "== self-hosting (docs/self-hosting.md step by step: web + 2 workers on PostgreSQL + Redis)"
  SELFHOST_PG="${PG_URL%/*}" SELFHOST_REDIS="${REDIS_URL%/*}" scripts/selfhost_check.sh
elif [ "$CI" = "true" ]; then
  echo "CI=true: PostgreSQL ($PG_URL) or Redis ($REDIS_URL) is unreachable" >&2
  exit 1
else
  echo "PostgreSQL or Redis unreachable: the PostgreSQL run is skipped (it is required in CI)"
fi
