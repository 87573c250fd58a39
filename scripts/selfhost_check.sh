#!/usr/bin/env bash
# Proves that the scaled-mode steps of docs/self-hosting.md work, on this machine, without
# asking anything: a fresh virtual environment with the release's wheel installed at the
# pinned versions, a new PostgreSQL role and database, a Redis database index, an environment file with generated keys,
# migrations, then one web and two worker processes started through deploy/entrypoint.sh.
#
# It checks: /healthz and /readyz; /metrics behind its token; the desktop's front-end files;
# a signed webhook on the API channel is accepted by web and processed by a worker (the
# conversation appears through the REST API with a token made by the CLI); each worker
# processes webhooks alone while the other is stopped or killed; a webhook accepted while no
# worker runs waits in the database and is processed when a worker starts again. Then it
# stops everything, drops the database and role, removes its directory, and exits non-zero on
# the first failure.
#
# Settings (environment):
#   SELFHOST_RELEASE   a release folder (threadline-*.whl + constraints.txt, as scripts/release.sh
#                      makes it; default: made from this checkout with scripts/release.sh)
#   SELFHOST_PG        PostgreSQL server as a superuser URL (default postgresql://postgres@127.0.0.1:5432)
#   SELFHOST_REDIS     Redis server (default redis://127.0.0.1:6379) and SELFHOST_REDIS_DB (13)
#   SELFHOST_KEEP=1    keep the temporary directory (logs, env file) for inspection
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
release=${SELFHOST_RELEASE:-}
pg=${SELFHOST_PG:-postgresql://postgres@127.0.0.1:5432}
redis_server=${SELFHOST_REDIS:-redis://127.0.0.1:6379}
redis_db=${SELFHOST_REDIS_DB:-13}
entrypoint=$repo/deploy/entrypoint.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/threadline-selfhost.XXXXXX")
name=threadline_check_$(date +%s)_$$
declare -A pids=()
started=$SECONDS

step() { printf '[%3ds] %s\n' $((SECONDS - started)) "$*"; }
fail() {
  printf 'FAILED: %s\n' "$*" >&2
  for log in "$work"/logs/*.log; do
    [[ -f $log ]] || continue
    printf -- '--- last lines of %s\n' "$(basename "$log")" >&2
    tail -n 15 "$log" >&2
  done
  exit 1
}

stop_process() {  # name [signal]: signal the process and wait for it to end (10 s, then KILL)
  local key=$1 signal=${2:-TERM} pid=${pids[$1]:-}
  [[ -n $pid ]] || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  unset "pids[$key]"
}

cleanup() {
  local status=$?
  for key in "${!pids[@]}"; do stop_process "$key"; done
  psql "$pg/postgres" -qtAX -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" \
    -c "DROP ROLE IF EXISTS $name" >/dev/null 2>&1 || true
  if [[ ${SELFHOST_KEEP:-0} = 1 ]]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
  if [[ $status = 0 ]]; then
    step "self-hosting check passed"
  else
    step "self-hosting check failed"
  fi
}
trap cleanup EXIT

mkdir -p "$work/logs" "$work/data"
cd "$work"

# --- install (docs/self-hosting.md, "Install") ---------------------------------------------
if [[ -z $release ]]; then
  step "the release from this checkout (scripts/release.sh)"
  "$repo/scripts/release.sh" "$work/release" >"$work/logs/release.log" 2>&1 || fail "release"
  release=$work/release
fi
wheel=$(ls "$release"/threadline-*.whl)
entrypoint=$release/deploy/entrypoint.sh
step "fresh virtual environment; installing $(basename "$wheel") with the pinned versions"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --constraint "$release/constraints.txt" "$wheel" \
  >"$work/logs/pip.log" 2>&1 || fail "pip install"
py=$work/venv/bin/python

# --- database and Redis ("PostgreSQL and Redis") ----------------------------------------------
step "PostgreSQL role and database $name"
password=$("$py" -c 'import secrets; print(secrets.token_hex(16))')
psql "$pg/postgres" -qtAX -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE $name LOGIN PASSWORD '$password'" \
  -c "CREATE DATABASE $name OWNER $name ENCODING 'UTF8' TEMPLATE template0" \
  || fail "creating the database"
host_port=${pg#postgresql://}
host_port=${host_port#*@}
redis-cli -u "$redis_server/$redis_db" ping >/dev/null 2>&1 || fail "Redis does not answer"

# --- environment file ("The environment file") ----------------------------------------------
step "environment file with a generated secret key, encryption key and metrics token"
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
secret_key=$("$py" -c 'import secrets; print(secrets.token_urlsafe(48))')
metrics_token=$("$py" -c 'import secrets; print(secrets.token_urlsafe(32))')
encryption_key=$("$work/venv/bin/threadline" keys generate)
umask 077
cat >"$work/threadline.env" <<EOF
# Every web and worker process of the deployment reads this file.
THREADLINE_DATABASE_URL=postgresql://$name:$password@$host_port/$name
THREADLINE_REDIS_URL=$redis_server/$redis_db
THREADLINE_SECRET_KEY=$secret_key
THREADLINE_ENCRYPTION_KEYS=$encryption_key
THREADLINE_PUBLIC_URL=$base
THREADLINE_TRUSTED_PROXIES=
THREADLINE_METRICS_TOKEN=$metrics_token
THREADLINE_DATA_DIR=$work/data
THREADLINE_BIN=$work/venv/bin/threadline
THREADLINE_LISTEN_HOST=127.0.0.1
THREADLINE_LISTEN_PORT=$port
EOF
umask 022
export THREADLINE_ENV_FILE=$work/threadline.env

# --- migrations, token, channel ("Migrations", "First start") --------------------------------
step "migrations through the entrypoint"
"$entrypoint" migrate >"$work/logs/migrate.log" 2>&1 || fail "migrate"
step "an admin API token and an API channel account from the CLI"
token=$("$entrypoint" tokens create --role admin --name selfhost-check 2>>"$work/logs/cli.log" \
  | "$py" -c 'import json, sys; print(json.load(sys.stdin)["token"])') || fail "tokens create"
channel_secret=$("$py" -c 'import secrets; print(secrets.token_hex(24))')
account=$("$entrypoint" accounts create --kind api --name selfhost-check \
  --config "{\"secret\": \"$channel_secret\"}" 2>>"$work/logs/cli.log") || fail "accounts create"
webhook_path=$("$py" -c 'import json, sys; print(json.loads(sys.argv[1])["webhook_path"])' "$account")

# --- processes ("Running N web and M worker processes") ---------------------------------------
start() {  # key role [instance]
  local key=$1 role=$2
  THREADLINE_INSTANCE=${3:-} "$entrypoint" "$role" >>"$work/logs/$key.log" 2>&1 &
  pids[$key]=$!
  disown "${pids[$key]}"  # stopped by stop_process; no job notices from bash
}

alive() { kill -0 "${pids[$1]}" 2>/dev/null || fail "$1 is not running"; }

connected() {  # the worker's connections, as named by the entrypoint (PGAPPNAME)
  psql "$pg/postgres" -qtAX -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$name'
    AND application_name = 'threadline-worker-$1'"
}

wait_connected() {
  for _ in $(seq 150); do
    alive "worker$1"
    [[ $(connected "$1") -gt 0 ]] && return 0
    sleep 0.2
  done
  fail "worker $1 never connected to the database"
}

post_webhook() {  # text: a signed API-channel message event; the answer must be 200
  local text=$1 body signature code
  body=$("$py" -c '
import json, sys, uuid
eid = uuid.uuid4().hex
print(json.dumps({"events": [{"id": "evt-" + eid, "type": "message", "message": {
    "id": "msg-" + eid, "text": sys.argv[1], "visibility": "private",
    "created_at": "2026-01-01T12:00:00+00:00",
    "author": {"id": "customer-" + eid, "handle": "@customer"}}}]}, separators=(",", ":")))
' "$text")
  signature=$("$py" -c '
import hashlib, hmac, sys
print("sha256=" + hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())
' "$channel_secret" < <(printf '%s' "$body"))
  code=$(printf '%s' "$body" | curl -sS -o "$work/logs/webhook-answer.txt" -w '%{http_code}' \
    -X POST -H 'Content-Type: application/json' -H "X-Threadline-Signature: $signature" \
    --data-binary @- "$base$webhook_path")
  [[ $code = 200 ]] || fail "webhook answered $code: $(cat "$work/logs/webhook-answer.txt")"
}

conversation_with() {  # text: prints the id of the conversation holding a message with it
  "$py" - "$base" "$token" "$1" <<'PY'
import json, sys, urllib.request
base, token, text = sys.argv[1:]
def get(path):
    request = urllib.request.Request(base + "/api/v1" + path,
                                     headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)
for item in get("/conversations?limit=100")["items"]:
    if any(m.get("text") == text for m in get("/conversations/" + item["id"])["messages"]):
        print(item["id"])
        break
PY
}

wait_processed() {  # text
  for _ in $(seq 100); do
    [[ -n $(conversation_with "$1") ]] && return 0
    sleep 0.2
  done
  fail "the webhook with '$1' was accepted but never processed"
}

metric() {  # status: threadline_inbound_items for it, from /metrics with the token
  curl -fsS -H "Authorization: Bearer $metrics_token" "$base/metrics" \
    | awk -v want="threadline_inbound_items{status=\"$1\"}" '$1 == want {print $2}'
}

step "starting 1 web and 2 workers through the entrypoint"
start web web
start worker1 worker 1
start worker2 worker 2
for _ in $(seq 150); do
  alive web
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$base/healthz" | grep -q '"ok"' || fail "/healthz"
ready=$(curl -sS "$base/readyz")
[[ $ready == *'"database":true'*'"bus":true'* ]] || fail "/readyz: $ready"
step "/healthz ok, /readyz $ready"
wait_connected 1
wait_connected 2
step "both workers connected (pg_stat_activity: threadline-worker-1, threadline-worker-2)"

code=$(curl -sS -o /dev/null -w '%{http_code}' "$base/metrics")
[[ $code = 401 ]] || fail "/metrics without its token answered $code, not 401"
curl -fsS -o /dev/null "$base/static/vendor/htmx.org/htmx.min.js" || fail "front-end files"
step "/metrics needs its token; the desktop's front-end files are served"

post_webhook "selfhost both workers"
wait_processed "selfhost both workers"
step "webhook accepted by web, processed by a worker, conversation visible through the REST API"

stop_process worker2
post_webhook "selfhost worker one alone"
wait_processed "selfhost worker one alone"
step "worker 1 alone processed a webhook (worker 2 stopped)"

start worker2 worker 2
wait_connected 2
stop_process worker1 KILL
post_webhook "selfhost worker two alone"
wait_processed "selfhost worker two alone"
step "worker 2 alone processed a webhook (worker 1 killed)"

stop_process worker2
post_webhook "selfhost while no worker runs"
sleep 2
[[ -z $(conversation_with "selfhost while no worker runs") ]] || fail "processed without a worker"
[[ $(metric pending) = 1 ]] || fail "the accepted webhook is not pending in /metrics"
start worker1 worker 1
wait_processed "selfhost while no worker runs"
[[ $(metric done) = 4 ]] || fail "/metrics does not count 4 processed events: $(metric done)"
step "a webhook accepted while no worker ran waited in the database; a restarted worker processed it"

alive web
alive worker1
step "stopping everything"
stop_process worker1
stop_process web
