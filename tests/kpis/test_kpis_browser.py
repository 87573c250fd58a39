"""The desktop reports activity in real headless Chromium: with a conversation open and the
agent active, desktop.js posts a focus report, then a typing report once he types; an idle
agent's time is not reported. The page's clock is Playwright's, so the 15 s beats run at
once; the server counts no more than the real time between reports (so the typing report
after a fast-forwarded 15 s counts the few milliseconds that really passed)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.kpis.story import Story
from threadline.db.base import utcnow
from threadline.kpis.models import AgentActivity, ConversationFacts

pytestmark = pytest.mark.slow


def _kinds(runtime, conversation_id) -> list[tuple[str, float]]:
    with runtime.db.session(write=False) as session:
        return [(a.kind, a.seconds) for a in session.scalars(select(AgentActivity).where(
            AgentActivity.conversation_id == conversation_id).order_by(AgentActivity.started_at))]


def _settled(runtime, conversation_id) -> tuple[float, list[tuple[str, float]]]:
    """The conversation's handle time and activity once no report has arrived for a second
    (reports in flight are answered by then)."""
    last = None
    for _ in range(40):
        with runtime.db.session(write=False) as session:
            facts = session.get(ConversationFacts, conversation_id)
            now = ((facts.handle_s if facts else 0.0), _kinds(runtime, conversation_id))
        if now == last:
            return now
        last = now
        time.sleep(1.0)
    raise AssertionError(f"activity still changing: {last}")


def test_focus_and_typing_reports_while_the_conversation_is_open(runtime, workspace_id,
                                                                 live_server, chromium):
    ana = make_agent(runtime, workspace_id, "agent", "Ana Active")
    story = Story.begin(runtime, workspace_id, utcnow() - timedelta(hours=1))
    page = browser_login(chromium, live_server.url, ana.email, ana.password)
    page.clock.install()
    page.goto(f"/conversations/{story.conversation_id}")
    page.wait_for_selector("#conversation")
    page.bring_to_front()
    page.mouse.move(300, 300)
    with page.expect_response("**/desktop/activity") as first:
        page.clock.run_for(16_000)
    assert first.value.status == 204
    page.fill("#composer-text", "Checking your order now")
    with page.expect_response("**/desktop/activity") as second:
        page.clock.run_for(15_000)
    assert second.value.status == 204
    kinds = _kinds(runtime, story.conversation_id)
    assert [k for k, _ in kinds] == ["focus", "typing"], kinds
    assert kinds[0] == ("focus", 15.0) and 0 < kinds[1][1] < 5, kinds
    page.clock.run_for(45_000)  # still active within the minute after his last input
    active = _settled(runtime, story.conversation_id)
    assert active[0] > 15.0 and len(active[1]) >= 3  # more reports arrived
    page.clock.run_for(60_000)  # no input for more than a minute: idle, nothing reported
    assert _settled(runtime, story.conversation_id) == active
    kinds = _kinds(runtime, story.conversation_id)
    assert [k for k, _ in kinds[:2]] == ["focus", "typing"]
    with runtime.db.session(write=False) as session:
        facts = session.get(ConversationFacts, story.conversation_id)
        assert facts is not None
        assert facts.handle_s == pytest.approx(sum(s for _, s in kinds))
    page.context.close()
