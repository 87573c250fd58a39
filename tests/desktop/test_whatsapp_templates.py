"""WhatsApp message templates synced from the provider (issue 15): the sync job follows
`paging.next` through the sandbox's Graph API, maps unknown statuses to UNKNOWN, runs on
demand (settings page, admin API) and when the template status webhook arrives; the
composer's picker lists the approved ones, fills the variables and sends the template when
the 24-hour window is closed; and the attacker's attempts are refused with typed errors."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.desktop.conftest import desk_for
from tests.factories import text_tag
from threadline.events.models import AuditEvent
from threadline.outbound.whatsapp_template_models import WhatsAppTemplate
from threadline.sandbox.providers import meta
from threadline.workspace.service import create_channel_account, create_workspace

DAY = 86_400


def _name(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


def _waba() -> str:
    return str(10**14 + secrets.randbelow(10**14))


def _account(runtime, workspace_id, sandbox, kind: str = "whatsapp",
             waba: str | None = None) -> tuple[Any, dict[str, Any]]:
    config = {"app_secret": secrets.token_hex(8), "verify_token": "vt",
              "access_token": f"EAAG-{secrets.token_hex(4)}", "page_id": "3300001",
              "api_base_url": f"{sandbox.url}/meta"}
    if kind == "whatsapp":
        config.update(phone_number_id=str(secrets.randbelow(10**12)), waba_id=waba or _waba())
    with runtime.db.session() as s:
        return create_channel_account(s, workspace_id, kind=kind, name=kind,
                                      config=config), config


def _template(name: str, body: str, *, status: str = "APPROVED", language: str = "en_US",
              category: str = "UTILITY") -> dict[str, Any]:
    return {"name": name, "language": language, "status": status, "category": category,
            "components": [{"type": "HEADER", "format": "TEXT", "text": "Your order"},
                           {"type": "BODY", "text": body},
                           {"type": "FOOTER", "text": "Acme"}]}


def _conversation(client, worker, account, config, *, age: int = 2 * DAY) -> tuple[str, str]:
    wa_id = f"1650{secrets.randbelow(10**7):07d}"
    hook = meta.whatsapp_message_webhook(str(account.id), config, text="where is my parcel?",
                                         wa_id=wa_id, timestamp=int(time.time()) - age)
    assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
    worker.drain()
    [conv] = client.get("/api/v1/conversations").json()["items"]
    return str(conv["id"]), wa_id


def _calls(sandbox, marker: str, method: str = "POST") -> list[dict[str, Any]]:
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": "meta"}).json()
    return [c for c in calls["calls"] if c["method"] == method and marker in json.dumps(c)]


def _synced(runtime, account_id) -> dict[tuple[str, str], WhatsAppTemplate]:
    with runtime.db.session(write=False) as s:
        return {(t.name, t.language): t for t in s.scalars(select(WhatsAppTemplate).where(
            WhatsAppTemplate.channel_account_id == account_id))}


class TestSync:
    def test_sync_follows_paging_and_maps_unknown_statuses(self, runtime, workspace_id,
                                                           client, worker, sandbox):
        waba = _waba()
        listed = [_template(f"t{i:03d}_{waba[-6:]}", f"Hello {{{{1}}}}, number {i}")
                  for i in range(103)]
        listed[5]["status"] = "SOMETHING_NEW"
        listed[6]["category"] = "NEWSLETTER"
        listed.append({"name": "Not A Valid Name", "language": "en", "status": "APPROVED"})
        meta.seed_templates(waba, listed)
        account, _ = _account(runtime, workspace_id, sandbox, waba=waba)

        first = client.post(f"/api/v1/channel-accounts/{account.id}/whatsapp-templates/sync")
        assert first.status_code == 202 and first.json() == {"queued": True}
        again = client.post(f"/api/v1/channel-accounts/{account.id}/whatsapp-templates/sync")
        assert again.json() == {"queued": False}  # one pending sync per account
        worker.drain()

        pages = _calls(sandbox, f"/{waba}/message_templates", method="GET")
        assert len(pages) == 2 and pages[1]["query"]["after"] == "100"
        items = client.get(f"/api/v1/channel-accounts/{account.id}/whatsapp-templates").json()[
            "items"]
        assert len(items) == 103  # the unreadable one is left out
        by_name = {i["name"]: i for i in items}
        assert by_name[listed[5]["name"]]["status"] == "UNKNOWN"
        assert by_name[listed[6]["name"]]["category"] == "UNKNOWN"
        assert by_name[listed[0]["name"]]["variables"] == ["1"]
        assert by_name[listed[0]["name"]]["body"] == "Hello {{1}}, number 0"

        meta.seed_templates(waba, listed[:2])  # the others were deleted on WhatsApp
        client.post(f"/api/v1/channel-accounts/{account.id}/whatsapp-templates/sync")
        worker.drain()
        assert len(_synced(runtime, account.id)) == 2
        with runtime.db.session(write=False) as s:
            actions = s.scalars(select(AuditEvent.action).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.subject_id == str(account.id))).all()
        assert actions.count("whatsapp_templates.sync_requested") == 3
        assert actions.count("whatsapp_templates.synced") == 2

    def test_the_settings_page_button_syncs(self, runtime, workspace_id, worker, sandbox,
                                            app):
        waba = _waba()
        name = _name("welcome")
        meta.seed_templates(waba, [_template(name, "Welcome {{first_name}}!")])
        account, _ = _account(runtime, workspace_id, sandbox, waba=waba)
        admin = desk_for(app, runtime, workspace_id, "admin")
        page = admin.get("/settings").text
        assert f'action="/settings/accounts/{account.id}/whatsapp-templates/sync"' in page
        done = admin.post(f"/settings/accounts/{account.id}/whatsapp-templates/sync")
        assert done.status_code == 303 and "template-sync-queued" in done.headers["location"]
        worker.drain()
        assert _synced(runtime, account.id)[(name, "en_US")].status == "APPROVED"

    def test_the_status_webhook_updates_and_resyncs(self, runtime, workspace_id, client,
                                                    worker, sandbox):
        waba = _waba()
        name = _name("abandoned_cart")
        meta.seed_templates(waba, [{**_template(name, "Still there?", status="PENDING"),
                                    "id": "1689556908129835"}])
        account, config = _account(runtime, workspace_id, sandbox, waba=waba)
        client.post(f"/api/v1/channel-accounts/{account.id}/whatsapp-templates/sync")
        worker.drain()
        assert _synced(runtime, account.id)[(name, "en_US")].status == "PENDING"

        meta.seed_templates(waba, [{**_template(name, "Still there? {{1}}"),
                                    "id": "1689556908129835"}])
        hook = meta.whatsapp_template_status_webhook(
            str(account.id), config, template_id=1689556908129835, name=name,
            event="APPROVED")
        assert client.post(hook.path, content=hook.body,
                           headers=hook.headers).status_code == 200
        worker.drain()
        row = _synced(runtime, account.id)[(name, "en_US")]
        assert row.status == "APPROVED"
        assert row.components[1]["text"] == "Still there? {{1}}"  # re-listed, not only set
        # the notice became no message and no conversation
        assert client.get("/api/v1/conversations").json()["items"] == []

    def test_an_unknown_webhook_status_is_unknown(self, runtime, workspace_id, client,
                                                  worker, sandbox):
        waba = _waba()
        name = _name("promo")
        meta.seed_templates(waba, [_template(name, "Sale!")])
        account, config = _account(runtime, workspace_id, sandbox, waba=waba)
        client.post(f"/api/v1/channel-accounts/{account.id}/whatsapp-templates/sync")
        worker.drain()
        meta.seed_templates(waba, [])  # the listing that follows cannot answer it
        hook = meta.whatsapp_template_status_webhook(
            str(account.id), config, template_id=77, name=name, event="BRAND_NEW_STATE")
        assert client.post(hook.path, content=hook.body,
                           headers=hook.headers).status_code == 200
        worker.drain()
        with runtime.db.session(write=False) as s:
            audit = s.scalars(select(AuditEvent).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action == "whatsapp_templates.status_changed")).one()
        assert audit.data["status"] == "UNKNOWN"


class TestSyncIsGuarded:
    def test_another_workspaces_account_is_not_found(self, runtime, workspace_id, client,
                                                     sandbox):
        with runtime.db.session() as s:
            other = create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:12]}").id
        account, _ = _account(runtime, other, sandbox)
        for answer in (
                client.post(f"/api/v1/channel-accounts/{account.id}/whatsapp-templates/sync"),
                client.get(f"/api/v1/channel-accounts/{account.id}/whatsapp-templates")):
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == "not_found"

    def test_only_whatsapp_accounts_and_only_admins(self, runtime, workspace_id, client,
                                                    sandbox, app):
        account, _ = _account(runtime, workspace_id, sandbox, kind="facebook")
        answer = client.post(f"/api/v1/channel-accounts/{account.id}/whatsapp-templates/sync")
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "not_whatsapp"
        wa_account, _ = _account(runtime, workspace_id, sandbox)
        agent = desk_for(app, runtime, workspace_id, "agent")
        assert agent.post(
            f"/settings/accounts/{wa_account.id}/whatsapp-templates/sync").status_code == 403
        admin = desk_for(app, runtime, workspace_id, "admin")
        assert admin.post(f"/settings/accounts/{wa_account.id}/whatsapp-templates/sync",
                          csrf=False).status_code == 403
        with runtime.db.session() as s:
            other = create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:12]}").id
        foreign, _ = _account(runtime, other, sandbox)
        assert admin.post(f"/settings/accounts/{foreign.id}/whatsapp-templates/sync"
                          ).status_code == 404
        with runtime.db.session(write=False) as s:
            assert s.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action == "whatsapp_templates.sync_requested")) == 0


def _messages(client, conv: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = client.get(f"/api/v1/conversations/{conv}").json()[
        "messages"]
    return messages


def _composer_setup(runtime, workspace_id, client, worker, sandbox, body: str):
    """A synced WhatsApp account (one approved template with `body`, one pending) and a
    conversation whose customer wrote two days ago."""
    waba = _waba()
    name, pending = _name("order_update"), _name("pending")
    meta.seed_templates(waba, [_template(name, body),
                               _template(pending, "Soon", status="PENDING")])
    account, config = _account(runtime, workspace_id, sandbox, waba=waba)
    client.post(f"/api/v1/channel-accounts/{account.id}/whatsapp-templates/sync")
    worker.drain()
    conv, wa_id = _conversation(client, worker, account, config)
    rows = _synced(runtime, account.id)
    return account, conv, wa_id, rows[(name, "en_US")], rows[(pending, "en_US")]


class TestComposer:

    def test_pick_fill_and_send_after_the_window(self, runtime, workspace_id, client, worker,
                                                 sandbox, app):
        account, conv, wa_id, row, pending = _composer_setup(
            runtime, workspace_id, client, worker, sandbox,
            "Hi {{1}}, your order {{2}} ships today.")
        desk = desk_for(app, runtime, workspace_id, "agent")
        page = desk.get(f"/conversations/{conv}").text
        picker_url = f"/channel-accounts/{account.id}/whatsapp-templates/picker"
        assert picker_url in page
        picker = desk.get(picker_url).text
        assert f"{row.name} · en_US" in picker and pending.name not in picker
        chosen = desk.get(picker_url, params={"wa_template_id": str(row.id)}).text
        assert 'name="wa_var_1"' in chosen and 'name="wa_var_2"' in chosen
        assert 'data-body="Hi {{1}}, your order {{2}} ships today."' in chosen

        form = {"kind": "message", "visibility": "private", "account_id": str(account.id)}
        blocked = desk.post(f"/conversations/{conv}/reply", {**form, "text": "Hello?"},
                            htmx=True)
        assert blocked.status_code == 422 and "window_closed" in blocked.text
        marker = text_tag()
        sent = desk.post(f"/conversations/{conv}/reply", {
            **form, "text": "", "wa_template_id": str(row.id), "wa_var_1": "Maya",
            "wa_var_2": f"#{marker}"}, htmx=True)
        assert sent.status_code == 200, sent.text
        worker.drain()
        [call] = _calls(sandbox, marker)
        template = call["json"]["template"]
        assert call["json"]["type"] == "template" and call["json"]["to"] == wa_id
        assert template["name"] == row.name and template["language"]["code"] == "en_US"
        assert template["components"] == [{"type": "body", "parameters": [
            {"type": "text", "text": "Maya"}, {"type": "text", "text": f"#{marker}"}]}]
        timeline = desk.get(f"/conversations/{conv}").text
        assert f"Hi Maya, your order #{marker} ships today." in timeline
        messages = _messages(client, conv)
        assert messages[-1]["delivery"] == "sent"

    def test_named_variables_carry_their_names(self, runtime, workspace_id, client, worker,
                                               sandbox, app):
        account, conv, _, row, _ = _composer_setup(runtime, workspace_id, client, worker, sandbox,
                                               "Welcome {{first_name}}, code {{code}}.")
        desk = desk_for(app, runtime, workspace_id, "agent")
        marker = text_tag()
        sent = desk.post(f"/conversations/{conv}/reply", {
            "kind": "message", "visibility": "private", "account_id": str(account.id),
            "wa_template_id": str(row.id), "wa_var_first_name": "Jo", "wa_var_code": marker},
            htmx=True)
        assert sent.status_code == 200, sent.text
        worker.drain()
        [call] = _calls(sandbox, marker)
        assert call["json"]["template"]["components"][0]["parameters"] == [
            {"type": "text", "text": "Jo", "parameter_name": "first_name"},
            {"type": "text", "text": marker, "parameter_name": "code"}]

    def test_a_template_whatsapp_refuses_fails_with_its_code(self, runtime,
                                                                   workspace_id, client,
                                                                   worker, sandbox, app):
        account, conv, _, row, pending = _composer_setup(runtime, workspace_id, client, worker,
                                                     sandbox, "Hi {{1}}")
        desk = desk_for(app, runtime, workspace_id, "agent")
        form = {"kind": "message", "visibility": "private", "account_id": str(account.id),
                "text": ""}
        # by name (the form's older path): a pending template, and a wrong parameter count
        assert desk.post(f"/conversations/{conv}/reply", {
            **form, "wa_template": pending.name, "wa_language": "en_US"},
            htmx=True).status_code == 200
        assert desk.post(f"/conversations/{conv}/reply", {
            **form, "wa_template": row.name, "wa_language": "en_US",
            "wa_params": "a\nb"}, htmx=True).status_code == 200
        worker.drain()
        messages = _messages(client, conv)
        failed = {m["text"]: m for m in messages if m["direction"] == "outbound"}
        assert failed[f"[WhatsApp template {pending.name}]"]["delivery"] == "failed"
        assert "132001" in failed[f"[WhatsApp template {pending.name}]"]["delivery_error"]
        assert "132000" in failed[f"[WhatsApp template {row.name}]"]["delivery_error"]


class TestComposerAttacks:
    def test_refused_without_anything_sent(self, runtime, workspace_id, client, worker,
                                           sandbox, app):
        account, conv, _, row, pending = _composer_setup(runtime, workspace_id, client,
                                                         worker, sandbox, "Hi {{1}}")
        with runtime.db.session() as s:
            other_ws = create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:12]}").id
        other_account, _ = _account(runtime, other_ws, sandbox)
        with runtime.db.session() as s:
            foreign = WhatsAppTemplate(workspace_id=other_ws, channel_account_id=other_account.id,
                                       provider_id="9", name="foreign", language="en_US",
                                       status="APPROVED", category="UTILITY",
                                       components=[{"type": "BODY", "text": "x {{1}}"}])
            s.add(foreign)
            s.flush()
            foreign_id = foreign.id
        desk = desk_for(app, runtime, workspace_id, "agent")
        form = {"kind": "message", "visibility": "private", "account_id": str(account.id),
                "text": ""}
        marker = text_tag()
        cases = [
            ({"wa_template_id": str(row.id), "wa_var_1": marker}, False, 403, None),
            ({"wa_template_id": str(foreign_id), "wa_var_1": marker}, True, 404, "not_found"),
            ({"wa_template_id": "not-a-uuid", "wa_var_1": marker}, True, 422, "bad_id"),
            ({"wa_template_id": str(pending.id)}, True, 422, "template_not_approved"),
            ({"wa_template_id": str(row.id)}, True, 422, "template_variable_missing"),
            ({"wa_template_id": str(row.id), "wa_var_1": marker + "x" * 1100}, True, 422,
             "template_variable_invalid"),
            ({"wa_template_id": str(row.id), "wa_var_1": marker + "x" * 5000}, True, 422,
             "template_variable_invalid"),
            ({"wa_template_id": str(row.id), "wa_var_1": f"{marker}\nline two"}, True, 422,
             "template_variable_invalid"),
            ({"wa_template_id": str(row.id), "wa_var_1": marker, "quick_replies": "Yes"},
             True, 422, "quick_replies_with_template"),
            ({"wa_template": f'{row.name}","language":"xx', "wa_params": marker}, True, 422,
             "bad_template"),
            ({"wa_template": "../../message_templates", "wa_params": marker}, True, 422,
             "bad_template"),
            ({"wa_template": row.name, "wa_language": "en_US\"}", "wa_params": marker}, True,
             422, "bad_template"),
        ]
        for extra, csrf, status, code in cases:
            answer = desk.post(f"/conversations/{conv}/reply", {**form, **extra}, htmx=True,
                               csrf=csrf)
            assert answer.status_code == status, (extra, answer.text[:300])
            if code:
                assert code in answer.text, extra
        # another workspace's account through this conversation
        answer = desk.post(f"/conversations/{conv}/reply", {
            **form, "account_id": str(other_account.id), "wa_template_id": str(foreign_id),
            "wa_var_1": marker}, htmx=True)
        assert answer.status_code == 404
        # the picker of another workspace's account, and of a template of another account
        assert desk.get(f"/channel-accounts/{other_account.id}/whatsapp-templates/picker"
                        ).status_code == 404
        assert desk.get(f"/channel-accounts/{account.id}/whatsapp-templates/picker",
                        params={"wa_template_id": str(foreign_id)}).status_code == 404
        worker.drain()
        assert _calls(sandbox, marker) == []
        outbound = [m for m in _messages(client, conv) if m["direction"] == "outbound"]
        assert outbound == []
