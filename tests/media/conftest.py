"""Media test helpers: a WhatsApp conversation made through the real webhook and worker."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import free_port
from tests.e2e.conftest import e2e  # noqa: F401  (the e2e fixture for this folder)
from threadline.jobs.worker import Worker
from threadline.sandbox.providers import meta as sm

PHONE_ID = "106540352242922"


def wa_config(base_url: str = "https://graph.facebook.com") -> dict[str, Any]:
    return {"app_secret": "sandbox_app_secret", "verify_token": "vt",
            "access_token": "EAAG-media-token", "api_base_url": base_url,
            "phone_number_id": PHONE_ID}


def whatsapp_conversation(client: TestClient, worker: Worker,
                          base_url: str = "https://graph.facebook.com") -> tuple[str, str]:
    """(conversation id, account id): a customer wrote "hi" on a new WhatsApp account."""
    config = wa_config(base_url)
    answer = client.post("/api/v1/channel-accounts",
                         json={"kind": "whatsapp", "name": "wa", "config": config})
    assert answer.status_code == 201, answer.text
    account = answer.json()["id"]
    wamid = f"wamid.IN{random.randrange(10**14, 10**15)}"
    hook = sm.whatsapp_message_webhook(account, config, text="hi",
                                       wa_id=f"1650{random.randrange(10**7)}", wamid=wamid)
    assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
    worker.drain()
    conv = next(c for c in client.get("/api/v1/conversations").json()["items"])
    return str(conv["id"]), account


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server, a real HTTP server on a loopback port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
