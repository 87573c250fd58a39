"""The registry of real-time events (events/names.py, issue 15): every event a publisher puts on
the stream is a `Live` member (mypy holds publishers to it; this checks no name is passed as a
bare string), every member is published somewhere and handled by the desktop (the refresh
group by desktop.js from the registry rendered into every page, notices and panels by a named
listener or an `hx-trigger="tl:<name> from:body"`), and the desktop's scripts and templates
listen to no name the registry lacks. In Chromium: an edit and a delete made on the provider
refresh an open desktop live."""

from __future__ import annotations

import html
import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.desktop.browser import browser_login
from tests.desktop.conftest import desk_for, make_agent
from tests.e2e.conftest import E2E
from threadline.events.names import HANDLING, Handling, Live, desktop_registry
from threadline.sandbox.providers import meta

SRC = Path(__file__).resolve().parents[2] / "src" / "threadline"
DESKTOP = SRC / "web" / "desktop"
NAME = re.compile(r"\"([a-z_]+\.[a-z_]+)\"")
TRIGGER = re.compile(r"tl:([a-z_]+\.[a-z_]+)")
BARE = re.compile(r"publish\([^,()]+,[^,()]+,\s*\"|stream\.append\(\([^,()]+,\s*\"")


def _python() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")
            if p != SRC / "events" / "names.py"}


def _scripts() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (DESKTOP / "static").glob("*.js"))


def _templates() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (DESKTOP / "templates").rglob("*.html"))


def test_every_event_is_published_by_name_from_the_registry():
    sources = _python()
    used = {name for name in Live if any(f"Live.{name.name}" in text for text in sources.values())}
    assert set(Live) - used == set(), "in the registry but published nowhere"
    bare = [f"{path.name}: {line.strip()}" for path, text in sources.items()
            for line in text.splitlines()
            if BARE.search(line)]
    assert bare == []


def test_every_event_is_handled_and_nothing_else_is_listened_to():
    scripts, templates = _scripts(), _templates()
    listened = set(NAME.findall(scripts)) | set(TRIGGER.findall(templates))
    assert listened - {n.value for n in Live} == set(), "listened to, never published"
    assert "registry()" in scripts and 'group !== "refresh"' in scripts
    for name in Live:
        if HANDLING[name] is Handling.REFRESH:
            continue  # desktop.js subscribes to the whole group from the registry
        assert f'"{name.value}"' in scripts or f"tl:{name.value}" in templates, name


def test_every_page_carries_the_registry(runtime, workspace_id, app):
    page = desk_for(app, runtime, workspace_id, "agent").get("/inbox").text
    found = re.search(r"data-live-events='([^']*)'", page)
    assert found and json.loads(html.unescape(found.group(1))) == desktop_registry()
    assert set(desktop_registry()["refresh"]) >= {"message.edited", "message.deleted",
                                                 "conversation.merged", "message.pii"}


@pytest.mark.slow
def test_an_edit_and_a_delete_on_the_provider_refresh_an_open_desktop(
        live_server: Any, sandbox: Any, token: str, runtime: Any, workspace_id: Any,
        chromium: Any) -> None:
    e2e = E2E(live_server, sandbox, token)
    config = {"app_secret": secrets.token_hex(8), "verify_token": "v",
              "access_token": f"page-token-{secrets.token_hex(4)}", "page_id": "3300001",
              "api_base_url": e2e.sandbox_url("/meta")}
    account = e2e.account("facebook", config)
    post, comment = "3300001_77001", f"77001_{secrets.randbelow(10**9)}"
    first = meta.page_comment_webhook(account, config, text="the lid does not close",
                                      post_id=post, comment_id=comment)
    assert e2e.post(first).status_code == 200
    conv, message = e2e.wait_message(comment)
    agent = make_agent(runtime, workspace_id, "agent", "Live Agent")
    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    page.goto(f"/conversations/{conv['id']}")
    page.locator("body[data-live='1']").wait_for(state="attached", timeout=15000)
    text = page.locator(f"#text-{message['id']}")
    assert "the lid does not close" in text.inner_text()

    edited = meta.page_comment_webhook(account, config, text="the lid closes now, sorry",
                                       post_id=post, comment_id=comment, verb="edited")
    assert e2e.post(edited).status_code == 200
    page.locator(f"#text-{message['id']}", has_text="the lid closes now").wait_for(
        timeout=15000)
    page.locator(f"#msg-{message['id']} .muted", has_text="edited").wait_for(timeout=15000)
    removed = meta.page_comment_webhook(account, config, text="", post_id=post,
                                        comment_id=comment, verb="remove")
    assert e2e.post(removed).status_code == 200
    page.locator(f"#text-{message['id']}", has_text="deleted by the author").wait_for(
        timeout=15000)
    page.context.close()
    e2e.close()
