"""Listening in the desktop, in real headless Chromium: a supervisor saves rules on the settings
page (a bad rule comes back naming the field), the search fills the Listening view (reach,
category, sentiment, hostile text inert), an opportunity shows the time waited, a retweet and
a promotion sit in Filtered with their reasons and, restored, appear in the inbox; a listened
post opens as a conversation in one click. Saves docs/screenshots/listening.png,
opportunities.png and filtered-noise.png."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.desktop.test_accessibility import violations
from tests.e2e.conftest import E2E, wait_for
from tests.listening.test_listening_e2e import posts, tweet_id, user_id, x_config
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import x as sx

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_listening_views_in_the_desktop(e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID,
                                        chromium: Any) -> None:
    t = e2e.tag
    own, rival = user_id(), f"globex_{t[:7]}"
    config = x_config(e2e, own, listen=True, brand_handles=[f"acme{t[:6]}"])
    account = e2e.account("x", config, name="Acme on X")
    now = datetime.now(UTC)
    sx.add_public_post(tweet_id(), user_id(), "dana_flies", f"@{rival} your app has been down "
                       "all morning, this is terrible and I am furious", followers=5400,
                       created_at=now - timedelta(minutes=42), name="Dana Reyes")
    sx.add_public_post(tweet_id(), user_id(), "gus_travels", f"Acme{t[:6]} lost my bag again, "
                       "worst airline ever #fail", followers=310,
                       created_at=now - timedelta(minutes=7), name="Gus")
    sx.add_public_post(tweet_id(), user_id(), "mallory", f"#{t} <img src=x "
                       "onerror=\"window.__xss=1\"> loving the new lounge", followers=87,
                       created_at=now - timedelta(minutes=3), name="<b>Mallory</b>")
    for hook in (
            sx.public_tweet_webhook(account, config, tweet_id(), user_id(), "fan_ann",
                                    f"RT @acme{t[:6]}: Our app is back up. Thanks for your "
                                    "patience!", retweet_of=tweet_id(), followers=120),
            sx.mention_webhook(account, config, tweet_id(), user_id(), "dealz4u",
                               f"@acme{t[:6]} GIVEAWAY! Use code WIN50 for 50% off "
                               "https://promo.example/win")):
        assert e2e.post(hook).status_code == 200

    supervisor = make_agent(runtime, workspace_id, "supervisor", "Sam Supervisor")
    page = browser_login(chromium, e2e.server.url, supervisor.email, supervisor.password)
    page.click("#listening-link")
    page.wait_for_url("**/listening")
    page.click("a[data-tab='settings']")
    page.fill("textarea[data-kind='keyword']", "fine\n(a|b)* OR from:victim")
    page.click("button[data-role='save-rules']")
    error = page.locator("[role=alert][data-field='rules.1.value']")
    error.wait_for()
    assert "no quotes, brackets or search operators" in error.inner_text()
    page.fill("textarea[data-kind='keyword']", "")
    page.fill("textarea[data-kind='brand_name']", f"Acme{t[:6]}")
    page.fill("textarea[data-kind='hashtag']", t)
    page.fill("textarea[data-kind='competitor_handle']", f"@{rival}")
    page.click("button[data-role='save-rules']")
    page.locator("[data-role='notice']").wait_for()
    assert f"from:{rival}" in page.locator("[data-role='query']").inner_text()
    page.fill("input[name='opportunity_wait_minutes']", "15")
    page.click("button[data-role='save-settings']")
    page.locator("[data-role='notice']").wait_for()

    wait_for(lambda: len(posts(e2e)) == 3, what="the search")
    page.goto("/listening")
    cards = page.locator("article.listened")
    assert cards.count() == 3
    dana = page.locator("article.listened", has_text="down all morning")
    assert "5,400 followers" in dana.locator("[data-role='reach']").inner_text()
    assert dana.locator("[data-role='sentiment']").inner_text() == "negative"
    assert dana.locator("[data-role='category']").inner_text() == "complaint"
    assert page.evaluate("window.__xss") is None
    assert "<img src=x" in page.locator("article.listened", has_text="lounge").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "listening.png"), full_page=False)

    page.click("a[data-tab='opportunities']")
    opportunity = page.locator("[data-role='opportunity']")
    assert opportunity.count() == 1
    assert opportunity.locator("[data-role='waited']").inner_text() == "waiting 42 min"
    page.screenshot(path=str(SHOTS / "opportunities.png"), full_page=False)

    page.click("a[data-tab='filtered']")
    filtered = page.locator("article.listened[data-state='filtered']")
    assert filtered.count() == 2
    reasons = sorted(r.inner_text() for r in filtered.locator("[data-role='reason']").all())
    assert reasons == ["Promotion", "Retweet"]
    page.screenshot(path=str(SHOTS / "filtered-noise.png"), full_page=False)
    # Not in the inbox until restored; then it is.
    page.goto("/inbox")
    assert page.locator("#inbox-list", has_text="Our app is back up").count() == 0
    page.goto("/listening/filtered")
    page.locator("article.listened", has_text="Our app is back up").locator(
        "[data-role='restore']").click()
    page.locator("[data-role='notice']").wait_for()
    assert page.locator("article.listened[data-state='filtered']").count() == 1
    page.goto("/inbox")
    page.locator("#inbox-list", has_text="Our app is back up").wait_for()

    # One click: a listened post becomes a conversation.
    page.goto("/listening")
    page.locator("article.listened", has_text="lost my bag").locator(
        "[data-role='convert']").click()
    page.wait_for_url("**/conversations/*")
    page.get_by_text("lost my bag again").first.wait_for()

    # No serious accessibility violation on any listening page (axe-core, as the desktop's).
    context = chromium.new_context(base_url=e2e.server.url, bypass_csp=True,
                                   viewport={"width": 1440, "height": 900})
    desk = context.new_page()
    desk.goto("/login")
    desk.fill("input[name=email]", supervisor.email)
    desk.fill("input[name=password]", supervisor.password)
    desk.click("button[type=submit]")
    desk.wait_for_url("**/inbox")
    found = {}
    for path in ("/listening", "/listening/opportunities", "/listening/defensive",
                 "/listening/filtered", "/listening/settings"):
        answer = desk.goto(path)
        assert answer is not None and answer.status == 200
        desk.wait_for_load_state("networkidle")
        if problems := violations(desk):
            found[path] = problems
    context.close()
    assert found == {}, found
