"""Shared helpers of the Telegram adapter tests."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from threadline.channels.base import AccountConfig, WebhookRequest

SECRET = "s3cr3t_Token-1"
BOT_TOKEN = "6000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CONFIG: dict[str, Any] = {"bot_token": BOT_TOKEN, "secret_token": SECRET,
                          "api_base_url": "https://api.telegram.org",
                          "own_chat_ids": ["-1009876543210"]}
ACCOUNT = AccountConfig(id="acct-tg-1", kind="telegram", name="Acme bot", config=CONFIG)
URL = "https://care.example.com/webhooks/telegram/acct-tg-1"


def fixture(name: str) -> dict[str, Any]:
    folder = resources.files("threadline.channels.telegram").joinpath("fixtures")
    data: dict[str, Any] = json.loads(folder.joinpath(name).read_text())
    return data


def fixture_names() -> list[str]:
    folder = resources.files("threadline.channels.telegram").joinpath("fixtures")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))


def update_fixtures() -> list[str]:
    return [n for n in fixture_names() if "update_id" in fixture(n)]


def request(body: bytes, secret: str | None = SECRET) -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-telegram-bot-api-secret-token"] = secret
    return WebhookRequest("POST", URL, headers, {}, body)


def fixture_request(name: str) -> WebhookRequest:
    return request(json.dumps(fixture(name)).encode())
