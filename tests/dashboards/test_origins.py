"""Off-platform origins: a web chat started from a page whose address carries campaign
parameters records them (through the worker, end to end); an agent's choice is kept."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.webchat.conftest import HMAC_SECRET, ORIGIN, Chat, wait_for
from threadline.conversations.models import Conversation
from threadline.kpis.dashboards.origins import check_origin, origin_from_url
from threadline.kpis.models import ConversationFacts


@pytest.fixture
def chat(runtime, live_server, workspace_id, token):
    c = Chat(runtime, live_server, workspace_id, token,
             {"hmac_secret": HMAC_SECRET, "allowed_origins": [ORIGIN]})
    yield c
    c.close()


def _facts_of(runtime, workspace_id: uuid.UUID, text_marker: str, chat: Chat):
    conv = chat.conversation_with(text_marker)

    def probe():
        with runtime.db.session(write=False) as session:
            return session.get(ConversationFacts, uuid.UUID(conv["id"]))

    return conv, wait_for(probe, what="the conversation's facts")


class TestFromTheWebChatPage:
    def test_utm_campaign_becomes_the_origin(self, runtime, workspace_id, chat):
        visitor = chat.start({})
        page = f"{ORIGIN}/spring?utm_source=Newsletter&utm_campaign=Spring%20Sale%2026&x=1"
        assert chat.say(visitor, "is the sale on?", page_url=page).status_code == 202
        conv, _ = _facts_of(runtime, workspace_id, "is the sale on?", chat)

        def origin():
            with runtime.db.session(write=False) as session:
                return session.scalar(select(ConversationFacts.origin_source).where(
                    ConversationFacts.conversation_id == uuid.UUID(conv["id"])))

        assert wait_for(origin, what="the origin") == "campaign:spring_sale_26"

    def test_an_agents_origin_is_not_overwritten(self, runtime, workspace_id, chat):
        visitor = chat.start({})
        chat.say(visitor, "first words")
        conv, _ = _facts_of(runtime, workspace_id, "first words", chat)
        assert chat.api.put(f"/kpis/conversations/{conv['id']}/origin",
                            json={"origin_source": "store"}).status_code == 200
        chat.say(visitor, "again", page_url=f"{ORIGIN}/?utm_source=flyer")
        chat.conversation_with("again")
        with runtime.db.session(write=False) as session:
            conv_row = session.get(Conversation, uuid.UUID(conv["id"]))
            assert conv_row is not None
            facts = session.get(ConversationFacts, conv_row.id)
            assert facts is not None and facts.origin_source == "store"


class TestParsing:
    @pytest.mark.parametrize(("url", "origin"), [
        ("https://a.example/?utm_source=Instagram", "instagram"),
        ("https://a.example/?utm_campaign=Black+Friday&utm_source=x", "campaign:black_friday"),
        ("https://a.example/?utm_campaign=%3D1%2B1", "campaign:1_1"),
        ("https://a.example/?utm_campaign=" + "z" * 200, "campaign:" + "z" * 31),
        ("https://a.example/?utm_campaign=%20%20", None),
        ("https://a.example/page", None), ("not a url at all", None), (None, None),
        ("https://a.example/?" + "utm_source=x&" * 5000, None),
    ])
    def test_origin_from_url(self, url, origin):
        assert origin_from_url(url) == origin

    def test_agent_values(self):
        assert check_origin("Store") == "store"
        assert check_origin(" ") is None and check_origin("none") is None
        assert check_origin("campaign:spring-26") == "campaign:spring-26"
        for bad in ("campaign:", "campaign:=1+1", "@store", "a" * 50, "website "  * 3):
            with pytest.raises(Exception) as caught:
                check_origin(bad)
            assert getattr(caught.value, "status", None) == 422
