"""The knowledge base in real headless Chromium: the public help centre (browse, search,
vote), the desktop's editor with its live preview, the web chat's Help panel, and the
conversation's suggestions inserted into the composer. Saves the screenshots
docs/screenshots/help-centre.png, knowledge-editor.png and answer-suggestions.png."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.factories import api_account, message_event, post_events
from tests.knowledge.helpers import make_article
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.knowledge import service
from threadline.workspace.service import create_channel_account

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TIMEOUT_MS = 15_000


def _seed(runtime: Runtime, workspace_id: uuid.UUID) -> dict[str, Any]:
    refund = make_article(runtime, workspace_id, title="How refunds work",
                          category="Orders & refunds",
                          body="Refunds reach your card **5 business days** after we receive "
                               "the item.\n\n1. Open *Orders*\n2. Choose **Return**\n\n"
                               "<script>alert('x')</script>")
    make_article(runtime, workspace_id, title="Track your parcel", category="Shipping",
                 body="Follow the tracking link in your confirmation email.")
    make_article(runtime, workspace_id, title="Change your password", category="Account",
                 body="Open **Settings → Security**.")
    make_article(runtime, workspace_id, title="Cómo funcionan los reembolsos",
                 category="Pedidos", language="es", body="Los reembolsos tardan 5 días.")
    return {"refund": refund}


def test_the_help_centre_browse_search_and_vote(runtime: Runtime, workspace_id: uuid.UUID,
                                                live_server: Any, chromium: Any) -> None:
    seeded = _seed(runtime, workspace_id)
    context = chromium.new_context(base_url=live_server.url,
                                   viewport={"width": 1200, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"/help/{workspace_id}")
    page.wait_for_selector("#help-categories", timeout=TIMEOUT_MS)
    assert page.locator("[data-category]").count() == 3
    page.screenshot(path=str(SHOTS / "help-centre.png"), full_page=True)

    page.get_by_role("link", name="Orders & refunds").click()
    page.get_by_role("link", name="How refunds work").click()
    page.wait_for_selector("#help-article", timeout=TIMEOUT_MS)
    assert page.locator("#article-body strong").first.inner_text() == "5 business days"
    assert "<script>" in page.locator("#article-body").inner_text()  # shown, never run
    page.click("#vote-yes")
    page.wait_for_selector("#vote-thanks", timeout=TIMEOUT_MS)

    page.fill("#help-q", "tracking")
    page.press("#help-q", "Enter")
    page.wait_for_selector("#help-results li", timeout=TIMEOUT_MS)
    assert page.locator("#help-results li a").all_inner_texts() == ["Track your parcel"]
    assert page.locator("#help-results mark").count() >= 1

    page.click("a[hreflang=es]")
    page.wait_for_selector("#help-categories", timeout=TIMEOUT_MS)
    assert "Cómo funcionan los reembolsos" in page.content()
    assert dialogs == [] and errors == []
    context.close()
    with runtime.db.session(write=False) as session:
        article = service.get_article(session, workspace_id, seeded["refund"].id)
        assert (article.helpful_yes, article.helpful_no) == (1, 0) and article.views == 1


def test_the_editor_with_its_live_preview(runtime: Runtime, workspace_id: uuid.UUID,
                                          live_server: Any, chromium: Any) -> None:
    _seed(runtime, workspace_id)
    editor = make_agent(runtime, workspace_id, "supervisor", "Sam Supervisor")
    page = browser_login(chromium, live_server.url, editor.email, editor.password)
    page.click("#knowledge-link")
    page.wait_for_selector("#kb-articles", timeout=TIMEOUT_MS)
    page.click("#kb-new")
    page.fill("#kb-title", "Update your billing address")
    page.fill("#kb-category", "Billing")
    page.fill("#kb-tags", "billing, address")
    page.fill("#kb-questions", "how do I change my billing address\nwrong address on invoice")
    page.fill("#kb-body", "")
    page.type("#kb-body", "## Steps\n\n1. Open **Billing**\n2. Choose *Edit address*\n\n"
                          "<img src=x onerror=alert(1)>", delay=2)
    page.wait_for_selector("#kb-preview h2", timeout=TIMEOUT_MS)
    assert page.locator("#kb-preview strong").inner_text() == "Billing"
    assert page.locator("#kb-preview img").count() == 0
    page.click("#kb-save")
    page.wait_for_selector("#kb-notice", timeout=TIMEOUT_MS)
    page.screenshot(path=str(SHOTS / "knowledge-editor.png"), full_page=True)
    page.click("#kb-publish")
    page.wait_for_selector("#kb-public-url", timeout=TIMEOUT_MS)
    assert page.locator("#kb-status").inner_text() == "published"
    public = page.locator("#kb-public-url").get_attribute("href")
    assert public and public.endswith("/en/articles/update-your-billing-address")
    page.goto(public)
    assert page.locator("#help-article h1").inner_text() == "Update your billing address"


def test_the_widget_help_panel(runtime: Runtime, workspace_id: uuid.UUID, live_server: Any,
                               chromium: Any) -> None:
    _seed(runtime, workspace_id)
    with runtime.db.session() as session:
        account = create_channel_account(session, workspace_id, kind="webchat",
                                         name="Acme chat", config={})
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto(f"/webchat/{account.id}")
    page.get_by_role("button", name="Help").click()
    page.wait_for_selector(".tl-help-link", timeout=TIMEOUT_MS)
    page.get_by_label("Search help articles").fill("parcel")
    expect(page.locator(".tl-help-link")).to_have_count(1, timeout=TIMEOUT_MS)
    link = page.locator(".tl-help-link")
    assert link.inner_text() == "Track your parcel"
    href = link.get_attribute("href")
    assert href and href.startswith(f"{live_server.url}/help/{workspace_id}/en/articles/")
    context.close()


def test_suggestions_go_into_the_composer(runtime: Runtime, workspace_id: uuid.UUID,
                                          live_server: Any, chromium: Any) -> None:
    refund = _seed(runtime, workspace_id)["refund"]
    account = api_account(runtime, workspace_id)
    from fastapi.testclient import TestClient

    from threadline.web.app import create_app

    with TestClient(create_app(runtime, workers=0)) as client:
        assert post_events(client, account, [message_event(
            "kb-browser-1", author="mia", text="When will my refund reach my card?",
            visibility="private", thread_key="dm-mia")]).status_code == 200
    Worker(runtime, name="kb-browser").drain()
    agent = make_agent(runtime, workspace_id, "agent", "Ada Agent")
    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    page.locator("[data-conversation-id], .inbox-row, #inbox-list a").first.click()
    page.wait_for_selector("#kb-suggested-articles", timeout=TIMEOUT_MS)
    page.click("#kb-suggested-articles [data-role=insert-article]")
    text = page.locator("#composer-text").input_value()
    assert text.startswith("How refunds work: ") and text.endswith(
        f"/en/articles/{refund.slug}")
    page.screenshot(path=str(SHOTS / "answer-suggestions.png"))
    page.fill("#composer-text", "")
    page.click("#kb-picker summary")
    page.fill("#kb-picker-q", "password")
    page.wait_for_selector("#kb-picker-results [data-role=pick-article]", timeout=TIMEOUT_MS)
    page.click("#kb-picker-results [data-role=pick-article]")
    assert page.locator("#composer-text").input_value().startswith("Change your password: ")


def test_knowledge_pages_have_no_serious_accessibility_violations(
        runtime: Runtime, workspace_id: uuid.UUID, live_server: Any, chromium: Any) -> None:
    from tests.desktop.test_accessibility import AXE, violations

    assert AXE.is_file(), "node_modules/axe-core is missing: scripts/install.sh runs npm ci"
    refund = _seed(runtime, workspace_id)["refund"]
    editor = make_agent(runtime, workspace_id, "admin", "Ada Admin")
    context = chromium.new_context(base_url=live_server.url, bypass_csp=True,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    root = f"/help/{workspace_id}/en"
    report: dict[str, list[str]] = {}
    for path in (root, f"{root}/categories/shipping", f"{root}/articles/{refund.slug}",
                 f"{root}/search?q=refund"):
        page.goto(path)
        report[path] = violations(page)
    page.goto("/login")
    page.fill("input[name=email]", editor.email)
    page.fill("input[name=password]", editor.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/inbox")
    for path in ("/knowledge", "/knowledge/new", f"/knowledge/{refund.id}",
                 f"/knowledge/{refund.id}/edit", f"/knowledge/{refund.id}/revisions?n=1"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, path
        page.wait_for_load_state("networkidle")
        report[path] = violations(page)
    context.close()
    found = {path: v for path, v in report.items() if v}
    assert found == {}, found
