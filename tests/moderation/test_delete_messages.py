"""Deleting public messages on their channel (issue 15): a customer's comment on Facebook
and Instagram (supervisors), the brand's own public reply on Facebook, Instagram and X (any
agent). Through the REST API and the desktop's confirm step, done by the worker through the
sandbox's provider APIs over real HTTP, audited with the agent and the reason; every refusal
is typed and leaves nothing behind; a job run twice deletes once."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.conftest import make_token
from tests.desktop.conftest import Desk, make_agent
from tests.factories import api_account, message_event, post_events
from tests.moderation.helpers import (
    audit_actions,
    brand_reply,
    comment,
    conversation_of,
    delete_calls,
    delete_jobs,
    live_events,
    message,
    meta_account,
    new_comment_id,
    sandbox_deleted,
    x_account,
)
from threadline.channels.base import AccountConfig, ChannelAction
from threadline.channels.registry import get_adapter
from threadline.channels.urls import UrlPolicy
from threadline.events.models import OutboxJob
from threadline.outbound import deletion
from threadline.sandbox.providers import meta
from threadline.workspace import service as workspace_service

SPAM = {"reason": "spam", "note": "link to a fake shop"}


def _client(app: Any, runtime: Any, workspace_id: uuid.UUID, role: str) -> TestClient:
    token = make_token(runtime, workspace_id, role=role)
    return TestClient(app, headers={"authorization": f"Bearer {token}"})


def _nothing_queued(runtime: Any, message_id: str) -> None:
    assert delete_jobs(runtime, message_id) == []
    assert [a for a, *_ in audit_actions(runtime, message_id)
            if a.startswith("message.delete")] == []


class TestCustomerComment:
    @pytest.mark.parametrize("kind", ["facebook", "instagram"])
    def test_a_supervisor_deletes_a_customers_comment(self, runtime, workspace_id, client,
                                                      worker, sandbox, app, kind):
        account, config = meta_account(runtime, workspace_id, sandbox.url, kind)
        comment_id = new_comment_id(kind)
        conv, msg = comment(client, worker, account, config, comment_id)
        supervisor = _client(app, runtime, workspace_id, "supervisor")
        path = f"/api/v1/conversations/{conv}/messages/{msg}/delete"

        answer = supervisor.post(path, json=SPAM)
        assert answer.status_code == 202, answer.text
        assert answer.json() == {"message_id": msg, "action": "delete", "state": "queued"}
        assert delete_calls(sandbox.url, "meta", comment_id) == []  # the worker calls
        assert message(client, conv, msg)["deleted_at"] is None
        assert supervisor.post(path, json=SPAM).json()["state"] == "queued"  # no second job
        assert len(delete_jobs(runtime, msg)) == 1

        worker.drain()
        [call] = delete_calls(sandbox.url, "meta", comment_id)
        assert call["path"].endswith(f"/{comment_id}")
        assert comment_id in sandbox_deleted(sandbox.url, "meta")
        shown = message(client, conv, msg)
        assert shown["deleted_at"] is not None
        assert shown["meta"]["deleted_by"]["reason"] == "spam"
        assert live_events(runtime, workspace_id, "message.deleted", msg) == [
            {"conversation_id": conv, "message_id": msg}]
        actions = audit_actions(runtime, msg)
        requested = [a for a in actions if a[0] == "message.delete_requested"]
        done = [a for a in actions if a[0] == "message.delete"]
        assert len(requested) == 1 and len(done) == 1
        assert requested[0][1] == "token" and requested[0][3]["reason"] == "spam"
        assert requested[0][3]["note"] == "link to a fake shop"
        assert done[0][1:3] == requested[0][1:3]  # the same actor on both
        assert done[0][3]["reason"] == "spam" and done[0][3]["already_gone"] is False

        # Gone for good: the provider refuses to hide it, Threadline refuses both.
        again = supervisor.post(path, json=SPAM)
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_deleted"
        hide = client.post(f"/api/v1/conversations/{conv}/messages/{msg}/hide")
        assert hide.status_code == 422
        graph = httpx.post(f"{sandbox.url}/meta/v25.0/{comment_id}",
                           headers={"authorization": "Bearer t"}, json={"is_hidden": True})
        assert graph.status_code == 400 and graph.json()["error"]["error_subcode"] == 33

    def test_an_agent_may_not_delete_a_customers_comment(self, runtime, workspace_id, client,
                                                         worker, sandbox, app):
        account, config = meta_account(runtime, workspace_id, sandbox.url)
        comment_id = new_comment_id()
        conv, msg = comment(client, worker, account, config, comment_id)
        agent = _client(app, runtime, workspace_id, "agent")
        answer = agent.post(f"/api/v1/conversations/{conv}/messages/{msg}/delete", json=SPAM)
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "insufficient_role"
        _nothing_queued(runtime, msg)
        worker.drain()
        assert delete_calls(sandbox.url, "meta", comment_id) == []


class TestBrandReply:
    @pytest.mark.parametrize("kind", ["facebook", "instagram"])
    def test_an_agent_deletes_the_pages_own_reply(self, runtime, workspace_id, client, worker,
                                                  sandbox, app, kind):
        account, config = meta_account(runtime, workspace_id, sandbox.url, kind)
        conv, customer = comment(client, worker, account, config, new_comment_id(kind))
        reply = brand_reply(client, worker, conv)
        agent = _client(app, runtime, workspace_id, "agent")
        answer = agent.post(f"/api/v1/conversations/{conv}/messages/{reply['id']}/delete",
                            json={"reason": "mistake"})
        assert answer.status_code == 202, answer.text
        worker.drain()
        assert len(delete_calls(sandbox.url, "meta", reply["provider_id"])) == 1
        assert reply["provider_id"] in sandbox_deleted(sandbox.url, "meta")
        assert message(client, conv, reply["id"])["deleted_at"] is not None
        assert message(client, conv, customer)["deleted_at"] is None  # only the reply goes

    def test_an_agent_deletes_the_brands_tweet(self, runtime, workspace_id, client, worker,
                                               sandbox, app):
        account, config = x_account(runtime, workspace_id, sandbox.url)
        tweet = str(1_880_000_000_000_000_000 + uuid.uuid4().int % 10**15)
        conv, mention = comment(client, worker, account, config, tweet)
        reply = brand_reply(client, worker, conv)
        agent = _client(app, runtime, workspace_id, "agent")
        base = f"/api/v1/conversations/{conv}/messages"
        answer = agent.post(f"{base}/{reply['id']}/delete", json={"reason": "mistake"})
        assert answer.status_code == 202, answer.text
        worker.drain()
        [call] = delete_calls(sandbox.url, "x", reply["provider_id"])
        assert call["path"].endswith(f"/2/tweets/{reply['provider_id']}")
        assert sandbox_deleted(sandbox.url, "x").count(reply["provider_id"]) == 1
        assert message(client, conv, reply["id"])["deleted_at"] is not None
        # X never lets the brand delete a customer's tweet, whatever the role.
        refused = client.post(f"{base}/{mention}/delete", json=SPAM)
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "channel_cannot_delete"
        _nothing_queued(runtime, mention)


class TestRefusals:
    def test_a_private_message_is_refused(self, runtime, workspace_id, client, worker,
                                          sandbox):
        account, config = meta_account(runtime, workspace_id, sandbox.url)
        mid = f"m_{uuid.uuid4().hex}"
        hook = meta.messenger_message_webhook(str(account.id), config, text="my order?",
                                              mid=mid)
        assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
        worker.drain()
        conv, msg = conversation_of(client, mid)
        answer = client.post(f"/api/v1/conversations/{conv}/messages/{msg}/delete", json=SPAM)
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "private_message"
        _nothing_queued(runtime, msg)

    def test_a_channel_without_delete_is_refused(self, runtime, workspace_id, client, worker):
        account = api_account(runtime, workspace_id)
        assert post_events(client, account, [message_event(f"del-{uuid.uuid4().hex[:8]}")]
                           ).status_code == 200
        worker.drain()
        [conv] = client.get("/api/v1/conversations").json()["items"]
        msg = client.get(f"/api/v1/conversations/{conv['id']}").json()["messages"][0]["id"]
        answer = client.post(f"/api/v1/conversations/{conv['id']}/messages/{msg}/delete",
                             json=SPAM)
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "channel_cannot_delete"
        _nothing_queued(runtime, msg)

    def test_another_workspaces_ids_are_unknown(self, runtime, workspace_id, client, worker,
                                                sandbox, app):
        account, config = meta_account(runtime, workspace_id, sandbox.url)
        comment_id = new_comment_id()
        conv, msg = comment(client, worker, account, config, comment_id)
        with runtime.db.session() as s:
            other = workspace_service.create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}")
        stranger = _client(app, runtime, other.id, "admin")
        for path in (f"/api/v1/conversations/{conv}/messages/{msg}/delete",
                     f"/api/v1/conversations/{uuid.uuid4()}/messages/{msg}/delete"):
            answer = stranger.post(path, json=SPAM)
            assert answer.status_code == 404, (path, answer.text)
        # ... and in this workspace, a message id under the wrong conversation.
        answer = client.post(f"/api/v1/conversations/{uuid.uuid4()}/messages/{msg}/delete",
                             json=SPAM)
        assert answer.status_code == 404
        _nothing_queued(runtime, msg)
        worker.drain()
        assert delete_calls(sandbox.url, "meta", comment_id) == []

    @pytest.mark.parametrize(("body", "code"), [
        ({"reason": "because"}, "invalid_reason"),
        ({"reason": "other"}, "invalid_note"),
        ({"reason": "spam", "note": "x\u0000y"}, "unstorable_input"),
        ({"reason": "spam", "note": "bell\u0007"}, "invalid_note"),
        ({"reason": "spam", "note": "n" * 501}, None),
        ({"reason": "spam" * 20}, None),
        ({"reason": "spam", "extra": 1}, None),
        ({}, None),
    ])
    def test_hostile_input_is_a_typed_422(self, runtime, workspace_id, client, worker,
                                          sandbox, body, code):
        account, config = meta_account(runtime, workspace_id, sandbox.url)
        conv, msg = comment(client, worker, account, config, new_comment_id())
        answer = client.post(f"/api/v1/conversations/{conv}/messages/{msg}/delete",
                             json=body)
        assert answer.status_code == 422, answer.text
        if code:
            assert answer.json()["error"]["code"] == code
        _nothing_queued(runtime, msg)
        bad_id = client.post(f"/api/v1/conversations/{conv}/messages/not-a-uuid/delete",
                             json=SPAM)
        assert bad_id.status_code == 422

    def test_the_providers_refusal_leaves_the_message_and_says_why(self, runtime,
                                                                    workspace_id, client,
                                                                    worker, sandbox):
        account, config = meta_account(runtime, workspace_id, sandbox.url)
        comment_id = new_comment_id()
        conv, msg = comment(client, worker, account, config, comment_id)
        httpx.post(f"{sandbox.url}/_sandbox/faults", json={
            "provider": "meta", "path_contains": comment_id, "status": 403, "count": 1,
            "body": {"error": {"message": "(#200) Permissions error", "code": 200}}})
        path = f"/api/v1/conversations/{conv}/messages/{msg}/delete"
        assert client.post(path, json=SPAM).status_code == 202
        worker.drain()
        shown = message(client, conv, msg)
        assert shown["deleted_at"] is None
        assert "graph_200" in shown["meta"]["delete_error"]
        assert "deleting" not in shown["meta"]
        assert [a for a, *_ in audit_actions(runtime, msg)][-1] == "message.delete_failed"
        assert comment_id not in sandbox_deleted(sandbox.url, "meta")
        assert client.post(path, json=SPAM).status_code == 202  # the agent may try again
        worker.drain()
        assert message(client, conv, msg)["deleted_at"] is not None


    def test_the_last_retry_gives_up_and_says_why(self, runtime, workspace_id, client,
                                                  worker, sandbox):
        account, config = meta_account(runtime, workspace_id, sandbox.url)
        comment_id = new_comment_id()
        conv, msg = comment(client, worker, account, config, comment_id)
        path = f"/api/v1/conversations/{conv}/messages/{msg}/delete"
        assert client.post(path, json=SPAM).status_code == 202
        [job] = delete_jobs(runtime, msg)
        with runtime.db.session() as s:  # as if every try but this one had failed
            s.execute(update(OutboxJob).where(OutboxJob.id == job.id)
                      .values(attempts=runtime.settings.max_attempts - 1))
        httpx.post(f"{sandbox.url}/_sandbox/faults", json={
            "provider": "meta", "path_contains": comment_id, "status": 503, "count": 1})
        worker.drain()
        [job] = delete_jobs(runtime, msg)
        assert job.status == "dead"
        shown = message(client, conv, msg)
        assert shown["deleted_at"] is None and "deleting" not in shown["meta"]
        assert "503" in shown["meta"]["delete_error"]
        assert client.post(path, json=SPAM).status_code == 202  # not stuck as "queued"
        assert len(delete_jobs(runtime, msg)) == 2


class TestRepeat:
    def test_a_job_run_twice_after_a_crash_deletes_once(self, runtime, workspace_id, client,
                                                        worker, sandbox, monkeypatch):
        account, config = meta_account(runtime, workspace_id, sandbox.url)
        comment_id = new_comment_id()
        conv, msg = comment(client, worker, account, config, comment_id)
        assert client.post(f"/api/v1/conversations/{conv}/messages/{msg}/delete",
                           json=SPAM).status_code == 202

        def crash(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("the worker died before its commit")

        # The provider deletes, then the worker dies before it records it.
        monkeypatch.setattr(deletion, "publish", crash)
        worker.drain()
        monkeypatch.undo()
        assert sandbox_deleted(sandbox.url, "meta").count(comment_id) == 1
        assert message(client, conv, msg)["deleted_at"] is None
        [job] = delete_jobs(runtime, msg)
        assert job.status == "pending" and job.attempts == 1
        with runtime.db.session() as s:  # its retry is due now
            s.execute(update(OutboxJob).where(OutboxJob.id == job.id)
                      .values(due_at=job.created_at))
        worker.drain()

        assert len(delete_calls(sandbox.url, "meta", comment_id)) == 2
        assert sandbox_deleted(sandbox.url, "meta").count(comment_id) == 1  # deleted once
        assert message(client, conv, msg)["deleted_at"] is not None
        [done] = [a for a in audit_actions(runtime, msg) if a[0] == "message.delete"]
        assert done[3]["already_gone"] is True
        [job] = delete_jobs(runtime, msg)
        assert job.status == "done"
        worker.drain()  # and nothing more
        assert len(delete_calls(sandbox.url, "meta", comment_id)) == 2

    def test_a_repeated_tweet_delete_is_done(self, runtime, workspace_id, sandbox):
        """X answers 404 for a tweet that is gone: the adapter counts it as deleted."""
        _, config = x_account(runtime, workspace_id, sandbox.url)
        account = AccountConfig(id="acc-x", kind="x", name="X", config=config,
                                urls=UrlPolicy(allow_custom=True))
        tweet = str(1_990_000_000_000_000_000 + uuid.uuid4().int % 10**15)
        with httpx.Client() as http:
            first = get_adapter("x").act(account, ChannelAction("delete", target=tweet), http)
            second = get_adapter("x").act(account, ChannelAction("delete", target=tweet), http)
        assert first.meta == {"deleted": True}
        assert second.meta == {"deleted": True, "already_gone": True}
        assert sandbox_deleted(sandbox.url, "x").count(tweet) == 1


class TestDesktop:
    def _setup(self, runtime, workspace_id, client, worker, sandbox):
        account, config = meta_account(runtime, workspace_id, sandbox.url)
        comment_id = new_comment_id()
        conv, msg = comment(client, worker, account, config, comment_id)
        return conv, msg, comment_id

    def test_a_supervisor_confirms_then_deletes(self, runtime, workspace_id, client, worker,
                                                sandbox, app):
        conv, msg, comment_id = self._setup(runtime, workspace_id, client, worker, sandbox)
        reply = brand_reply(client, worker, conv)
        desk = Desk(TestClient(app), make_agent(runtime, workspace_id, "supervisor"))
        page = desk.get(f"/conversations/{conv}").text
        path = f"/conversations/{conv}/messages/{msg}/delete"
        assert f'hx-get="{path}"' in page
        box = desk.get(path, headers={"HX-Request": "true"})
        assert box.status_code == 200 and 'data-role="delete-confirm"' in box.text
        assert 'name="confirm" value="delete"' in box.text
        # One confirm step at a time: the other message's slot gets its button back.
        assert f'id="moderation-{reply["id"]}" hx-swap-oob="innerHTML"' in box.text
        assert f'id="moderation-{msg}"' not in box.text

        # Without CSRF token, then without the confirm step: refused, nothing queued.
        assert desk.post(path, {"confirm": "delete", "reason": "spam"}, csrf=False,
                         htmx=True).status_code == 403
        unconfirmed = desk.post(path, {"reason": "spam"}, htmx=True)
        assert unconfirmed.status_code == 422 and "confirm the delete" in unconfirmed.text
        bad = desk.post(path, {"confirm": "delete", "reason": "<script>"}, htmx=True)
        assert bad.status_code == 422
        _nothing_queued(runtime, msg)

        done = desk.post(path, {"confirm": "delete", "reason": "abuse", "note": "slur"},
                         htmx=True)
        assert done.status_code == 200, done.text
        assert 'data-role="deleting"' in done.text
        worker.drain()
        assert comment_id in sandbox_deleted(sandbox.url, "meta")
        page = desk.get(f"/conversations/{conv}").text
        assert 'data-role="deleted"' in page and "Abusive or hateful" in page
        assert f'hx-get="{path}"' not in page
        [requested] = [a for a in audit_actions(runtime, msg)
                       if a[0] == "message.delete_requested"]
        assert requested[1] == "agent" and requested[2] == str(desk.agent.id)
        assert requested[3]["reason"] == "abuse"

    def test_an_agent_sees_no_delete_for_a_customers_comment(self, runtime, workspace_id,
                                                             client, worker, sandbox, app):
        conv, msg, _ = self._setup(runtime, workspace_id, client, worker, sandbox)
        desk = Desk(TestClient(app), make_agent(runtime, workspace_id, "agent"))
        path = f"/conversations/{conv}/messages/{msg}/delete"
        assert f'hx-get="{path}"' not in desk.get(f"/conversations/{conv}").text
        assert desk.get(path, headers={"HX-Request": "true"}).status_code == 403
        assert desk.post(path, {"confirm": "delete", "reason": "spam"},
                         htmx=True).status_code == 403
        _nothing_queued(runtime, msg)

    def test_another_workspaces_desk_cannot_reach_it(self, runtime, workspace_id, client,
                                                     worker, sandbox, app):
        conv, msg, _ = self._setup(runtime, workspace_id, client, worker, sandbox)
        with runtime.db.session() as s:
            other = workspace_service.create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}")
        desk = Desk(TestClient(app), make_agent(runtime, other.id, "admin"))
        path = f"/conversations/{conv}/messages/{msg}/delete"
        assert desk.get(path, headers={"HX-Request": "true"}).status_code == 404
        assert desk.post(path, {"confirm": "delete", "reason": "spam"},
                         htmx=True).status_code == 404
        _nothing_queued(runtime, msg)
