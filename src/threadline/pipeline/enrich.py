"""Triage of inbound messages inside the batch (DESIGN §4: identity -> triage -> threading):
annotations on the message, conversation fields, and the privacy reactions to personal data
posted in public (flag, mask by default, suggest a hop, hide where allowed and wanted)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.channels.base import InboundMessage, Visibility
from threadline.channels.registry import get_adapter
from threadline.triage import TriageModel, analyze, load_model
from threadline.workspace.models import ChannelAccount, TriageModelRecord

PRIORITY_BY_URGENCY = ((0.8, 3), (0.55, 2), (0.3, 1))


def workspace_model(session: Session, workspace_id: uuid.UUID) -> TriageModel | None:
    """The workspace's active model trained from its agents' corrections, if any."""
    data = session.scalar(select(TriageModelRecord.data).where(
        TriageModelRecord.workspace_id == workspace_id, TriageModelRecord.active.is_(True))
        .order_by(TriageModelRecord.created_at.desc()).limit(1))
    if data is None:
        return None
    try:
        return load_model(data)
    except ValueError:
        return None


def priority_for(urgency: float) -> int:
    for threshold, level in PRIORITY_BY_URGENCY:
        if urgency >= threshold:
            return level
    return 0


@dataclass(frozen=True)
class Enrichment:
    triage: dict[str, Any]
    priority: int
    public_pii: bool
    hide: bool


def enrich(account: ChannelAccount, item: InboundMessage,
           model: TriageModel | None) -> Enrichment:
    result = analyze(item.text, channel=account.kind, visibility=item.visibility.value,
                     brand_handles=tuple(account.config.get("brand_handles") or ()),
                     competitor_handles=tuple(account.config.get("competitor_handles") or ()),
                     model=model)
    data = result.to_dict()
    public_pii = item.visibility is Visibility.PUBLIC and bool(result.pii)
    if public_pii:
        data["suggest_hop"] = "privacy"
    hide = (public_pii and bool(account.config.get("hide_public_pii"))
            and get_adapter(account.kind).traits.can_hide)
    priority = priority_for(result.urgency)
    if result.relevance == "direct":
        priority = max(priority, 1)  # direct questions and complaints rank before chatter
    return Enrichment(triage=data, priority=priority, public_pii=public_pii, hide=hide)
