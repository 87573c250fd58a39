"""Triage of inbound messages inside the batch (docs/design.md: identity -> triage -> threading):
annotations on the message, conversation fields, and the privacy reactions to personal data
posted in public (flag, mask by default, suggest a hop, hide where allowed and wanted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from threadline.channels.base import InboundMessage, Visibility
from threadline.channels.registry import get_adapter
from threadline.triage import TriageModel, analyze
from threadline.workspace.models import ChannelAccount

PRIORITY_BY_URGENCY = ((0.8, 3), (0.55, 2), (0.3, 1))


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
