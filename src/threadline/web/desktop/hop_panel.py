"""The hop card of the conversation view: which offers fit this conversation, the drafted
public follow-up once a hopped conversation is resolved, and who took a public link without
being proven to be the customer (the timeline marks his messages; decision 0103)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from threadline.conversations.models import Conversation, Status
from threadline.errors import ThreadlineError
from threadline.hops.flow import offers as hop_flow
from threadline.hops.flow.marks import conversation_marks
from threadline.hops.records.service import REASONS

LABELS = {"dm_invite": "Invite to DM", "private_reply": "Private reply",
          "chat_link": "Send chat link", "callback_form": "Offer a callback",
          "email_form": "Continue by email", "choice_link": "Let the customer choose"}
PUBLIC_ONLY = {"dm_invite": ("x",), "private_reply": ("facebook", "instagram")}


def hop_panel(session: Session, conv: Conversation) -> dict[str, Any]:
    """What the hop card shows: the offers possible here, and a drafted public follow-up."""
    methods = [m for m in LABELS
               if m not in PUBLIC_ONLY or conv.origin_channel in PUBLIC_ONLY[m]]
    if conv.origin_visibility != "public":
        methods = [m for m in methods if m not in PUBLIC_ONLY]
    draft = None
    if conv.status in (Status.RESOLVED, Status.CLOSED):
        try:
            draft = hop_flow.draft_follow_up(session, conv.workspace_id, conv.id)
        except ThreadlineError:
            draft = None
    marks = conversation_marks(session, conv.id)
    return {"methods": [(m, LABELS[m]) for m in methods], "reasons": REASONS, "draft": draft,
            "marks": marks, "takers": marks.pending}
