"""Video calls from a conversation (docs/video.md): a meeting room on a self-hostable video
service (Jitsi Meet by default), its link sent to the customer in the conversation's private
channel, and the start and end recorded in the timeline as notes. Services never commit.

Every participant gets a link of their own: with token authentication (a self-hosted Jitsi
with `AUTH_TYPE=jwt`) the link carries a short-lived JWT naming the room; the agent's link is
shown to the agent only and never stored. Room names are unguessable
(`tl-<conversation>-<16 random base32 characters>`), as the public meet.jit.si has no token
step.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.config import Settings
from threadline.conversations.models import Message
from threadline.conversations.service import Actor, access_conversation
from threadline.db.base import utcnow
from threadline.errors import Conflict, NotFound, ValidationFailed
from threadline.events.service import audit
from threadline.outbound.replies import Reply, post_reply

INVITATION = "Join the video call with our team here: {url}"
MAX_TEXT = 2000


@dataclass(frozen=True)
class Participant:
    id: str
    name: str


@dataclass(frozen=True)
class VideoLink:
    url: str
    room: str
    expires_at: datetime
    provider: str


class VideoLinks(Protocol):
    @property
    def name(self) -> str: ...

    def link(self, room: str, who: Participant, now: datetime) -> VideoLink: ...


@dataclass(frozen=True)
class JitsiLinks:
    """`https://<domain>/<room>`, or `https://<domain>/<tenant>/<room>` when the base URL
    names a tenant; with an app id and secret, `?jwt=` signed HS256 with the claims Prosody
    checks (iss, aud, sub = the lower-case domain or tenant, room, exp)."""

    base_url: str
    hours: float
    app_id: str | None = None
    secret: str | None = None
    audience: str = "jitsi"
    name: str = "jitsi"

    def link(self, room: str, who: Participant, now: datetime) -> VideoLink:
        expires = now + timedelta(hours=self.hours)
        url = f"{self.base_url.rstrip('/')}/{room}"
        if self.app_id and self.secret:
            parts = urlsplit(self.base_url)
            tenant = parts.path.strip("/")
            token = jwt.encode({
                "aud": self.audience, "iss": self.app_id,
                "sub": (tenant or parts.hostname or "").lower(), "room": room,
                "exp": int(expires.timestamp()),
                "context": {"user": {"id": who.id, "name": who.name}}},
                self.secret, algorithm="HS256")
            url = f"{url}?jwt={token}"
        return VideoLink(url=url, room=room, expires_at=expires, provider=self.name)


@dataclass(frozen=True)
class TemplateLinks:
    """An administrator's URL pattern with `{room}` for another meeting tool."""

    pattern: str
    hours: float
    name: str = "template"

    def link(self, room: str, who: Participant, now: datetime) -> VideoLink:
        return VideoLink(url=self.pattern.replace("{room}", quote(room)), room=room,
                         expires_at=now + timedelta(hours=self.hours), provider=self.name)


def video_links(settings: Settings) -> VideoLinks:
    """The configured video service; a typed 422 when video calls are off or misconfigured."""
    if settings.video_provider == "none":
        raise ValidationFailed("video calls are not enabled in this installation",
                               code="video_unavailable")
    if settings.video_provider == "template":
        pattern = settings.video_url_template or ""
        if "{room}" not in pattern or not _web_url(pattern.replace("{room}", "r"), settings):
            raise ValidationFailed("the video URL template must be an https URL with {room}",
                                   code="video_misconfigured")
        return TemplateLinks(pattern, settings.video_link_hours)
    if not _web_url(settings.video_base_url, settings):
        raise ValidationFailed("the video service's base URL must be an https URL",
                               code="video_misconfigured")
    return JitsiLinks(settings.video_base_url, settings.video_link_hours,
                      settings.video_jwt_app_id, settings.video_jwt_secret,
                      settings.video_jwt_audience)


def _web_url(url: str, settings: Settings) -> bool:
    parts = urlsplit(url)
    schemes = ("https", "http") if settings.allow_custom_provider_urls else ("https",)
    return parts.scheme in schemes and bool(parts.hostname) and not parts.query


def new_room(conversation_id: uuid.UUID) -> str:
    tail = base64.b32encode(secrets.token_bytes(10)).decode().lower()  # 16 characters
    return f"tl-{conversation_id.hex[:8]}-{tail}"


# --- start and end ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoStart:
    room: str
    agent_link: VideoLink
    invitation: Message
    note: Message


def running_call(session: Session, conversation_id: uuid.UUID) -> Message | None:
    """The note of the conversation's video call that has not ended, if any."""
    notes = session.scalars(select(Message).where(
        Message.conversation_id == conversation_id, Message.kind == "note",
        Message.channel == "note").order_by(Message.created_at.desc()).limit(50))
    for note in notes:
        call = (note.meta or {}).get("video")
        if isinstance(call, dict) and call.get("started_at"):
            return None if call.get("ended_at") else note
    return None


def start_video(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                actor: Actor, *, agent_name: str, settings: Settings,
                text: str | None = None) -> VideoStart:
    """Open a room, send the customer's link where he writes privately (the guard and the
    approval policy apply as to any reply) and note the start in the timeline."""
    links = video_links(settings)
    conv = access_conversation(session, workspace_id, conversation_id)
    if running_call(session, conv.id) is not None:
        raise Conflict("a video call is already running in this conversation: end it first",
                       code="video_running")
    body = (text or INVITATION).strip()
    if len(body) > MAX_TEXT:
        raise ValidationFailed(f"the invitation has at most {MAX_TEXT} characters",
                               code="text_too_long", details={"field": "text"})
    now = utcnow()
    room = new_room(conv.id)
    customer = links.link(room, Participant(
        f"customer-{conv.customer_id}" if conv.customer_id else "customer", "Customer"), now)
    body = body.replace("{url}", customer.url) if "{url}" in body else f"{body} {customer.url}"
    invitation = post_reply(session, workspace_id, conv.id,
                            Reply(text=body, visibility="private"), actor)
    agent = links.link(room, Participant(f"agent-{actor.agent_id or actor.id}", agent_name), now)
    note = post_reply(session, workspace_id, conv.id, Reply(
        text=f"Video call started by {agent_name} ({links.name}, room {room})", kind="note"),
        actor)
    note.meta = {"video": {"room": room, "provider": links.name,
                           "started_at": now.isoformat(),
                           "invitation_id": str(invitation.id)}}
    audit(session, workspace_id, "video.started", "conversation", conv.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"room": room, "provider": links.name})
    session.flush()
    return VideoStart(room=room, agent_link=agent, invitation=invitation, note=note)


def end_video(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
              actor: Actor, *, agent_name: str) -> Message:
    """Note the end of the running call (with its length) in the timeline."""
    conv = access_conversation(session, workspace_id, conversation_id)
    start = running_call(session, conv.id)
    if start is None:
        raise NotFound("no video call is running in this conversation", code="no_video_call")
    call: dict[str, Any] = dict(start.meta["video"])
    now = utcnow()
    minutes = max(0, round((now - datetime.fromisoformat(call["started_at"]))
                           .total_seconds() / 60))
    call["ended_at"] = now.isoformat()
    start.meta = {**start.meta, "video": call}
    note = post_reply(session, workspace_id, conv.id, Reply(
        text=f"Video call ended by {agent_name} after {minutes} min (room {call['room']})",
        kind="note"), actor)
    note.meta = {"video": {"room": call["room"], "ended": True, "minutes": minutes}}
    audit(session, workspace_id, "video.ended", "conversation", conv.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"room": call["room"], "minutes": minutes})
    session.flush()
    return note
