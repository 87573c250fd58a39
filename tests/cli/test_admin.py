"""`accounts`, `agents` and `tokens`: list, disable, enable, revoke, seen from the operator's
side (what is printed, what is never printed) and the attacker's (what the disabled or
revoked thing can still do: nothing; what ids of another workspace reach: nothing)."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.cli.conftest import Cli, Ws, new_workspace
from tests.desktop.conftest import Desk, make_agent, sign_in
from tests.factories import message_event, post_events
from threadline.events.models import AuditEvent, InboundEvent
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import AgentSession, ApiToken, ChannelAccount


def stored(runtime: Runtime, account_id: str) -> int:
    with runtime.db.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(InboundEvent).where(
            InboundEvent.channel_account_id == uuid.UUID(account_id))) or 0)


def api_account(cli: Cli, ws: Ws, **config: Any) -> tuple[str, Any]:
    secret = uuid.uuid4().hex
    made = cli("accounts", "create", "--kind", "api", "--name", "crm", "--workspace", ws.slug,
               "--config", json.dumps({"secret": secret, **config})).json()
    return made["id"], SimpleNamespace(id=made["id"], config={"secret": secret})


class TestChannelAccounts:
    def test_list_shows_no_credentials(self, cli: Cli, ws: Ws):
        account_id, account = api_account(cli, ws)
        table = cli("accounts", "list", "--workspace", ws.slug)
        assert table.code == 0
        header, *rows = table.out.splitlines()
        assert header.split()[:4] == ["ID", "KIND", "NAME", "ACTIVE"]
        assert any(r.startswith(account_id) and " yes " in r for r in rows)
        listed = cli("accounts", "list", "--workspace", ws.slug, "--json").json()
        assert [a["id"] for a in listed] == [account_id]
        assert listed[0]["webhook_path"] == f"/webhooks/api/{account_id}"
        assert account.config["secret"] not in table.out + json.dumps(listed)
        assert "config" not in listed[0]

    def test_disabled_account_webhook_is_refused_and_nothing_stored(
            self, cli: Cli, ws: Ws, runtime: Runtime, client: TestClient):
        account_id, account = api_account(cli, ws)
        off = cli("accounts", "disable", account_id, "--workspace", ws.slug).json()
        assert off == {"id": account_id, "kind": "api", "name": "crm", "active": False}
        resp = post_events(client, account, [message_event("m1", text="still there?")])
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "unknown_account"
        assert stored(runtime, account_id) == 0
        with runtime.db.session(write=False) as s:
            audit = s.scalars(select(AuditEvent).where(
                AuditEvent.subject_id == account_id,
                AuditEvent.action == "channel_account.updated")).one()
        assert (audit.actor_type, audit.actor_id, audit.data) == ("system", "cli",
                                                                  {"active": False})

        assert cli("accounts", "enable", account_id, "--workspace", ws.slug).json()["active"]
        assert post_events(client, account, [message_event("m2")]).status_code == 200
        assert stored(runtime, account_id) == 1

    def test_disabled_account_sends_nothing(self, cli: Cli, ws: Ws, runtime: Runtime,
                                            client: TestClient, worker: Any, sandbox: Any):
        import httpx

        account_id, account = api_account(cli, ws, outbound_url=f"{sandbox.url}/api/outbound")
        assert post_events(client, account, [message_event("q1", author="c9")]).status_code \
            == 200
        worker.drain()
        cid = client.get("/api/v1/conversations").json()["items"][0]["id"]
        queued = client.post(f"/api/v1/conversations/{cid}/messages",
                             json={"text": "On it.", "visibility": "public"})
        assert queued.status_code == 201, queued.text
        cli("accounts", "disable", account_id, "--workspace", ws.slug).json()
        worker.drain()  # the queued send finds the account disabled
        msg = [m for m in client.get(f"/api/v1/conversations/{cid}").json()["messages"]
               if m["id"] == queued.json()["id"]][0]
        assert msg["delivery"] == "failed" and "disabled" in msg["delivery_error"]
        calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": "api"}).json()
        assert not [c for c in calls["calls"] if (c["json"] or {}).get("id") == msg["id"]]

        refused = client.post(f"/api/v1/conversations/{cid}/messages",
                              json={"text": "Hello?", "visibility": "public",
                                    "channel_account_id": account_id})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "account_disabled"


class TestTokens:
    def test_list_never_prints_the_token_and_revoked_gets_401(self, cli: Cli, ws: Ws,
                                                              app: Any):
        made = cli("tokens", "create", "--role", "agent", "--name", "crm sync",
                   "--workspace", ws.slug).json()
        plain = made["token"]
        with TestClient(app) as c:
            c.headers["Authorization"] = f"Bearer {plain}"
            assert c.get("/api/v1/conversations").status_code == 200
            table = cli("tokens", "list", "--workspace", ws.slug)
            listed = cli("tokens", "list", "--workspace", ws.slug, "--json").json()
            assert plain not in table.out + json.dumps(listed)
            mine = [t for t in listed if t["id"] == made["id"]][0]
            assert mine["prefix"] == plain[:8] and mine["name"] == "crm sync"
            assert mine["revoked_at"] is None and "token_hash" not in mine
            assert made["id"] in table.out and "crm sync" in table.out

            revoked = cli("tokens", "revoke", made["id"], "--workspace", ws.slug).json()
            resp = c.get("/api/v1/conversations")
            assert resp.status_code == 401
            assert resp.json()["error"]["code"] == "invalid_token"
            again = cli("tokens", "revoke", made["id"], "--workspace", ws.slug).json()
            assert again["revoked_at"] == revoked["revoked_at"]  # the first time stays
        listed = cli("tokens", "list", "--workspace", ws.slug, "--json").json()
        assert [t["revoked_at"] for t in listed if t["id"] == made["id"]] != [None]


class TestAgents:
    def test_disabled_agent_cannot_sign_in_and_his_sessions_end(self, cli: Cli, ws: Ws,
                                                                runtime: Runtime, app: Any):
        agent = make_agent(runtime, ws.id, "supervisor", "Sid")
        desk = Desk(TestClient(app), agent)
        assert desk.get("/inbox", follow_redirects=False).status_code == 200
        listed = cli("agents", "list", "--workspace", ws.slug, "--json").json()
        row = [a for a in listed if a["email"] == agent.email][0]
        assert row["active"] is True and row["role"] == "supervisor"
        assert not {"password", "password_hash", "totp_secret"} & set(row)

        off = cli("agents", "disable", "--email", agent.email.upper(), "--workspace",
                  ws.slug).json()
        assert off["active"] is False and off["sessions_ended"] >= 1
        assert desk.get("/inbox", follow_redirects=False).status_code == 303
        with runtime.db.session(write=False) as s:
            assert s.scalar(select(func.count()).select_from(AgentSession).where(
                AgentSession.agent_id == agent.id, AgentSession.revoked_at.is_(None))) == 0
        with TestClient(app) as c:
            refused = sign_in(c, agent)
            assert refused.status_code == 401  # as a wrong password: nothing to learn
        assert " no " in [r for r in cli("agents", "list", "--workspace", ws.slug).out
                          .splitlines() if agent.email in r][0]

        assert cli("agents", "enable", "--email", agent.email, "--workspace",
                   ws.slug).json()["active"] is True
        with TestClient(app) as c:
            assert sign_in(c, agent).status_code == 303


class TestOtherWorkspace:
    def test_ids_of_another_workspace_are_refused(self, cli: Cli, ws: Ws, runtime: Runtime):
        other = new_workspace(runtime)
        account_id, _ = api_account(cli, ws)
        token_id = cli("tokens", "create", "--role", "admin", "--workspace",
                       ws.slug).json()["id"]
        agent = make_agent(runtime, ws.id)

        for args in (("accounts", "disable", account_id), ("accounts", "enable", account_id),
                     ("tokens", "revoke", token_id),
                     ("agents", "disable", "--email", agent.email),
                     ("agents", "reset-password", "--email", agent.email)):
            ran = cli(*args, "--workspace", other.slug)
            assert ran.code == 1, (args, ran)
            assert "not found" in ran.err or "no agent" in ran.err, ran.err
            assert ran.out == ""
        with runtime.db.session(write=False) as s:
            account = s.get(ChannelAccount, uuid.UUID(account_id))
            token = s.get(ApiToken, uuid.UUID(token_id))
            assert account is not None and account.active
            assert token is not None and token.revoked_at is None
        assert cli("accounts", "list", "--workspace", other.slug, "--json").json() == []
        assert cli("tokens", "list", "--workspace", other.slug).out.strip() == "(none)"

    def test_unknown_workspace_and_bad_ids_are_usage_errors(self, cli: Cli):
        ran = cli("accounts", "list", "--workspace", f"nope-{uuid.uuid4().hex[:6]}")
        assert ran.code == 2 and "no workspace" in ran.err
        assert cli("tokens", "revoke", "not-a-uuid").code == 2
