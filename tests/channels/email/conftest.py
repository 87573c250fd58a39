"""Fixtures of the email channel tests: one Dovecot and one aiosmtpd per session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # `tests` has no __init__.py: make `tests.mailservers` importable
    sys.path.insert(0, str(ROOT))

from tests.mailservers import (  # noqa: E402
    DovecotServer,
    SmtpServer,
    dovecot_server,
    smtp_server,
)
from threadline.channels.base import AccountConfig  # noqa: E402
from threadline.channels.email.adapter import EmailAdapter  # noqa: E402

FIXTURES = ROOT / "src" / "threadline" / "channels" / "email" / "fixtures"
ADDRESS = "support@acme-support.com"


def make_account(**config: Any) -> AccountConfig:
    base: dict[str, Any] = {"address": ADDRESS, "display_name": "Acme Support"}
    base.update(config)
    return AccountConfig(id="acc-email-1", kind="email", name="Acme support mail", config=base)


@pytest.fixture
def adapter() -> EmailAdapter:
    return EmailAdapter()


@pytest.fixture
def account() -> AccountConfig:
    return make_account()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    with dovecot_server() as server:
        yield server


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> str:
    """A fresh, empty mailbox in the shared Dovecot for each test."""
    return dovecot.create_mailbox()


@pytest.fixture(scope="session")
def _smtp_session() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def smtp(_smtp_session: SmtpServer) -> Iterator[SmtpServer]:
    _smtp_session.handler.reset()
    yield _smtp_session
    _smtp_session.handler.reset()
