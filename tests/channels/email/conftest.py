"""Fixtures of the email channel tests: one Dovecot and one aiosmtpd per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.email.email_helpers import make_account
from tests.mailservers import DovecotServer, SmtpServer, dovecot_server, smtp_server
from threadline.channels.base import AccountConfig
from threadline.channels.email.adapter import EmailAdapter


def pytest_configure(config: pytest.Config) -> None:
    # aiosmtpd warns (from its server thread) about AUTH without TLS: fine on loopback
    config.addinivalue_line(
        "filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning")


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
