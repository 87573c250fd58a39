"""The brand's own contact details (`Workspace.settings["brand_contacts"]`): the only emails,
phones and URLs a public reply may give. An explicit admin setting, validated, normalised
(emails in lower case, phones in E.164, URLs with a lower-case scheme and host) and audited.
It lives with the coordinate rules (contacts/rules.py), which the workspace layer cannot use."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.orm import Session

from threadline.contacts.rules import normalize_email, normalize_phone
from threadline.errors import NotFound, ValidationFailed
from threadline.events.service import audit
from threadline.workspace.models import Workspace

SETTING = "brand_contacts"
MAX_CONTACTS = 50
MAX_LENGTH = 320
_EMAIL = re.compile(r"[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_UNSAFE = re.compile(r"[\s<>\"'`\\\x00-\x1f\x7f]")


class InvalidBrandContact(ValidationFailed):
    code = "invalid_brand_contact"


def clean_contact(raw: Any) -> str:
    """One contact in its canonical form, or a typed 422 saying what is wrong with it."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_LENGTH:
        raise InvalidBrandContact(f"each brand contact is a text of 1-{MAX_LENGTH} characters")
    text = raw.strip()
    if text.lower().startswith(("http://", "https://")):
        parts = urlsplit(text)
        if _UNSAFE.search(text) or not parts.hostname or parts.username or parts.password:
            raise InvalidBrandContact("a URL needs a host and no spaces, quotes or credentials")
        path = "" if parts.path == "/" else parts.path
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))
    if "@" in text:
        email = normalize_email(text)
        if not _EMAIL.fullmatch(email):
            raise InvalidBrandContact("not an email address")
        return email
    if not re.fullmatch(r"[+0-9 ().\-/]+", text):
        raise InvalidBrandContact(
            "a brand contact is an email, a phone number (+44 20 7946 0958) or an http(s) URL")
    try:
        return normalize_phone(text)
    except ValidationFailed:
        raise InvalidBrandContact("give phone numbers in international format, with + and the "
                                  "country code (+44 20 7946 0958)") from None


def _workspace(session: Session, workspace_id: uuid.UUID) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("workspace not found")
    return workspace


def brand_contacts(session: Session, workspace_id: uuid.UUID) -> list[str]:
    stored = (_workspace(session, workspace_id).settings or {}).get(SETTING)
    return [str(c) for c in stored] if isinstance(stored, list) else []


def set_brand_contacts(session: Session, workspace_id: uuid.UUID, contacts: list[Any], *,
                       actor_type: str, actor_id: str | None) -> list[str]:
    """Replace the list (all or nothing: one bad entry stores nothing)."""
    if not isinstance(contacts, list) or len(contacts) > MAX_CONTACTS:
        raise InvalidBrandContact(f"at most {MAX_CONTACTS} brand contacts")
    clean = list(dict.fromkeys(clean_contact(c) for c in contacts))
    workspace = _workspace(session, workspace_id)
    before = brand_contacts(session, workspace_id)
    settings = dict(workspace.settings or {})
    settings[SETTING] = clean
    workspace.settings = settings
    audit(session, workspace_id, "workspace.brand_contacts_set", "workspace", workspace_id,
          actor_type=actor_type, actor_id=actor_id,
          data={"added": [c for c in clean if c not in before],
                "removed": [c for c in before if c not in clean]})
    return clean
