"""The bot's decisions through the real pipeline (web chat envelopes stored by the durable
ingest, the worker running the inbound batch, the hooks and the jobs): it answers a confident
question once, however often its job runs; a complaint, a request for a person, a second
question or a low-confidence match hand over at once; "yes" and silence are deflections;
outside business hours the customer is told when a person will answer; an article of another
workspace or language is never used."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.selfservice.conftest import (
    EDITOR,
    bot_replies,
    bot_session,
    conversation,
    enable_bot,
    make_kb,
    outbound,
)
from threadline.channels.webchat.payloads import (
    WebchatEnvelope,
    WebchatMessage,
    WebchatVisitor,
)
from threadline.conversations.models import Conversation, Message
from threadline.events.models import AuditEvent, OutboxJob
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.selfservice import bot as bot_module
from threadline.selfservice.models import BotState, Reason
from threadline.sla.schemas import CalendarIn
from threadline.sla.service import save_calendar
from threadline.webchat import service as webchat
from threadline.workspace.service import create_channel_account, create_workspace


class Visitor:
    """A web chat visitor writing through the durable ingest (as the web route does)."""

    def __init__(self, runtime: Runtime, worker: Worker, account: Any) -> None:
        self.runtime, self.worker, self.account = runtime, worker, account
        self.id = f"v_{secrets.token_hex(8)}"

    def says(self, text: str) -> uuid.UUID:
        with self.runtime.db.session() as session:
            account = webchat.chat_account(session, str(self.account.id))
            webchat.store_envelope(session, account, WebchatEnvelope(
                type="message", visitor=WebchatVisitor(id=self.id),
                message=WebchatMessage(echo_id=secrets.token_hex(8), text=text,
                                       sent_at=datetime.now(UTC))))
        self.worker.drain()
        with self.runtime.db.session(write=False) as session:
            conv_id = session.scalar(select(Message.conversation_id).where(
                Message.channel_account_id == self.account.id,
                Message.thread_key == f"visitor:{self.id}").limit(1))
        assert conv_id is not None
        return conv_id


@pytest.fixture
def chat_account(runtime: Runtime, workspace_id: uuid.UUID) -> Any:
    with runtime.db.session() as session:
        return create_channel_account(session, workspace_id, kind="webchat", name="Chat",
                                      config={})


@pytest.fixture
def kb(runtime: Runtime, workspace_id: uuid.UUID) -> dict[str, uuid.UUID]:
    ids = make_kb(runtime, workspace_id)
    enable_bot(runtime, workspace_id)
    return ids


def visitor(runtime: Runtime, worker: Worker, account: Any) -> Visitor:
    return Visitor(runtime, worker, account)


def texts(runtime: Runtime, conv_id: uuid.UUID) -> list[str]:
    return [m.text for m in outbound(runtime, conv_id)]


def audits(runtime: Runtime, workspace_id: uuid.UUID, action: str) -> list[AuditEvent]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.workspace_id == workspace_id, AuditEvent.action == action)))


class TestAnswer:
    def test_a_confident_question_is_answered_once_with_the_article(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID]) -> None:
        conv_id = visitor(runtime, worker, chat_account).says("Where is my order?")
        [answer] = outbound(runtime, conv_id)
        assert answer.text.startswith("Tracking your order")
        assert "Track package" in answer.text and "Was this what you needed?" in answer.text
        assert "**" not in answer.text  # Markdown is made plain
        assert answer.author_type == "automation" and answer.visibility == "private"
        assert answer.delivery == "sent"
        assert answer.meta["selfservice"]["article_id"] == str(kb["track"])
        assert answer.meta["selfservice"]["choices"] == ["Yes, thanks", "Talk to a person"]
        session = bot_session(runtime, conv_id)
        assert session is not None and session.state == BotState.BOT
        assert session.answers == 1 and session.article_id == kb["track"]
        conv = conversation(runtime, conv_id)
        # the bot-handled state: nobody assigned, no service-level clock running
        assert conv.status == "snoozed" and conv.assignee_id is None
        assert conv.sla_due_at is None and conv.first_response_at is None

    def test_the_reply_job_run_again_sends_nothing_more(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID], workspace_id: uuid.UUID) -> None:
        conv_id = visitor(runtime, worker, chat_account).says("how do I track my package")
        [reply] = bot_replies(runtime, conv_id)
        with runtime.db.session() as session:  # the same job, enqueued again, and run
            from threadline.events.service import enqueue

            enqueue(session, bot_module.REPLY_JOB, {
                "message_id": str(reply.inbound_message_id), "kind": "answer"},
                workspace_id=workspace_id)
        worker.drain()
        with runtime.db.session() as session:  # and called directly
            assert bot_module.send_reply(session, runtime.settings, workspace_id,
                                         reply.inbound_message_id, "answer") is None
        worker.drain()
        assert len(outbound(runtime, conv_id)) == 1
        assert len(bot_replies(runtime, conv_id)) == 1

    def test_the_customers_language_picks_the_article(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID]) -> None:
        conv_id = visitor(runtime, worker, chat_account).says(
            "hola, quiero un reembolso de mi pedido por favor")
        session = bot_session(runtime, conv_id)
        assert session is not None and session.article_id == kb["rembolso"]
        assert texts(runtime, conv_id)[0].startswith("Cómo pedir un reembolso")

    def test_only_this_workspaces_published_articles_answer(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"other-{uuid.uuid4().hex[:6]}").id
        make_kb(runtime, other)  # the other workspace knows all the answers
        enable_bot(runtime, workspace_id)
        conv_id = visitor(runtime, worker, chat_account).says("where is my order")
        session = bot_session(runtime, conv_id)
        assert session is not None and session.state == BotState.HANDED_OVER
        assert session.reason == Reason.LOW_CONFIDENCE and outbound(runtime, conv_id) == []

    def test_another_workspaces_article_id_is_never_used(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID], workspace_id: uuid.UUID) -> None:
        from threadline.selfservice.service import published_article

        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"other-{uuid.uuid4().hex[:6]}").id
        theirs = make_kb(runtime, other, names=("track",))["track"]
        with runtime.db.session(write=False) as session:
            assert published_article(session, workspace_id, theirs) is None
            assert published_article(session, other, theirs) is not None
        customer = visitor(runtime, worker, chat_account)
        conv_id = customer.says("Where is my order?")
        [reply] = bot_replies(runtime, conv_id)
        with runtime.db.session() as session:  # the session pointed at their article
            row = session.get(bot_module.BotSession, conv_id)
            assert row is not None
            row.article_id = theirs
            session.delete(session.get(bot_module.BotReply, reply.id))
        with runtime.db.session() as session:
            sent = bot_module.send_reply(session, runtime.settings, workspace_id,
                                         reply.inbound_message_id, "answer")
            assert sent is not None and sent.outcome == "article_gone"
        assert len(outbound(runtime, conv_id)) == 1  # only the first, never theirs
        assert bot_session(runtime, conv_id).state == BotState.HANDED_OVER  # type: ignore

    def test_an_archived_article_is_no_longer_used(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID], workspace_id: uuid.UUID) -> None:
        from threadline.knowledge.service import archive_article

        with runtime.db.session() as session:
            archive_article(session, workspace_id, kb["track"], EDITOR)
        conv_id = visitor(runtime, worker, chat_account).says("Where is my order?")
        assert not any(t.startswith("Tracking your order") for t in texts(runtime, conv_id))

    def test_the_bot_switched_off_does_nothing(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            workspace_id: uuid.UUID) -> None:
        make_kb(runtime, workspace_id)
        enable_bot(runtime, workspace_id, accounts={str(chat_account.id): False})
        conv_id = visitor(runtime, worker, chat_account).says("Where is my order?")
        assert bot_session(runtime, conv_id) is None and outbound(runtime, conv_id) == []
        assert conversation(runtime, conv_id).status == "open"


class TestHandover:
    @pytest.mark.parametrize("words", [
        "I want to talk to a person", "can I speak with a human agent please",
        "quiero hablar con una persona", "je veux parler à un conseiller",
        "Ich möchte mit einem Mitarbeiter sprechen"])
    def test_asking_for_a_person_hands_over_at_once(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID], words: str) -> None:
        conv_id = visitor(runtime, worker, chat_account).says(words)
        session = bot_session(runtime, conv_id)
        assert session is not None and session.state == BotState.HANDED_OVER
        assert session.reason == Reason.ASKED
        assert outbound(runtime, conv_id) == []
        assert conversation(runtime, conv_id).status == "open"

    def test_a_complaint_hands_over_at_once(self, runtime: Runtime, worker: Worker,
                                           chat_account: Any,
                                           kb: dict[str, uuid.UUID]) -> None:
        conv_id = visitor(runtime, worker, chat_account).says(
            "This is unacceptable!!! Where is my order, you are the worst")
        session = bot_session(runtime, conv_id)
        assert session is not None and session.reason == Reason.COMPLAINT
        assert outbound(runtime, conv_id) == []
        conv = conversation(runtime, conv_id)
        assert conv.status == "open" and conv.sla_due_at is not None  # its clock runs

    def test_a_request_for_a_person_after_an_answer_puts_it_in_the_queue(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID]) -> None:
        customer = visitor(runtime, worker, chat_account)
        conv_id = customer.says("Where is my order?")
        assert conversation(runtime, conv_id).status == "snoozed"
        customer.says("Talk to a person")
        session = bot_session(runtime, conv_id)
        assert session is not None and session.state == BotState.HANDED_OVER
        assert session.reason == Reason.ASKED and session.answers == 1
        conv = conversation(runtime, conv_id)
        assert conv.status == "open" and conv.sla_due_at is not None
        assert len(outbound(runtime, conv_id)) == 1  # nothing more from the bot
        # a later message is the agents' only
        customer.says("where is my order")
        assert len(outbound(runtime, conv_id)) == 1

    def test_a_second_question_hands_over(self, runtime: Runtime, worker: Worker,
                                          chat_account: Any,
                                          kb: dict[str, uuid.UUID]) -> None:
        customer = visitor(runtime, worker, chat_account)
        conv_id = customer.says("Where is my order?")
        customer.says("I forgot my password too")
        session = bot_session(runtime, conv_id)
        assert session is not None and session.reason == Reason.SECOND_QUESTION
        assert len(outbound(runtime, conv_id)) == 1
        assert conversation(runtime, conv_id).status == "open"

    def test_a_low_confidence_match_hands_over(self, runtime: Runtime, worker: Worker,
                                               chat_account: Any,
                                               kb: dict[str, uuid.UUID]) -> None:
        conv_id = visitor(runtime, worker, chat_account).says(
            "Do you sell garden furniture in blue?")
        session = bot_session(runtime, conv_id)
        assert session is not None and session.reason == Reason.LOW_CONFIDENCE
        assert outbound(runtime, conv_id) == []

    def test_outside_business_hours_the_customer_is_told_when(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID], workspace_id: uuid.UUID) -> None:
        today = datetime.now(UTC).weekday()
        day = "wed" if today in (0, 1) else "mon"  # never today nor tomorrow's early hours
        with runtime.db.session() as session:
            save_calendar(session, workspace_id, CalendarIn(
                name="Office", time_zone="Europe/Paris", hours={day: [["09:00", "17:00"]]},
                is_default=True), EDITOR)
        customer = visitor(runtime, worker, chat_account)
        conv_id = customer.says("Where is my order?")
        [answer] = texts(runtime, conv_id)
        weekday = "Wednesday" if day == "wed" else "Monday"
        assert f"a person can answer from {weekday}" in answer and "09:00" in answer
        customer.says("I want to talk to a person")
        closed = texts(runtime, conv_id)[-1]
        assert closed.startswith("Our team is away right now. A person will answer here "
                                 f"from {weekday}")
        assert "09:00 (Europe/Paris)" in closed
        conv = conversation(runtime, conv_id)
        assert conv.status == "open" and conv.first_response_at is None


class TestDeflection:
    def test_yes_resolves_without_an_agent(self, runtime: Runtime, worker: Worker,
                                           chat_account: Any,
                                           kb: dict[str, uuid.UUID]) -> None:
        customer = visitor(runtime, worker, chat_account)
        conv_id = customer.says("I forgot my password")
        customer.says("Yes, thanks")
        session = bot_session(runtime, conv_id)
        assert session is not None and session.state == BotState.DEFLECTED
        assert session.reason == Reason.CONFIRMED
        conv = conversation(runtime, conv_id)
        assert conv.status == "resolved" and conv.assignee_id is None

    def test_no_reply_within_the_time_is_a_deflection(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID], workspace_id: uuid.UUID) -> None:
        conv_id = visitor(runtime, worker, chat_account).says("how do I get a refund")
        assert bot_session(runtime, conv_id).state == BotState.BOT  # type: ignore[union-attr]
        with runtime.db.session() as session:  # the time passes
            session.execute(update(OutboxJob).where(
                OutboxJob.name == bot_module.SETTLE_JOB, OutboxJob.workspace_id == workspace_id,
                OutboxJob.status == "pending").values(
                due_at=datetime.now(UTC) - timedelta(seconds=1)))
        worker.drain()
        session_row = bot_session(runtime, conv_id)
        assert session_row is not None and session_row.state == BotState.DEFLECTED
        assert session_row.reason == Reason.TIMEOUT
        assert conversation(runtime, conv_id).status == "resolved"

    def test_coming_back_after_a_deflection_goes_to_a_person(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID]) -> None:
        customer = visitor(runtime, worker, chat_account)
        conv_id = customer.says("I forgot my password")
        customer.says("thanks")
        customer.says("it still does not work, the link is not in my mail")
        session = bot_session(runtime, conv_id)
        assert session is not None and session.state == BotState.HANDED_OVER
        assert session.reason == Reason.CAME_BACK
        assert conversation(runtime, conv_id).status == "open"


class TestHostileInput:
    def test_a_very_long_message_is_matched_by_its_head_quickly(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID], workspace_id: uuid.UUID) -> None:
        from threadline.selfservice.service import match

        text = "where is my order " + "x" * 3980
        with runtime.db.session(write=False) as session:
            match(session, workspace_id, "warm the cache")
            started = time.perf_counter()
            found = match(session, workspace_id, text)
            elapsed = time.perf_counter() - started
        assert elapsed < 0.5 and found.article_id == kb["track"]
        conv_id = visitor(runtime, worker, chat_account).says(text)
        assert bot_session(runtime, conv_id) is not None

    def test_script_in_a_message_is_stored_as_text_and_never_sent_back(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID]) -> None:
        conv_id = visitor(runtime, worker, chat_account).says(
            "<script>alert(1)</script> where is my order <img src=x onerror=alert(2)>")
        for text in texts(runtime, conv_id):
            assert "<script" not in text and "onerror" not in text

    def test_an_article_with_markup_is_sent_as_plain_text(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            workspace_id: uuid.UUID) -> None:
        make_kb(runtime, workspace_id, names=("track",),
                body="<script>alert(1)</script>Open **Your orders** <b>now</b>.")
        enable_bot(runtime, workspace_id)
        conv_id = visitor(runtime, worker, chat_account).says("where is my order")
        [answer] = texts(runtime, conv_id)
        assert "<script" not in answer and "<b>" not in answer and "Your orders now" in answer

    def test_the_hook_never_answers_in_public(self, runtime: Runtime, worker: Worker,
                                              chat_account: Any,
                                              kb: dict[str, uuid.UUID]) -> None:
        conv_id = visitor(runtime, worker, chat_account).says("Talk to a person")
        with runtime.db.session() as session:
            conv = session.get(Conversation, conv_id)
            assert conv is not None
            message = session.scalar(select(Message).where(
                Message.conversation_id == conv_id, Message.direction == "inbound"))
            assert message is not None
            message.visibility = "public"  # the same words, posted in public
            session.delete(session.get(bot_module.BotSession, conv_id))
            session.flush()
            assert bot_module.consider(session, conv, [message]) is None
            assert session.get(bot_module.BotSession, conv_id) is None


class TestKpis:
    def test_deflection_and_handover_rates_in_the_outcome_dashboard(
            self, runtime: Runtime, worker: Worker, chat_account: Any,
            kb: dict[str, uuid.UUID], workspace_id: uuid.UUID) -> None:
        from threadline.kpis.dashboards.drill import facts_page
        from threadline.kpis.dashboards.filters import parse_filters
        from threadline.kpis.dashboards.schemas import Group
        from threadline.kpis.dashboards.service import dashboard

        deflected = visitor(runtime, worker, chat_account)
        deflected_id = deflected.says("I forgot my password")
        deflected.says("Yes, thanks")
        handed = [visitor(runtime, worker, chat_account).says(words) for words in (
            "I want to talk to a person", "This is unacceptable!!! you are the worst")]
        waiting = visitor(runtime, worker, chat_account).says("how do I get a refund")
        with runtime.db.session(write=False) as session:
            filters = parse_filters(session, workspace_id, {})
            board = dashboard(session, Group.outcome, filters)
            metrics = {m.key: m.value for m in board.metrics}
            # 1 deflected, 2 handed over; the one waiting for the customer counts in neither
            assert metrics["bot_deflection"] == 33.3 and metrics["bot_handover"] == 66.7
            table = board.table("self_service")
            assert table is not None
            [row] = table.rows
            assert row.drill == {"channel": "webchat"} and row.cells == [4, 33.3, 66.7, 1]

            def listed(flag: str) -> set[uuid.UUID]:
                drilled = parse_filters(session, workspace_id, {"flag": flag}, drill=True)
                rows, _ = facts_page(session, drilled)
                return {r.conversation_id for r in rows}

            assert listed("bot_deflected") == {deflected_id}
            assert listed("bot_handed_over") == set(handed)
            assert listed("bot_waiting") == {waiting}
            assert listed("bot") == {deflected_id, waiting, *handed}
            # another workspace's dashboard shows none of it
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:6]}").id
            theirs = dashboard(session, Group.outcome, parse_filters(session, other, {}))
            assert {m.key: m.value for m in theirs.metrics}["bot_deflection"] is None
