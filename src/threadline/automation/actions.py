"""What a rule's actions do to a conversation. Each goes through the service an agent's action
goes through (assignment, labels, triage fields, status, `post_reply`), as the automation
actor, so the same checks, audit records and conversation events follow; raising a
ThreadlineError fails the rule (engine.py rolls its actions back and records why)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.automation.schemas import (
    Action,
    AddLabel,
    AssignAgent,
    AssignTeam,
    ResolveAsSpam,
    SendTemplate,
    SetPriority,
    Snooze,
)
from threadline.contacts.models import Customer, Identity
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.service import (
    Actor,
    assign,
    set_labels,
    set_status,
    set_triage_fields,
)
from threadline.db.base import utcnow
from threadline.errors import PolicyViolation
from threadline.outbound.replies import Reply, post_reply
from threadline.workspace.templates import access_template, render

SPAM = "spam"


def automation_actor(rule_id: object) -> Actor:
    """Automation acts as the system (its replies are authored "automation"), named by rule."""
    return Actor("system", f"automation:{rule_id}")


def _add_label(session: Session, conv: Conversation, label: str, actor: Actor) -> bool:
    labels = [str(existing) for existing in conv.labels or ()]
    if label.casefold() in {existing.casefold() for existing in labels}:
        return False
    set_labels(session, conv, [*labels, label], actor)
    return True


def template_values(session: Session, conv: Conversation) -> dict[str, str | None]:
    """The {variables} a template may use, for this conversation (no agent: automation)."""
    customer = session.get(Customer, conv.customer_id) if conv.customer_id else None
    handle = session.scalar(
        select(Identity.handle).join(Message, Message.identity_id == Identity.id)
        .where(Message.conversation_id == conv.id, Message.direction == "inbound",
               Identity.handle.is_not(None))
        .order_by(Message.created_at.desc()).limit(1))
    name = customer.name if customer is not None else None
    return {"customer_name": name, "first_name": name.split()[0] if name else None,
            "handle": handle, "agent_name": None, "agent_first_name": None,
            "conversation_id": str(conv.id)[:8]}


def _send_template(session: Session, conv: Conversation, action: SendTemplate,
                   actor: Actor) -> dict[str, Any]:
    template = access_template(session, conv.workspace_id, action.template_id)
    if template.approval != "approved":
        raise PolicyViolation(f"template '{template.name}' is not approved ({template.approval})",
                              code="template_not_approved")
    if template.visibilities and action.visibility not in template.visibilities:
        raise PolicyViolation(f"template '{template.name}' is not for {action.visibility} "
                              "replies", code="template_visibility")
    text = render(template.body, template_values(session, conv))
    message = post_reply(session, conv.workspace_id, conv.id,
                         Reply(text=text, visibility=action.visibility), actor)
    if template.channels and message.channel not in template.channels:
        raise PolicyViolation(f"template '{template.name}' is not for {message.channel}",
                              code="template_channel")
    return {"message_id": str(message.id), "delivery": message.delivery}


def perform(session: Session, conv: Conversation, action: Action,
            actor: Actor) -> dict[str, Any]:
    """Do one action; what it did, for the run's record."""
    outcome: dict[str, Any] = {"type": action.type}
    if isinstance(action, AssignTeam):
        assign(session, conv, None, actor, team_id=action.team_id)
    elif isinstance(action, AssignAgent):
        assign(session, conv, action.agent_id, actor)
    elif isinstance(action, AddLabel):
        outcome["changed"] = _add_label(session, conv, action.label, actor)
    elif isinstance(action, SetPriority):
        outcome["changed"] = conv.priority != action.priority
        if outcome["changed"]:
            set_triage_fields(session, conv, {"priority": action.priority}, actor)
    elif isinstance(action, SendTemplate):
        outcome.update(_send_template(session, conv, action, actor))
    elif isinstance(action, Snooze):
        until = utcnow() + timedelta(minutes=action.minutes)
        set_status(session, conv, Status.SNOOZED, actor, snooze_until=until)
        outcome["until"] = until.isoformat()
    elif isinstance(action, ResolveAsSpam):
        _add_label(session, conv, SPAM, actor)
        set_status(session, conv, Status.RESOLVED, actor)
    return outcome
