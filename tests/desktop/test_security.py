"""Desktop security: roles, CSRF, sign-in redirects, session cookies and login throttling."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.conftest import make_token
from tests.desktop.conftest import Desk, csrf_of, desk_for, make_agent, sign_in
from tests.factories import api_account, message_event, post_events
from threadline.conversations.models import Conversation
from threadline.db.base import utcnow
from threadline.web.app import create_app
from threadline.workspace.models import LoginAttempt, Team


def _conversation(client, runtime, workspace_id, worker) -> str:
    acc = api_account(runtime, workspace_id)
    assert post_events(client, acc, [message_event("sec-1", text="hello")]).status_code == 200
    worker.drain()
    with runtime.db.session(write=False) as session:
        return str(session.scalar(select(Conversation.id).where(
            Conversation.workspace_id == workspace_id)))


class TestRoles:
    @pytest.mark.parametrize("url", ["/supervisor", "/settings"])
    def test_agent_cannot_open_supervisor_or_admin_pages(self, agent_desk: Desk, url):
        r = agent_desk.get(url)
        assert r.status_code == 403
        assert "insufficient_role" in r.text and "<html" in r.text

    def test_supervisor_sees_supervisor_view_but_not_settings(self, supervisor_desk: Desk):
        assert supervisor_desk.get("/supervisor").status_code == 200
        assert supervisor_desk.get("/settings").status_code == 403

    def test_agent_cannot_change_settings(self, agent_desk: Desk, runtime, workspace_id):
        r = agent_desk.post("/settings/teams", {"name": "Hackers"})
        assert r.status_code == 403
        r = agent_desk.post("/settings/agents", {"email": "x@y.example", "role": "admin"})
        assert r.status_code == 403
        with runtime.db.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(Team).where(
                Team.workspace_id == workspace_id)) == 0

    def test_rail_hides_links_the_role_cannot_use(self, agent_desk: Desk, admin_desk: Desk):
        assert 'href="/settings"' not in agent_desk.get("/inbox").text
        assert 'href="/supervisor"' not in agent_desk.get("/inbox").text
        assert 'href="/settings"' in admin_desk.get("/inbox").text

    def test_agent_token_cannot_use_supervisor_or_admin_apis(self, app, runtime, workspace_id):
        token = make_token(runtime, workspace_id, role="agent")
        with TestClient(app) as c:
            c.headers["Authorization"] = f"Bearer {token}"
            assert c.get("/api/v1/dead-letters").status_code == 403
            assert c.get("/api/v1/channel-accounts").status_code == 403
            r = c.post("/api/v1/channel-accounts", json={"kind": "api", "name": "n"})
            assert r.status_code == 403
            assert r.json()["error"]["code"] == "insufficient_role"

    def test_desktop_cookie_does_not_open_the_api(self, agent_desk: Desk):
        r = agent_desk.get("/api/v1/conversations")
        assert r.status_code == 401


class TestCsrf:
    def test_form_without_token_is_refused_and_changes_nothing(
            self, agent_desk: Desk, client, runtime, workspace_id, worker):
        conv_id = _conversation(client, runtime, workspace_id, worker)
        r = agent_desk.post(f"/conversations/{conv_id}/labels", {"labels": "vip"},
                            csrf=False)
        assert r.status_code == 403 and "csrf_failed" in r.text
        r = agent_desk.post(f"/conversations/{conv_id}/reply",
                            {"text": "hi", "kind": "note"}, csrf=False, htmx=True)
        assert r.status_code == 403
        with runtime.db.session(write=False) as session:
            conv = session.get(Conversation, uuid.UUID(conv_id))
            assert conv.labels == [] and conv.message_count == 1

    def test_wrong_or_foreign_token_is_refused(self, app, agent_desk: Desk, runtime,
                                               workspace_id, client, worker):
        conv_id = _conversation(client, runtime, workspace_id, worker)
        other = desk_for(app, runtime, workspace_id, "agent")
        assert other.csrf != agent_desk.csrf
        for token in ("0" * 64, other.csrf):
            r = agent_desk.client.post(f"/conversations/{conv_id}/labels",
                                       data={"labels": "x", "csrf_token": token},
                                       follow_redirects=False)
            assert r.status_code == 403
        r = agent_desk.client.post(f"/conversations/{conv_id}/labels", data={"labels": "x"},
                                   headers={"X-CSRF-Token": "nope", "HX-Request": "true"})
        assert r.status_code == 403
        ok = agent_desk.post(f"/conversations/{conv_id}/labels", {"labels": "x"}, htmx=True)
        assert ok.status_code == 200

    def test_login_form_needs_its_token(self, app, runtime, workspace_id):
        agent = make_agent(runtime, workspace_id)
        with TestClient(app) as c:
            c.get("/login")
            r = c.post("/login", data={"email": agent.email, "password": agent.password},
                       follow_redirects=False)
            assert r.status_code == 403
            assert "tl_session" not in r.cookies


class TestSignedOut:
    @pytest.mark.parametrize("url", ["/inbox", "/supervisor", "/settings",
                                     "/conversations/7b1577d2-58b3-428c-8f73-39f068ae4b20"])
    def test_logged_out_user_is_sent_to_login(self, app, url):
        with TestClient(app) as c:
            r = c.get(url, follow_redirects=False)
            assert r.status_code == 303
            assert r.headers["location"].startswith("/login?next=")
            assert c.get("/", follow_redirects=False).headers["location"] == "/login"

    def test_htmx_requests_get_a_client_redirect(self, app):
        with TestClient(app) as c:
            r = c.get("/inbox/list", headers={"HX-Request": "true"}, follow_redirects=False)
            assert r.status_code == 401 and r.headers["hx-redirect"] == "/login"

    def test_posts_when_logged_out_go_to_login(self, app):
        with TestClient(app) as c:
            r = c.post("/settings/teams", data={"name": "x"}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/login"

    def test_forged_cookie_is_ignored(self, app):
        with TestClient(app) as c:
            c.cookies.set("tl_session", "forged.value.here")
            assert c.get("/inbox", follow_redirects=False).status_code == 303

    def test_logout_ends_the_session_on_the_server(self, agent_desk: Desk):
        cookie = agent_desk.client.cookies.get("tl_session")
        r = agent_desk.post("/logout")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        agent_desk.client.cookies.set("tl_session", cookie)
        assert agent_desk.get("/inbox", follow_redirects=False).status_code == 303

    def test_session_cookie_flags(self, app, runtime, workspace_id):
        agent = make_agent(runtime, workspace_id)
        with TestClient(app) as c:
            r = sign_in(c, agent)
            header = r.headers["set-cookie"].lower()
            assert "tl_session=" in header and "httponly" in header and "samesite=lax" in header
            assert r.headers["location"] == "/inbox"

    def test_next_parameter_stays_on_this_site(self, app, runtime, workspace_id):
        agent = make_agent(runtime, workspace_id)
        with TestClient(app) as c:
            page = c.get("/login?next=//evil.example/x")
            r = c.post("/login", data={"email": agent.email, "password": agent.password,
                                       "next": "//evil.example/x",
                                       "csrf_token": csrf_of(page.text)},
                       follow_redirects=False)
            assert r.headers["location"] == "/inbox"


class TestThrottle:
    def test_repeated_bad_passwords_are_throttled_across_processes(self, app, runtime,
                                                                   workspace_id):
        agent = make_agent(runtime, workspace_id)
        started = utcnow()
        with TestClient(app) as c:
            for _ in range(5):
                assert sign_in(c, agent, password="wrong").status_code == 401
            r = sign_in(c, agent)  # even the right password waits now
            assert r.status_code == 429
            assert re.search(r"Try again in \d+ seconds", r.text)
            assert "tl_session" not in r.cookies
        # Another web process (its own app, the same database) sees the same count. The
        # wait after five failures is one second: the failures are dated a minute ahead, so
        # however slowly the second app starts on a busy machine, the wait has not ended.
        other = create_app(runtime, workers=0)
        with TestClient(other) as c2:
            with runtime.db.session() as session:
                session.execute(update(LoginAttempt).where(
                    LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= started
                ).values(created_at=utcnow() + timedelta(minutes=1)))  # this test's own
            assert sign_in(c2, agent).status_code == 429

    def test_success_clears_the_address_failures(self, app, runtime, workspace_id):
        agent = make_agent(runtime, workspace_id)
        with TestClient(app) as c:
            for _ in range(4):
                assert sign_in(c, agent, password="wrong").status_code == 401
            assert sign_in(c, agent).status_code == 303
            c.cookies.clear()
            for _ in range(4):
                assert sign_in(c, agent, password="wrong").status_code == 401
            assert sign_in(c, agent).status_code == 303

    def test_unknown_email_and_deactivated_agents_cannot_sign_in(self, app, runtime,
                                                                  workspace_id):
        agent = make_agent(runtime, workspace_id)
        admin = desk_for(app, runtime, workspace_id, "admin")
        r = admin.post(f"/settings/agents/{agent.id}", {"active": "no"})
        assert r.status_code == 303
        with TestClient(app) as c:
            assert sign_in(c, agent).status_code == 401
