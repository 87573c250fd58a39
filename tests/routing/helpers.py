"""Shared steps of the routing tests: agents, teams and rules through the API, customers
writing through real provider webhooks (WhatsApp, SMS), and where conversations went."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from threadline.conversations.models import Conversation, Message
from threadline.db.base import utcnow
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import meta, twilio
from threadline.workspace.models import Agent
from threadline.workspace.service import create_agent, create_channel_account

WA_CONFIG = {"app_secret": "wa_app_secret", "verify_token": "vt", "access_token": "EAAG-tok",
             "phone_number_id": "106540352242922"}
SMS_CONFIG = {"account_sid": "AC" + "0" * 32, "auth_token": "sms_auth_token",
              "from_number": "+15559870000"}
SPANISH_COMPLAINT = ("Esto es una vergüenza, mi pedido llegó roto y nadie me contesta. "
                     "Quiero una solución ya, estoy muy enfadado.")


def agent(runtime: Runtime, workspace_id: uuid.UUID, name: str, *, skills: tuple[str, ...] = (),
          presence: str = "online", realtime: int = 3, delayed: int = 10,
          role: str = "agent") -> uuid.UUID:
    with runtime.db.session() as session:
        row, _ = create_agent(session, workspace_id, role=role, name=name,
                              email=f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.com")
        row.skills = list(skills)
        row.presence = presence
        row.capacity_realtime, row.capacity_delayed = realtime, delayed
        row.last_seen_at = utcnow()
        return row.id


def team(client: Any, name: str, members: list[uuid.UUID], *, skills: list[str] | None = None,
         language_required: bool = False) -> str:
    response = client.post("/api/v1/teams", json={
        "name": name, "skills": skills or [], "language_required": language_required,
        "members": [{"agent_id": str(m)} for m in members]})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def rule(client: Any, name: str, team_id: str, conditions: list[dict[str, Any]],
         required_skills: list[str] | None = None) -> str:
    response = client.post("/api/v1/routing/rules", json={
        "name": name, "team_id": team_id, "conditions": conditions,
        "required_skills": required_skills or []})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def whatsapp_account(runtime: Runtime, workspace_id: uuid.UUID) -> Any:
    with runtime.db.session() as session:
        return create_channel_account(session, workspace_id, kind="whatsapp", name="WhatsApp",
                                      config=dict(WA_CONFIG))


def sms_account(runtime: Runtime, workspace_id: uuid.UUID) -> Any:
    with runtime.db.session() as session:
        return create_channel_account(session, workspace_id, kind="sms", name="SMS",
                                      config=dict(SMS_CONFIG))


def whatsapp(client: Any, account: Any, text: str, *, phone: str = "34612345678",
             name: str = "Lucía") -> str:
    hook = meta.whatsapp_message_webhook(str(account.id), WA_CONFIG, text=text, wa_id=phone,
                                         name=name)
    response = client.post(hook.path, content=hook.body, headers=hook.headers)
    assert response.status_code == 200, response.text
    return hook.body.decode().split('"id":"wamid.')[1].split('"')[0]


def sms(client: Any, account: Any, text: str, *, phone: str = "+34612345678") -> None:
    hook = twilio.sms_webhook(str(account.id), SMS_CONFIG, phone, text,
                              base_url="http://testserver")
    response = client.post(hook.path, content=hook.body, headers=hook.headers)
    assert response.status_code in (200, 204), response.text


def conversations(runtime: Runtime, workspace_id: uuid.UUID,
                  channel: str | None = None) -> list[Conversation]:
    with runtime.db.session(write=False) as session:
        stmt = select(Conversation).where(Conversation.workspace_id == workspace_id)
        if channel:
            stmt = stmt.where(Conversation.id.in_(select(Message.conversation_id).where(
                Message.channel == channel)))
        return list(session.scalars(stmt.order_by(Conversation.created_at, Conversation.id)))


def presence_of(runtime: Runtime, agent_id: uuid.UUID) -> str:
    with runtime.db.session(write=False) as session:
        row = session.get(Agent, agent_id)
        assert row is not None
        return row.presence
