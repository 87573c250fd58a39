"""The desktop's pages and actions over HTTP (TestClient) against a real migrated database."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import select

from tests.desktop.conftest import Desk
from tests.factories import api_account, message_event, post_events
from tests.querycount import count_queries as counting
from threadline.conversations.models import Conversation, Message
from threadline.db.base import utcnow
from threadline.hops.records.models import Hop
from threadline.workspace.models import ChannelAccount, Template


def _ingest(client, runtime, workspace_id, worker, events, account=None):
    acc = account or api_account(runtime, workspace_id)
    assert post_events(client, acc, events).status_code == 200
    worker.drain()
    return acc


def _conversations(runtime, workspace_id) -> list[Conversation]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(Conversation).where(
            Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None))
            .order_by(Conversation.created_at)))


def _ids(html: str) -> list[str]:
    return re.findall(r'class="inbox-row[^"]*"[^>]*data-id="([^"]+)"', html)


class TestInbox:
    def test_lists_every_conversation_with_counts_and_filters(self, agent_desk: Desk, client,
                                                              runtime, workspace_id, worker):
        _ingest(client, runtime, workspace_id, worker, [
            message_event("i1", author="a1", text="public complaint"),
            message_event("i2", author="a2", text="a private question", visibility="private",
                          thread_key="dm-a2")])
        convs = _conversations(runtime, workspace_id)
        assert len(convs) == 2
        page = agent_desk.get("/inbox")
        assert page.status_code == 200
        assert set(_ids(page.text)) == {str(c.id) for c in convs}
        assert re.search(r'data-count="active">2<', page.text)
        public = agent_desk.get("/inbox/list?visibility=public").text
        assert "public complaint" in public and "a private question" not in public
        assert "a private question" in agent_desk.get("/inbox/list?visibility=private").text
        assert _ids(agent_desk.get("/inbox/list?channel=email").text) == []
        assert len(_ids(agent_desk.get("/inbox/list?channel=api").text)) == 2
        assert _ids(agent_desk.get("/inbox/list?assignee=me").text) == []
        assert len(_ids(agent_desk.get("/inbox/list?assignee=none").text)) == 2
        assert _ids(agent_desk.get("/inbox/list?view=resolved").text) == []

    def test_assignment_label_priority_sla_and_status_filters(self, agent_desk: Desk, client,
                                                              runtime, workspace_id, worker):
        _ingest(client, runtime, workspace_id, worker, [
            message_event(f"f{i}", author=f"u{i}", text=f"msg {i}") for i in range(3)])
        a, b, c = _conversations(runtime, workspace_id)
        assert agent_desk.post(f"/conversations/{a.id}/assign", {"agent_id": "me"},
                               htmx=True).status_code == 200
        agent_desk.post(f"/conversations/{b.id}/labels", {"labels": "vip, billing"}, htmx=True)
        agent_desk.post(f"/conversations/{c.id}/triage", {"priority": "3",
                                                          "category": "complaint",
                                                          "sentiment": "negative"}, htmx=True)
        with runtime.db.session(write=False) as session:
            corrected = session.get(Conversation, c.id)
            assert (corrected.category, corrected.sentiment) == ("complaint", "negative")
        assert agent_desk.post(f"/conversations/{c.id}/triage", {"sentiment": "angry"},
                               htmx=True).status_code == 422
        agent_desk.post(f"/conversations/{c.id}/status", {"status": "resolved"}, htmx=True)
        with runtime.db.session() as session:
            session.get(Conversation, b.id).sla_due_at = utcnow() + timedelta(minutes=30)
        assert _ids(agent_desk.get("/inbox/list?assignee=me").text) == [str(a.id)]
        assert _ids(agent_desk.get("/inbox/list?label=vip").text) == [str(b.id)]
        # Every unanswered customer message runs a clock from when it was written (these were
        # written weeks ago, so theirs ran out); b's was moved to 30 min from now, and the
        # resolved one has none.
        due_soon = _ids(agent_desk.get("/inbox/list?sla=1h").text)
        assert str(b.id) in due_soon and str(c.id) not in due_soon
        assert str(b.id) not in _ids(agent_desk.get("/inbox/list?sla=breached").text)
        assert _ids(agent_desk.get("/inbox/list?view=resolved&priority=3").text) == [str(c.id)]
        assert _ids(agent_desk.get("/inbox/list?view=all&category=complaint").text) == [
            str(c.id)]
        assert str(c.id) not in _ids(agent_desk.get("/inbox/list").text)

    def test_keyset_pages_and_bad_filters(self, agent_desk: Desk, client, runtime,
                                          workspace_id, worker):
        _ingest(client, runtime, workspace_id, worker, [
            message_event(f"p{i}", author=f"pa{i}", minutes=i) for i in range(55)])
        first = agent_desk.get("/inbox/list").text
        assert len(_ids(first)) == 50
        more = re.search(r'hx-get="(/inbox/list\?[^"]*cursor=[^"]+)"', first).group(1)
        second = agent_desk.get(more.replace("&amp;", "&")).text
        assert len(_ids(second)) == 5 and not set(_ids(second)) & set(_ids(first))
        assert agent_desk.get("/inbox/list?view=nope").status_code == 422
        assert agent_desk.get("/inbox/list?assignee=not-an-id").status_code == 422
        assert agent_desk.get("/inbox/list?cursor=@@@").status_code == 400

    def test_inbox_query_count_does_not_grow_with_rows(self, agent_desk: Desk, client,
                                                       runtime, workspace_id, worker):
        def count_queries(n: int) -> int:
            _ingest(client, runtime, workspace_id, worker, [
                message_event(f"q{n}-{i}", author=f"q{n}-{i}") for i in range(n)])
            with counting(runtime) as queries:
                assert agent_desk.get("/inbox").status_code == 200
            return queries.count

        assert count_queries(2) == count_queries(30) <= 12


class TestConversation:
    def test_timeline_shows_channels_notes_calls_hops_and_triage(
            self, agent_desk: Desk, client, runtime, workspace_id, worker):
        _ingest(client, runtime, workspace_id, worker, [
            message_event("t1", author="tt", text="my card 4111 1111 1111 1111 was charged")])
        conv = _conversations(runtime, workspace_id)[0]
        now = utcnow()
        with runtime.db.session() as session:
            session.add(Message(id=uuid.uuid4(), workspace_id=workspace_id,
                                conversation_id=conv.id, channel="voice", direction="outbound",
                                visibility="private", kind="call", text="Callback placed",
                                author_type="automation", delivery="sent", attachments=[],
                                triage={}, meta={"outcome": "answered", "duration": "95s"},
                                created_at=now))
            session.add(Hop(workspace_id=workspace_id, conversation_id=conv.id,
                            from_channel="x", from_visibility="public", to_channel="webchat",
                            to_visibility="private", reason="privacy", method="chat_link",
                            offered_at=now))
        r = agent_desk.post(f"/conversations/{conv.id}/reply",
                            {"text": "checking with billing", "kind": "note"}, htmx=True)
        assert r.status_code == 200
        html = agent_desk.get(f"/conversations/{conv.id}").text
        assert "Internal note" in html and "checking with billing" in html
        assert "☎ Call" in html and "answered" in html
        assert "Hop" in html and "chat link" in html
        assert "personal data" in html and "CREDIT_CARD" in html
        assert 'id="hop-actions"' in html  # the slot for hop actions

    def test_reply_defaults_to_where_the_customer_last_wrote(self, agent_desk: Desk, client,
                                                             runtime, workspace_id, worker):
        acc = _ingest(client, runtime, workspace_id, worker, [
            message_event("d1", author="dd", text="public first")])
        _ingest(client, runtime, workspace_id, worker, [
            message_event("d2", author="dd", text="then private", visibility="private",
                          thread_key="dm-dd", minutes=1)], account=acc)
        conv = _conversations(runtime, workspace_id)[0]
        html = agent_desk.get(f"/conversations/{conv.id}").text
        assert re.search(r'name="visibility" value="private" checked', html)
        r = agent_desk.post(f"/conversations/{conv.id}/reply",
                            {"text": "thanks, sorted", "visibility": "private",
                             "account_id": str(acc.id)}, htmx=True)
        assert r.status_code == 200 and "thanks, sorted" in r.text
        assert 'data-delivery="pending"' in r.text

    def test_policy_errors_are_shown_in_the_composer(self, agent_desk: Desk, client, runtime,
                                                     workspace_id, worker):
        _ingest(client, runtime, workspace_id, worker, [message_event("e1", author="ee")])
        conv = _conversations(runtime, workspace_id)[0]
        r = agent_desk.post(f"/conversations/{conv.id}/reply",
                            {"text": "your card 4111 1111 1111 1111", "visibility": "public"},
                            htmx=True)
        assert r.status_code == 422
        assert 'id="composer-error"' in r.text and "pii_public" in r.text
        assert r.headers["hx-retarget"] == "#composer"
        assert "your card 4111" in r.text  # the draft is kept
        empty = agent_desk.post(f"/conversations/{conv.id}/reply", {"text": " "}, htmx=True)
        assert empty.status_code == 422 and "empty_message" in empty.text
        with runtime.db.session(write=False) as session:
            assert session.get(Conversation, conv.id).message_count == 1

    def test_composer_shows_channel_traits(self, agent_desk: Desk, client, runtime,
                                           workspace_id, worker):
        from threadline.workspace.service import create_channel_account

        _ingest(client, runtime, workspace_id, worker, [message_event("h1", author="hh")])
        conv = _conversations(runtime, workspace_id)[0]
        with runtime.db.session() as session:
            x = create_channel_account(session, workspace_id, kind="x", name="X")
            wa = create_channel_account(session, workspace_id, kind="whatsapp", name="WA")
        hint = agent_desk.get(f"/conversations/{conv.id}/hint?account_id={x.id}"
                              "&visibility=public").text
        assert 'data-char-limit="280"' in hint
        hint = agent_desk.get(f"/conversations/{conv.id}/hint?account_id={wa.id}"
                              "&visibility=private").text
        assert "window" in hint and "closed" in hint

    def test_actions_snooze_resolve_reopen_split_merge(self, agent_desk: Desk, client,
                                                       runtime, workspace_id, worker):
        _ingest(client, runtime, workspace_id, worker, [
            message_event("s1", author="s1", text="one"),
            message_event("s2", author="s1", text="two", in_reply_to="s1", minutes=1),
            message_event("s3", author="s9", text="other customer", minutes=2)])
        main, other = _conversations(runtime, workspace_id)
        base = f"/conversations/{main.id}"
        r = agent_desk.post(f"{base}/status", {"status": "snoozed", "snooze": "4h"}, htmx=True)
        assert r.status_code == 200 and "st-snoozed" in r.text
        assert agent_desk.post(f"{base}/status", {"status": "snoozed", "until": "x"},
                               htmx=True).status_code == 422
        r = agent_desk.post(f"{base}/status", {"status": "resolved"}, htmx=True)
        assert "Reopen" in r.text
        r = agent_desk.post(f"{base}/status", {"status": "open"}, htmx=True)
        assert "Resolve" in r.text
        with runtime.db.session(write=False) as session:
            second = session.scalar(select(Message.id).where(
                Message.workspace_id == workspace_id, Message.provider_id == "s2"))
        r = agent_desk.post(f"{base}/split", {"message_ids": [str(second)]}, htmx=True)
        assert r.status_code == 200 and "two" in r.text and "one" not in re.sub(
            r"<[^>]+>", " ", r.text).split()
        r = agent_desk.post(f"{base}/merge", {"other_id": str(other.id)}, htmx=True)
        assert r.status_code == 200 and "other customer" in r.text
        assert agent_desk.post(f"{base}/merge", {"other_id": "nope"}, htmx=True).status_code \
            == 422

    def test_templates_fill_variables(self, admin_desk: Desk, client, runtime, workspace_id,
                                      worker):
        _ingest(client, runtime, workspace_id, worker, [message_event("v1", author="vv")])
        conv = _conversations(runtime, workspace_id)[0]
        r = admin_desk.post("/settings/templates", {
            "name": "Greeting", "body": "Hi {handle}, {agent_first_name} here. {unknown}",
            "visibilities": "public"})
        assert r.status_code == 303
        with runtime.db.session(write=False) as session:
            template = session.scalar(select(Template).where(
                Template.workspace_id == workspace_id))
        html = admin_desk.get(f"/conversations/{conv.id}").text
        assert "Greeting" in html
        text = admin_desk.get(f"/conversations/{conv.id}/templates/{template.id}").text
        assert text == "Hi @vv, Alma here. {unknown}"

    def test_public_template_asking_for_personal_data_is_refused(self, admin_desk: Desk,
                                                                 runtime, workspace_id):
        r = admin_desk.post("/settings/templates", {
            "name": "Bad", "body": "Please reply here with your card number and CVV.",
            "visibilities": "public"})
        assert r.status_code == 422 and "card" in r.text.lower()
        ok = admin_desk.post("/settings/templates", {
            "name": "Private ask", "body": "Please send your card number in this chat.",
            "visibilities": "private"})
        assert ok.status_code == 303
        with runtime.db.session(write=False) as session:
            names = set(session.scalars(select(Template.name).where(
                Template.workspace_id == workspace_id)))
        assert names == {"Private ask"}


class TestCustomerPanel:
    def test_edit_identities_merge_and_undo(self, agent_desk: Desk, client, runtime,
                                            workspace_id, worker):
        _ingest(client, runtime, workspace_id, worker, [
            message_event("c1", author="cx1", text="first person"),
            message_event("c2", author="cx2", text="second person", minutes=1)])
        one, two = _conversations(runtime, workspace_id)
        url = f"/customers/{one.customer_id}"
        page = agent_desk.get(url)
        assert page.status_code == 200 and "cx1" in page.text and "first person" in page.text
        r = agent_desk.post(url, {"name": "Jane Roe", "notes": "VIP since 2019",
                                  "preferred_channel": "email",
                                  "custom_fields": "plan: gold\ncity: Oslo"})
        assert r.status_code == 303
        page = agent_desk.get(url).text
        assert "Jane Roe" in page and "VIP since 2019" in page and "plan: gold" in page
        assert agent_desk.post(url, {"custom_fields": "no colon"}).status_code == 422
        r = agent_desk.post(f"{url}/identities", {"kind": "email", "address": "Jane@Ex.com"})
        assert r.status_code == 303
        assert "jane@ex.com" in agent_desk.get(url).text
        # The same address on the other customer: a merge suggestion, nothing moves.
        r = agent_desk.post(f"/customers/{two.customer_id}/identities",
                            {"kind": "email", "address": "jane@ex.com"})
        assert r.status_code == 409
        assert "probably the same person" in agent_desk.get(url).text
        r = agent_desk.post(f"{url}/merge", {"other_id": str(two.customer_id)})
        assert r.status_code == 303
        page = agent_desk.get(url).text
        assert "second person" in page and "cx2" in page
        merge_id = re.search(r'/customers/merges/([0-9a-f-]+)/undo', page).group(1)
        assert agent_desk.post(f"/customers/merges/{merge_id}/undo").status_code == 303
        page = agent_desk.get(url).text
        assert "(undone)" in page and "second person" not in page
        assert 'data-kind="x"' in page and page.count('class="identity-row"') == 2
        assert agent_desk.get(f"/customers/{uuid.uuid4()}").status_code == 404


class TestSupervisorAndSettings:
    def test_supervisor_view(self, supervisor_desk: Desk, client, runtime, workspace_id,
                             worker):
        _ingest(client, runtime, workspace_id, worker, [
            message_event("q1", author="qq1"), message_event("q2", author="qq2")])
        first = _conversations(runtime, workspace_id)[0]
        with runtime.db.session() as session:
            session.get(Conversation, first.id).sla_due_at = utcnow() - timedelta(minutes=5)
        supervisor_desk.post(f"/conversations/{first.id}/assign", {"agent_id": "me"},
                             htmx=True)
        html = supervisor_desk.get("/supervisor").text
        assert 'id="queues"' in html and "No team" in html
        assert "Sam Supervisor" in html
        assert "min overdue" in html

    def test_admin_settings(self, admin_desk: Desk, runtime, workspace_id):
        assert admin_desk.post("/settings/teams", {"name": "Billing"}).status_code == 303
        assert admin_desk.post("/settings/teams", {"name": "Billing"}).status_code == 422
        r = admin_desk.post("/settings/accounts", {"name": "Support mail", "kind": "email",
                                                   "config": '{"password": "s3cret"}'})
        assert r.status_code == 303
        assert admin_desk.post("/settings/accounts", {"name": "b", "kind": "email",
                                                      "config": "[1]"}).status_code == 422
        assert admin_desk.post("/settings/accounts", {"name": "b", "kind": "pigeon"}
                               ).status_code == 422
        r = admin_desk.post("/settings/agents", {"email": "new@desk.example", "role": "agent",
                                                 "name": "Newbie"})
        assert r.status_code == 201 and "One-time password" in r.text
        page = admin_desk.get("/settings").text
        assert "Billing" in page and "Support mail" in page and "Newbie" in page
        assert "s3cret" not in page  # credentials are never shown
        with runtime.db.session(write=False) as session:
            mail = session.scalar(select(ChannelAccount).where(
                ChannelAccount.workspace_id == workspace_id, ChannelAccount.name == "Support mail"))
        r = admin_desk.post(f"/settings/accounts/{mail.id}", {
            "name": "Support inbox", "config": '{"password": "n3w", "smtp_port": 2525}'})
        assert r.status_code == 303
        with runtime.db.session(write=False) as session:
            mail = session.get(ChannelAccount, mail.id)
        assert (mail.name, mail.active, mail.config["password"], mail.config["smtp_port"]) == (
            "Support inbox", False, "n3w", 2525)
        assert "n3w" not in admin_desk.get("/settings").text
        me = admin_desk.agent.id
        assert admin_desk.post(f"/settings/agents/{me}", {"role": "agent"}).status_code == 422


class TestPersonalDataInPublic:
    def test_masked_by_default_and_reveal_is_audited(self, agent_desk: Desk, client, runtime,
                                                     workspace_id, worker):
        card = "4111 1111 1111 1111"
        _ingest(client, runtime, workspace_id, worker, [
            message_event("pii-d", author="pp", text=f"refund my card {card} now")])
        conv = _conversations(runtime, workspace_id)[0]
        page = agent_desk.get(f"/conversations/{conv.id}").text
        assert card not in page and "[CREDIT_CARD]" in page and 'data-role="reveal"' in page
        with runtime.db.session(write=False) as session:
            message_id = session.scalar(select(Message.id).where(
                Message.conversation_id == conv.id))
        shown = agent_desk.post(f"/conversations/{conv.id}/messages/{message_id}/reveal",
                                {}, htmx=True)
        assert shown.status_code == 200 and card not in shown.text
        assert "[card •••• 1111]" in shown.text  # card data is never stored in clear
        from threadline.events.models import AuditEvent

        with runtime.db.session(write=False) as session:
            actions = set(session.scalars(select(AuditEvent.action).where(
                AuditEvent.workspace_id == workspace_id)))
        assert "message.revealed" in actions
