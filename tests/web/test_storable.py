"""Input the databases cannot store is a 422 at the edge (on SQLite too, so that both
databases answer alike), found by the contract test on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("body", [
    {"kind": "api", "name": "nul\u0000name"},
    {"kind": "api", "name": "surrogate \ud800"},
    {"kind": "api", "name": "big", "config": {"n": 2**64}},
    {"kind": "api", "name": "nested", "config": {"a": [{"b\u0000": 1}]}},
])
def test_unstorable_json_is_refused(client: Any, body: dict[str, Any]) -> None:
    import json

    raw = json.dumps(body).encode()  # ensure_ascii: escapes travel as \\u0000 and \\ud800
    resp = client.post("/api/v1/channel-accounts", content=raw,
                       headers={"content-type": "application/json"})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "unstorable_input"


def test_unstorable_query_is_refused(client: Any) -> None:
    resp = client.get("/api/v1/conversations", params={"category": "a\u0000b"})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "unstorable_input"


def test_ordinary_input_passes(client: Any) -> None:
    resp = client.post("/api/v1/channel-accounts",
                       json={"kind": "api", "name": "Ünïcode ✓", "config": {"n": 2**63 - 1}})
    assert resp.status_code == 201
