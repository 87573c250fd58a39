"""Self-service fixtures: a knowledge base of a few published articles, the bot switched on,
and helpers to read what it did (its session row, its replies, the conversation)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from tests.desktop.conftest import admin_desk, agent_desk  # noqa: F401  (fixtures)
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import Actor
from threadline.jobs.runtime import Runtime
from threadline.knowledge.schemas import ArticleIn
from threadline.knowledge.service import publish_article, save_article
from threadline.selfservice.matcher import CACHE
from threadline.selfservice.models import BotReply, BotSession
from threadline.selfservice.service import save_settings
from threadline.selfservice.settings import SelfServiceSettings

EDITOR = Actor("system", id="tests")

ARTICLES: dict[str, dict[str, Any]] = {
    "track": {"title": "Tracking your order", "category": "Orders",
              "body": "Open **Your orders** and choose *Track package*: you see where the "
                      "parcel is and when it is expected.",
              "tags": ["order", "tracking"],
              "questions": ["where is my order", "how do I track my order",
                            "track my package", "my parcel has not arrived where is it",
                            "can you tell me where my order is", "tracking my delivery"]},
    "refund": {"title": "How to get a refund", "category": "Refunds",
               "body": "Start a return from Your orders and choose Refund: the money goes "
                       "back to your card within 5 to 10 days.",
               "tags": ["refund", "money back"],
               "questions": ["how do I get a refund", "I want my money back",
                             "can I get a refund for my order", "refund please",
                             "how can I ask for a refund", "get reimbursed"]},
    "password": {"title": "Recovering your password", "category": "Account",
                 "body": "Choose Forgot password on the sign-in page: we email you a link "
                         "to set a new one.",
                 "tags": ["password", "login"],
                 "questions": ["I forgot my password", "reset my password",
                               "I cannot log in to my account", "recover my password",
                               "how do I change my password", "lost my password"]},
    "rembolso": {"title": "Cómo pedir un reembolso", "category": "Reembolsos",
                 "language": "es",
                 "body": "Inicia una devolución desde Tus pedidos y elige Reembolso.",
                 "tags": ["reembolso"],
                 "questions": ["cómo pido un reembolso", "quiero que me devuelvan el dinero",
                               "quiero un reembolso de mi pedido", "devolución del dinero"]},
}


def make_kb(runtime: Runtime, workspace_id: uuid.UUID,
            names: tuple[str, ...] = ("track", "refund", "password", "rembolso"),
            **extra: Any) -> dict[str, uuid.UUID]:
    ids: dict[str, uuid.UUID] = {}
    with runtime.db.session() as session:
        for name in names:
            spec = {**ARTICLES[name], **extra}
            article = save_article(session, workspace_id, ArticleIn(
                title=spec["title"], body=spec["body"], category=spec["category"],
                language=spec.get("language", "en"), tags=spec["tags"],
                questions=spec["questions"]), EDITOR)
            publish_article(session, workspace_id, article.id, EDITOR)
            ids[name] = article.id
    return ids


def enable_bot(runtime: Runtime, workspace_id: uuid.UUID, **settings: Any) -> None:
    with runtime.db.session() as session:
        save_settings(session, workspace_id, SelfServiceSettings(
            **{"enabled": True, **settings}), EDITOR)


def bot_session(runtime: Runtime, conversation_id: uuid.UUID | str) -> BotSession | None:
    with runtime.db.session(write=False) as session:
        return session.get(BotSession, uuid.UUID(str(conversation_id)))


def bot_replies(runtime: Runtime, conversation_id: uuid.UUID | str) -> list[BotReply]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(BotReply).where(
            BotReply.conversation_id == uuid.UUID(str(conversation_id)))
            .order_by(BotReply.created_at)))


def outbound(runtime: Runtime, conversation_id: uuid.UUID | str) -> list[Message]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(Message).where(
            Message.conversation_id == uuid.UUID(str(conversation_id)),
            Message.direction == "outbound").order_by(Message.created_at)))


def conversation(runtime: Runtime, conversation_id: uuid.UUID | str) -> Conversation:
    with runtime.db.session(write=False) as session:
        conv = session.get(Conversation, uuid.UUID(str(conversation_id)))
        assert conv is not None
        return conv


def fresh_cache() -> None:
    CACHE.clear()
