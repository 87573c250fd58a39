"""The priority scale support teams read: 1 = P1 (most urgent) .. 4 = P4 (the default), the
same in the desktop (chips, forms, filters, supervisor) and in the API (`priority` 1..4,
`priority_label`); anything else is a 422 naming the field and nothing changes."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.desktop.conftest import Desk
from tests.queue_order.helpers import conversation, page_ids
from threadline.conversations.models import Conversation
from threadline.conversations.queue import check_priority
from threadline.errors import ValidationFailed
from threadline.workspace.service import create_workspace


def priority_of(runtime, conv_id: uuid.UUID) -> int:
    with runtime.db.session(write=False) as s:
        return s.get(Conversation, conv_id).priority


class TestScale:
    def test_a_new_conversation_is_p4(self, runtime, workspace_id):
        with runtime.db.session() as s:
            conv = Conversation(id=uuid.uuid4(), workspace_id=workspace_id, labels=[])
            s.add(conv)
            s.flush()
            assert conv.priority == 4

    @pytest.mark.parametrize(("raw", "value"), [("1", 1), ("4", 4), ("P2", 2), (" p3 ", 3),
                                                (2, 2)])
    def test_check_priority_reads_numbers_and_labels(self, raw, value):
        assert check_priority(raw) == value

    @pytest.mark.parametrize("raw", ["0", "5", "-1", "", "high", "P0", "1.5", None, True,
                                     "٣", "²"])
    def test_check_priority_refuses_the_rest(self, raw):
        with pytest.raises(ValidationFailed) as caught:
            check_priority(raw)
        assert caught.value.details == {"field": "priority"}


class TestApi:
    def test_priority_and_its_label(self, runtime, workspace_id, client):
        conv = conversation(runtime, workspace_id, priority=2)
        body = client.get(f"/api/v1/conversations/{conv}").json()
        assert (body["priority"], body["priority_label"]) == (2, "P2")
        response = client.patch(f"/api/v1/conversations/{conv}", json={"priority": 1})
        assert response.status_code == 200
        assert (response.json()["priority"], response.json()["priority_label"]) == (1, "P1")

    @pytest.mark.parametrize("value", [0, 5, -1, "2", 2.0, True, None, 10**20])
    def test_a_bad_priority_is_a_422_and_changes_nothing(self, runtime, workspace_id,
                                                         client, value):
        conv = conversation(runtime, workspace_id, priority=3)
        response = client.patch(f"/api/v1/conversations/{conv}",
                                json={"priority": value, "category": "praise"})
        if value is None:  # null means "leave it": the category changes alone
            assert response.status_code == 200
            return
        assert response.status_code == 422, response.text
        assert "priority" in response.text or value == 10**20  # no database stores that one
        with runtime.db.session(write=False) as s:
            stored = s.get(Conversation, conv)
            assert (stored.priority, stored.category) == (3, None)

    def test_the_filter_and_the_document(self, runtime, workspace_id, client):
        p1 = conversation(runtime, workspace_id, priority=1)
        conversation(runtime, workspace_id, priority=4)
        items = client.get("/api/v1/conversations", params={"priority": 1}).json()["items"]
        assert [i["id"] for i in items] == [str(p1)]
        spec = client.get("/api/v1/openapi.json").json()
        out = spec["components"]["schemas"]["ConversationOut"]["properties"]
        assert (out["priority"]["minimum"], out["priority"]["maximum"]) == (1, 4)
        assert "P1" in out["priority"]["description"]
        assert out["priority_label"]["type"] == "string"
        assert "relevance" in out
        params = {p["name"]: p for p in
                  spec["paths"]["/api/v1/conversations"]["get"]["parameters"]}
        assert set(params) >= {"priority", "view", "relevance", "sort"}
        assert "mentions" in str(params["view"]["schema"])
        patch = spec["components"]["schemas"]["ConversationPatch"]["properties"]["priority"]
        assert {"minimum": 1, "maximum": 4}.items() <= patch["anyOf"][0].items()

    def test_another_workspaces_conversation_is_404(self, runtime, client):
        with runtime.db.session() as s:
            other = create_workspace(s, name="Other", slug=f"o-{uuid.uuid4().hex[:8]}").id
        theirs = conversation(runtime, other, priority=4)
        response = client.patch(f"/api/v1/conversations/{theirs}", json={"priority": 1})
        assert response.status_code == 404
        assert priority_of(runtime, theirs) == 4


class TestDesktop:
    def test_chips_in_the_inbox_row_and_the_header(self, runtime, workspace_id,
                                                   agent_desk: Desk):
        conv = conversation(runtime, workspace_id, priority=1, due=5)
        conversation(runtime, workspace_id, priority=4, due=6)
        inbox = agent_desk.get("/inbox").text
        assert re.findall(r'class="chip prio prio-(\d)"[^>]*>P(\d)<', inbox) == [
            ("1", "1"), ("4", "4")]
        pane = agent_desk.get(f"/conversations/{conv}", headers={
            "HX-Request": "true", "HX-Target": "conv-pane"}).text
        assert re.search(r'id="conv-priority"><span class="chip prio prio-1"', pane)
        assert '<option value="1" selected>P1 most urgent</option>' in pane
        assert 'value="0"' not in pane.split('name="priority"')[1].split("</select>")[0]

    def test_the_triage_form_sets_the_priority(self, runtime, workspace_id, agent_desk: Desk):
        conv = conversation(runtime, workspace_id, priority=4)
        response = agent_desk.post(f"/conversations/{conv}/triage", {"priority": "2"},
                                   htmx=True)
        assert response.status_code == 200
        assert priority_of(runtime, conv) == 2
        assert page_ids(agent_desk.get("/inbox/list?priority=2").text) == [str(conv)]
        assert page_ids(agent_desk.get("/inbox/list?priority=4").text) == []

    @pytest.mark.parametrize("value", ["0", "5", "-1", "high", "1e1", "٣"])
    def test_a_bad_priority_is_a_422(self, runtime, workspace_id, agent_desk: Desk, value):
        conv = conversation(runtime, workspace_id, priority=3)
        response = agent_desk.post(f"/conversations/{conv}/triage", {"priority": value},
                                   htmx=True)
        assert response.status_code == 422
        assert priority_of(runtime, conv) == 3

    def test_the_filter_offers_p1_to_p4(self, agent_desk: Desk):
        inbox = agent_desk.get("/inbox").text
        menu = inbox.split('name="priority"')[1].split("</select>")[0]
        assert re.findall(r'<option value="(\d)"', menu) == ["1", "2", "3", "4"]

    def test_the_supervisor_sees_the_same_chips(self, runtime, workspace_id,
                                                supervisor_desk: Desk):
        conversation(runtime, workspace_id, priority=2, due=30)
        page = supervisor_desk.get("/supervisor").text
        assert re.search(r'<span class="chip prio prio-2"[^>]*>P2</span>', page)

    def test_csrf_and_another_workspace(self, runtime, workspace_id, agent_desk: Desk):
        conv = conversation(runtime, workspace_id, priority=3)
        assert agent_desk.post(f"/conversations/{conv}/triage", {"priority": "1"},
                               csrf=False).status_code == 403
        with runtime.db.session() as s:
            other = create_workspace(s, name="Other", slug=f"o-{uuid.uuid4().hex[:8]}").id
        theirs = conversation(runtime, other, priority=3)
        assert agent_desk.post(f"/conversations/{theirs}/triage",
                               {"priority": "1"}).status_code == 404
        assert (priority_of(runtime, conv), priority_of(runtime, theirs)) == (3, 3)
