"""The desktop's side of the KPIs: episode separators and segment chips on the timeline, and
the activity reports (active handle time), with what an attacker would try on them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from tests.desktop.conftest import desk_for
from tests.kpis.story import Story
from threadline.db.base import utcnow
from threadline.kpis.models import AgentActivity, ConversationFacts
from threadline.workspace.service import create_workspace

HOUR = timedelta(hours=1)


def _told(runtime, workspace_id) -> Story:
    t0 = utcnow().replace(microsecond=0) - timedelta(days=5)
    story = Story.begin(runtime, workspace_id, t0, channel="x", visibility="public")
    story.agent(t0 + HOUR, "x", "public")
    story.customer(t0 + 2 * HOUR, "x", "private")
    story.agent(t0 + 2 * HOUR, kind="note", visibility="private")
    story.resolve(t0 + 3 * HOUR)
    story.customer(t0 + 2 * 24 * HOUR, "email", "private")  # reopens
    return story


def _activity(runtime, conversation_id) -> tuple[float, int]:
    with runtime.db.session(write=False) as session:
        facts = session.get(ConversationFacts, conversation_id)
        rows = session.scalar(select(func.count()).select_from(AgentActivity).where(
            AgentActivity.conversation_id == conversation_id))
        return (facts.handle_s if facts else 0.0), int(rows or 0)


def _report(desk, conversation_id, kind="focus", seconds="15", **kw):
    return desk.client.post("/desktop/activity", data={
        "conversation_id": str(conversation_id), "kind": kind, "seconds": seconds},
        headers={"X-CSRF-Token": desk.csrf, **kw.pop("headers", {})}, follow_redirects=False,
        **kw)


class TestTimeline:
    def test_episode_separators_and_segment_chips(self, runtime, workspace_id, agent_desk):
        story = _told(runtime, workspace_id)
        html = agent_desk.get(f"/conversations/{story.conversation_id}/timeline").text
        assert html.count('data-role="episode"') == 2
        assert 'data-reason="start"' in html and 'data-reason="reopen"' in html
        assert "Episode 2 · reopened" in html
        assert html.count('data-role="segment"') == 3  # X public, X private, email private
        first_message = html.index(f'id="msg-{story.messages[0]}"')
        assert html.index('data-episode="1"') < first_message
        reopening = html.index(f'id="msg-{story.messages[-1]}"')
        assert html.index('data-episode="2"') < reopening
        assert html.index('data-segment="3"') < reopening
        page = agent_desk.get(f"/conversations/{story.conversation_id}").text
        assert page.count('data-role="episode"') == 2  # the whole page shows them too

    def test_a_conversation_not_counted_yet_shows_none(self, runtime, workspace_id,
                                                        agent_desk):
        story = _told(runtime, workspace_id)
        with runtime.db.session() as session:
            session.query(ConversationFacts).filter(
                ConversationFacts.conversation_id == story.conversation_id).delete()
            from threadline.kpis.models import ConversationEpisode, ConversationSegment
            for model in (ConversationEpisode, ConversationSegment):
                session.query(model).filter(
                    model.conversation_id == story.conversation_id).delete()
        html = agent_desk.get(f"/conversations/{story.conversation_id}/timeline").text
        assert 'data-role="episode"' not in html and f"msg-{story.messages[0]}" in html


class TestActivityReports:
    def test_a_report_counts_as_handle_time(self, runtime, workspace_id, agent_desk):
        story = _told(runtime, workspace_id)
        assert _report(agent_desk, story.conversation_id, "focus", "15").status_code == 204
        handle, rows = _activity(runtime, story.conversation_id)
        assert (handle, rows) == (15.0, 1)
        assert _report(agent_desk, story.conversation_id, "typing", "12.5").status_code == 204
        handle, rows = _activity(runtime, story.conversation_id)
        assert rows == 2 and 15.0 < handle <= 27.5  # at most the time since the last report

    def test_two_tabs_cannot_count_the_same_seconds_twice(self, runtime, workspace_id,
                                                          agent_desk):
        story = _told(runtime, workspace_id)
        other = Story.begin(runtime, workspace_id, utcnow() - HOUR)
        assert _report(agent_desk, story.conversation_id, "focus", "60").status_code == 204
        assert _report(agent_desk, other.conversation_id, "focus", "60").status_code == 204
        assert _report(agent_desk, story.conversation_id, "focus", "60").status_code == 204
        first, _ = _activity(runtime, story.conversation_id)
        second, _ = _activity(runtime, other.conversation_id)
        assert 60.0 <= first < 65.0  # the first report, then only the wall clock's share
        assert 0.0 <= second < 5.0

    def test_another_workspaces_conversation_is_not_found(self, runtime, workspace_id, app,
                                                          agent_desk):
        with runtime.db.session() as session:
            elsewhere = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:10]}").id
        story = _told(runtime, elsewhere)
        response = _report(agent_desk, story.conversation_id)
        assert response.status_code == 404
        assert _activity(runtime, story.conversation_id) == (0.0, 0)
        assert _report(agent_desk, uuid.uuid4()).status_code == 404

    def test_bad_input_is_refused_and_nothing_is_stored(self, runtime, workspace_id,
                                                        agent_desk):
        story = _told(runtime, workspace_id)
        cases = [("call", "10"), ("idle", "10"), ("focus'; DROP TABLE agent_activity;--", "10"),
                 ("focus", "0"), ("focus", "-5"), ("focus", "61"), ("focus", "1e9"),
                 ("focus", "nan"), ("focus", "inf"), ("focus", "ten"), ("focus", ""),
                 ("", "10")]
        for kind, seconds in cases:
            response = _report(agent_desk, story.conversation_id, kind, seconds)
            assert response.status_code == 422, (kind, seconds, response.status_code)
        for bad_id in ("not-a-uuid", "", "1 OR 1=1"):
            response = agent_desk.client.post(
                "/desktop/activity", data={"conversation_id": bad_id, "kind": "focus",
                                           "seconds": "10"},
                headers={"X-CSRF-Token": agent_desk.csrf})
            assert response.status_code == 422
        assert _activity(runtime, story.conversation_id) == (0.0, 0)

    def test_an_oversized_body_is_refused(self, runtime, workspace_id, agent_desk):
        story = _told(runtime, workspace_id)
        response = agent_desk.client.post(
            "/desktop/activity", data={"conversation_id": str(story.conversation_id),
                                       "kind": "focus", "seconds": "10", "pad": "x" * 5000},
            headers={"X-CSRF-Token": agent_desk.csrf})
        assert response.status_code == 413
        assert _activity(runtime, story.conversation_id) == (0.0, 0)

    def test_without_the_csrf_token_or_signed_out(self, runtime, workspace_id, app,
                                                  agent_desk):
        story = _told(runtime, workspace_id)
        response = agent_desk.client.post("/desktop/activity", data={
            "conversation_id": str(story.conversation_id), "kind": "focus", "seconds": "10"})
        assert response.status_code == 403
        from fastapi.testclient import TestClient
        anonymous = TestClient(app).post("/desktop/activity", data={
            "conversation_id": str(story.conversation_id), "kind": "focus", "seconds": "10"},
            follow_redirects=False)
        assert anonymous.status_code in (303, 401)
        assert _activity(runtime, story.conversation_id) == (0.0, 0)

    def test_reports_are_rate_limited_per_agent(self, runtime, workspace_id, app):
        desk = desk_for(app, runtime, workspace_id, "agent", "Rita Rapid")
        story = _told(runtime, workspace_id)
        codes = [_report(desk, story.conversation_id, "focus", "1").status_code
                 for _ in range(31)]
        assert codes[:30] == [204] * 30 and codes[30] == 429
