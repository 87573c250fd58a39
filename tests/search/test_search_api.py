"""GET /api/v1/search: tokens, filters, the error envelope, another workspace's data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.factories import api_account, message_event, post_events
from threadline.jobs.runtime import Runtime
from threadline.search.documents import put_document
from threadline.workspace import service as workspace_service


def _conversation(runtime: Runtime, ws: uuid.UUID, client: Any, worker: Any,
                  text: str) -> dict[str, Any]:
    account = api_account(runtime, ws, name=f"api-{uuid.uuid4().hex[:6]}")
    assert post_events(client, account, [message_event(
        f"m-{uuid.uuid4().hex[:8]}", text=text, visibility="private",
        author=f"a{uuid.uuid4().hex[:6]}")]).status_code == 200
    worker.drain()
    items = client.get("/api/v1/conversations", params={"relevance": "all"}).json()["items"]
    return next(c for c in items if c["id"] not in {None})


class TestSearchApi:
    def test_finds_messages_with_their_conversation_and_highlights(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: TestClient,
            worker: Any) -> None:
        conv = _conversation(runtime, workspace_id, client, worker,
                             "The thermostat display flickers at night")
        r = client.get("/api/v1/search", params={"q": "thermostat flickering"})
        assert r.status_code == 200, r.text
        body = r.json()
        [hit] = [h for h in body["items"] if h["kind"] == "message"]
        assert hit["conversation_id"] == conv["id"]
        assert "<mark>thermostat</mark>" in hit["snippet_html"]
        assert body["has_more"] is False and body["limit"] == 20

    def test_kind_status_and_date_filters(self, runtime: Runtime, workspace_id: uuid.UUID,
                                          client: TestClient, worker: Any) -> None:
        _conversation(runtime, workspace_id, client, worker, "Snorkel mask fogging up")
        with runtime.db.session() as session:
            put_document(session, workspace_id, kind="article", ref_id=uuid.uuid4(),
                         title="Snorkel care", body="Rinse the snorkel mask.", language="en")

        def kinds(**params: Any) -> list[str]:
            r = client.get("/api/v1/search", params={"q": "snorkel mask", **params})
            assert r.status_code == 200, r.text
            return sorted(h["kind"] for h in r.json()["items"])

        assert kinds() == ["article", "message"]
        assert kinds(kind="article") == ["article"]
        assert kinds(kind=["article", "message"]) == ["article", "message"]
        assert kinds(status="open") == ["message"]  # conversation filters: no articles
        assert kinds(status="resolved") == []
        assert kinds(kind="message", channel="api") == ["message"]
        assert kinds(kind="message", channel="email") == []
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        assert kinds(kind="message", created_from=future) == []
        assert kinds(kind="message", created_to=future) == ["message"]

    def test_paging(self, runtime: Runtime, workspace_id: uuid.UUID,
                    client: TestClient) -> None:
        with runtime.db.session() as session:
            for i in range(5):
                put_document(session, workspace_id, kind="article", ref_id=uuid.uuid4(),
                             title=f"Gazebo {i}", body="gazebo anchors", language="en")
        first = client.get("/api/v1/search", params={"q": "gazebo", "limit": 3}).json()
        second = client.get("/api/v1/search",
                            params={"q": "gazebo", "limit": 3, "offset": 3}).json()
        assert (len(first["items"]), first["has_more"]) == (3, True)
        assert (len(second["items"]), second["has_more"]) == (2, False)
        assert not {h["ref_id"] for h in first["items"]} & {h["ref_id"] for h in second["items"]}

    def test_another_workspaces_token_finds_nothing_of_ours(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: TestClient,
            app: Any, worker: Any) -> None:
        _conversation(runtime, workspace_id, client, worker, "Xylophone mallets splintered")
        assert client.get("/api/v1/search", params={"q": "xylophone"}).json()["items"]
        with runtime.db.session() as session:
            other = workspace_service.create_workspace(session, "Other",
                                                       f"o-{uuid.uuid4().hex[:10]}").id
        with TestClient(app) as them:
            them.headers["Authorization"] = f"Bearer {make_token(runtime, other)}"
            r = them.get("/api/v1/search", params={"q": "xylophone"})
            assert r.status_code == 200 and r.json()["items"] == []
            r = them.get("/api/v1/search", params={"q": "xylophone",
                                                   "conversation_id": str(uuid.uuid4())})
            assert r.json()["items"] == []


class TestSearchApiBadInput:
    def test_no_token_is_401(self, app: Any) -> None:
        with TestClient(app) as anonymous:
            r = anonymous.get("/api/v1/search", params={"q": "x"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "missing_token"

    def test_typed_422s_in_the_error_envelope(self, client: TestClient) -> None:
        cases = {"": "search_empty", "x" * 201: "search_too_long", '"open': "search_syntax",
                 "a\x01b": "search_bad_character", "-only": "search_only_exclusions",
                 "x" * 10_000: "search_too_long"}
        for q, code in cases.items():
            r = client.get("/api/v1/search", params={"q": q})
            assert r.status_code == 422, (q, r.text)
            error = r.json()["error"]
            assert error["code"] == code and error["details"]["field"] == "q"
        r = client.get("/api/v1/search", params={"q": "x", "language": "en'--"})
        assert r.json()["error"]["code"] == "search_language"
        for params in ({"kind": "secrets"}, {"limit": 0}, {"limit": 101}, {"offset": -1},
                       {"status": "deleted"}, {"created_from": "yesterday"},
                       {"created_from": "2026-01-01T00:00:00"}):
            r = client.get("/api/v1/search", params={"q": "x", **params})
            assert r.status_code == 422, (params, r.text)
            assert r.json()["error"]["code"] == "validation_failed"

    def test_documented_in_the_openapi(self, client: TestClient) -> None:
        spec = client.get("/api/v1/openapi.json").json()
        op = spec["paths"]["/api/v1/search"]["get"]
        names = {p["name"] for p in op["parameters"]}
        assert {"q", "kind", "language", "status", "channel", "created_from",
                "limit", "offset"} <= names
        assert {"200", "401", "422"} <= set(op["responses"])
