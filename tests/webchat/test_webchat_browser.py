"""The widget in real headless Chromium (Debian's package, driven by Playwright): the
standalone chat page, and the embedded bubble on another site (cross-origin, CORS)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.factories import text_tag
from tests.webchat.conftest import Chat

TIMEOUT_MS = 15_000

pytestmark = pytest.mark.slow


@pytest.fixture
def browser(chromium: Any) -> Any:
    return chromium


class HostSite:
    """Another origin (another port) whose page embeds the widget like a customer's site."""

    def __init__(self, widget_src: str, account_id: str) -> None:
        page = (f'<!doctype html><html><head><title>Shop</title></head><body>'
                f'<h1>Acme shop</h1><script src="{widget_src}" data-account="{account_id}" '
                f'data-title="Acme support" async></script></body></html>').encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_chat(page: Any, chat: Chat, tag: str) -> None:
    """Entry form -> question, a message, then an agent's reply appears live."""
    question = f"My order {tag} never arrived"
    page.get_by_label("Name").fill("Dana")
    page.get_by_label("Email").fill("dana@example.com")
    page.get_by_label("Your question").fill(question)
    page.get_by_role("button", name="Start chat").click()
    page.get_by_label("Message").wait_for(timeout=TIMEOUT_MS)
    page.get_by_label("Message").fill(f"Order number is {tag}")
    page.get_by_role("button", name="Send").click()
    conv = chat.conversation_with(f"Order number is {tag}")
    assert [m["text"] for m in conv["messages"]] == [question, f"Order number is {tag}"]
    assert chat.reply(conv["id"], f"Found it: {tag} ships today.").status_code == 201
    page.get_by_text(f"Found it: {tag} ships today.").wait_for(timeout=TIMEOUT_MS)
    # The visitor's own messages are confirmed by the server (echo ids reconciled, no doubles).
    assert page.get_by_text(question, exact=True).count() == 1
    assert page.get_by_text(f"Order number is {tag}", exact=True).count() == 1


class TestWidgetInChromium:
    def test_standalone_page_entry_form_message_and_live_reply(self, browser: Any,
                                                               chat: Chat):
        context = browser.new_context()
        try:
            page = context.new_page()
            failures: list[str] = []
            page.on("console", lambda m: failures.append(m.text) if m.type == "error"
                    and "status of 404" not in m.text else None)
            page.on("response", lambda r: failures.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            answer = page.goto(f"{chat.base}")
            assert answer is not None and answer.status == 200
            assert "script-src 'self'" in answer.headers["content-security-policy"]
            run_chat(page, chat, text_tag(6))
            # A reload keeps the visitor (token in localStorage): history is back, no form.
            page.reload()
            page.get_by_text("ships today.").wait_for(timeout=TIMEOUT_MS)
            assert page.get_by_role("button", name="Start chat").is_hidden()
            assert failures == []
        finally:
            context.close()

    @pytest.fixture
    def host(self, chat: Chat, runtime: Any) -> Iterator[HostSite]:
        from threadline.workspace.models import ChannelAccount

        site = HostSite(f"{chat.server.url}/webchat/widget.js", chat.id)
        with runtime.db.session() as session:
            account = session.get(ChannelAccount, chat.account.id)
            account.config = {**account.config, "allowed_origins": [site.url]}
        yield site
        site.close()

    def test_embedded_bubble_on_another_site(self, browser: Any, chat: Chat, host: HostSite):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(host.url)
            page.get_by_role("button", name="Open chat: Acme support").click()
            run_chat(page, chat, text_tag(6))
        finally:
            context.close()
