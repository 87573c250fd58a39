"""Listening's place in the inbound batch: an interceptor (inbound/intercept.py) offered every
customer item before threading.

For a public post it decides, in this order:
  1. noise (a retweet, a promotion, spam, a reply to someone else that names the brand
     nowhere: listening/rules.py::noise_reason) -> stored as a `filtered` listened post with
     its reason, consumed: never a message, so never in a queue, never routed, no service
     level, never grouped into an incident; a post "not for the brand" that matches a rule
     (a competitor's customer, the competitor's own answer) is a `listening` post instead;
  2. found by the recent search (`meta["via"] == "search"`) and not addressed to the brand
     -> stored as a `listening` post when it matches a rule (the provider's match is looser
     than ours), consumed either way (the Listening view, apart from the queues);
     a competitor's own reply marks the post it answers as answered;
  3. anything else that matches a rule -> stored as `queued` (listed in the Listening view)
     and left to the batch, which threads it as before.
Private items and the brand's own posts are never looked at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from threadline.channels.base import InboundMessage, Visibility
from threadline.inbound.intercept import interceptor
from threadline.listening.models import NoiseReason, PostState, RuleKind
from threadline.listening.rules import NoiseInput, noise_reason
from threadline.listening.service import config_for, mark_competitor_answer, record_post
from threadline.triage import analyze
from threadline.workspace.models import ChannelAccount

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

ADDRESSED = ("direct", "mention")


def _handles(account: ChannelAccount) -> tuple[str, ...]:
    return tuple(str(h) for h in (account.config or {}).get("brand_handles") or () if h)


@interceptor("listening")
def listen(runtime: Runtime, session: Session, account: ChannelAccount,
           item: InboundMessage) -> bool:
    if item.visibility is not Visibility.PUBLIC or item.author.is_self:
        return False
    config = config_for(session, account.workspace_id)
    rules = config.rules
    own_id = (account.config or {}).get("user_id")
    reason = noise_reason(NoiseInput(
        text=item.text, meta=item.meta, own_user_id=str(own_id) if own_id else None,
        brand_handles=_handles(account), brand_names=rules.of(RuleKind.BRAND_NAME)),
        all_reasons=config.noise_filter)
    via_search = item.meta.get("via") == "search"
    if reason is None and not via_search and not rules.rules:
        return False  # no rule to match and not noise: the cheap common case
    replied = item.meta.get("in_reply_to_screen_name")
    matched = rules.match(item.text, item.author.handle,
                          str(replied) if isinstance(replied, str) else None)
    competitor = rules.competitor_of(matched)
    if reason is None and not via_search and not matched:
        return False
    tri = analyze(item.text, channel=account.kind, visibility="public",
                  brand_handles=_handles(account),
                  competitor_handles=tuple(rules.of(RuleKind.COMPETITOR_HANDLE)))

    def keep(state: str) -> None:
        record_post(session, account, item, state=state, noise_reason=reason, matched=matched,
                    competitor=competitor, category=tri.category, sentiment=tri.sentiment,
                    answered_by=rules.of(RuleKind.COMPETITOR_HANDLE))

    if rules.is_competitor(item.author.handle) and item.in_reply_to:
        mark_competitor_answer(session, account.workspace_id, item.in_reply_to,
                               item.created_at)
    if reason == NoiseReason.NOT_FOR_BRAND and matched:
        # not for the brand, but what it listens for (a competitor's customer, the
        # competitor's own answer): the Listening view, still apart from the queues
        keep(PostState.LISTENING)
        return True
    if reason is not None:
        keep(PostState.FILTERED)
        return True
    addressed = (tri.relevance in ADDRESSED and bool(_handles(account))) or (
        own_id is not None and str(item.meta.get("in_reply_to_user_id")) == str(own_id))
    if via_search and not addressed:
        if matched:  # the provider's match is looser than ours (whole words)
            keep(PostState.LISTENING)
        return True
    keep(PostState.QUEUED)
    return False
