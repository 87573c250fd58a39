"""Answer suggestions for the open conversation: the published articles most relevant to the
customer's latest messages, and answers agents gave to similar questions in resolved
conversations (each with the conversation it was used in).

Fast by construction: the customer's words become one keyword query, run once per kind
(articles; messages of resolved conversations) through `threadline.search`, then one read
of the articles and one of the messages those hits point to; with the conversation and its
latest messages, six statements whatever the size of the workspace
(tests/knowledge/test_kb_suggestions.py counts them)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.conversations.models import Conversation, Message
from threadline.conversations.privacy import masked_text
from threadline.conversations.service import access_conversation
from threadline.knowledge import index
from threadline.knowledge.models import Article, ArticleStatus
from threadline.knowledge.service import article_url
from threadline.search import query as search_query
from threadline.search.schemas import SearchFilters
from threadline.search.syntax import SearchError

LATEST_MESSAGES = 3
MAX_KEYWORDS = 8
AND_KEYWORDS = 2  # when the search joins every word with AND: the two longest words only
ARTICLES = 3
ANSWERS = 3
MESSAGE_HITS = 30
MAX_ANSWER = 2000
_WORD = re.compile(r"[^\W_]+")
_URL = re.compile(r"https?://\S+|www\.\S+|@\w+|\S+@\S+")

# Words that say nothing about the question (English and Spanish, the demo's languages).
_STOPWORDS = """
the and for are but not you your yours with this that have has had was were will would can
could should please thanks thank hello dear there their they them what when where which who
why how from into onto about just also any all some get got its it's i'm im our ours out
very much more most been being does did doing dont don't cant can't too use using used want
need help know like one two still again back today yesterday now then than here hey hi ok
okay yes sure been am is be my me we us he she him her his hers on in at to of a an or if so
el la los las un una unos unas que de del por para con sin pero como mas muy ya hola gracias
favor mi mis tu tus su sus es son fue ser estoy esta este esto eso hay yo nos les lo le se
"""
STOPWORDS = frozenset(_STOPWORDS.split())


@dataclass(frozen=True)
class ArticleSuggestion:
    article_id: uuid.UUID
    title: str
    url: str
    snippet_html: str  # escaped, matches in <mark>
    score: float

    @property
    def insert_text(self) -> str:
        return f"{self.title}: {self.url}"


@dataclass(frozen=True)
class AnswerSuggestion:
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    text: str
    created_at: datetime
    score: float

    @property
    def insert_text(self) -> str:
        return self.text


@dataclass(frozen=True)
class Suggestions:
    query: str  # the keywords searched for ("" when the customer said nothing searchable)
    articles: list[ArticleSuggestion]
    answers: list[AnswerSuggestion]


def keywords(texts: list[str], limit: int = MAX_KEYWORDS) -> list[str]:
    """The telling words of the customer's messages, newest message first: no addresses,
    handles or links, no stop words, nothing under three letters, no bare numbers (order
    numbers and phone digits are the customer's own, not the question)."""
    out: list[str] = []
    for text in texts:
        for word in _WORD.findall(_URL.sub(" ", text)):
            folded = word.casefold()
            if (len(folded) < 3 or folded in STOPWORDS or folded.isdigit()
                    or any(ch.isdigit() for ch in folded) or folded in out):
                continue
            out.append(folded)
            if len(out) >= limit:
                return out
    return out


def _latest_customer_texts(session: Session, conversation: Conversation) -> list[str]:
    rows = session.scalars(select(Message).where(
        Message.conversation_id == conversation.id, Message.direction == "inbound",
        Message.kind != "note", Message.deleted_at.is_(None))
        .order_by(Message.created_at.desc()).limit(LATEST_MESSAGES))
    return [masked_text(m) for m in rows]


def search_text(words: list[str]) -> tuple[str, bool]:
    """The query sent to the search, and whether it asks for any word (not all)."""
    if index.any_word_supported():
        return " ".join(words), True
    return " ".join(sorted(words, key=len, reverse=True)[:AND_KEYWORDS]), False


def suggest(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID, *,
            base_url: str, language: str | None = None) -> Suggestions:
    """Articles and past answers for the conversation (NotFound for another workspace's)."""
    conversation = access_conversation(session, workspace_id, conversation_id)
    words = keywords(_latest_customer_texts(session, conversation))
    if not words:
        return Suggestions("", [], [])
    text, any_word = search_text(words)
    return Suggestions(text, _articles(session, workspace_id, text, any_word, base_url,
                                       language),
                       _answers(session, workspace_id, conversation.id, text, any_word))


def _articles(session: Session, workspace_id: uuid.UUID, text: str, any_word: bool,
              base_url: str, language: str | None) -> list[ArticleSuggestion]:
    try:
        hits = index.query(session, workspace_id, text, language=language, limit=ARTICLES * 2,
                           any_word=any_word)
    except SearchError:
        return []
    if not hits:
        return []
    rows = {a.id: a for a in session.scalars(select(Article).where(
        Article.workspace_id == workspace_id, Article.id.in_([h.ref_id for h in hits]),
        Article.status == ArticleStatus.PUBLISHED))}
    return [ArticleSuggestion(h.ref_id, rows[h.ref_id].title,
                              article_url(base_url, workspace_id, rows[h.ref_id]),
                              h.snippet_html, h.score)
            for h in hits if h.ref_id in rows][:ARTICLES]


def _answers(session: Session, workspace_id: uuid.UUID, current: uuid.UUID, text: str,
             any_word: bool) -> list[AnswerSuggestion]:
    """Agents' replies in resolved conversations: the matching message itself when an agent
    wrote it, else the first agent reply after the matching customer message."""
    extra = {"match": "any"} if any_word else {}
    try:
        results = search_query.search(
            session, workspace_id, text, kinds=["message"], limit=MESSAGE_HITS,
            filters=SearchFilters(status="resolved", include_notes=False),
            **extra)  # type: ignore[arg-type]
    except SearchError:
        return []
    hits = [h for h in results.hits if h.conversation_id is not None
            and h.conversation_id != current]
    if not hits:
        return []
    replies: dict[uuid.UUID, list[Message]] = {}
    for message in session.scalars(select(Message).where(
            Message.workspace_id == workspace_id,
            Message.conversation_id.in_({h.conversation_id for h in hits}),
            Message.direction == "outbound", Message.author_type == "agent",
            Message.kind != "note", Message.deleted_at.is_(None))
            .order_by(Message.created_at)):
        replies.setdefault(message.conversation_id, []).append(message)
    out: list[AnswerSuggestion] = []
    seen: set[str] = set()
    for hit in hits:
        assert hit.conversation_id is not None
        answers = replies.get(hit.conversation_id, [])
        found = next((m for m in answers if m.id == hit.ref_id), None)
        if found is None:
            after = hit.created_at
            found = next((m for m in answers if after is None or m.created_at >= after), None)
        if found is None or not (found.text or "").strip():
            continue
        key = " ".join(found.text.split()).casefold()
        if key in seen:
            continue
        seen.add(key)
        out.append(AnswerSuggestion(found.id, found.conversation_id, found.text[:MAX_ANSWER],
                                    found.created_at, hit.score))
        if len(out) >= ANSWERS:
            break
    return out
