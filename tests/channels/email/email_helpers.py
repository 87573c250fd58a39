"""Shared helpers of the email channel tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from threadline.channels.base import AccountConfig
from threadline.channels.urls import UrlPolicy

ALLOW_CUSTOM = UrlPolicy(allow_custom=True)  # local mail servers on 127.0.0.1

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "src" / "threadline" / "channels" / "email" / "fixtures"
ADDRESS = "support@acme-support.com"
# email ignores the `http` argument of poll() and send(); this client never connects
NO_HTTP = httpx.Client()
OUR_ID = "6bdc3f4d-0bec-4515-a284-5d916fdde489"


def make_account(**config: Any) -> AccountConfig:
    base: dict[str, Any] = {"address": ADDRESS, "display_name": "Acme Support"}
    base.update(config)
    return AccountConfig(id="acc-email-1", kind="email", name="Acme support mail", config=base,
                         urls=ALLOW_CUSTOM)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
