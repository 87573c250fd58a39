"""Chromium (Playwright): a burst of similar public posts shows up live as one card in the
inbox; the supervisor opens it, declares the incident, writes and approves the answer, and
watches the replies go out one by one (the provider sandbox receives one call per post).
Saves docs/screenshots/incident-card.png and docs/screenshots/incident-supervisor.png."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.approval.helpers import sandbox_calls
from tests.desktop.browser import browser_login, chromium  # noqa: F401
from tests.desktop.conftest import make_agent
from tests.factories import BASE_TIME, api_account, body, message_event, signed_headers, text_tag
from threadline.incidents.samples import outage_posts

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
POSTS = 20


def _post(live_url: str, account, texts: list[str], tag: str) -> None:
    # posted over the last few minutes, as an outage's posts are (and as the screenshots show)
    ago = (datetime.now(UTC) - BASE_TIME).total_seconds() / 60 - 4
    events = [message_event(f"inc-{tag}-{n}", author=f"fan-{tag}-{n}", text=text,
                            minutes=ago + n * 0.1)
              for n, text in enumerate(texts)]
    raw = body(events)
    answer = httpx.post(f"{live_url}/webhooks/api/{account.id}", content=raw,
                        headers=signed_headers(account, raw))
    assert answer.status_code == 200, answer.text


def test_declare_answer_and_watch_the_replies_go_out(runtime, workspace_id, live_server,
                                                      sandbox, chromium):  # noqa: F811
    boss = make_agent(runtime, workspace_id, "supervisor", "Sam Supervisor")
    account = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
    tag = text_tag()
    page = browser_login(chromium, live_server.url, boss.email, boss.password)
    page.wait_for_selector("#incident-cards", state="attached")
    time.sleep(0.5)  # the live stream is open

    _post(live_server.url, account, outage_posts(POSTS, seed=21, brand="@shop"), tag)
    card = page.wait_for_selector(".incident-card", timeout=120_000)  # live, no reload
    assert "Suggested burst" in card.inner_text() and "Burst: " in card.inner_text()
    count = ".incident-card [data-count=members]"
    time.sleep(3.0)  # the count follows the posts live (incident.updated); let it settle
    assert int(page.inner_text(count).split()[0]) >= 8
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "incident-card.png"))

    page.click(".incident-card")
    page.wait_for_selector("#confirm-incident")
    # each form posts and the page that follows is waited for: the page being left still
    # takes live updates (its panel can show "open" before the next page has loaded, and
    # text typed into it then would be lost with it)
    with page.expect_navigation(url="**notice=declared"):
        page.click("#confirm-incident")
    page.wait_for_selector("#incident-status:has-text('open')")
    answer = f"We know the app login is failing and we are fixing it {tag}"
    page.fill("#answer-form textarea[name=text]", answer)
    with page.expect_navigation(url="**notice=answer-written"):
        page.click("#answer-form button[type=submit]")
    page.wait_for_selector("#approve-answer")
    assert sandbox_calls(sandbox, answer) == []  # written, not approved: nothing goes out
    with page.expect_navigation(url="**notice=answer-approved"):
        page.click("#approve-answer")
    page.wait_for_selector("#approved-answer")
    # the counter climbs live as the sender records each reply; on a loaded machine the
    # page is reloaded when it has not moved for 15 s (what was sent is read from the sandbox
    # below either way)
    deadline = time.monotonic() + 180
    seen, moved = -1, time.monotonic()
    while (sent := int(page.inner_text("#replies-sent"))) < int(
            page.inner_text("#incident-count")):
        assert time.monotonic() < deadline, "the replies did not all go out"
        if sent != seen:
            seen, moved = sent, time.monotonic()
        elif time.monotonic() - moved > 15:
            page.reload()
            page.wait_for_selector("#replies-sent")
            moved = time.monotonic()
        time.sleep(0.25)
    page.screenshot(path=str(SHOTS / "incident-supervisor.png"), full_page=True)
    calls = sandbox_calls(sandbox, answer)
    members = int(page.inner_text("#incident-count"))
    assert len(calls) == members >= POSTS - 2
    assert len({c["json"]["in_reply_to"] for c in calls}) == members, "one reply per post"
