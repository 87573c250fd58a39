"""Attacks on listening: another workspace's posts, an agent editing the rules or settings,
hostile rule input (huge, regex-like, search-operator and SQL injection: a typed 422 naming
the field, nothing stored), hostile post text (escaped on every page), CSRF on the desktop's
forms, and the migration's round trip."""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import make_token
from tests.migrations import check_round_trip, has_table, mentions
from threadline.listening.models import ListenedPost, ListeningRule
from threadline.sandbox.providers import x as sx
from threadline.workspace.service import create_channel_account, create_workspace

OWN = "5151515151"
CONFIG = {"consumer_key": "ck", "consumer_secret": "sec_secret", "access_token": f"{OWN}-t",
          "access_token_secret": "ats", "user_id": OWN, "brand_handles": ["acmesec"]}
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script> @acmesec giveaway! use code X'


def tweet_id() -> str:
    return str(1_890_000_000_000_000_000 + random.randrange(10**15))


def filtered_post(runtime: Any, workspace_id: uuid.UUID, client: Any, worker: Any,
                  text: str = HOSTILE) -> ListenedPost:
    with runtime.db.session() as session:
        account = create_channel_account(session, workspace_id, kind="x", name="X",
                                         config=dict(CONFIG))
        account_id = str(account.id)
    tid = tweet_id()
    hook = sx.mention_webhook(account_id, CONFIG, tid, "77", "mallory", text)
    assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
    worker.drain()
    with runtime.db.session(write=False) as session:
        post = session.scalar(select(ListenedPost).where(ListenedPost.provider_id == tid))
        assert post is not None and post.state == "filtered"
        session.expunge(post)
        return post


def rules_of(runtime: Any, workspace_id: uuid.UUID) -> list[str]:
    with runtime.db.session(write=False) as session:
        return [f"{r.kind}:{r.value}" for r in session.scalars(
            select(ListeningRule).where(ListeningRule.workspace_id == workspace_id))]


class TestAnotherWorkspace:
    def test_its_posts_are_not_found_and_not_listed(self, runtime: Any, workspace_id: Any,
                                                     client: Any, worker: Any, app: Any) -> None:
        post = filtered_post(runtime, workspace_id, client, worker)
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:12]}").id
        with TestClient(app) as intruder:
            intruder.headers["Authorization"] = f"Bearer {make_token(runtime, other)}"
            for action in ("restore", "convert"):
                answer = intruder.post(f"/api/v1/listening/posts/{post.id}/{action}")
                assert answer.status_code == 404, answer.text
            assert intruder.get("/api/v1/listening/posts",
                                params={"view": "filtered"}).json()["items"] == []
        with runtime.db.session(write=False) as session:
            assert session.get(ListenedPost, post.id).state == "filtered"  # type: ignore[union-attr]


class TestRoles:
    def test_an_agent_reads_but_cannot_edit_rules_or_settings(
            self, runtime: Any, workspace_id: Any, app: Any) -> None:
        with TestClient(app) as agent:
            agent.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id, 'agent')}"
            assert agent.get("/api/v1/listening/rules").status_code == 200
            answer = agent.put("/api/v1/listening/rules",
                               json={"rules": [{"kind": "keyword", "value": "outage"}]})
            assert answer.status_code == 403 and answer.json()["error"]["code"] == \
                "insufficient_role"
            assert agent.patch("/api/v1/listening/settings",
                               json={"opportunities_enabled": False}).status_code == 403
            assert agent.post("/api/v1/listening/search").status_code == 403
        assert rules_of(runtime, workspace_id) == []

    def test_the_desktop_refuses_an_agent_and_a_forged_form(self, agent_desk: Any,
                                                            supervisor_desk: Any,
                                                            runtime: Any,
                                                            workspace_id: Any) -> None:
        assert agent_desk.post("/listening/rules", {"keyword": "outage"}).status_code == 403
        forged = supervisor_desk.post("/listening/rules", {"keyword": "outage"}, csrf=False)
        assert forged.status_code == 403
        assert rules_of(runtime, workspace_id) == []
        saved = supervisor_desk.post("/listening/rules", {"keyword": "outage\nlate flight",
                                                          "competitor_handle": "@globex"})
        assert saved.status_code == 303
        assert sorted(rules_of(runtime, workspace_id)) == [
            "competitor_handle:globex", "keyword:late flight", "keyword:outage"]


class TestHostileRules:
    @pytest.mark.parametrize(("rule", "field"), [
        ({"kind": "keyword", "value": "x" * 1001}, "value"),
        ({"kind": "keyword", "value": "x" * 200}, "rules.0.value"),
        ({"kind": "keyword", "value": ".*(a+)+$"}, "rules.0.value"),
        ({"kind": "keyword", "value": '") OR (from:victim'}, "rules.0.value"),
        ({"kind": "keyword", "value": "x'); DELETE FROM listening_rules; --"}, "rules.0.value"),
        ({"kind": "keyword", "value": "<script>alert(1)</script>"}, "rules.0.value"),
        ({"kind": "regex", "value": "outage"}, "rules.0.kind"),
        ({"kind": "brand_name", "value": "@acme"}, "rules.0.value"),
    ])
    def test_refused_with_a_422_naming_the_field_and_nothing_stored(
            self, client: Any, runtime: Any, workspace_id: Any, rule: dict[str, Any],
            field: str) -> None:
        assert client.put("/api/v1/listening/rules", json={"rules": [
            {"kind": "keyword", "value": "kept"}]}).status_code == 200
        answer = client.put("/api/v1/listening/rules",
                            json={"rules": [rule, {"kind": "keyword", "value": "new"}]})
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        named = error.get("details", {}).get("field") or ".".join(
            error["details"]["errors"][0]["loc"])
        assert named.endswith(field)
        assert rules_of(runtime, workspace_id) == ["keyword:kept"]

    def test_settings_out_of_range_or_of_the_wrong_type(self, client: Any) -> None:
        for body, field in (({"opportunity_wait_minutes": 0}, "opportunity_wait_minutes"),
                            ({"defensive_wait_minutes": 10**9}, "defensive_wait_minutes"),
                            ({"search_interval_seconds": 5}, "search_interval_seconds")):
            answer = client.patch("/api/v1/listening/settings", json=body)
            assert answer.status_code == 422
            assert answer.json()["error"]["details"]["field"] == field
        assert client.patch("/api/v1/listening/settings",
                            json={"noise_filter": "yes"}).status_code == 422
        assert client.get("/api/v1/listening/settings").json()["opportunity_wait_minutes"] == 60

    def test_the_desktop_form_shows_the_error_and_keeps_what_was_typed(
            self, supervisor_desk: Any, runtime: Any, workspace_id: Any) -> None:
        answer = supervisor_desk.post("/listening/rules", {"keyword": "fine\n(a|b)*",
                                                           "hashtag": "x" * 100_000})
        assert answer.status_code == 422
        assert 'data-field="rules.1.value"' in answer.text
        assert "(a|b)*" in answer.text  # what was typed comes back, escaped
        assert rules_of(runtime, workspace_id) == []


class TestHostileText:
    def test_post_text_is_escaped_on_the_pages(self, runtime: Any, workspace_id: Any,
                                               client: Any, worker: Any,
                                               agent_desk: Any) -> None:
        filtered_post(runtime, workspace_id, client, worker)
        page = agent_desk.get("/listening/filtered")
        assert page.status_code == 200
        assert "<script>alert(2)</script>" not in page.text
        assert '<img src=x onerror="alert(1)">' not in page.text
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page.text
        api = client.get("/api/v1/listening/posts", params={"view": "filtered"}).json()
        assert api["items"][0]["text"] == HOSTILE  # the API gives the text as posted (JSON)


class TestMigration:
    def test_round_trip(self, tmp_path: Path) -> None:
        db = check_round_trip(tmp_path, before="0035", present=has_table("listened_posts"),
                              about=mentions("listen"))
        db.dispose()
