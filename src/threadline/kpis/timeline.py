"""Episodes and segments on the desktop's timeline: which message starts an episode (a
separator) or a segment (a channel chip). One query for both, whatever the length."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import literal, null, select, union_all
from sqlalchemy.orm import Session

from threadline.conversations.models import Message
from threadline.kpis.models import ConversationEpisode, ConversationSegment
from threadline.kpis.stream import NOT_MESSAGES, NOT_SENT

REASONS = {"start": "first contact", "silence": "back after a silence",
           "reopen": "reopened"}


@dataclass(frozen=True)
class EpisodeMark:
    number: int
    reason: str
    started_at: datetime

    @property
    def label(self) -> str:
        return REASONS.get(self.reason, self.reason)


@dataclass(frozen=True)
class SegmentMark:
    number: int
    channel: str
    visibility: str
    started_at: datetime


@dataclass(frozen=True)
class Mark:
    episode: EpisodeMark | None = None
    segment: SegmentMark | None = None


def marks(session: Session, conversation_id: uuid.UUID,
          messages: Iterable[Message]) -> dict[uuid.UUID, Mark]:
    """The marks to show before each message that starts an episode or a segment (messages
    in timeline order; notes and held replies start nothing). Empty before the worker has
    counted the conversation."""
    episodes_q = select(literal("e").label("kind"), ConversationEpisode.number,
                        ConversationEpisode.reason.label("name"),
                        null().label("visibility"), ConversationEpisode.started_at).where(
        ConversationEpisode.conversation_id == conversation_id)
    segments_q = select(literal("s").label("kind"), ConversationSegment.number,
                        ConversationSegment.channel.label("name"),
                        ConversationSegment.visibility, ConversationSegment.started_at).where(
        ConversationSegment.conversation_id == conversation_id)
    episodes: list[EpisodeMark] = []
    segments: list[SegmentMark] = []
    rows: list[Any] = list(session.execute(union_all(episodes_q, segments_q)))
    for row in rows:
        if row.kind == "e":
            episodes.append(EpisodeMark(row.number, row.name, row.started_at))
        else:
            segments.append(SegmentMark(row.number, row.name, row.visibility or "",
                                        row.started_at))
    if not episodes and not segments:
        return {}
    episodes.sort(key=lambda e: e.number)
    segments.sort(key=lambda s: s.number)
    found: dict[uuid.UUID, Mark] = {}
    shown_episode = shown_segment = 0
    for message in messages:
        if message.kind in NOT_MESSAGES or message.delivery in NOT_SENT:
            continue
        episode = _current(episodes, message.created_at)
        segment = next((s for s in segments[shown_segment:]
                        if (s.channel, s.visibility) == (message.channel, message.visibility)
                        and s.started_at <= message.created_at), None)
        mark = Mark(
            episode=episode if episode is not None and episode.number > shown_episode
            else None,
            segment=segment if segment is not None and segment.number > shown_segment
            else None)
        if mark.episode is not None:
            shown_episode = mark.episode.number
        if mark.segment is not None:
            shown_segment = mark.segment.number
        if mark.episode is not None or mark.segment is not None:
            found[message.id] = mark
    return found


def _current(episodes: list[EpisodeMark], at: datetime) -> EpisodeMark | None:
    current = None
    for episode in episodes:
        if episode.started_at <= at:
            current = episode
    return current
