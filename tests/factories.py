"""Plain typed factories for tests."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from threadline.channels.api.adapter import sign
from threadline.jobs.runtime import Runtime
from threadline.workspace.service import create_channel_account

BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def text_tag(length: int = 8) -> str:
    """A random marker to put in a message's text: letters only, since a hex marker is all
    digits now and then (1 in 60 for eight), and the privacy guard rightly reads eight or more
    digits as a phone number (a public reply refused, an inbound post masked)."""
    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(length))


def api_account(runtime: Runtime, workspace_id: uuid.UUID, *, name: str = "api",
                identity_kind: str = "x", outbound_url: str | None = None) -> Any:
    config: dict[str, Any] = {"secret": secrets.token_hex(16), "identity_kind": identity_kind}
    if outbound_url:
        config["outbound_url"] = outbound_url
    with runtime.db.session() as session:
        return create_channel_account(session, workspace_id, kind="api", name=name,
                                      config=config)


def message_event(pid: str, *, author: str = "cust-1", text: str = "hello",
                  visibility: str = "public", in_reply_to: str | None = None,
                  thread_key: str | None = None, minutes: float = 0, is_self: bool = False,
                  author_kind: str | None = None, link_token: str | None = None,
                  event_id: str | None = None, email: str | None = None) -> dict[str, Any]:
    author_obj: dict[str, Any] = {"id": author, "handle": f"@{author}", "is_self": is_self}
    if author_kind:
        author_obj["kind"] = author_kind
    if email:
        author_obj["email"] = email
    message: dict[str, Any] = {
        "id": pid, "text": text, "visibility": visibility,
        "created_at": (BASE_TIME + timedelta(minutes=minutes)).isoformat(),
        "author": author_obj}
    if in_reply_to:
        message["in_reply_to"] = in_reply_to
    if thread_key:
        message["thread_key"] = thread_key
    if link_token:
        message["link_token"] = link_token
    return {"id": event_id or f"evt-{pid}", "type": "message", "message": message}


def body(events: list[dict[str, Any]]) -> bytes:
    return json.dumps({"events": events}).encode()


def signed_headers(account: Any, raw: bytes) -> dict[str, str]:
    return {"content-type": "application/json",
            "x-threadline-signature": sign(account.config["secret"], raw)}


def post_events(client: Any, account: Any, events: list[dict[str, Any]]) -> Any:
    raw = body(events)
    return client.post(f"/webhooks/api/{account.id}", content=raw,
                       headers=signed_headers(account, raw))


def only_api_conversation(runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any,
                          text: str = "hello") -> dict[str, Any]:
    """A customer writes once through a new API channel account; the workspace's only
    conversation (as `GET /api/v1/conversations` lists it)."""
    account = api_account(runtime, workspace_id)
    assert post_events(client, account, [message_event(f"c-{uuid.uuid4().hex[:8]}",
                                                       text=text)]).status_code == 200
    worker.drain()
    [conv] = client.get("/api/v1/conversations").json()["items"]
    return dict(conv)
