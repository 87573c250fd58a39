"""Which public replies wait for a supervisor (the workspace's approval policy), and holding
one: the reply becomes a message in `delivery = "held"` with its review row, and no outbox job.

The policy lives in `Workspace.settings["approval_policy"]`; its parts combine with "or":
`all` public replies, those by agents `in_training`, those on conversations of certain
`categories` (e.g. complaint), and those `not_from_template` (not an approved template's text).
An agent without the permission "may post in public" always has his public replies held.
Private replies and notes are never held. The review itself is `outbound/approval.py`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.contacts.models import Customer, Identity
from threadline.conversations.approvals import ApprovalState, ReplyApproval
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import Actor
from threadline.errors import NotFound
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.triage import CATEGORIES
from threadline.workspace.models import Agent, Template
from threadline.workspace.service import read_setting, write_setting
from threadline.workspace.templates import VARIABLE

SETTING = "approval_policy"
HELD = "held"  # messages.delivery of a reply awaiting approval
REJECTED = "rejected"  # messages.delivery of a reply a supervisor rejected (never sent)
HOLD_DELIVERIES = (HELD, REJECTED)
MAX_VARIABLE = 80  # characters a template variable may be filled with


class ApprovalPolicy(BaseModel):
    """What needs approval (any part that holds, holds). Validated as the API body and the
    settings form; stored as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    all: StrictBool = False
    in_training: StrictBool = False
    categories: list[str] = Field(default_factory=list, max_length=len(CATEGORIES))
    not_from_template: StrictBool = False

    @field_validator("categories")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown category; one of {', '.join(CATEGORIES)}")
        return sorted(set(value))


def approval_policy(session: Session, workspace_id: uuid.UUID) -> ApprovalPolicy:
    # saved by an older version and unreadable: the safe reading holds every public reply
    return read_setting(session, workspace_id, SETTING, ApprovalPolicy,
                        unreadable=ApprovalPolicy(all=True))


def set_approval_policy(session: Session, workspace_id: uuid.UUID, policy: ApprovalPolicy,
                        actor: Actor) -> ApprovalPolicy:
    data = write_setting(session, workspace_id, SETTING, policy)
    audit(session, workspace_id, "workspace.approval_policy_set", "workspace", workspace_id,
          actor_type=actor.type, actor_id=actor.id, data=data)
    return policy


# --- deciding ----------------------------------------------------------------------------------


def _template_pattern(body: str, values: dict[str, str | None]) -> re.Pattern[str]:
    """The template's text with its known variables filled and the others free (at most
    MAX_VARIABLE characters on one line, or left as written), spaces normalised."""
    parts: list[str] = []
    last = 0
    for match in VARIABLE.finditer(body):
        parts.append(re.escape(body[last:match.start()]))
        value = values.get(match.group(1))
        parts.append(re.escape(value) if value else
                     f"(?:{re.escape(match.group(0))}|[^\\n]{{1,{MAX_VARIABLE}}}?)")
        last = match.end()
    parts.append(re.escape(body[last:]))
    return re.compile(re.sub(r"(?:\\\s)+", r"\\s+", "".join(parts)))


def _values(session: Session, conv: Conversation, agent: Agent | None) -> dict[str, str | None]:
    customer = session.get(Customer, conv.customer_id) if conv.customer_id else None
    handle = session.scalar(
        select(Identity.handle).join(Message, Message.identity_id == Identity.id)
        .where(Message.conversation_id == conv.id, Message.direction == "inbound",
               Identity.handle.is_not(None)).order_by(Message.created_at.desc()).limit(1))
    name = customer.name if customer is not None else None
    return {"customer_name": name, "first_name": name.split()[0] if name else None,
            "handle": handle, "agent_name": agent.name if agent else None,
            "agent_first_name": agent.name.split()[0] if agent and agent.name else None,
            "conversation_id": str(conv.id)[:8]}


def from_approved_template(session: Session, conv: Conversation, channel: str, text: str,
                           agent: Agent | None) -> bool:
    """Is `text` an approved public template of the workspace for `channel`, as rendered for
    this conversation (the customer's and the agent's names as the server knows them; a
    variable it cannot fill may hold a short line)? Any other edit makes it the agent's."""
    templates = [t for t in session.scalars(select(Template).where(
        Template.workspace_id == conv.workspace_id, Template.approval == "approved"))
        if (not t.channels or channel in t.channels)
        and (not t.visibilities or "public" in t.visibilities)]
    if not templates:
        return False
    values = _values(session, conv, agent)
    wanted = " ".join(text.split())
    return any(_template_pattern(" ".join(t.body.split()), values).fullmatch(wanted)
               for t in templates)


@dataclass(frozen=True)
class Author:
    agent: Agent | None
    type: str  # agent | automation | token


def _author(session: Session, actor: Actor) -> Author:
    agent = session.get(Agent, actor.agent_id) if actor.agent_id else None
    if agent is not None:
        return Author(agent, "agent")
    return Author(None, "automation" if actor.type == "system" else actor.type)


def reasons_to_hold(session: Session, conv: Conversation, actor: Actor, *, visibility: str,
                    channel: str, text: str) -> list[str]:
    """Why this reply must wait for approval (empty: it goes out now)."""
    if visibility != "public":
        return []
    author = _author(session, actor)
    policy = approval_policy(session, conv.workspace_id)
    reasons = []
    if author.agent is not None and not author.agent.may_post_public:
        reasons.append("may_not_post_public")
    if policy.all:
        reasons.append("all")
    if policy.in_training and author.agent is not None and author.agent.in_training:
        reasons.append("in_training")
    if conv.category and conv.category in policy.categories:
        reasons.append(f"category:{conv.category}")
    if policy.not_from_template and not from_approved_template(session, conv, channel, text,
                                                               author.agent):
        reasons.append("not_from_template")
    return reasons


def hold(session: Session, conv: Conversation, message: Message, actor: Actor,
         reasons: list[str], *, send_job: str, job_payload: dict[str, Any]) -> ReplyApproval:
    """Record the held reply's review (the message is already `held`); supervisors see it in
    their approval queue at once."""
    author = _author(session, actor)
    approval = ReplyApproval(
        workspace_id=conv.workspace_id, conversation_id=conv.id, message_id=message.id,
        author_type=author.type, author_agent_id=author.agent.id if author.agent else None,
        author_actor=(actor.id or "")[:80] or None, state=ApprovalState.PENDING,
        held_for=reasons, text=message.text, send_job=send_job,
        job_payload=dict(job_payload), created_at=message.created_at)
    session.add(approval)
    session.flush()
    audit(session, conv.workspace_id, "reply.held", "message", message.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"conversation_id": str(conv.id), "approval_id": str(approval.id),
                "held_for": reasons})
    publish(session, conv.workspace_id, Live.APPROVAL_CHANGED,
            {"approval_id": str(approval.id), "conversation_id": str(conv.id),
             "message_id": str(message.id), "state": approval.state})
    return approval


# --- agents' flags -----------------------------------------------------------------------------


def access_agent(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None or agent.workspace_id != workspace_id:
        raise NotFound("agent not found", code="agent_not_found")
    return agent


def set_agent_flags(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID, actor: Actor,
                    *, in_training: bool | None = None,
                    may_post_public: bool | None = None) -> Agent:
    """Mark an agent in training, or take away (give back) his permission to post in public."""
    agent = access_agent(session, workspace_id, agent_id)
    changed: dict[str, bool] = {}
    if in_training is not None and in_training != agent.in_training:
        agent.in_training = changed["in_training"] = in_training
    if may_post_public is not None and may_post_public != agent.may_post_public:
        agent.may_post_public = changed["may_post_public"] = may_post_public
    if changed:
        audit(session, workspace_id, "agent.approval_flags_set", "agent", agent.id,
              actor_type=actor.type, actor_id=actor.id, data=changed)
    return agent
