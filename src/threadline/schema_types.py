"""Field types shared by the API models (pydantic only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, Strict

# Input models are strict (no "5" accepted for a number), but JSON carries ids and times as
# strings: these two parse them.
UUIDIn = Annotated[uuid.UUID, Strict(False)]
DatetimeIn = Annotated[datetime, Strict(False)]

# The closed sets the API speaks, as Literal types (they become enums in the OpenAPI document).
# The sources of truth live in layers these shapes may not import; tests/core/test_api_enums.py
# checks that each copy matches its source.

# conversations.queue.PRIORITIES: the support teams' scale
Priority = Annotated[int, Field(ge=1, le=4, title="Priority", description=(
    "1 = P1 (most urgent), 2 = P2, 3 = P3, 4 = P4 (the default); agents read it as P1..P4."))]
# conversations.queue.Relevance.ALL: triage's relevance of the most relevant customer message
RelevanceName = Literal["direct", "mention", "competitor", "chatter"]
# conversations.inbox.RELEVANCE_FILTERS: the queue's relevances, every one, or one
RelevanceFilter = Literal["queue", "all", "direct", "mention", "competitor", "chatter"]
# conversations.inbox.VIEWS
InboxView = Literal["active", "open", "pending", "snoozed", "resolved", "all", "mentions",
                    "competitors", "chatter"]
# conversations.queue.SORTS
InboxSort = Literal["queue", "recent"]
# conversations.models.Status.ALL
ConversationStatus = Literal["open", "pending", "snoozed", "resolved", "closed"]
# channels.base.Visibility
VisibilityName = Literal["public", "private"]
# channels.base.Direction
DirectionName = Literal["inbound", "outbound"]
# channels.base.DeliveryState, plus a public reply held for approval and one rejected
# (outbound.approval_rules.HOLD_DELIVERIES: never sent, so never a provider's state)
DeliveryName = Literal["pending", "sent", "delivered", "read", "failed", "received", "held",
                       "rejected"]
# channels.base.MessageKind, plus internal notes
MessageKindName = Literal["message", "post", "comment", "call", "note"]
# channels.registry.kinds()
ChannelKind = Literal["api", "discourse", "email", "facebook", "instagram", "messenger", "sms",
                      "telegram", "voice", "webchat", "whatsapp", "x"]
# workspace.models.Role.ALL
RoleName = Literal["agent", "supervisor", "admin"]
# hops.service.METHODS and REASONS (the ways, and why, a conversation leaves a public channel)
HopMethod = Literal["dm_invite", "private_reply", "chat_link", "callback_form", "email_form",
                    "choice_link"]
# hops.links.CHOICE_FORMS and CHOICE_CHANNELS (what a choice link may offer)
HopChoice = Literal["chat", "callback", "email", "whatsapp", "sms"]
HopReason = Literal["privacy", "practicality", "customer_choice"]
# hops.callbacks.OUTCOMES
CallbackOutcome = Literal["completed", "no_answer", "busy", "failed", "canceled"]
# events.deadletters: inbound events and outbox jobs
DeadLetterKind = Literal["inbound", "job"]
# hops.options.KINDS (what the company offers: channels, and also "phone" and "web")
OfferedKind = Literal["x", "facebook", "messenger", "instagram", "whatsapp", "sms", "phone",
                      "telegram", "email", "webchat", "web"]
# hops.callbacks: OPEN_STATES, the OUTCOMES (a finished call's state is its outcome), and the
# worker's expired (window passed), unknown (placing interrupted: never dialled twice)
CallbackState = Literal["scheduled", "placing", "placed", "completed", "no_answer", "busy",
                        "failed", "canceled", "expired", "unknown"]
