"""The survey's rules, through the generic API channel (signed webhooks in, its outbound POSTs
landing on the provider sandbox) and the worker: off by default; a private thread gets a
short link; at most one survey per customer per period; never a public post (a conversation
that ended in public is asked privately where the customer wrote privately, else not at all);
a reopening before the delay cancels it; a refused send fails it; an expired survey takes no
more answers."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update

from tests.csat.conftest import PUBLIC_URL, Flow
from threadline.csat.models import CsatSurveyDetails
from threadline.db.base import utcnow


class TestWhenAndWhere:
    def test_nothing_is_asked_while_surveys_are_off(self, flow: Flow) -> None:
        author = f"cust-{flow.tag}"
        conv = flow.conversation_of(flow.writes("hello", author=author))
        flow.reply(conv["id"], "hi")
        flow.resolve(conv["id"])
        assert flow.surveys() == [] and flow.jobs("csat.send") == []

    def test_a_private_thread_gets_a_short_link(self, flow: Flow, linked: None) -> None:
        flow.enable(question="Rate us?")
        author = f"cust-{flow.tag}"
        conv = flow.conversation_of(flow.writes("my invoice", author=author))
        flow.reply(conv["id"], "fixed it")
        flow.resolve(conv["id"])
        [survey] = flow.surveys(conv["id"])
        assert (survey.channel, survey.method, survey.status) == ("api", "link", "sent")
        assert survey.token_hash and len(survey.token_hash) == 64
        [out] = [o for o in flow.outbound() if "Rate us?" in o["text"]]
        assert out["visibility"] == "private" and out["recipient"] == author
        assert out["thread_key"] == f"dm:{author}"
        assert f"{PUBLIC_URL}/r/" in out["text"]
        code = out["text"].rsplit("/r/", 1)[1]
        assert len(code) >= 24 and code not in survey.token_hash  # only the hash is stored

    def test_at_most_one_survey_per_customer_per_period(self, flow: Flow, linked: None) -> None:
        flow.enable(period_days=30)
        author = f"cust-{flow.tag}"
        conv = flow.conversation_of(flow.writes("first question", author=author))
        flow.resolve(conv["id"])
        assert len(flow.surveys()) == 1
        flow.writes("and another thing", author=author)  # an ordinary message: reopens it
        assert flow.conversation_of(flow.writes("hello?", author=author))["id"] == conv["id"]
        flow.resolve(conv["id"])
        assert len(flow.surveys()) == 1 and flow.skipped() == ["surveyed_recently"]
        other = f"other-{flow.tag}"  # another customer is asked, the period is per customer
        conv2 = flow.conversation_of(flow.writes("my question", author=other))
        flow.resolve(conv2["id"])
        assert len(flow.surveys()) == 2
        flow.enable(period_days=0)  # every resolution
        flow.writes("one more", author=author)
        flow.resolve(conv["id"])
        assert len(flow.surveys(conv["id"])) == 2

    def test_a_reopening_before_the_delay_cancels_the_survey(self, flow: Flow,
                                                             linked: None) -> None:
        flow.enable(delay_minutes=30)
        author = f"cust-{flow.tag}"
        conv = flow.conversation_of(flow.writes("question", author=author))
        flow.resolve(conv["id"])
        [job] = flow.jobs("csat.send")
        assert job.due_at > utcnow() + timedelta(minutes=29) and flow.surveys() == []
        flow.writes("wait, one more thing", author=author)  # reopens it
        flow.due_now("csat.send")
        assert flow.surveys() == []
        flow.resolve(conv["id"])  # resolved again: this resolution is asked
        flow.due_now("csat.send")
        assert len(flow.surveys()) == 1


class TestNeverPublic:
    def test_a_public_conversation_without_a_private_channel_gets_none(self, flow: Flow,
                                                                      linked: None) -> None:
        flow.enable(question=f"Public? {flow.tag}")
        author = f"pub-{flow.tag}"
        conv = flow.conversation_of(flow.writes("your shop is closed", author=author,
                                                visibility="public"))
        flow.reply(conv["id"], "we open at nine", visibility="public")
        flow.resolve(conv["id"])
        assert flow.surveys() == [] and flow.skipped() == ["no_private_channel"]
        assert [o for o in flow.outbound() if flow.tag in o["text"]] == []

    def test_it_ended_in_public_and_is_asked_where_he_wrote_privately(self, flow: Flow,
                                                                      linked: None) -> None:
        flow.enable(question=f"Private? {flow.tag}")
        author = f"pub-{flow.tag}"
        post = flow.writes("delivery is late", author=author, visibility="public")
        conv = flow.conversation_of(post)
        flow.writes("my order number, in private", author=author, in_reply_to=post)
        assert flow.conversation_of(post)["id"] == conv["id"]
        flow.reply(conv["id"], "sorted, thanks for your patience", visibility="public")
        flow.resolve(conv["id"])
        [survey] = flow.surveys(conv["id"])
        [out] = [o for o in flow.outbound() if flow.tag in o["text"]]
        assert out["visibility"] == "private" and out["recipient"] == author
        assert survey.method == "link"

    def test_his_private_thread_of_another_conversation_carries_it(self, flow: Flow,
                                                                   linked: None) -> None:
        flow.enable(question=f"Elsewhere? {flow.tag}")
        author = f"pub-{flow.tag}"
        private = flow.conversation_of(flow.writes("a private question", author=author))
        flow.resolve(private["id"])  # asked there (and the period would stop the next one)
        flow.enable(question=f"Elsewhere? {flow.tag}", period_days=0)
        public = flow.conversation_of(flow.writes("public complaint", author=author,
                                                  visibility="public"))
        assert public["id"] != private["id"]
        flow.resolve(public["id"])
        [survey] = flow.surveys(public["id"])
        outs = [o for o in flow.outbound() if flow.tag in o["text"]]
        assert len(outs) == 2 and all(o["visibility"] == "private" for o in outs)
        # not in that conversation's thread: his next message there is not drawn into this one
        assert outs[1]["thread_key"] is None and outs[1]["recipient"] == author
        assert survey.channel == "api"


class TestDeliveryAndExpiry:
    def test_a_refused_send_fails_the_survey_and_does_not_count(self, flow: Flow,
                                                                linked: None) -> None:
        flow.enable()
        httpx.post(f"{flow.sandbox.url}/_sandbox/faults", json={
            "provider": "api", "path_contains": "/outbound", "status": 400, "count": 1})
        author = f"cust-{flow.tag}"
        conv = flow.conversation_of(flow.writes("hi", author=author))
        flow.resolve(conv["id"])
        [survey] = flow.surveys()
        assert survey.status == "failed"
        flow.writes("again", author=author)
        flow.resolve(conv["id"])  # a failed survey does not use up the period
        assert [s.status for s in flow.surveys()] == ["failed", "sent"]

    def test_an_expired_survey_takes_no_answer(self, flow: Flow, linked: None) -> None:
        flow.enable()
        author = f"cust-{flow.tag}"
        conv = flow.conversation_of(flow.writes("hi", author=author))
        flow.resolve(conv["id"])
        with flow.runtime.db.session() as s:
            s.execute(update(CsatSurveyDetails).values(
                expires_at=utcnow() - timedelta(seconds=1)).where(
                CsatSurveyDetails.workspace_id == flow.workspace_id))
        flow.due_now("csat.expire")
        [survey] = flow.surveys()
        assert survey.status == "expired"
        flow.writes("5", author=author)  # no survey waits: an ordinary message
        after = flow.client.get(f"/api/v1/conversations/{conv['id']}").json()
        assert after["status"] == "open"
        assert [m["text"] for m in after["messages"] if m["direction"] == "inbound"][-1] == "5"
        assert flow.surveys()[0].score is None

    def test_a_conversation_resolved_as_spam_is_not_asked(self, flow: Flow, linked: None) -> None:
        flow.enable()
        conv = flow.conversation_of(flow.writes("buy followers", author=f"bot-{flow.tag}"))
        assert flow.client.patch(f"/api/v1/conversations/{conv['id']}",
                                 json={"labels": ["spam"]}).status_code == 200
        flow.resolve(conv["id"])
        assert flow.surveys() == [] and flow.skipped() == ["spam"]


class TestTypedRatings:
    def test_a_typed_rating_counts_until_the_conversation_is_reopened(self, flow: Flow,
                                                                    linked: None) -> None:
        flow.enable()
        author = f"cust-{flow.tag}"
        conv = flow.conversation_of(flow.writes("how many left?", author=author))
        flow.resolve(conv["id"])
        flow.writes("I forgot one thing", author=author)  # reopened before any answer
        flow.reply(conv["id"], "How many do you need?")
        flow.writes("5", author=author)  # answers the agent, not the survey
        after = flow.client.get(f"/api/v1/conversations/{conv['id']}").json()
        assert "5" in [m["text"] for m in after["messages"]]
        assert flow.surveys()[0].status == "sent"
        flow.resolve(conv["id"])  # resolved again (within the period: not asked again)
        flow.writes("4 thanks", author=author)  # the first survey still waits: it counts
        [survey] = flow.surveys()
        assert (survey.status, survey.score, survey.comment) == ("answered", 4, "thanks")
        final = flow.client.get(f"/api/v1/conversations/{conv['id']}").json()
        assert final["status"] == "resolved" and "4 thanks" not in [
            m["text"] for m in final["messages"]]


class TestFigures:
    def test_the_survey_is_no_message_of_the_conversations_figures(self, flow: Flow,
                                                                     linked: None) -> None:
        """A survey goes out after the resolution: the conversation's KPI facts (agent
        messages, episodes, segments, last channel) are those of before, incrementally and
        when recomputed."""
        import uuid

        from threadline.kpis.models import ConversationFacts, ConversationSegment
        from threadline.kpis.tracking import recompute

        def facts(conv_id: str) -> tuple[object, ...]:
            with flow.runtime.db.session(write=False) as s:
                f = s.get(ConversationFacts, uuid.UUID(conv_id))
                assert f is not None
                segments = len(s.scalars(select(ConversationSegment).where(
                    ConversationSegment.conversation_id == f.conversation_id)).all())
                return (f.customer_messages, f.agent_messages, f.episodes, f.segments,
                        f.last_channel, f.next_responses, segments)

        flow.enable()
        conv = flow.conversation_of(flow.writes("my order", author=f"cust-{flow.tag}"))
        flow.reply(conv["id"], "on its way")
        flow.resolve(conv["id"])
        [survey] = flow.surveys(conv["id"])
        assert survey.status == "sent"
        assert facts(conv["id"]) == (1, 1, 1, 1, "api", 0, 1)
        with flow.runtime.db.session() as s:
            recompute(s, uuid.UUID(conv["id"]))
        assert facts(conv["id"]) == (1, 1, 1, 1, "api", 0, 1)
