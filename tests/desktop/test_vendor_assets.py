"""The desktop's front-end libraries are served from the package (web/static/vendor/, filled
by scripts/build_assets.py from package-lock.json), never from a node_modules beside the tree."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from threadline.web.desktop import VENDOR

ROOT = Path(__file__).resolve().parents[2]


def test_vendor_folder_is_inside_the_package() -> None:
    import threadline

    assert VENDOR.is_relative_to(Path(threadline.__file__).parent)


def test_htmx_is_served_at_the_locked_version(client: TestClient) -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    locked = lock["packages"]["node_modules/htmx.org"]["version"]
    assert (VENDOR / "htmx.org" / "VERSION").read_text(encoding="utf-8").strip() == locked
    answer = client.get("/static/vendor/htmx.org/htmx.min.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert f'version:"{locked}"' in answer.text.replace(" ", "")


def test_nothing_outside_the_vendor_folder(client: TestClient) -> None:
    for url in ("/static/vendor/htmx.org/..%2F..%2F..%2F__init__.py",
                "/static/vendor/..%2Fdesktop/__init__.py",
                "/static/vendor/no-such-lib/x.js",
                "/static/vendor/htmx.org/missing.js"):
        assert client.get(url).status_code == 404, url
