"""Shared set-up of the moderation tests: a Facebook Page, Instagram or X account on the
provider sandbox, a customer's public comment arriving through its signed webhook, the
brand's public reply sent through the worker, and what the sandbox recorded."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from threadline.events.models import AuditEvent, OutboxJob, StreamEvent
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import meta
from threadline.sandbox.providers import x as sandbox_x
from threadline.workspace.service import create_channel_account


def meta_account(runtime: Runtime, workspace_id: uuid.UUID, sandbox_url: str,
                 kind: str = "facebook") -> tuple[Any, dict[str, Any]]:
    config: dict[str, Any] = {
        "app_secret": secrets.token_hex(8), "verify_token": "v",
        "access_token": f"page-token-{secrets.token_hex(4)}", "page_id": "3300001",
        "api_base_url": f"{sandbox_url}/meta"}
    if kind == "instagram":
        config["ig_user_id"] = "17840000000000001"
    with runtime.db.session() as s:
        account = create_channel_account(s, workspace_id, kind=kind, name="Page",
                                         config=config)
    return account, config


def x_account(runtime: Runtime, workspace_id: uuid.UUID,
              sandbox_url: str) -> tuple[Any, dict[str, Any]]:
    config = {"consumer_key": "ck", "consumer_secret": secrets.token_hex(16),
              "access_token": "at", "access_token_secret": secrets.token_hex(16),
              "user_id": str(4_400_000_000 + secrets.randbelow(10**6)),
              "api_base_url": f"{sandbox_url}/x"}
    with runtime.db.session() as s:
        account = create_channel_account(s, workspace_id, kind="x", name="Brand on X",
                                         config=config)
    return account, config


def new_comment_id(kind: str = "facebook") -> str:
    n = uuid.uuid4().int
    return f"179{n % 10**14:014d}" if kind == "instagram" else f"{n % 10**9}_{n % 10**6}"


def comment_hook(account: Any, config: dict[str, Any], comment_id: str,
                 text: str = "your delivery is a joke") -> Any:
    if account.kind == "instagram":
        return meta.instagram_comment_webhook(str(account.id), config, text=text,
                                              comment_id=comment_id)
    if account.kind == "x":
        return sandbox_x.mention_webhook(str(account.id), config, comment_id,
                                         str(7_000_000_000 + secrets.randbelow(10**9)),
                                         "jane_doe", f"@brand {text}")
    return meta.page_comment_webhook(str(account.id), config, text=text,
                                     comment_id=comment_id)


def conversation_of(client: Any, provider_id: str) -> tuple[str, str]:
    """The conversation and message ids of the message with this provider id."""
    for conv in client.get("/api/v1/conversations").json()["items"]:
        detail = client.get(f"/api/v1/conversations/{conv['id']}").json()
        for message in detail["messages"]:
            if message["provider_id"] == provider_id:
                return conv["id"], message["id"]
    raise AssertionError(f"no message {provider_id}")


def comment(client: Any, worker: Any, account: Any, config: dict[str, Any],
            comment_id: str) -> tuple[str, str]:
    hook = comment_hook(account, config, comment_id)
    assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
    worker.drain()
    return conversation_of(client, comment_id)


def message(client: Any, conv: str, message_id: str) -> dict[str, Any]:
    detail = client.get(f"/api/v1/conversations/{conv}").json()
    [found] = [m for m in detail["messages"] if m["id"] == message_id]
    return found


def brand_reply(client: Any, worker: Any, conv: str, text: str | None = None) -> dict[str, Any]:
    """The brand's public reply, sent by the worker: the message with its provider id."""
    answer = client.post(f"/api/v1/conversations/{conv}/messages",
                         json={"text": text or f"We are on it ({secrets.token_hex(3)})",
                               "visibility": "public"})
    assert answer.status_code == 201, answer.text
    worker.drain()
    sent = message(client, conv, answer.json()["id"])
    assert sent["delivery"] == "sent" and sent["provider_id"], sent
    return sent


def sandbox_deleted(sandbox_url: str, provider: str) -> list[str]:
    answer = httpx.get(f"{sandbox_url}/{provider}/_sandbox/deleted")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["deleted"])


def delete_calls(sandbox_url: str, provider: str, provider_id: str) -> list[dict[str, Any]]:
    calls = httpx.get(f"{sandbox_url}/_sandbox/calls", params={"provider": provider}).json()
    return [c for c in calls["calls"] if c["method"] == "DELETE" and provider_id in c["path"]]


def audit_actions(runtime: Runtime, message_id: str) -> list[tuple[str, str, str | None,
                                                                   dict[str, Any]]]:
    with runtime.db.session(write=False) as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.actor_type, AuditEvent.actor_id,
                                AuditEvent.data).where(AuditEvent.subject_id == message_id)
                         .order_by(AuditEvent.id)).all()
    return [(r.action, r.actor_type, r.actor_id, dict(r.data or {})) for r in rows]


def delete_jobs(runtime: Runtime, message_id: str) -> list[Any]:
    with runtime.db.session(write=False) as s:
        jobs = s.scalars(select(OutboxJob).where(OutboxJob.name == "channel.act")).all()
        return [j for j in jobs if j.payload.get("message_id") == message_id
                and j.payload.get("action") == "delete"]


def live_events(runtime: Runtime, workspace_id: uuid.UUID, name: str,
                message_id: str) -> list[dict[str, Any]]:
    with runtime.db.session(write=False) as s:
        payloads = s.scalars(select(StreamEvent.payload).where(
            StreamEvent.workspace_id == workspace_id, StreamEvent.name == name)).all()
    return [p for p in payloads if p.get("message_id") == message_id]
