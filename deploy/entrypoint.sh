#!/usr/bin/env bash
# Threadline's process entrypoint: the container's ENTRYPOINT and the systemd units' ExecStart.
# One role per process (docs/self-hosting.md):
#
#   entrypoint.sh web       the web app and REST API without workers (scaled mode), or web and
#                           workers in one process (embedded mode: SQLite and no Redis)
#   entrypoint.sh worker    workers only; run as many of these as the load needs
#   entrypoint.sh migrate   create or upgrade the schema, then exit; once per upgrade, before any
#                           process of the new version starts
#   entrypoint.sh ARGS...   any other `threadline` command (tokens create, accounts create, ...)
#
# Before `web` and `worker` it refuses to start in scaled mode (PostgreSQL or Redis) without a
# shared THREADLINE_SECRET_KEY, waits for the database (and Redis) to answer, and waits for the
# schema to be the one this version needs, so a new process never runs on an old schema and N
# web processes never race to migrate it. `migrate` waits for the database only.
#
# Settings are THREADLINE_* environment variables. Read by this script only:
#   THREADLINE_ENV_FILE          a file of KEY=value lines to load (values literal: no quotes, no
#                                shell syntax); a variable already in the environment wins
#   THREADLINE_<NAME>_FILE       for SECRET_KEY, ENCRYPTION_KEYS, METRICS_TOKEN, DATABASE_URL and
#                                REDIS_URL: read the value from this file (container secrets)
#   THREADLINE_BIN               the threadline executable (default: `threadline` on PATH)
#   THREADLINE_PYTHON            the Python that has threadline installed (default: the one
#                                beside THREADLINE_BIN)
#   THREADLINE_LISTEN_HOST/PORT  where `web` listens (default 127.0.0.1 and 8000)
#   THREADLINE_WORKER_THREADS    worker threads per `worker` process (default 1)
#   THREADLINE_WAIT_SECONDS      how long to wait for the database, Redis and the schema (60)
#   THREADLINE_INSTANCE          a name for this process, shown in PostgreSQL's
#                                pg_stat_activity as application_name threadline-ROLE-INSTANCE
#
# Exit status: 64 usage, 2 no or too short secret key in scaled mode, 69 the database, Redis
# or the schema was not ready in time, 78 an unreadable settings file; otherwise threadline's.
set -euo pipefail

say() { printf 'entrypoint: %s\n' "$*" >&2; }

usage() {
  say "usage: entrypoint.sh web | worker | migrate | <threadline command> [ARGS...]"
  exit 64
}

load_env_file() {
  local file=$1 line key value number=0
  [[ -r $file ]] || { say "cannot read THREADLINE_ENV_FILE $file"; exit 78; }
  while IFS= read -r line || [[ -n $line ]]; do
    number=$((number + 1))
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ ! $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
      say "$file line $number is not KEY=value"
      exit 78
    fi
    key=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    [[ -n ${!key+set} ]] || export "$key=$value"
  done <"$file"
}

load_secret_files() {
  local name file
  for name in SECRET_KEY ENCRYPTION_KEYS METRICS_TOKEN DATABASE_URL REDIS_URL; do
    file="THREADLINE_${name}_FILE"
    [[ -n ${!file:-} ]] || continue
    [[ -r ${!file} ]] || { say "cannot read $file (${!file})"; exit 78; }
    if [[ -z $(printenv "THREADLINE_$name" || true) ]]; then
      export "THREADLINE_$name=$(tr -d '\r\n' <"${!file}")"
    fi
  done
}

scaled() {
  [[ ${THREADLINE_DATABASE_URL:-sqlite:} != sqlite* || -n ${THREADLINE_REDIS_URL:-} ]]
}

require_secret_key() {
  scaled || return 0
  local key=${THREADLINE_SECRET_KEY:-}
  if [[ -z $key ]]; then
    say "THREADLINE_SECRET_KEY is not set. With PostgreSQL or Redis (scaled mode) every web and" \
        "worker process must be given the same secret key; generate one with" \
        "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
    exit 2
  fi
  if ((${#key} < 32)); then
    say "THREADLINE_SECRET_KEY has ${#key} characters; use at least 32 (token_urlsafe(48) gives 64)"
    exit 2
  fi
}

# Waits until the database answers (and Redis, when set) and, with need_schema=1, until the
# schema is at this version's head. Prints what it waits for, never a password.
wait_ready() {
  local need_schema=$1
  "$PYTHON" - "$need_schema" "${THREADLINE_WAIT_SECONDS:-60}" <<'PY'
import sys
import time

from threadline.config import get_settings
from threadline.db.engine import Database
from threadline.db.migrate import schema_revisions

need_schema, wait = sys.argv[1] == "1", float(sys.argv[2])
settings = get_settings()
db = Database(settings.database_url)


def reason(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def problem() -> str | None:
    try:
        current, heads = schema_revisions(db)  # the same check as `serve --no-migrate`
    except Exception as exc:
        return f"the database does not answer ({reason(exc)})"
    if settings.redis_url:
        import redis

        try:
            client = redis.Redis.from_url(settings.redis_url, socket_timeout=2,
                                          socket_connect_timeout=2)
            client.ping()
            client.close()
        except Exception as exc:
            return f"Redis does not answer ({reason(exc)})"
    if need_schema and current != heads:
        have = ", ".join(sorted(current)) or "empty"
        return (f"the schema is at {have}, this version needs {', '.join(sorted(heads))}: "
                "run `entrypoint.sh migrate`")
    return None


deadline = time.monotonic() + wait
last = None
while (found := problem()) is not None:
    if found != last:
        print(f"entrypoint: waiting: {found}", file=sys.stderr, flush=True)
        last = found
    if time.monotonic() >= deadline:
        print(f"entrypoint: not ready after {wait:g} s: {found}", file=sys.stderr)
        db.dispose()
        sys.exit(69)
    time.sleep(1)
db.dispose()
PY
}

[[ $# -ge 1 ]] || usage
role=$1
shift

[[ -n ${THREADLINE_ENV_FILE:-} ]] && load_env_file "$THREADLINE_ENV_FILE"
load_secret_files

BIN=${THREADLINE_BIN:-threadline}
if ! BIN_PATH=$(command -v "$BIN"); then
  say "threadline executable not found: $BIN (set THREADLINE_BIN)"
  exit 64
fi
PYTHON=${THREADLINE_PYTHON:-$(dirname "$BIN_PATH")/python}
[[ -x $PYTHON ]] || PYTHON=python3

export PGAPPNAME=${PGAPPNAME:-threadline-$role${THREADLINE_INSTANCE:+-$THREADLINE_INSTANCE}}

case $role in
  web)
    require_secret_key
    host=${THREADLINE_LISTEN_HOST:-127.0.0.1}
    port=${THREADLINE_LISTEN_PORT:-8000}
    if scaled; then
      wait_ready 1
      say "web on $host:$port (workers run as separate processes)"
      exec "$BIN_PATH" serve --web --no-migrate --host "$host" --port "$port"
    fi
    wait_ready 0  # embedded mode: the single process migrates its SQLite file itself
    say "web and workers in one process on $host:$port (embedded mode)"
    exec "$BIN_PATH" serve --host "$host" --port "$port"
    ;;
  worker)
    require_secret_key
    wait_ready 1
    threads=${THREADLINE_WORKER_THREADS:-1}
    say "worker with $threads thread(s)"
    exec "$BIN_PATH" worker --concurrency "$threads"
    ;;
  migrate)
    wait_ready 0
    exec "$BIN_PATH" migrate
    ;;
  -h | --help | help)
    usage
    ;;
  *)
    exec "$BIN_PATH" "$role" "$@"
    ;;
esac
