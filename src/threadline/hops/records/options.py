"""Transparency of options: the channels the company offers, shown on the link pages and
insertable in replies. A workspace setting (`Workspace.settings["offered_channels"]`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from threadline.db.base import utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.events.service import audit
from threadline.workspace.models import Workspace

SETTING = "offered_channels"
KINDS = ("x", "facebook", "messenger", "instagram", "whatsapp", "sms", "phone", "telegram",
         "email", "webchat", "web")
MAX_CHANNELS = 20
DEFAULT: list[dict[str, str]] = [
    {"kind": "webchat", "label": "Chat with us on our website", "address": ""},
    {"kind": "email", "label": "Email", "address": ""},
    {"kind": "phone", "label": "We call you back", "address": ""},
]


def _clean(entry: Any) -> dict[str, str]:
    if not isinstance(entry, dict):
        raise ValidationFailed("each offered channel is an object with kind, label, address",
                               code="invalid_offered_channels")
    kind = str(entry.get("kind") or "").strip()
    label = str(entry.get("label") or "").strip()
    address = str(entry.get("address") or "").strip()
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}",
                               code="invalid_offered_channels")
    if not label or len(label) > 120 or len(address) > 300:
        raise ValidationFailed("a label is 1-120 characters, an address at most 300",
                               code="invalid_offered_channels")
    return {"kind": kind, "label": label, "address": address}


def offered_channels(session: Session, workspace_id: uuid.UUID) -> list[dict[str, str]]:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("workspace not found")
    stored = (workspace.settings or {}).get(SETTING)
    if not isinstance(stored, list):
        return [dict(d) for d in DEFAULT]
    return [_clean(e) for e in stored]


def set_offered_channels(session: Session, workspace_id: uuid.UUID, channels: list[Any], *,
                         actor_type: str, actor_id: str | None) -> list[dict[str, str]]:
    if len(channels) > MAX_CHANNELS:
        raise ValidationFailed(f"at most {MAX_CHANNELS} channels",
                               code="invalid_offered_channels")
    clean = [_clean(e) for e in channels]
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("workspace not found")
    settings = dict(workspace.settings or {})
    settings[SETTING] = clean
    workspace.settings = settings
    audit(session, workspace_id, "workspace.offered_channels_set", "workspace", workspace_id,
          actor_type=actor_type, actor_id=actor_id,
          data={"kinds": [c["kind"] for c in clean], "at": utcnow().isoformat()})
    return clean


def as_text(channels: list[dict[str, str]]) -> str:
    """One line for a reply: 'You can also reach us by: Email (help@acme.example), ...'."""
    parts = [f"{c['label']} ({c['address']})" if c["address"] else c["label"] for c in channels]
    return "You can also reach us by: " + "; ".join(parts) + "." if parts else ""
