"""The desktop settings page for outbound webhooks: admins only, CSRF-checked forms, the
secret shown once, bad input re-rendered as a 422 naming the field with nothing stored,
the disabled notice, the delivery log with codes and its Redeliver button."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from sqlalchemy import func, select

from tests.desktop.conftest import admin_desk, agent_desk, supervisor_desk  # noqa: F401
from tests.integrations.webhooks.conftest import Receiver, pump, subscribe
from threadline.integrations.webhooks.delivery import Event, record
from threadline.integrations.webhooks.models import WebhookDelivery, WebhookSubscription
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker

PAGE = "/settings/webhooks"


def subs(runtime: Runtime, workspace_id: uuid.UUID) -> list[WebhookSubscription]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.workspace_id == workspace_id)))


def test_linked_from_settings_and_admins_only(admin_desk: Any, agent_desk: Any,  # noqa: F811
                                              supervisor_desk: Any) -> None:  # noqa: F811
    assert 'href="/settings/webhooks"' in admin_desk.get("/settings").text
    assert admin_desk.get(PAGE).status_code == 200
    for desk in (agent_desk, supervisor_desk):
        assert desk.get(PAGE).status_code == 403
        assert desk.post(PAGE, {"url": "http://127.0.0.1:9/x",
                                "event_types": ["message.created"]}).status_code == 403


def test_create_shows_the_secret_once(admin_desk: Any, runtime: Runtime,  # noqa: F811
                                      workspace_id: uuid.UUID) -> None:
    answer = admin_desk.post(PAGE, {"url": "http://127.0.0.1:9/hooks", "description": "ERP",
                                    "event_types": ["message.created", "csat.recorded"]})
    assert answer.status_code == 200, answer.text
    match = re.search(r"<code>(whsec_[A-Za-z0-9+/=]+)</code>", answer.text)
    assert match, "the secret is shown after creation"
    [row] = subs(runtime, workspace_id)
    assert row.event_types == ["message.created", "csat.recorded"]
    assert row.secret["secret"] == match.group(1)
    page = admin_desk.get(PAGE).text
    assert match.group(1) not in page and "http://127.0.0.1:9/hooks" in page


def test_bad_input_is_422_naming_the_field(admin_desk: Any, runtime: Runtime,  # noqa: F811
                                           workspace_id: uuid.UUID) -> None:
    for form, field in [({"url": "ftp://example.com/x", "event_types": ["message.created"]},
                         "url"),
                        ({"url": "http://127.0.0.1:9/x", "event_types": ["message.nuked"]},
                         "event_types"),
                        ({"url": "http://127.0.0.1:9/x"}, "event_types"),
                        ({"url": "http://127.0.0.1:9/x", "event_types": ["message.created"],
                          "description": "<script>alert(1)</script>"}, "description")]:
        answer = admin_desk.post(PAGE, form)
        assert answer.status_code == 422, (form, answer.text[:300])
        assert f"field <code>{field}</code>" in answer.text
        assert "<script>alert(1)</script>" not in answer.text
    assert subs(runtime, workspace_id) == []


def test_csrf_is_required(admin_desk: Any, runtime: Runtime,  # noqa: F811
                          workspace_id: uuid.UUID) -> None:
    answer = admin_desk.post(PAGE, {"url": "http://127.0.0.1:9/x",
                                    "event_types": ["message.created"]}, csrf=False)
    assert answer.status_code == 403
    assert subs(runtime, workspace_id) == []


def test_edit_disable_rotate_delete(admin_desk: Any, runtime: Runtime,  # noqa: F811
                                    workspace_id: uuid.UUID) -> None:
    admin_desk.post(PAGE, {"url": "http://127.0.0.1:9/a", "event_types": ["message.created"]})
    [row] = subs(runtime, workspace_id)
    path = f"{PAGE}/{row.id}"
    assert admin_desk.post(path, {"url": "http://127.0.0.1:9/b",
                                  "event_types": ["hop.taken"]}).status_code == 303
    [row] = subs(runtime, workspace_id)
    assert (row.url, row.event_types) == ("http://127.0.0.1:9/b", ["hop.taken"])
    assert admin_desk.post(path, {"action": "disable"}).status_code == 303
    assert subs(runtime, workspace_id)[0].status == "disabled"
    assert "Turned off: http://127.0.0.1:9/b" in admin_desk.get(PAGE).text
    assert admin_desk.post(path, {"action": "enable"}).status_code == 303
    rotated = admin_desk.post(path, {"action": "rotate"})
    assert rotated.status_code == 200 and "whsec_" in rotated.text
    assert admin_desk.post(f"{PAGE}/{uuid.uuid4()}", {"action": "enable"}).status_code == 404
    assert admin_desk.post(f"{PAGE}/not-an-id/delete").status_code == 404
    assert admin_desk.post(f"{path}/delete").status_code == 303
    assert subs(runtime, workspace_id) == []


def test_log_with_codes_and_redeliver(admin_desk: Any, hook_runtime: Runtime,  # noqa: F811
                                      hook_worker: Worker, workspace_id: uuid.UUID,
                                      receiver: Receiver) -> None:
    receiver.answer = lambda n, body: (202, {})
    subscribe(hook_runtime, workspace_id, receiver.url)
    with hook_runtime.db.session() as session:
        record(session, workspace_id, [Event("customer.created", {"customer_id": "c"})])
    pump(hook_worker, receiver, 1)
    page = admin_desk.get(PAGE).text
    match = re.search(r'data-delivery="(\d+)"', page)
    assert match and "customer.created" in page and "<td class=\"num\" data-code>202" in page
    answer = admin_desk.post(f"{PAGE}/deliveries/{match.group(1)}/redeliver")
    assert answer.status_code == 303
    got = pump(hook_worker, receiver, 2)
    assert len(got) == 2 and got[0].id == got[1].id
    assert admin_desk.post(f"{PAGE}/deliveries/999999999/redeliver").status_code == 404
    assert admin_desk.post(f"{PAGE}/deliveries/1x/redeliver").status_code == 404
    with hook_runtime.db.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.workspace_id == workspace_id)) == 1



def test_the_desktop_shows_a_notice_when_one_is_disabled(admin_desk: Any  # noqa: F811
                                                          ) -> None:
    """desktop.js turns the stream's webhook.disabled into a notice (events/names.py)."""
    page = admin_desk.get("/inbox").text
    found = re.search(r"data-live-events='([^']*)'", page)
    assert found and "webhook.disabled" in html.unescape(found.group(1))
    assert '"webhook.disabled"' in admin_desk.get("/static/desktop/desktop.js").text
