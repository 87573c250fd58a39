"""Secure forms (issue 15): an agent asks for a delivery address, an order number and a date of
birth on a signed single-use form sent privately; the values are stored encrypted, shown to
agents (API and desktop), refused by the guard in public replies (also written differently),
part of a data-subject export and gone with an erasure. Bad and hostile input is refused with
the form again and nothing stored; another workspace's ids are unknown."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select, text

from tests.conftest import make_token
from tests.desktop.conftest import desk_for
from tests.hops.conftest import Hops
from threadline.hops.records.models import DetailRequest
from threadline.workspace.service import create_workspace

LINK = re.compile(r"https?://\S+/s/[A-Za-z0-9_-]+")
ADDRESS = "Flat 2, 14 Rosewood Avenue\nLeeds LS6 2AB\nUnited Kingdom"
GOOD = {"delivery_address": ADDRESS, "order_number": "AC-774120",
        "date_of_birth": "1984-02-29", "consent": "yes"}


def _ask(hop: Hops, conv: dict[str, Any], **body: Any) -> dict[str, Any]:
    answer = hop.api.post(f"/conversations/{conv['id']}/detail-requests", json={
        "fields": ["delivery_address", "order_number", "date_of_birth"],
        "note": "For the returns box", **body})
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    hop.wait_delivery(conv["id"], result["message"]["id"])
    return result


def _stored(hop: Hops) -> list[DetailRequest]:
    with hop.runtime.db.session(write=False) as s:
        return list(s.scalars(select(DetailRequest).where(
            DetailRequest.workspace_id == hop.workspace_id)))


def test_details_asked_given_shown_and_kept_out_of_public(hop: Hops) -> None:
    _, conv, _ = hop.x_complaint(f"@acme the blender arrived broken {hop.tag}")
    asked = _ask(hop, conv)
    message = asked["message"]
    assert message["visibility"] == "private"
    assert "delivery address, order number and date of birth" in message["text"]
    path = hop.path(asked["url"])

    form = hop.customer.get(path)
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    for name in ("delivery_address", "order_number", "date_of_birth"):
        assert f'name="{name}"' in form.text
    assert "For the returns box" in form.text

    done = hop.customer.post(path, data=GOOD)
    assert done.status_code == 200 and "We have your details" in done.text
    assert "has been used already" in hop.customer.post(path, data=GOOD).text

    [listed] = hop.api.get(f"/conversations/{conv['id']}/detail-requests").json()
    assert listed["submitted_at"]
    values = {f["name"]: f["value"] for f in listed["fields"]}
    assert values == {"delivery_address": ADDRESS, "order_number": "AC-774120",
                      "date_of_birth": "1984-02-29"}
    with hop.runtime.db.session(write=False) as s:  # encrypted at rest
        raw = s.execute(text("SELECT \"values\" FROM detail_requests")).scalars().all()
    assert raw and not any("Rosewood" in str(v) or "774120" in str(v) for v in raw)

    url = f"/conversations/{conv['id']}/messages"
    for leak in ("We'll ship the box to 14 Rosewood  Avenue, Leeds LS6 2AB today",
                 "Your order ac-774120 is on its way", "Born 29 February 1984, right?",
                 "Can you confirm 29/02/1984?"):
        refused = hop.api.post(url, json={"text": leak, "visibility": "public"})
        assert refused.status_code == 422, leak
        assert refused.json()["error"]["code"] == "pii_public"
    private = hop.api.post(url, json={"text": "Box on its way to 14 Rosewood Avenue",
                                      "visibility": "private"})
    assert private.status_code == 201, private.text

    archive = hop.api.get(f"/customers/{conv['customer_id']}/export").json()
    assert "Rosewood" in str(archive["detail_requests"])
    erased = hop.api.post(f"/customers/{conv['customer_id']}/erase")
    assert erased.status_code == 200, erased.text
    assert _stored(hop) == []


def test_bad_and_hostile_answers_store_nothing(hop: Hops, app: Any) -> None:
    _, conv, _ = hop.x_complaint(f"@acme wrong size delivered {hop.tag}")
    asked = _ask(hop, conv)
    path = hop.path(asked["url"])
    for bad, words in (({"consent": ""}, "tick the box"),
                       ({"delivery_address": ""}, "Please fill in: Delivery address."),
                       ({"delivery_address": "x\n" * 12}, "at most 8 lines"),
                       ({"order_number": "<script>alert(1)</script>"}, "order number"),
                       ({"date_of_birth": "1984-02-30"}, "date of birth"),
                       ({"date_of_birth": "2999-01-01"}, "date of birth")):
        answer = hop.customer.post(path, data={**GOOD, **bad})
        assert answer.status_code == 422, bad
        assert words in answer.text and "<script>alert" not in answer.text
    [request] = _stored(hop)
    assert request.values is None and request.submitted_at is None
    assert hop.customer.get(path).status_code == 200  # still usable

    hostile = {**GOOD, "delivery_address": '<img src=x onerror="alert(1)">\nLeeds'}
    assert hop.customer.post(path, data=hostile).status_code == 200
    [listed] = hop.api.get(f"/conversations/{conv['id']}/detail-requests").json()
    assert listed["fields"][0]["value"].startswith("<img")  # stored as typed, shown escaped
    agent_page = desk_for(app, hop.runtime, hop.workspace_id, "agent").get(
        f"/conversations/{conv['id']}").text
    assert "&lt;img src=x" in agent_page and '<img src=x onerror' not in agent_page


def test_requests_that_cannot_be_made(hop: Hops) -> None:
    _, conv, _ = hop.x_complaint(f"@acme need to return this {hop.tag}")
    url = f"/conversations/{conv['id']}/detail-requests"
    for bad in ({"fields": []}, {"fields": ["password"]}, {"fields": "order_number"},
                {"fields": ["order_number"], "note": "x" * 301},
                {"fields": ["order_number"], "extra": 1}):
        assert hop.api.post(url, json=bad).status_code == 422, bad
    with hop.runtime.db.session() as s:
        other = create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}").id
    outsider = {"Authorization": f"Bearer {make_token(hop.runtime, other, 'admin')}"}
    assert hop.api.post(url, json={"fields": ["order_number"]},
                        headers=outsider).status_code == 404
    assert hop.api.get(url, headers=outsider).status_code == 404
    assert _stored(hop) == []
    for _ in range(5):
        _ask(hop, conv, fields=["order_number"])
    too_many = hop.api.post(url, json={"fields": ["order_number"]})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "too_many_detail_requests"


def test_the_desktop_sends_a_form_and_shows_the_answer(hop: Hops, app: Any) -> None:
    _, conv, _ = hop.x_complaint(f"@acme please collect the parcel {hop.tag}")
    desk = desk_for(app, hop.runtime, hop.workspace_id, "agent")
    page = desk.get(f"/conversations/{conv['id']}").text
    assert 'id="request-details"' in page
    form = {"fields": ["delivery_address", "order_number"], "note": "Courier pickup"}
    assert desk.post(f"/conversations/{conv['id']}/details", form, csrf=False
                     ).status_code == 403
    assert desk.post(f"/conversations/{conv['id']}/details", {"fields": ["shoe_size"]},
                     htmx=True).status_code == 422
    assert _stored(hop) == []
    assert desk.post(f"/conversations/{conv['id']}/details", form, htmx=True
                     ).status_code == 200
    [request] = _stored(hop)
    page = desk.get(f"/conversations/{conv['id']}").text
    assert "waiting" in page
    sent = [m for m in hop.api.get(f"/conversations/{conv['id']}").json()["messages"]
            if "secure form" in (m["text"] or "")]
    path = hop.path(LINK.search(sent[-1]["text"]).group(0))
    assert hop.customer.post(path, data={**GOOD}).status_code == 200
    page = desk.get(f"/conversations/{conv['id']}").text
    assert "AC-774120" in page and "Rosewood Avenue" in page
    assert request.id is not None
