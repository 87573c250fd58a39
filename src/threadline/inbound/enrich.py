"""Triage of inbound messages inside the batch (docs/design.md: identity -> triage -> threading):
annotations on the message, conversation fields, and the privacy reactions to personal data
posted in public (flag, mask by default, suggest a hop, hide where allowed and wanted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from threadline.channels.base import InboundMessage, Visibility
from threadline.channels.registry import get_adapter
from threadline.conversations.queue import DEFAULT_PRIORITY, P1, P2, P3, Relevance
from threadline.triage import TriageModel, analyze
from threadline.triage.public_answers import PublicAnswers, apply_public_answers
from threadline.workspace.models import ChannelAccount

# triage's urgency (0..1) -> priority on the support teams' scale: 1 = P1 (most urgent) .. 4
PRIORITY_BY_URGENCY = ((0.8, P1), (0.55, P2), (0.3, P3))


def priority_for(urgency: float, relevance: str | None = None) -> int:
    """P1 .. P4 from the urgency; a direct question (or private message) is at least P3."""
    level = next((p for threshold, p in PRIORITY_BY_URGENCY if urgency >= threshold),
                 DEFAULT_PRIORITY)
    if relevance == Relevance.DIRECT:
        level = min(level, P3)  # direct questions and complaints rank before chatter
    return level


@dataclass(frozen=True)
class Enrichment:
    triage: dict[str, Any]
    priority: int  # 1 = P1 .. 4 = P4
    relevance: str  # direct | mention | competitor | chatter
    public_pii: bool
    hide: bool


def enrich(account: ChannelAccount, item: InboundMessage, model: TriageModel | None,
           answers: PublicAnswers | None = None) -> Enrichment:
    result = analyze(item.text, channel=account.kind, visibility=item.visibility.value,
                     brand_handles=tuple(account.config.get("brand_handles") or ()),
                     competitor_handles=tuple(account.config.get("competitor_handles") or ()),
                     model=model)
    if answers is not None:  # the workspace's public-answer topics decide public_ok
        result = apply_public_answers(result, item.text, answers)
    data = result.to_dict()
    public_pii = item.visibility is Visibility.PUBLIC and bool(result.pii)
    if public_pii:
        data["suggest_hop"] = "privacy"
    hide = (public_pii and bool(account.config.get("hide_public_pii"))
            and get_adapter(account.kind).traits.can_hide)
    return Enrichment(triage=data, priority=priority_for(result.urgency, result.relevance),
                      relevance=result.relevance, public_pii=public_pii, hide=hide)
