"""Issue 15 in real headless Chromium: "a WhatsApp template sent after 25 h from the desktop".
The account's templates are synced from the sandbox's Graph API; the agent opens the
conversation whose customer wrote 25 hours ago, picks the synced template in the composer,
fills its variables, sees the preview filled as he types, and sends; the sandbox received
the template payload with the parameters, and the timeline shows the filled text."""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from tests.conftest import make_token
from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.desktop.test_accessibility import AXE, violations
from tests.factories import text_tag
from threadline.sandbox.providers import meta
from threadline.workspace.service import create_channel_account

pytestmark = pytest.mark.slow


def test_a_whatsapp_template_sent_after_25_hours_from_the_desktop(
        runtime, workspace_id, live_server, sandbox, worker, chromium):
    waba = str(10**14 + secrets.randbelow(10**14))
    name = f"order_ready_{secrets.token_hex(3)}"
    meta.seed_templates(waba, [
        {"name": name, "language": "en_US", "status": "APPROVED", "category": "UTILITY",
         "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is ready."}]},
        {"name": f"draft_{secrets.token_hex(3)}", "language": "en_US", "status": "PENDING",
         "category": "MARKETING", "components": [{"type": "BODY", "text": "Soon"}]}])
    config = {"app_secret": secrets.token_hex(8), "verify_token": "vt",
              "access_token": f"EAAG-{secrets.token_hex(4)}", "waba_id": waba,
              "phone_number_id": str(secrets.randbelow(10**12)),
              "api_base_url": f"{sandbox.url}/meta"}
    with runtime.db.session() as session:
        account = create_channel_account(session, workspace_id, kind="whatsapp",
                                         name="Support number", config=config)
    api = {"Authorization": f"Bearer {make_token(runtime, workspace_id)}"}
    synced = httpx.post(
        f"{live_server.url}/api/v1/channel-accounts/{account.id}/whatsapp-templates/sync",
        headers=api)
    assert synced.status_code == 202, synced.text
    wa_id = f"1650{secrets.randbelow(10**7):07d}"
    hook = meta.whatsapp_message_webhook(str(account.id), config, text="is my order ready?",
                                         wa_id=wa_id, timestamp=int(time.time()) - 25 * 3600)
    assert httpx.post(live_server.url + hook.path, content=hook.body,
                      headers=hook.headers).status_code == 200
    worker.drain()
    [conv] = httpx.get(f"{live_server.url}/api/v1/conversations", headers=api).json()["items"]

    assert AXE.is_file(), "node_modules/axe-core is missing: scripts/install.sh runs npm ci"
    agent = make_agent(runtime, workspace_id, "agent", "Ada Agent")
    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"/conversations/{conv['id']}")
    page.wait_for_selector("#composer-hint .warn-text", state="attached", timeout=5000)
    assert "only approved message templates" in page.text_content("#composer-hint")

    select = page.locator("#wa-template-select")
    select.wait_for(timeout=5000)
    labels = select.locator("option").all_inner_texts()
    assert any(label.startswith(f"{name} · en_US") for label in labels)
    assert not any(label.startswith("draft_") for label in labels)  # pending: not offered
    select.select_option(label=next(lb for lb in labels if lb.startswith(name)))
    page.wait_for_selector("input[name=wa_var_2]", timeout=5000)
    preview = page.locator("#wa-template-preview")
    assert preview.inner_text() == "Hi {{1}}, your order {{2}} is ready."
    marker = text_tag(6)
    page.fill("input[name=wa_var_1]", "Maya")
    assert preview.inner_text() == "Hi Maya, your order {{2}} is ready."
    page.locator("input[name=wa_var_2]").press_sequentially(f"#{marker}")
    filled = f"Hi Maya, your order #{marker} is ready."
    assert preview.inner_text() == filled
    assert violations(page) == []  # the picker, its inputs and the preview (axe-core)

    page.click("#send-button")
    sent = page.locator(".msg.dir-outbound", has_text=filled)
    sent.wait_for(timeout=5000)
    page.wait_for_function(
        "t => [...document.querySelectorAll('.msg.dir-outbound')].some("
        "m => m.textContent.includes(t) && m.dataset.delivery === 'sent')", arg=filled,
        timeout=15000)
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": "meta"}).json()
    [call] = [c for c in calls["calls"] if c["method"] == "POST" and marker in str(c)]
    assert call["json"]["type"] == "template" and call["json"]["to"] == wa_id
    assert call["json"]["template"]["name"] == name
    assert call["json"]["template"]["language"] == {"code": "en_US",
                                                    "policy": "deterministic"}
    assert call["json"]["template"]["components"] == [{"type": "body", "parameters": [
        {"type": "text", "text": "Maya"}, {"type": "text", "text": f"#{marker}"}]}]
    assert errors == []
    page.context.close()
