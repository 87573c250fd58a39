"""No personal data and no secret in the logs: real flows over real HTTP with the production
server options and JSON logs at DEBUG, then a grep of every line for the values they used.

The whole test run's log records get the same grep for the secrets every test used
(tests/log_scan.py, run by the session fixture in tests/conftest.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Serving, free_port
from tests.desktop.conftest import csrf_of, make_agent
from tests.factories import api_account, body, message_event, signed_headers
from tests.log_scan import remember
from threadline import logs
from threadline.config import Settings
from threadline.jobs.worker import Worker
from threadline.web.app import create_app
from threadline.web.proxies import server_config

NAME = "Zelda Quintfeather"
EMAIL = "zelda.quintfeather@example.org"
PHONE = "+44 7700 900 123"
CUSTOMER_TEXT = f"Hi, {NAME} here: write to {EMAIL} or call {PHONE}, my parcel is lost"
REPLY_TEXT = "Dear Zelda Quintfeather, your parcel left the depot today"
WRONG_PASSWORD = "not-the-Passw0rd-at-all"
FORGED_TOKEN = "tl_forged_token_for_the_log_test_0123456789"
VERIFY_TOKEN = "verify-me-please-hub-token"


@pytest.fixture
def debug_json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET_LOGGERS}
    out = io.StringIO()
    logs.configure(Settings(log_format="json", log_level="DEBUG"), stream=out)
    yield out
    for handler in list(root.handlers):
        if handler not in saved[0]:
            root.removeHandler(handler)
    root.setLevel(saved[1])
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def test_real_flows_log_no_personal_data_and_no_secret(
        runtime: Any, workspace_id: Any, token: str, sandbox: Any,
        debug_json_logs: io.StringIO) -> None:
    account = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
    agent = make_agent(runtime, workspace_id, "agent", NAME)
    used = {NAME, EMAIL, PHONE, CUSTOMER_TEXT, REPLY_TEXT, agent.password, WRONG_PASSWORD,
            token, FORGED_TOKEN, VERIFY_TOKEN, account.config["secret"], agent.email,
            runtime.settings.resolved_secret_key()}
    remember(*used)  # and the whole run's logs are scanned for them too
    worker = Worker(runtime, name="log-privacy")
    config = server_config(create_app(runtime, workers=0), runtime.settings, host="127.0.0.1",
                           port=free_port(), log_level="debug")
    with Serving(config) as url:
        # A customer writes, with his name, email address and phone number.
        raw = body([message_event("priv-1", author="c-privacy", text=CUSTOMER_TEXT,
                                  email=EMAIL)])
        hook = httpx.post(f"{url}/webhooks/api/{account.id}?hub.verify_token={VERIFY_TOKEN}",
                          content=raw, headers=signed_headers(account, raw))
        assert hook.status_code == 200, hook.text
        worker.drain()

        # An agent signs in: once with a wrong password, then with hers.
        with httpx.Client(base_url=url) as desk:
            for password, expected in ((WRONG_PASSWORD, 401), (agent.password, 303)):
                page = desk.get("/login")
                answer = desk.post("/login", data={"email": agent.email, "password": password,
                                                   "csrf_token": csrf_of(page.text)})
                assert answer.status_code == expected, answer.text
            assert desk.get("/inbox").status_code == 200

        # The API with a forged token, then with a real one; a reply goes out.
        forged = httpx.get(f"{url}/api/v1/conversations",
                           headers={"Authorization": f"Bearer {FORGED_TOKEN}"})
        assert forged.status_code == 401
        api = {"Authorization": f"Bearer {token}"}
        conv = httpx.get(f"{url}/api/v1/conversations", headers=api).json()["items"][0]
        sent = httpx.post(f"{url}/api/v1/conversations/{conv['id']}/messages", headers=api,
                          json={"text": REPLY_TEXT, "visibility": "public"})
        assert sent.status_code == 201, sent.text
        worker.drain()
        detail = httpx.get(f"{url}/api/v1/conversations/{conv['id']}", headers=api).json()
        assert [m["delivery"] for m in detail["messages"] if m["direction"] == "outbound"] == [
            "sent"]

    text = debug_json_logs.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.access", "threadline.worker"} <= loggers  # the flows did log
    assert sum(1 for line in lines if line["logger"] == "uvicorn.access") >= 8
    leaked = sorted(value for value in used if value in text)
    assert leaked == []
    # Nor a piece of them: the local part of the address, the phone's digits, a cookie.
    assert "zelda" not in text.lower() and "7700" not in text and "900 123" not in text
    assert "tl_session" not in text and "csrf" not in text.lower()
