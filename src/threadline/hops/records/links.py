"""Short links: unguessable (>= 128 bits), expiring, single-purpose codes bound to a
conversation and customer. Only a hash of the code is stored.

Purposes: `chat`, `callback` and `email` are the public links an agent sends (a form behind
`/s/{code}`, usable once); `chat_session` is the private continuation handed to the browser of
whoever took a chat link (never shown publicly); `verify` proves a coordinate (docs/design.md).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.db.base import new_id, utcnow
from threadline.events.service import audit
from threadline.hops.records.models import ShortLink

CODE_BYTES = 18  # 144 bits
PURPOSES = ("chat", "callback", "email", "choice", "details", "chat_session", "verify")
FORM_PURPOSES = ("chat", "callback", "email", "choice", "details")
# A `choice` link lets the customer pick one of these forms (its `meta["choices"]`), or one of
# the company's other offered channels (WhatsApp, SMS) where it lists an address.
CHOICE_FORMS = ("chat", "callback", "email")
CHOICE_CHANNELS = ("whatsapp", "sms")
THREADING_PURPOSES = ("chat_session",)
LATE_GRACE = timedelta(hours=1)  # a message stored just before expiry is still threaded


# Where a bank account number could begin: two letters, two digits after a boundary ("-" and
# "_" of the URL-safe alphabet are boundaries to a reader). A code never holds one, so the
# public guard can never read a link it is sending as an IBAN.
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}")


def new_code() -> str:
    """A random URL-safe code of CODE_BYTES (a code with an IBAN-like start is drawn again:
    about one in forty, so the codes keep well over 140 bits)."""
    while True:
        code = secrets.token_urlsafe(CODE_BYTES)
        if not _IBAN_START.search(code):
            return code


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_short_link(session: Session, workspace_id: uuid.UUID, *, purpose: str,
                      conversation_id: uuid.UUID, customer_id: uuid.UUID | None,
                      ttl: timedelta = timedelta(days=7),
                      meta: dict[str, Any] | None = None) -> tuple[ShortLink, str]:
    code = new_code()
    link = ShortLink(id=new_id(), workspace_id=workspace_id, code_hash=hash_code(code),
                     purpose=purpose, conversation_id=conversation_id, customer_id=customer_id,
                     expires_at=utcnow() + ttl, meta=dict(meta or {}))
    session.add(link)
    session.flush()
    audit(session, workspace_id, "short_link.created", "conversation", conversation_id,
          data={"purpose": purpose, "link_id": str(link.id)})
    return link, code


def find_link(session: Session, code: str) -> ShortLink | None:
    if not code or len(code) > 128:
        return None
    return session.scalar(select(ShortLink).where(ShortLink.code_hash == hash_code(code)))


def resolve_link_token(session: Session, workspace_id: uuid.UUID,
                       token: str) -> uuid.UUID | None:
    """Threading rule 2: the conversation a link or form token is bound to.

    Only the private `chat_session` link threads: a public chat code (in a public reply, read
    by anyone) never writes into the case; whoever takes it through its form gets his own
    `chat_session` link (decision 0103).
    """
    link = find_link(session, token)
    if link is None or link.workspace_id != workspace_id:
        return None
    if link.purpose not in THREADING_PURPOSES:
        return None
    if link.expires_at + LATE_GRACE < utcnow():
        return None
    return link.conversation_id
