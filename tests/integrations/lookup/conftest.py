"""Fixtures of the customer data lookup tests: the brand's endpoint (a real HTTP server on
127.0.0.1, tests/integrations/lookup/receiver.py), a customer with an email, a phone number
and an id of the brand's, and a helper that configures the endpoint through the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests import log_scan
from tests.desktop.conftest import admin_desk, agent_desk, supervisor_desk  # noqa: F401
from tests.integrations.lookup.receiver import Receiver, ReceiverServer
from threadline.contacts.models import Customer, Evidence
from threadline.contacts.service import create_customer, link_identity
from threadline.jobs.runtime import Runtime

CONFIG = "/api/v1/integrations/customer-data"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with ReceiverServer() as receiver:
        yield receiver


@dataclass(frozen=True)
class Known:
    id: uuid.UUID
    email: str
    phone: str


def make_customer(runtime: Runtime, workspace_id: uuid.UUID) -> Known:
    tag = uuid.uuid4().hex[:8]
    email, phone = f"alice-{tag}@example.com", f"+1555{int(tag, 16) % 10**7:07d}"
    with runtime.db.session() as session:
        customer = create_customer(session, workspace_id, name="Alice Doe")
        customer.external_ids = {"shopify": "7001"}
        link_identity(session, workspace_id, customer.id, kind="email", address=email,
                      evidence=Evidence.VERIFIED)
        link_identity(session, workspace_id, customer.id, kind="whatsapp", address=phone,
                      evidence=Evidence.PROVIDER)
        return Known(customer.id, email, phone)


@pytest.fixture
def customer(runtime: Runtime, workspace_id: uuid.UUID) -> Known:
    return make_customer(runtime, workspace_id)


def configure(client: Any, receiver: Receiver, mode: str, *, timeout: int = 1,
              cache: int = 60, enabled: bool = True) -> dict[str, Any]:
    """PUT the endpoint `{receiver}/{mode}`; the secret shown on creation goes to the
    receiver (the brand copies it into its own system)."""
    response = client.put(CONFIG, json={"url": f"{receiver.url}/{mode}", "enabled": enabled,
                                        "timeout_seconds": timeout, "cache_seconds": cache})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    if body["secret"]:
        receiver.secret = body["secret"]
        log_scan.remember(body["secret"])
    return body


def customer_row(runtime: Runtime, customer_id: uuid.UUID) -> Customer | None:
    with runtime.db.session(write=False) as session:
        return session.get(Customer, customer_id)
