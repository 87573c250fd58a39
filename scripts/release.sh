#!/usr/bin/env bash
# What a release ships, in OUT_DIR (default dist/): the wheel (the desktop's front-end files
# inside it), constraints.txt (every runtime dependency at the version pinned in uv.lock),
# and deploy/ (entrypoint, systemd units, nginx site, environment file example).
# Install on a host: pip install --constraint constraints.txt threadline-*.whl
# Needs the project's .venv (scripts/install.sh): uv and the built front-end files.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
out="${1:-$ROOT/dist}"
UV="${UV:-$ROOT/.venv/bin/uv}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"

"$PY" scripts/build_assets.py --check >/dev/null || {
  echo "release: the front-end files are missing or stale: run scripts/build_assets.py" >&2
  exit 1
}
mkdir -p "$out"
rm -f "$out"/threadline-*.whl
"$UV" build --wheel --quiet --out-dir "$out" "$ROOT"
"$UV" export --frozen --no-dev --no-emit-project --no-hashes --quiet \
  --output-file "$out/constraints.txt"
rm -rf "$out/deploy"
cp -r deploy "$out/deploy"
ls "$out"/threadline-*.whl
