"""Hop fixtures: Threadline and the provider sandbox over real HTTP (as in tests/e2e), plus the
customer's side (a plain HTTP client on the public /s/ pages and the web chat) and a snapshot
of every hop-related table, to prove that a refused link changed nothing."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.e2e.conftest import E2E, wait_for
from threadline.contacts.models import Consent, Customer, Identity
from threadline.conversations.models import Conversation, Message
from threadline.db.base import utcnow
from threadline.events.models import AuditEvent, InboundEvent, OutboxJob, WorkStatus
from threadline.hops.records.models import Callback, Hop, ShortLink
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import x as sx

OWN_X_ID = "2244994945"
TOKEN_RE = re.compile(r'data-token="([^"]+)"')
CHAT_URL_RE = re.compile(r'data-url="([^"]+)"')


def some_id(digits: int = 15) -> str:
    return str(random.randrange(10 ** (digits - 1), 10**digits))


class Hops(E2E):
    """The e2e harness with the hop flows' helpers."""

    def __init__(self, server: Any, sandbox: Any, token: str, runtime: Runtime,
                 workspace_id: uuid.UUID) -> None:
        super().__init__(server, sandbox, token)
        self.runtime = runtime
        self.workspace_id = workspace_id
        self.customer = httpx.Client(base_url=server.url, timeout=30)

    def close(self) -> None:
        self.customer.close()
        super().close()

    def x_config(self) -> dict[str, Any]:
        return {"consumer_key": "ck", "consumer_secret": "sandbox_secret",
                "access_token": f"{OWN_X_ID}-token", "access_token_secret": "ats",
                "user_id": OWN_X_ID, "api_base_url": self.sandbox_url("/x")}

    def x_complaint(self, text: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """A public X mention posted as a signed webhook: (account id, conversation, tweet)."""
        config = self.x_config()
        account = self.account("x", config)
        tweet = str(1_850_000_000_000_000_000 + random.randrange(10**15))
        hook = sx.mention_webhook(account, config, tweet, some_id(9), "jane", text)
        assert self.post(hook).status_code == 200
        conv, message = self.wait_message(tweet)
        return account, conv, message

    def offer(self, conversation_id: str, method: str, **body: Any) -> dict[str, Any]:
        answer = self.api.post(f"/conversations/{conversation_id}/hops",
                               json={"method": method, "reason": "privacy", **body})
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        # The answer may arrive a moment before its commit (FastAPI closes the session
        # dependency after responding): the offer is there once its message is.
        self.wait_delivery(conversation_id, result["message"]["id"],
                           ("pending", "sent", "delivered", "failed"))
        return result

    def hops(self, conversation_id: str) -> list[dict[str, Any]]:
        answer = self.api.get(f"/conversations/{conversation_id}/hops")
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()
        return items

    def path(self, url: str) -> str:
        return "/" + url.split("/", 3)[3]

    def handoff(self, html: str) -> tuple[str, str]:
        """The visitor token and chat URL the chat form's answer hands to the browser."""
        token, chat = TOKEN_RE.search(html), CHAT_URL_RE.search(html)
        assert token and chat, html
        return token.group(1), chat.group(1)

    def settled(self) -> None:
        """Wait until the server's worker has done what is due for this workspace (the
        jobs of what the test did before; they may audit or change rows after a while)."""
        ws = self.workspace_id

        def idle() -> bool:
            with self.runtime.db.session(write=False) as s:
                jobs = s.scalar(select(func.count()).select_from(OutboxJob).where(
                    OutboxJob.workspace_id == ws, OutboxJob.status == WorkStatus.PENDING,
                    OutboxJob.due_at <= utcnow()))
                events = s.scalar(select(func.count()).select_from(InboundEvent).where(
                    InboundEvent.workspace_id == ws, InboundEvent.status == WorkStatus.PENDING,
                    InboundEvent.next_attempt_at <= utcnow()))
            return not jobs and not events

        wait_for(idle, what="the worker done with this workspace's due work")

    def snapshot(self) -> dict[str, Any]:
        """Every row a link submission could add or change, in this workspace (once the
        worker is done with what was due)."""
        ws = self.workspace_id
        self.settled()
        with self.runtime.db.session(write=False) as s:
            counts = {model.__tablename__: s.scalar(select(func.count()).select_from(model)
                                                    .where(model.workspace_id == ws))
                      for model in (Consent, Identity, Customer, Conversation, Message,
                                    Callback, Hop, ShortLink, InboundEvent, AuditEvent,
                                    OutboxJob)}
            links = sorted((str(link.id), str(link.used_at)) for link in s.scalars(
                select(ShortLink).where(ShortLink.workspace_id == ws)))
            hops = sorted((str(h.id), str(h.taken_at), str(h.returned_at)) for h in s.scalars(
                select(Hop).where(Hop.workspace_id == ws)))
            prefs = sorted(str(c.preferred_channel) for c in s.scalars(
                select(Customer).where(Customer.workspace_id == ws)))
        return {"counts": counts, "links": links, "hops": hops, "preferred": prefs}


@pytest.fixture
def hop(live_server: Any, sandbox: Any, token: str, runtime: Runtime,
        workspace_id: uuid.UUID) -> Iterator[Hops]:
    harness = Hops(live_server, sandbox, token, runtime, workspace_id)
    yield harness
    harness.close()


__all__ = ["Hops", "some_id", "wait_for"]
