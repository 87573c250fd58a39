"""Security headers on every answer: the desktop, the REST API and its docs under a strict
Content-Security-Policy (no inline script or style, no framing), the customer pages with the
same builder, and the web chat page still embeddable on the brand's sites. Chromium loads the
desktop under that policy: no violation is reported and htmx still swaps content."""

from __future__ import annotations

import re
import secrets
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.desktop.browser import browser_login
from tests.desktop.conftest import Desk, desk_for, make_agent
from tests.desktop.test_browser import deliver, x_account
from threadline.conversations.models import Conversation
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import x as sandbox_x
from threadline.web.security_headers import frame_ancestors
from threadline.workspace.service import create_channel_account

WEB = Path(__file__).resolve().parents[2] / "src" / "threadline" / "web"
INLINE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|<style[\s>]|\son[a-z]+\s*=|\sstyle\s*=|"
                    r"hx-on|javascript:", re.IGNORECASE)


def directives(answer: Any) -> dict[str, str]:
    csp = answer.headers.get("content-security-policy", "")
    pairs = [d.strip().split(" ", 1) for d in csp.split(";") if d.strip()]
    return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}


def assert_strict(answer: Any, *, referrer: str = "same-origin") -> None:
    policy = directives(answer)
    assert policy.get("script-src") == "'self'", answer.headers
    assert policy.get("style-src") == "'self'"
    assert policy.get("default-src") == "'none'"
    assert policy.get("base-uri") == "'none'"
    assert "unsafe" not in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == referrer


def assert_not_framed(answer: Any) -> None:
    assert directives(answer).get("frame-ancestors") == "'none'"
    assert answer.headers["x-frame-options"] == "DENY"


class TestDesktopAndApi:
    def test_every_desktop_page_is_strict(self, app: Any, runtime: Runtime,
                                          workspace_id: uuid.UUID) -> None:
        desk: Desk = desk_for(app, runtime, workspace_id, "admin", "Alma Admin")
        for url in ("/inbox", "/inbox/list", "/supervisor", "/settings",
                    "/static/desktop/desktop.js", "/static/vendor/htmx.org/htmx.min.js"):
            answer = desk.get(url)
            assert answer.status_code == 200, url
            assert_strict(answer)
            assert_not_framed(answer)
        with TestClient(app) as anonymous:
            for url in ("/login", "/inbox", "/no-such-page"):
                answer = anonymous.get(url, follow_redirects=False)
                assert_strict(answer)
                assert_not_framed(answer)
        refused = desk.post("/logout", csrf=False)  # an error answer is covered too
        assert refused.status_code == 403
        assert_not_framed(refused)

    def test_api_webhooks_health_and_docs(self, client: TestClient) -> None:
        answers = [client.get("/api/v1/conversations"), client.get("/api/v1/openapi.json"),
                   client.get("/api/v1/conversations/not-a-uuid"),
                   client.post("/webhooks/x/" + str(uuid.uuid4()), content=b"{}"),
                   client.get("/healthz"), client.get("/api/v1/docs"),
                   client.get("/api/v1/docs/start.js"),
                   client.get("/static-offline-docs/swagger-ui-bundle.js")]
        for answer in answers:
            assert_strict(answer)
            assert_not_framed(answer)
        docs = client.get("/api/v1/docs")
        assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
        assert not INLINE.search(docs.text)

    def test_templates_carry_no_inline_script_handler_or_style(self) -> None:
        found = [(str(p.relative_to(WEB)), m.group(0)) for p in sorted(WEB.rglob("*.html"))
                 for m in INLINE.finditer(p.read_text())]
        assert found == []


class TestCustomerPages:
    def test_link_pages_use_the_shared_policy(self, client: TestClient) -> None:
        answer = client.get(f"/s/{secrets.token_urlsafe(18)}")
        assert answer.status_code == 404
        assert_strict(answer, referrer="no-referrer")
        assert_not_framed(answer)
        assert answer.headers["cache-control"] == "no-store"

    def test_web_chat_page_stays_embeddable_on_the_brands_sites(
            self, client: TestClient, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as session:
            anywhere = create_channel_account(session, workspace_id, kind="webchat", name="a")
            listed = create_channel_account(
                session, workspace_id, kind="webchat", name="b",
                config={"allowed_origins": ["https://shop.example",
                                            "https://evil.example; script-src *",
                                            "https://other.example/"]})
            ids = str(anywhere.id), str(listed.id)
        page = client.get(f"/webchat/{ids[0]}")
        assert page.status_code == 200
        assert_strict(page, referrer="no-referrer")
        assert directives(page)["frame-ancestors"] == "*"
        assert "x-frame-options" not in page.headers
        page = client.get(f"/webchat/{ids[1]}")
        assert directives(page)["frame-ancestors"] == (
            "'self' https://other.example https://shop.example")
        assert "x-frame-options" not in page.headers
        assert directives(page)["script-src"] == "'self'"  # nothing injected by the setting
        assert "x-frame-options" not in client.get(f"/webchat/{uuid.uuid4()}").headers
        widget = client.get("/webchat/widget.js")  # loaded by the brand's own pages
        assert widget.status_code == 200 and widget.headers["x-content-type-options"] == "nosniff"

    def test_frame_ancestors_only_keeps_well_formed_origins(self) -> None:
        assert frame_ancestors(["*"]) == "*"
        assert frame_ancestors([]) == "*"
        assert frame_ancestors(["javascript:alert(1)", "https://a.example\n"]) == (
            "'self' https://a.example")


def watch_csp(page: Any) -> list[str]:
    """Every CSP violation the page reports (event and console), from the first script on."""
    seen: list[str] = []
    page.add_init_script("""
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', function (e) {
          window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
        });""")
    page.on("console", lambda m: seen.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text else None)
    return seen


def violations(page: Any, console: list[str]) -> list[str]:
    return list(console) + list(page.evaluate("window.__csp || []"))


@pytest.mark.slow
def test_desktop_in_chromium_reports_no_violation_and_htmx_swaps(
        runtime: Runtime, workspace_id: uuid.UUID, live_server: Any, sandbox: Any,
        chromium: Any) -> None:
    account_id, config = x_account(runtime, workspace_id, sandbox.url)
    admin = make_agent(runtime, workspace_id, "admin", "Alma Admin")
    text = f"@brand my order {secrets.token_hex(3)} is late"
    deliver(live_server.url, sandbox_x.mention_webhook(
        account_id, config, str(1_880_000_000_000_000_000 + secrets.randbelow(10**15)),
        str(7_000_000_000 + secrets.randbelow(10**9)), "jane_doe", text, name="Jane Doe"))

    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    console = watch_csp(page)
    page.goto("/login")
    page.wait_for_selector("input[name=email]")
    assert violations(page, console) == []  # the signed-out page too
    context.close()
    page = browser_login(chromium, live_server.url, admin.email, admin.password)
    console = watch_csp(page)
    try:  # closing the browser ends its event stream, so the live server can stop
        page.goto("/inbox")
        page.wait_for_selector("body[data-live='1']", state="attached", timeout=15000)
        row = page.locator(".inbox-row", has_text=text)
        row.wait_for(timeout=15000)
        row.click()  # htmx GET, swapped into the conversation pane
        page.locator(".msg.dir-inbound", has_text=text).wait_for(timeout=15000)
        # The snooze picker's handler moved from an inline attribute to desktop.js.
        page.select_option("select[name=snooze]", "1h")
        # the POST may wait for the embedded worker's write (SQLite has one writer), which on
        # a loaded machine can take seconds: this test is about the policy, not speed
        page.locator("#conv-status.st-snoozed").wait_for(timeout=20000)
        with runtime.db.session(write=False) as session:
            statuses = set(session.scalars(select(Conversation.status).where(
                Conversation.workspace_id == workspace_id)))
        assert statuses == {"snoozed"}

        page.goto("/supervisor")
        widths = page.eval_on_selector_all(".bar > span",
                                           "bars => bars.map(b => b.style.width)")
        assert widths and all(w.endswith("%") for w in widths)  # bars drawn without style=""
        page.goto("/settings")
        page.goto("/api/v1/docs")
        # the document is built on first request (150 operations): seconds on a busy machine
        page.wait_for_selector(".swagger-ui .info .title", timeout=30000)
        assert "Threadline" in page.inner_text(".swagger-ui .info .title")
        assert violations(page, console) == []
    finally:
        page.context.close()
    headers = httpx.get(f"{live_server.url}/inbox", follow_redirects=False).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
