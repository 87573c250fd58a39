"""Answers to something Threadline asked, recognised before threading.

A flow above the inbound pipeline (CSAT: a survey's quick reply, button, callback or short
text reply) registers an interceptor. The processor offers it every customer item of a batch
before threading; an interceptor that consumes an item records what it means itself, in the
batch's transaction, and the item becomes no message: it neither reopens a conversation nor
creates one. Interceptors must be cheap for the items they do not want (a look at the item
before any query) and idempotent (a batch that fails is processed again).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from threadline.channels.base import InboundMessage
from threadline.workspace.models import ChannelAccount

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

Interceptor = Callable[["Runtime", Session, ChannelAccount, InboundMessage], bool]
_interceptors: dict[str, Interceptor] = {}


def interceptor(name: str) -> Callable[[Interceptor], Interceptor]:
    """Register `fn` (idempotent by `name`: importing a module twice registers it once)."""

    def register(fn: Interceptor) -> Interceptor:
        _interceptors[name] = fn
        return fn

    return register


def consumed(runtime: Runtime, session: Session, account: ChannelAccount,
             item: InboundMessage) -> bool:
    """True when an interceptor took the item (it must not become a message)."""
    if item.author.is_self:
        return False
    return any(fn(runtime, session, account, item) for fn in _interceptors.values())
