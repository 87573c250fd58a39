"""An agent hides and unhides a customer's public comment (issue 15): through the REST API
and the desktop, done by the worker through the provider's API (the sandbox's Graph API);
audited; refused for what cannot be hidden, for another workspace's messages and without the
desktop's CSRF token."""

from __future__ import annotations

import secrets
import uuid

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import make_token
from tests.desktop.conftest import desk_for
from tests.factories import api_account, message_event, post_events
from threadline.events.models import AuditEvent
from threadline.sandbox.providers import meta
from threadline.workspace import service as workspace_service
from threadline.workspace.service import create_channel_account


def _page(runtime, workspace_id, sandbox, kind: str = "facebook"):
    config = {"app_secret": secrets.token_hex(8), "verify_token": "v",
              "access_token": f"page-token-{secrets.token_hex(4)}", "page_id": "3300001",
              "api_base_url": f"{sandbox.url}/meta"}
    if kind == "instagram":
        config["ig_user_id"] = "17840000000000001"
    with runtime.db.session() as s:
        account = create_channel_account(s, workspace_id, kind=kind, name="Page",
                                         config=config)
    return account, config


def _comment(client, worker, account, config, comment_id: str) -> tuple[str, str]:
    make = (meta.instagram_comment_webhook if account.kind == "instagram"
            else meta.page_comment_webhook)
    hook = make(str(account.id), config, text="your delivery is a joke", comment_id=comment_id)
    assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
    worker.drain()
    [conv] = client.get("/api/v1/conversations").json()["items"]
    detail = client.get(f"/api/v1/conversations/{conv['id']}").json()
    [message] = [m for m in detail["messages"] if m["provider_id"] == comment_id]
    return conv["id"], message["id"]


def _graph_posts(sandbox, comment_id: str) -> list[dict]:
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": "meta"}).json()
    return [c for c in calls["calls"] if c["method"] == "POST" and comment_id in c["path"]
            and any("is_hidden" in (c.get(k) or {}) for k in ("json", "form", "query"))]


def _hidden_value(call: dict) -> str:
    for key in ("json", "form", "query"):
        if "is_hidden" in (call.get(key) or {}):
            return str(call[key]["is_hidden"]).lower()
    raise AssertionError(call)


def test_hide_then_unhide_through_the_api(runtime, workspace_id, client, worker, sandbox):
    account, config = _page(runtime, workspace_id, sandbox)
    comment = f"{uuid.uuid4().int % 10**9}_77"
    conv, message = _comment(client, worker, account, config, comment)
    base = f"/api/v1/conversations/{conv}/messages/{message}"

    answer = client.post(f"{base}/hide")
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"message_id": message, "action": "hide", "state": "queued"}
    assert _graph_posts(sandbox, comment) == []  # nothing before the worker runs
    worker.drain()
    [call] = _graph_posts(sandbox, comment)
    assert _hidden_value(call) == "true"
    shown = client.get(f"/api/v1/conversations/{conv}").json()["messages"]
    assert [m["meta"].get("hidden") for m in shown if m["id"] == message] == [True]

    again = client.post(f"{base}/hide")  # already hidden: nothing queued, nothing sent
    assert again.json()["state"] == "done"
    worker.drain()
    assert len(_graph_posts(sandbox, comment)) == 1

    assert client.post(f"{base}/unhide").json()["state"] == "queued"
    worker.drain()
    calls = _graph_posts(sandbox, comment)
    assert [_hidden_value(c) for c in calls] == ["true", "false"]
    with runtime.db.session(write=False) as s:
        actions = list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.subject_id == message).order_by(AuditEvent.id)))
    assert actions.count("message.hide_requested") == 1
    assert actions.count("message.unhide_requested") == 1
    assert {"message.hide", "message.unhide"} <= set(actions)


def test_what_cannot_be_hidden_is_a_typed_422(runtime, workspace_id, client, worker, sandbox):
    account = api_account(runtime, workspace_id)  # a channel whose posts cannot be hidden
    assert post_events(client, account, [message_event("mod-1", text="hello")]
                       ).status_code == 200
    worker.drain()
    [conv] = client.get("/api/v1/conversations").json()["items"]
    detail = client.get(f"/api/v1/conversations/{conv['id']}").json()
    message = detail["messages"][0]["id"]
    answer = client.post(f"/api/v1/conversations/{conv['id']}/messages/{message}/hide")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "not_hideable"
    reply = client.post(f"/api/v1/conversations/{conv['id']}/messages",
                        json={"text": "We are on it", "visibility": "public"})
    assert reply.status_code == 201, reply.text
    answer = client.post(f"/api/v1/conversations/{conv['id']}/messages/"
                         f"{reply.json()['id']}/hide")  # our own reply: not a customer's
    assert answer.status_code == 422


def test_another_workspaces_message_is_unknown(runtime, workspace_id, client, worker, sandbox,
                                               app):
    account, config = _page(runtime, workspace_id, sandbox)
    comment = f"{uuid.uuid4().int % 10**9}_78"
    conv, message = _comment(client, worker, account, config, comment)
    with runtime.db.session() as s:
        other = workspace_service.create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}").id
    stranger = TestClient(app, headers={"authorization": f"Bearer {make_token(runtime, other)}"})
    for path in (f"/api/v1/conversations/{conv}/messages/{message}/hide",
                 f"/api/v1/conversations/{uuid.uuid4()}/messages/{message}/hide",
                 f"/api/v1/conversations/{conv}/messages/{uuid.uuid4()}/unhide"):
        answer = stranger.post(path) if "/unhide" not in path else client.post(path)
        assert answer.status_code == 404, (path, answer.text)
    assert client.post(f"/api/v1/conversations/{conv}/messages/not-a-uuid/hide"
                       ).status_code == 422
    worker.drain()
    assert _graph_posts(sandbox, comment) == []


def test_the_desktop_hides_and_unhides_with_its_csrf_token(runtime, workspace_id, client,
                                                           worker, sandbox, app):
    account, config = _page(runtime, workspace_id, sandbox, kind="instagram")
    comment = f"{uuid.uuid4().int % 10**9}_79"
    conv, message = _comment(client, worker, account, config, comment)
    desk = desk_for(app, runtime, workspace_id, "agent")
    page = desk.get(f"/conversations/{conv}").text
    assert f"/conversations/{conv}/messages/{message}/hide" in page
    path = f"/conversations/{conv}/messages/{message}/hide"
    assert desk.post(path, csrf=False, htmx=True).status_code == 403  # no token: refused
    worker.drain()
    assert _ig_hides(sandbox, comment) == []
    assert desk.post(path, htmx=True).status_code == 200
    worker.drain()
    assert _ig_hides(sandbox, comment) == ["true"]
    page = desk.get(f"/conversations/{conv}").text
    assert "Hidden from the public" in page
    assert f"/conversations/{conv}/messages/{message}/unhide" in page


def _ig_hides(sandbox, comment_id: str) -> list[str]:
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": "meta"}).json()
    found = []
    for c in calls["calls"]:
        if c["method"] != "POST" or comment_id not in c["path"]:
            continue
        for key in ("json", "form", "query"):
            if "hide" in (c.get(key) or {}):
                found.append(str(c[key]["hide"]).lower())
    return found
