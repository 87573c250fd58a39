#!/usr/bin/env python3
"""Copy the agent desktop's front-end libraries into the package, ready to be served and built
into the wheel.

The libraries come from the npm registry as pinned by package.json and package-lock.json
(`npm ci`); only the files the pages load, and each library's licence, are copied into
src/threadline/web/static/vendor/<library>/. That folder is git-ignored (no third-party code is
committed) and carried by the wheel as package data. Run it after changing package.json and
before building a wheel; scripts/install.sh runs it.

    python3 scripts/build_assets.py            # npm ci when node_modules is missing or stale
    python3 scripts/build_assets.py --check    # exit 1 if a vendored file is missing or differs
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "src" / "threadline" / "web" / "static" / "vendor"

# library -> {file in the package folder: file in node_modules/<library>/}
FILES: dict[str, dict[str, str]] = {
    "htmx.org": {"htmx.min.js": "dist/htmx.min.js", "LICENSE": "LICENSE"},
    # the dashboards' charts (the full build: the journeys need the Sankey series)
    "echarts": {"echarts.min.js": "dist/echarts.min.js", "LICENSE": "LICENSE",
                "NOTICE": "NOTICE"},
}


# Test tools from the npm registry, installed by `npm ci` with the libraries but never copied
# into the package: axe-core, the accessibility checks of the browser tests.
TEST_LIBRARIES = ("axe-core",)


def _locked_versions(names: tuple[str, ...] = tuple(FILES)) -> dict[str, str]:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    packages = lock.get("packages", {})
    return {name: str(packages[f"node_modules/{name}"]["version"]) for name in names}


def _installed_version(name: str) -> str | None:
    manifest = NODE_MODULES / name / "package.json"
    if not manifest.is_file():
        return None
    return str(json.loads(manifest.read_text(encoding="utf-8")).get("version"))


def _npm_ci() -> None:
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is missing: install Node.js (Debian: nodejs npm) to build the desktop assets")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=ROOT, check=True)  # noqa: S603


def build(*, force_install: bool) -> None:
    locked = _locked_versions()
    wanted = {**locked, **_locked_versions(TEST_LIBRARIES)}
    if force_install or any(_installed_version(n) != v for n, v in wanted.items()):
        _npm_ci()
    for name, files in FILES.items():
        if _installed_version(name) != locked[name]:
            found = _installed_version(name)
            sys.exit(f"{name}: node_modules has {found}, the lock {locked[name]}")
        target = VENDOR / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for dest, src in files.items():
            shutil.copyfile(NODE_MODULES / name / src, target / dest)
        (target / "VERSION").write_text(locked[name] + "\n", encoding="utf-8")
    print(f"desktop assets: {', '.join(f'{n} {v}' for n, v in locked.items())} -> "
          f"{VENDOR.relative_to(ROOT)}")


def check() -> int:
    locked = _locked_versions()
    problems = []
    for name, files in FILES.items():
        target = VENDOR / name
        version = target / "VERSION"
        if not version.is_file() or version.read_text(encoding="utf-8").strip() != locked[name]:
            problems.append(f"{name}: not built for the locked version {locked[name]}")
            continue
        for dest, src in files.items():
            built, source = target / dest, NODE_MODULES / name / src
            if not built.is_file():
                problems.append(f"{name}/{dest}: missing")
            elif source.is_file() and not filecmp.cmp(built, source, shallow=False):
                problems.append(f"{name}/{dest}: differs from node_modules")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify, change nothing")
    parser.add_argument("--npm-ci", action="store_true", help="run npm ci even if up to date")
    args = parser.parse_args()
    if args.check:
        return check()
    build(force_install=args.npm_ci)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
