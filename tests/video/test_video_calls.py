"""Video calls from a conversation (issue 15): a room on a self-hosted Jitsi with token
authentication (the provider sandbox checks tokens as Prosody does), the customer's link sent
in his private channel through the outbox, the agent's own link shown to him only, start and
end noted in the timeline; refusals are typed and store nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select

from tests.desktop.conftest import desk_for
from tests.factories import api_account, message_event, post_events
from threadline.conversations.models import Message
from threadline.events.models import AuditEvent
from threadline.hops.flow.video import JitsiLinks, Participant, new_room
from threadline.sandbox.providers import jitsi as sandbox_jitsi
from threadline.workspace.service import create_workspace

VECTOR = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJqaXRzaSIsImlzcyI6InRocmVhZGxpbmUiLCJz"
          "dWIiOiJtZWV0LmV4YW1wbGUudGVzdCIsInJvb20iOiJ0bC1jOGYyYS03cTRteGsycCIsImV4cCI6MTkwMDAw"
          "MDAwMCwiY29udGV4dCI6eyJ1c2VyIjp7ImlkIjoiYWdlbnRfNDIiLCJuYW1lIjoiQWdlbnQgNDIifX19.4fQ8"
          "MPDjRY21T3K4l2gnjWNFflvmTsT2JpPOJG3UHIo")


def test_the_token_matches_the_reference_vector():
    links = JitsiLinks("https://meet.example.test", hours=2, app_id="threadline",
                       secret="test_jitsi_app_secret_0123456789abcdef", audience="jitsi")
    now = datetime.fromtimestamp(1_900_000_000, UTC) - timedelta(hours=2)
    link = links.link("tl-c8f2a-7q4mxk2p", Participant("agent_42", "Agent 42"), now)
    assert link.url == f"https://meet.example.test/tl-c8f2a-7q4mxk2p?jwt={VECTOR}"
    tenant = JitsiLinks("https://meet.example.test/Brand", hours=1, app_id="a", secret="s" * 32)
    claims = jwt.decode(tenant.link("r", Participant("x", "X"), now).url.split("jwt=")[1],
                        "s" * 32, algorithms=["HS256"], audience="jitsi",
                        options={"verify_exp": False})
    assert claims["sub"] == "brand"  # the tenant, lower case
    rooms = {new_room(uuid.uuid4()) for _ in range(200)}
    assert len(rooms) == 200 and all(r == r.lower() and len(r) == 28 for r in rooms)


@pytest.fixture
def jitsi(runtime, sandbox, monkeypatch) -> str:
    base = f"{sandbox.url}{sandbox_jitsi.PREFIX}"
    for name, value in {"video_provider": "jitsi", "video_base_url": base,
                        "video_jwt_app_id": sandbox_jitsi.APP_ID,
                        "video_jwt_secret": sandbox_jitsi.APP_SECRET,
                        "video_jwt_audience": sandbox_jitsi.AUDIENCE}.items():
        monkeypatch.setattr(runtime.settings, name, value)
    return base


def _private_conversation(runtime, workspace_id, client, worker, sandbox) -> str:
    account = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
    event = message_event(f"dm-{uuid.uuid4().hex[:8]}", text="the hinge on my oven door broke",
                          visibility="private", thread_key="dm-thread-1")
    assert post_events(client, account, [event]).status_code == 200
    worker.drain()
    [conv] = client.get("/api/v1/conversations").json()["items"]
    return str(conv["id"])


def _messages(runtime, conversation_id: str) -> list[Message]:
    with runtime.db.session(write=False) as s:
        return list(s.scalars(select(Message).where(
            Message.conversation_id == uuid.UUID(conversation_id)).order_by(Message.created_at)))


def _sent_to_provider(sandbox) -> list[dict[str, Any]]:
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": "api"}).json()
    return [c for c in calls["calls"] if c["path"].endswith("/outbound")]


def test_a_video_call_from_start_to_end(runtime, workspace_id, client, worker, sandbox, jitsi):
    conv = _private_conversation(runtime, workspace_id, client, worker, sandbox)
    started = client.post(f"/api/v1/conversations/{conv}/video", json={})
    assert started.status_code == 201, started.text
    out = started.json()
    room = out["room"]
    assert room.startswith(f"tl-{uuid.UUID(conv).hex[:8]}-")
    assert out["url"].startswith(f"{jitsi}/{room}?jwt=")
    invitation = out["invitation"]
    assert invitation["visibility"] == "private"
    customer_url = invitation["text"].split()[-1]
    assert customer_url.startswith(f"{jitsi}/{room}?jwt=") and customer_url != out["url"]

    worker.drain()  # the invitation goes through the outbox to the customer's channel
    [sent] = [c for c in _sent_to_provider(sandbox) if room in str(c["json"])]
    assert customer_url in str(sent["json"])

    # both links let their holder in, as the self-hosted server checks them
    agent_page = httpx.get(out["url"])
    assert agent_page.status_code == 200 and "API" in agent_page.text
    assert httpx.get(customer_url).status_code == 200
    forged = customer_url[:-3] + ("AAA" if not customer_url.endswith("AAA") else "BBB")
    assert httpx.get(forged).status_code == 403
    assert httpx.get(f"{jitsi}/tl-other-room?jwt={customer_url.split('jwt=')[1]}"
                     ).status_code == 403  # a token names its room
    assert httpx.get(f"{jitsi}/{room}").status_code == 403

    again = client.post(f"/api/v1/conversations/{conv}/video", json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "video_running"

    notes = [m for m in _messages(runtime, conv) if m.kind == "note"]
    assert [n.text.startswith("Video call started") for n in notes] == [True]
    stored = str([(m.text, m.meta) for m in _messages(runtime, conv)])
    assert out["url"] not in stored  # the agent's link is never stored

    ended = client.post(f"/api/v1/conversations/{conv}/video/end")
    assert ended.status_code == 200 and ended.json()["minutes"] == 0
    notes = [m for m in _messages(runtime, conv) if m.kind == "note"]
    assert notes[-1].text.startswith("Video call ended")
    assert notes[0].meta["video"]["ended_at"]
    assert client.post(f"/api/v1/conversations/{conv}/video/end").status_code == 404
    with runtime.db.session(write=False) as s:
        actions = set(s.scalars(select(AuditEvent.action).where(
            AuditEvent.workspace_id == workspace_id, AuditEvent.action.like("video.%"))))
    assert actions == {"video.started", "video.ended"}
    # a new call may start once the last one ended
    assert client.post(f"/api/v1/conversations/{conv}/video", json={}).status_code == 201


def test_refusals_are_typed_and_store_nothing(runtime, workspace_id, client, worker, sandbox,
                                              jitsi, monkeypatch):
    conv = _private_conversation(runtime, workspace_id, client, worker, sandbox)
    before = len(_messages(runtime, conv))
    url = f"/api/v1/conversations/{conv}/video"
    for bad in ({"text": ""}, {"text": "x" * 2001}, {"room": "mine"}, {"text": 5}):
        assert client.post(url, json=bad).status_code == 422, bad
    with runtime.db.session() as s:
        other = create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}").id
    from tests.conftest import make_token
    other_token = make_token(runtime, other, "admin")
    answer = client.post(url, json={}, headers={"Authorization": f"Bearer {other_token}"})
    assert answer.status_code == 404  # another workspace's conversation is unknown
    assert client.post(f"/api/v1/conversations/{uuid.uuid4()}/video", json={}
                       ).status_code == 404
    monkeypatch.setattr(runtime.settings, "video_provider", "none")
    off = client.post(url, json={})
    assert off.status_code == 422 and off.json()["error"]["code"] == "video_unavailable"
    monkeypatch.setattr(runtime.settings, "video_provider", "jitsi")
    monkeypatch.setattr(runtime.settings, "video_base_url", "javascript:alert(1)")
    bad = client.post(url, json={})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "video_misconfigured"
    monkeypatch.setattr(runtime.settings, "video_provider", "template")
    monkeypatch.setattr(runtime.settings, "video_url_template", "https://video.example/{room}")
    templated = client.post(url, json={"text": "Our video room: {url} (no sign-in needed)"})
    assert templated.status_code == 201
    assert templated.json()["url"].startswith("https://video.example/tl-")
    assert "Our video room: https://video.example/tl-" in templated.json()["invitation"]["text"]
    assert len(_messages(runtime, conv)) == before + 2  # only the good call: invitation + note


def test_the_desktop_starts_and_ends_a_call(runtime, workspace_id, client, worker, sandbox,
                                            jitsi, app):
    conv = _private_conversation(runtime, workspace_id, client, worker, sandbox)
    desk = desk_for(app, runtime, workspace_id, "agent")
    page = desk.get(f"/conversations/{conv}").text
    assert 'id="video-start"' in page
    assert desk.post(f"/conversations/{conv}/video", csrf=False).status_code == 403
    assert not [m for m in _messages(runtime, conv) if m.kind == "note"]
    started = desk.post(f"/conversations/{conv}/video", htmx=True)
    assert started.status_code == 200
    assert 'id="video-join"' in started.text and f"{jitsi}/tl-" in started.text
    page = desk.get(f"/conversations/{conv}").text
    assert 'id="video-end"' in page and 'id="video-join"' not in page  # the link: once
    assert "Video call started" in page
    assert desk.post(f"/conversations/{conv}/video/end", htmx=True).status_code == 200
    page = desk.get(f"/conversations/{conv}").text
    assert "Video call ended" in page and 'id="video-start"' in page
