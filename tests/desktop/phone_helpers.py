"""Shared set-up of the phone tests (issue 15): a voice account on the sandbox's Twilio, a
customer's conversation with his phone number linked, an agent with his own phone."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from tests.factories import only_api_conversation
from threadline.contacts.models import Evidence
from threadline.contacts.service import link_identity
from threadline.hops.flow.phone import set_agent_phone
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import Agent
from threadline.workspace.service import create_channel_account

FROM_NUMBER = "+15559870000"


@dataclass
class PhoneSetup:
    conversation_id: str
    customer_id: uuid.UUID
    customer_phone: str
    voice_id: uuid.UUID
    config: dict[str, Any]


def voice_account(runtime: Runtime, workspace_id: uuid.UUID, sandbox_url: str,
                  **extra: Any) -> tuple[uuid.UUID, dict[str, Any]]:
    config = {"account_sid": "AC" + secrets.token_hex(16), "auth_token": "sandbox-token",
              "from_number": FROM_NUMBER, "api_base_url": f"{sandbox_url}/twilio", **extra}
    with runtime.db.session() as s:
        voice = create_channel_account(s, workspace_id, kind="voice", name="Phone",
                                       config=config)
        return voice.id, config


def random_number() -> str:
    return f"+1415555{secrets.randbelow(10**4):04d}"


def customer_with_phone(runtime: Runtime, workspace_id: uuid.UUID, client: Any,
                        worker: Any, sandbox_url: str | None,
                        text: str = "please call me") -> PhoneSetup:
    """A customer wrote on X (the API channel plays it); his number is linked by an agent."""
    conv = only_api_conversation(runtime, workspace_id, client, worker, text)
    number = random_number()
    customer_id = uuid.UUID(conv["customer_id"])
    with runtime.db.session() as s:
        link_identity(s, workspace_id, customer_id, kind="phone", address=number,
                      evidence=Evidence.AGENT, actor_type="agent", actor_id=None)
    voice_id, config = (voice_account(runtime, workspace_id, sandbox_url) if sandbox_url
                        else (uuid.uuid4(), {}))
    return PhoneSetup(conv["id"], customer_id, number, voice_id, config)


def give_phone(runtime: Runtime, agent_id: uuid.UUID, number: str) -> None:
    with runtime.db.session() as s:
        agent = s.scalar(select(Agent).where(Agent.id == agent_id))
        assert agent is not None
        set_agent_phone(s, agent, number)


def twilio_calls(sandbox_url: str, path_part: str) -> list[dict[str, Any]]:
    import httpx

    calls = httpx.get(f"{sandbox_url}/_sandbox/calls", params={"provider": "twilio"}).json()
    return [c for c in calls["calls"] if path_part in c["path"]]
