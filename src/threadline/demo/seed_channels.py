"""The demo's WhatsApp templates and phone: the sandbox's WhatsApp Business account holds
three templates (two approved, one pending) that the demo syncs, so the composer offers them
on a conversation whose 24-hour window has closed; the demo admin has a phone number, so
click-to-call rings him through the sandbox's Twilio first."""

from __future__ import annotations

import uuid

from threadline.conversations.service import SYSTEM
from threadline.hops.flow.phone import set_agent_phone
from threadline.jobs.runtime import Runtime
from threadline.outbound.whatsapp_templates import request_sync
from threadline.sandbox.providers import meta
from threadline.workspace.models import Agent

DEMO_WABA = "102290129340398"
DEMO_AGENT_PHONE = "+14155550199"
TEMPLATES = [
    {"name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
     "components": [{"type": "BODY",
                     "text": "Hi {{1}}, your order {{2}} has shipped. Reply here with any "
                             "question."}]},
    {"name": "follow_up", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
     "components": [{"type": "BODY",
                     "text": "Hello {{first_name}}, we are following up on your request. "
                             "Is there anything else we can do?"}]},
    {"name": "spring_sale", "language": "en_US", "status": "PENDING",
     "category": "MARKETING", "components": [{"type": "BODY", "text": "Spring sale soon."}]},
]


def seed_whatsapp_templates(runtime: Runtime, workspace_id: uuid.UUID,
                            account_id: str) -> None:
    """Seed the sandbox's templates and queue the account's sync (the worker runs it)."""
    meta.seed_templates(DEMO_WABA, TEMPLATES)
    with runtime.db.session() as session:
        request_sync(session, workspace_id, uuid.UUID(account_id), SYSTEM)


def seed_agent_phone(runtime: Runtime, agent_id: uuid.UUID) -> None:
    with runtime.db.session() as session:
        agent = session.get(Agent, agent_id)
        if agent is not None and not agent.phone:
            set_agent_phone(session, agent, DEMO_AGENT_PHONE)
