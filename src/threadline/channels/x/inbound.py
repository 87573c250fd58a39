"""Account Activity deliveries -> provider events -> normalised items (no I/O here).

A delivery is one JSON object with `for_user_id` and event arrays. `split_body` cuts it into one
stored event per tweet / DM / delete / read receipt / like / follow, each kept in the provider's
own envelope shape (`{"for_user_id": ..., "<events key>": [event], "users": {...}}`) so a stored
event can be replayed and `normalize_envelope` reads stored events and whole bodies alike.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from threadline.channels.base import (
    JSON,
    Attachment,
    Author,
    DeliveryState,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    MessageKind,
    NormalizedItem,
    PayloadError,
    ProviderEvent,
    StatusUpdate,
    Visibility,
)
from threadline.channels.x.payloads import (
    XDmEvent,
    XDmRead,
    XDmUser,
    XEntities,
    XEnvelope,
    XFavorite,
    XFollow,
    XTweet,
    XTweetDelete,
)

M = TypeVar("M", bound=BaseModel)

IDENTITY_KIND = "x"
TWITTER_EPOCH_MS = 1288834974657  # snowflake ids carry their creation time
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_MEDIA_TYPES = {"photo": "image", "video": "video", "animated_gif": "video"}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_body(body: bytes) -> dict[str, Any]:
    """Parse a raw body strictly (no NaN/Infinity, which JSON columns refuse)."""
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"body is not JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise PayloadError("body is not a JSON object")
    return data


def describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"invalid X payload at {where or 'body'}: {first.get('msg', 'invalid')}"


def parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(describe(exc)) from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise PayloadError(f"invalid X payload: {type(exc).__name__}") from None


# --- split --------------------------------------------------------------------------------------


def split_body(body: bytes, expected_user_id: str | None) -> list[ProviderEvent]:
    envelope_json = load_body(body)
    env = parse(XEnvelope, envelope_json)
    if expected_user_id and env.for_user_id != expected_user_id:
        raise PayloadError(f"delivery is for X user {env.for_user_id}, not this account",
                           code="foreign_account")
    base: JSON = {"for_user_id": env.for_user_id}
    events: list[ProviderEvent] = []

    def add(key: str, raw: dict[str, Any], event_id: str, extra: JSON | None = None) -> None:
        events.append(ProviderEvent(event_id, {**base, key: [raw], **(extra or {})}))

    blocked = envelope_json.get("user_has_blocked", envelope_json.get("is_blocked_by"))
    for raw in env.tweet_create_events:
        tweet = parse(XTweet, raw)
        extra = {"user_has_blocked": blocked} if isinstance(blocked, str | bool) else None
        add("tweet_create_events", raw, f"tweet:{tweet.id_str}", extra)
    for raw in env.direct_message_events:
        dm = parse(XDmEvent, raw)
        users: dict[str, Any] = {}
        if dm.message_create is not None:
            for uid in (dm.message_create.sender_id, dm.message_create.target.recipient_id):
                if uid in env.users:
                    users[uid] = env.users[uid]
        add("direct_message_events", raw, f"dm:{dm.id}", {"users": users})
    for raw in env.tweet_delete_events:
        deleted = parse(XTweetDelete, raw)
        add("tweet_delete_events", raw, f"tweet_delete:{deleted.status.id}")
    for raw in env.direct_message_mark_read_events:
        read = parse(XDmRead, raw)
        add("direct_message_mark_read_events", raw,
            f"dm_read:{read.sender_id}:{read.last_read_event_id}")
    for raw in env.favorite_events:
        add("favorite_events", raw, f"fav:{parse(XFavorite, raw).id}")
    for key in ("follow_events", "unfollow_events"):
        for raw in getattr(env, key):
            f = parse(XFollow, raw)
            add(key, raw, f"{f.type}:{f.source.id}:{f.target.id}:{f.created_timestamp or ''}")
    return events


# --- normalize ----------------------------------------------------------------------------------


def normalize_envelope(payload: JSON) -> list[NormalizedItem]:
    env = parse(XEnvelope, payload)
    blocked = payload.get("user_has_blocked", payload.get("is_blocked_by"))
    items: list[NormalizedItem] = []
    for raw in env.tweet_create_events:
        items.extend(_tweet(parse(XTweet, raw), env.for_user_id, blocked))
    for raw in env.direct_message_events:
        items.extend(_dm(parse(XDmEvent, raw), env.for_user_id, env.users))
    for raw in env.tweet_delete_events:
        deleted = parse(XTweetDelete, raw)
        at = _from_ms(deleted.timestamp_ms) or datetime.now(UTC)
        items.append(MessageDelete(provider_id=deleted.status.id, at=at))
    for raw in env.direct_message_mark_read_events:
        read = parse(XDmRead, raw)
        if read.sender_id != env.for_user_id:  # the customer read our messages
            at = (_from_ms(read.created_timestamp) or _from_snowflake(read.last_read_event_id)
                  or datetime.now(UTC))
            items.append(StatusUpdate(provider_id=read.last_read_event_id,
                                      state=DeliveryState.READ, at=at,
                                      thread_key=f"dm:{read.sender_id}"))
    for raw in env.favorite_events:  # validated only: likes are not messages
        parse(XFavorite, raw)
    for raw in [*env.follow_events, *env.unfollow_events]:
        parse(XFollow, raw)
    return items


def tweet_text(tweet: XTweet) -> str:
    """The whole text: `extended_tweet.full_text` for long tweets, HTML entities undone."""
    if tweet.extended_tweet is not None:
        text = tweet.extended_tweet.full_text
    else:
        text = tweet.full_text if tweet.full_text is not None else (tweet.text or "")
    # v1.1 and v2 tweet text escapes &, < and > as HTML entities.
    return html.unescape(text)


def follower_count(value: Any) -> int | None:
    """A follower count as X gives it (a number, sometimes a string); None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**12 else None
    if isinstance(value, str) and value.isdigit() and len(value) < 13:
        return int(value)
    return None


def _tweet(tweet: XTweet, for_user_id: str, blocked: Any) -> list[NormalizedItem]:
    created = _tweet_time(tweet)
    text = tweet_text(tweet)
    history = tweet.edit_history
    if history and history.initial_tweet_id and history.initial_tweet_id != tweet.id_str \
            and tweet.retweeted_status is None:
        return [MessageEdit(provider_id=history.initial_tweet_id, text=text, at=created)]
    user = tweet.user
    author = Author(identity_kind=IDENTITY_KIND, provider_user_id=user.id_str,
                    handle=f"@{user.screen_name}" if user.screen_name else None,
                    display_name=user.name, is_self=user.id_str == for_user_id)
    reply_to = tweet.in_reply_to_status_id_str
    quoted = tweet.quoted_status_id_str
    meta: JSON = {}
    for key, value in (("in_reply_to_user_id", tweet.in_reply_to_user_id_str),
                       ("in_reply_to_screen_name", tweet.in_reply_to_screen_name),
                       ("quoted_status_id", quoted), ("lang", tweet.lang)):
        if value:
            meta[key] = value
    if isinstance(blocked, bool | str):
        meta["user_has_blocked"] = blocked is True or str(blocked).lower() == "true"
    followers = follower_count(user.followers_count)
    if followers is not None:
        meta["followers"] = followers  # reach, for listening
    if tweet.source == "search":
        meta["via"] = "search"  # found by the listening search, not sent to the account
    if tweet.retweeted_status is not None:
        if author.is_self:
            return []  # the brand's own retweet: nothing to answer, nothing to listen to
        # A retweet carries no words of its own: it is marked so that the noise filter
        # (threadline.listening) stores it out of the queues instead of threading it.
        original = tweet.retweeted_status.get("id_str")
        meta["retweet_of"] = str(original)[:64] if isinstance(original, str | int) else ""
        return [InboundMessage(
            provider_id=tweet.id_str, author=author, visibility=Visibility.PUBLIC, text=text,
            created_at=created, kind=MessageKind.POST, root_provider_id=tweet.id_str,
            meta=meta)]
    return [InboundMessage(
        provider_id=tweet.id_str, author=author, visibility=Visibility.PUBLIC, text=text,
        created_at=created, kind=MessageKind.COMMENT if reply_to else MessageKind.POST,
        in_reply_to=reply_to, references=(quoted,) if quoted else (),
        root_provider_id=tweet.conversation_id or (None if reply_to else tweet.id_str),
        attachments=_media(tweet), meta=meta)]


def _dm(event: XDmEvent, for_user_id: str,
        users: dict[str, dict[str, Any]]) -> list[NormalizedItem]:
    mc = event.message_create
    if event.type != "message_create" or mc is None:
        return []
    sender, recipient = mc.sender_id, mc.target.recipient_id
    is_self = sender == for_user_id
    other = recipient if is_self else sender
    profile = parse(XDmUser, users[sender]) if sender in users else None
    author = Author(identity_kind=IDENTITY_KIND, provider_user_id=sender,
                    handle=f"@{profile.screen_name}" if profile and profile.screen_name
                    else None,
                    display_name=profile.name if profile else None, is_self=is_self)
    created = _from_ms(event.created_timestamp) or _from_snowflake(event.id)
    if created is None:
        raise PayloadError(f"DM event {event.id} has no usable created_timestamp")
    attachments: tuple[Attachment, ...] = ()
    att = mc.message_data.attachment
    if att is not None and att.media is not None:
        attachments = (_attachment(att.media.type, att.media.media_url_https,
                                   att.media.id_str),)
    meta: JSON = {"recipient_id": recipient}
    if mc.source_app_id:
        meta["source_app_id"] = mc.source_app_id
    return [InboundMessage(
        provider_id=event.id, author=author, visibility=Visibility.PRIVATE,
        text=mc.message_data.text, created_at=created, kind=MessageKind.MESSAGE,
        thread_key=f"dm:{other}", attachments=attachments, meta=meta)]


def _media(tweet: XTweet) -> tuple[Attachment, ...]:
    ext = tweet.extended_tweet
    candidates: list[XEntities | None] = [
        ext.extended_entities if ext else None, tweet.extended_entities,
        ext.entities if ext else None, tweet.entities]
    for entities in candidates:
        if entities is not None and entities.media:
            return tuple(_attachment(m.type, m.media_url_https, m.id_str)
                         for m in entities.media)
    return ()


def _attachment(kind: str, url: str | None, media_id: str | None) -> Attachment:
    return Attachment(type=_MEDIA_TYPES.get(kind, "file"), url=url,
                      provider_media_id=media_id)


# --- time ---------------------------------------------------------------------------------------


def _guard(fn: Callable[[], datetime]) -> datetime | None:
    try:
        return fn()
    except (ValueError, OverflowError, OSError):
        return None


def _from_ms(value: str | None) -> datetime | None:
    if not value or not value.isdigit() or len(value) > 16:
        return None
    return _guard(lambda: datetime.fromtimestamp(int(value) / 1000, tz=UTC))


def _from_snowflake(value: str | None) -> datetime | None:
    if not value or not value.isdigit() or len(value) < 15 or len(value) > 20:
        return None
    return _from_ms(str((int(value) >> 22) + TWITTER_EPOCH_MS))


def parse_v1_time(value: str) -> datetime | None:
    """`Wed Mar 05 10:15:00 +0000 2025` (locale-independent)."""
    parts = value.split()
    if len(parts) != 6 or parts[1] not in _MONTHS:
        return None
    _, month, day, clock, offset, year = parts
    return _guard(lambda: datetime.strptime(
        f"{year}-{_MONTHS[month]:02d}-{day} {clock} {offset}", "%Y-%m-%d %H:%M:%S %z",
    ).astimezone(UTC))


def _tweet_time(tweet: XTweet) -> datetime:
    created = (_from_ms(tweet.timestamp_ms)
               or (parse_v1_time(tweet.created_at) if tweet.created_at else None)
               or _from_snowflake(tweet.id_str))
    if created is None:
        raise PayloadError(f"tweet {tweet.id_str} has no usable creation time")
    return created
