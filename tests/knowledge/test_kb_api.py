"""REST: /api/v1/articles with tokens of each role, the error envelope, other workspaces'
ids, typed 422s that store nothing."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import make_token
from threadline.jobs.runtime import Runtime
from threadline.knowledge.schemas import MAX_BODY
from threadline.workspace import service as workspace_service

ARTICLE = {"title": "Cancel an order", "body": "Open **Orders**, then *Cancel*.",
           "category": "Orders", "language": "en", "tags": ["orders"],
           "questions": ["how do I cancel my order"]}


def _client(app: Any, runtime: Runtime, workspace_id: uuid.UUID, role: str) -> TestClient:
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id, role)}"
    return client


def test_the_lifecycle_through_the_api(client: TestClient) -> None:
    created = client.post("/api/v1/articles", json=ARTICLE)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["slug"], body["revision"], body["url"]) == (
        "draft", "cancel-an-order", 1, None)
    article_id = body["id"]
    updated = client.put(f"/api/v1/articles/{article_id}",
                         json={**ARTICLE, "body": "Orders → Cancel."})
    assert updated.status_code == 200 and updated.json()["revision"] == 2
    published = client.post(f"/api/v1/articles/{article_id}/publish")
    assert published.status_code == 200
    url = published.json()["url"]
    assert url.startswith("http://testserver/help/")
    assert url.endswith("/en/articles/cancel-an-order")
    listed = client.get("/api/v1/articles", params={"status": "published", "language": "en"})
    assert [a["id"] for a in listed.json()["items"]] == [article_id]
    assert client.get("/api/v1/articles", params={"status": "draft"}).json()["items"] == []
    assert client.get(f"/api/v1/articles/{article_id}").json()["body"] == "Orders → Cancel."
    archived = client.post(f"/api/v1/articles/{article_id}/archive")
    assert archived.json()["status"] == "archived" and archived.json()["url"] is None


def test_agents_read_and_only_editors_write(app: Any, runtime: Runtime,
                                            workspace_id: uuid.UUID,
                                            client: TestClient) -> None:
    article_id = client.post("/api/v1/articles", json=ARTICLE).json()["id"]
    agent = _client(app, runtime, workspace_id, "agent")
    assert agent.get("/api/v1/articles").status_code == 200
    assert agent.get(f"/api/v1/articles/{article_id}").status_code == 200
    for method, path, payload in (("post", "/api/v1/articles", ARTICLE),
                                  ("put", f"/api/v1/articles/{article_id}", ARTICLE),
                                  ("post", f"/api/v1/articles/{article_id}/publish", None),
                                  ("post", f"/api/v1/articles/{article_id}/archive", None)):
        answer = getattr(agent, method)(path, json=payload)
        assert answer.status_code == 403, path
        assert answer.json()["error"]["code"] == "insufficient_role"
    supervisor = _client(app, runtime, workspace_id, "supervisor")
    assert supervisor.post(f"/api/v1/articles/{article_id}/publish").status_code == 200
    assert TestClient(app).get("/api/v1/articles").status_code == 401


def test_another_workspaces_article_is_404(app: Any, runtime: Runtime,
                                           client: TestClient) -> None:
    article_id = client.post("/api/v1/articles", json=ARTICLE).json()["id"]
    with runtime.db.session() as session:
        other_ws = workspace_service.create_workspace(session, "Other",
                                                      f"o-{uuid.uuid4().hex[:12]}").id
    other = _client(app, runtime, other_ws, "admin")
    for method, path in (("get", ""), ("put", ""), ("post", "/publish"),
                         ("post", "/archive")):
        answer = getattr(other, method)(f"/api/v1/articles/{article_id}{path}",
                                        **({"json": ARTICLE} if method == "put" else {}))
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "article_not_found"
    assert other.get("/api/v1/articles").json()["items"] == []
    assert client.get(f"/api/v1/articles/{article_id}").json()["status"] == "draft"


def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(client: TestClient) -> None:
    cases = [({**ARTICLE, "language": "klingon"}, "language"),
             ({**ARTICLE, "body": "x" * (MAX_BODY + 1)}, "body"),
             ({**ARTICLE, "title": ""}, "title"),
             ({**ARTICLE, "slug": "Bad Slug"}, "slug"),
             ({**ARTICLE, "extra": True}, "extra")]
    for payload, field in cases:
        answer = client.post("/api/v1/articles", json=payload)
        assert answer.status_code == 422, field
        error = answer.json()["error"]
        assert error["code"] == "validation_failed"
        assert any(e["loc"][-1] == field for e in error["details"]["errors"]), error
    unknown = client.get("/api/v1/articles", params={"language": "klingon"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_language"
    assert client.get("/api/v1/articles").json()["items"] == []
    first = client.post("/api/v1/articles", json={**ARTICLE, "slug": "taken"})
    assert first.status_code == 201
    clash = client.post("/api/v1/articles", json={**ARTICLE, "slug": "taken"})
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "slug_taken"
    assert len(client.get("/api/v1/articles").json()["items"]) == 1


def test_every_operation_is_documented(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/articles"]) == {"get", "post"}
    assert set(paths["/api/v1/articles/{article_id}"]) == {"get", "put"}
    assert "post" in paths["/api/v1/articles/{article_id}/publish"]
    assert "post" in paths["/api/v1/articles/{article_id}/archive"]
    assert not any(p.startswith("/help") for p in paths)
