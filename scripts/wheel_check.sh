#!/usr/bin/env bash
# The wheel is a complete product: build it, install it with the lock's pinned runtime versions
# into a fresh virtual environment outside the source tree, start `threadline demo` from an
# empty folder, and load the login page and the signed-in inbox in headless Chromium (htmx
# must load from the installed package). Exits non-zero on any failure; leaves nothing behind.
# Needs the project's .venv (scripts/install.sh --test): uv, and Playwright for the browser.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
UV="${UV:-$ROOT/.venv/bin/uv}"

work="$(mktemp -d -t threadline-wheel.XXXXXX)"
demo_pid=""
cleanup() {
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill "$demo_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$demo_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$demo_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "wheel check: $*" >&2; exit 1; }

echo "-- desktop assets built for the locked versions"
"$PY" scripts/build_assets.py --check || fail "run scripts/build_assets.py first"
htmx_version="$(cat src/threadline/web/static/vendor/htmx.org/VERSION)"

echo "-- build the wheel"
wheel="$(scripts/release.sh "$work/dist")"
"$PY" - "$wheel" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["threadline/web/static/vendor/htmx.org/htmx.min.js",
        "threadline/web/static/vendor/htmx.org/LICENSE",
        "threadline/web/desktop/templates/base.html",
        "threadline/db/migrations/versions/0001_initial_schema.py",
        "threadline/demo/conversations.json",
        "threadline/triage/multilingual_heads.npz"]
missing = [n for n in need if n not in names]
if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
    missing.append("*.dist-info/licenses/LICENSE")
if missing:
    sys.exit(f"missing from the wheel: {missing}")
print(f"{len(names)} files, assets and licence included")
PY

echo "-- install it into a fresh venv with the locked runtime versions"
"$UV" venv --quiet --python "$PY" "$work/venv"
"$UV" pip install --quiet --python "$work/venv/bin/python" --strict \
  --constraint "$work/dist/constraints.txt" "$wheel"
echo "-- every installed package at the version uv.lock pins"
"$UV" pip freeze --python "$work/venv/bin/python" >"$work/freeze.txt"
"$PY" - "$work/dist/constraints.txt" "$work/freeze.txt" <<'PY'
import re, sys
from packaging.markers import Marker
def pins(path):
    out = {}
    for line in open(path):
        line = line.strip()
        m = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^]]*\])?==([^\s;]+)", line)
        # a package pinned per Python version (one line each, with a marker): this Python's
        if m and ";" in line and not Marker(line.split(";", 1)[1].strip()).evaluate():
            continue
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out
locked, installed = pins(sys.argv[1]), pins(sys.argv[2])
installed.pop("threadline", None)
wrong = {n: (v, locked.get(n)) for n, v in installed.items() if locked.get(n) != v}
if wrong or not installed:
    sys.exit(f"installed versions differ from uv.lock: {wrong}")
print(f"{len(installed)} packages, each at its locked version")
PY

mkdir "$work/run"
cd "$work/run"
# Nothing of the source tree may leak in: no PYTHONPATH, no project settings.
run_env=(env -u PYTHONPATH -u VIRTUAL_ENV -u THREADLINE_DATABASE_URL -u THREADLINE_DATA_DIR)
if "${run_env[@]}" "$work/venv/bin/threadline" --help 2>/dev/null | grep -q -- "--version"; then
  "${run_env[@]}" "$work/venv/bin/threadline" --version
else
  "${run_env[@]}" "$work/venv/bin/python" -c "import threadline, sys; print('threadline from', threadline.__path__[0])"
fi
"${run_env[@]}" "$work/venv/bin/python" - "$work/venv" <<'PY'
import sys, threadline, pathlib
where = pathlib.Path(threadline.__path__[0]).resolve()
if not where.is_relative_to(pathlib.Path(sys.argv[1]).resolve()):
    sys.exit(f"threadline imported from {where}, not from the fresh venv")
PY

echo "-- triage from the wheel: a post in Spanish through the bundled models"
"${run_env[@]}" "$work/venv/bin/threadline" triage --json \
    "@ShopCo mi pedido no ha llegado y nadie responde, pésimo servicio" > "$work/triage.json"
"$PY" - "$work/triage.json" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
if (out["language"], out["sentiment"]) != ("es", "negative"):
    sys.exit(f"triage from the wheel read {out['language']}/{out['sentiment']}")
print("triage from the wheel: es, negative")
PY

echo "-- start the demo from an empty folder"
# The demo listens on PORT and its provider sandbox on PORT+1: find two free ones.
port="$("$PY" - <<'PY'
import socket
for _ in range(50):
    with socket.socket() as a:
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        with socket.socket() as b:
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
    print(port)
    break
PY
)"
[ -n "$port" ] || fail "no free port pair"
"${run_env[@]}" THREADLINE_DATABASE_URL="sqlite:///$work/run/threadline.db" \
  THREADLINE_DATA_DIR="$work/run" \
  "$work/venv/bin/threadline" demo --port "$port" >"$work/demo.log" 2>&1 &
demo_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 120); do
  kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.log" >&2; fail "the demo exited"; }
  if grep -q "login:" "$work/demo.log" && \
     "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
       "$base/login" 2>/dev/null; then
    break
  fi
  sleep 0.5
done
"$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
  "$base/login" || { cat "$work/demo.log" >&2; fail "the demo does not answer at $base"; }
read -r email password < <(sed -n 's/^ *login: *\([^ ]*\) \/ \([^ ]*\)$/\1 \2/p' "$work/demo.log")
[ -n "${email:-}" ] && [ -n "${password:-}" ] || fail "no login line in the demo's output"
echo "demo answers at $base"

echo "-- headless Chromium: login page and inbox load htmx $htmx_version"
cd "$ROOT"
"$PY" scripts/wheel_browser_check.py "$base" "$email" "$password" "$htmx_version" || {
  tail -n 40 "$work/demo.log" >&2; fail "browser check failed"; }
echo "wheel check passed"
