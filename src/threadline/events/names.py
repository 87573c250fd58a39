"""The real-time events: every name a publisher may put on a workspace's stream (`publish`,
`publish_many` take a `Live`, nothing else), and what the desktop does with each. The desktop's
pages carry this registry (`desktop_registry`, rendered into base.html) and its script
subscribes from it; tests/core/test_live_events.py checks that every event is published
somewhere and handled by the desktop, and that the scripts listen to no other name.

The API's stream (/api/v1/stream) carries the same events."""

from __future__ import annotations

from enum import StrEnum


class Live(StrEnum):
    MESSAGE_CREATED = "message.created"
    MESSAGE_DELIVERY = "message.delivery"
    MESSAGE_UPDATED = "message.updated"  # held, approved, hidden, unhidden
    MESSAGE_EDITED = "message.edited"  # by the customer on the provider
    MESSAGE_DELETED = "message.deleted"  # by the customer on the provider
    MESSAGE_PII = "message.pii"  # flagged: personal data in public
    CONVERSATION_UPDATED = "conversation.updated"
    CONVERSATION_MERGED = "conversation.merged"
    CUSTOMER_MERGED = "customer.merged"
    CUSTOMER_UNMERGED = "customer.unmerged"
    CUSTOMER_ERASED = "customer.erased"
    HOP_OFFERED = "hop.offered"
    HOP_TAKEN = "hop.taken"
    HOP_RETURNED = "hop.returned"
    HOP_TAKER = "hop.taker"
    CALLBACK_REQUESTED = "callback.requested"
    CALLBACK_UPDATED = "callback.updated"
    CALL_INCOMING = "call.incoming"
    CSAT_ANSWERED = "csat.answered"
    AUTOMATION_FIRED = "automation.fired"
    APPROVAL_CHANGED = "approval.changed"
    SLA_WARNING = "sla.warning"
    SLA_BREACH = "sla.breach"
    SLA_SETTINGS_CHANGED = "sla.settings_changed"
    ROUTING_CHANGED = "routing.changed"
    AGENT_PRESENCE = "agent.presence"
    AUTOMATION_RULES_CHANGED = "automation.rules_changed"
    QUALITY_CHANGED = "quality.changed"
    QUALITY_REVIEWED = "quality.reviewed"
    QUALITY_QUEUE_CHANGED = "quality.queue_changed"
    WEBHOOK_DISABLED = "webhook.disabled"  # an outbound webhook subscription gave up
    INCIDENT_UPDATED = "incident.updated"  # an incident's count, status, answer or sending


class Handling(StrEnum):
    REFRESH = "refresh"  # desktop.js: the inbox list and the open conversation's timeline
    NOTICE = "notice"  # a notice on every page (desktop.js, sla.js)
    PANEL = "panel"  # a page's panel reloads: hx-trigger="tl:<name> from:body"


HANDLING: dict[Live, Handling] = {
    **{name: Handling.REFRESH for name in (
        Live.MESSAGE_CREATED, Live.MESSAGE_DELIVERY, Live.MESSAGE_UPDATED, Live.MESSAGE_EDITED,
        Live.MESSAGE_DELETED, Live.MESSAGE_PII, Live.CONVERSATION_UPDATED,
        Live.CONVERSATION_MERGED, Live.CUSTOMER_MERGED, Live.CUSTOMER_UNMERGED,
        Live.CUSTOMER_ERASED, Live.HOP_OFFERED, Live.HOP_TAKEN, Live.HOP_RETURNED,
        Live.HOP_TAKER, Live.CALLBACK_REQUESTED, Live.CALLBACK_UPDATED, Live.CSAT_ANSWERED,
        Live.AUTOMATION_FIRED)},
    **{name: Handling.NOTICE for name in (Live.CALL_INCOMING, Live.SLA_WARNING,
                                          Live.SLA_BREACH, Live.WEBHOOK_DISABLED)},
    **{name: Handling.PANEL for name in (
        Live.APPROVAL_CHANGED, Live.SLA_SETTINGS_CHANGED, Live.ROUTING_CHANGED,
        Live.AGENT_PRESENCE, Live.AUTOMATION_RULES_CHANGED, Live.QUALITY_CHANGED,
        Live.QUALITY_REVIEWED, Live.QUALITY_QUEUE_CHANGED, Live.INCIDENT_UPDATED)},
}


def desktop_registry() -> dict[str, list[str]]:
    """What the desktop's script subscribes to, by what it does (rendered into base.html)."""
    out: dict[str, list[str]] = {h.value: [] for h in Handling}
    for name in Live:
        out[HANDLING[name].value].append(name.value)
    return out
