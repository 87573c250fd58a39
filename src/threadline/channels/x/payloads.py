"""Wire format of X: Account Activity API deliveries (v1.1 object shapes) and v2 answers.

Account Activity deliveries carry v1.1 Tweet objects and v1.1 `message_create` DM events even on
the v2 webhook product (docs/providers/x.md#products). Only the fields the adapter reads are
modelled; every model ignores the rest, so new provider fields never break parsing. IDs are
strings; numbers that X sometimes sends for timestamps or ids are coerced to strings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)


_ID = Field(min_length=1, max_length=64)
_OPT_ID = Field(default=None, max_length=64)

# --- Account Activity: tweets -------------------------------------------------------------------


class XTweetUser(_Model):
    id_str: str = _ID
    screen_name: str | None = Field(default=None, max_length=100)
    name: str | None = Field(default=None, max_length=500)
    followers_count: Any = None  # reach (listening); read leniently (inbound.follower_count)


class XMedia(_Model):
    id_str: str | None = _OPT_ID
    type: str = Field(default="photo", max_length=32)
    media_url_https: str | None = Field(default=None, max_length=2000)


class XEntities(_Model):
    media: list[XMedia] = Field(default_factory=list, max_length=20)


class XExtendedTweet(_Model):
    full_text: str = Field(max_length=100_000)
    entities: XEntities | None = None
    extended_entities: XEntities | None = None


class XEditHistory(_Model):
    """Edit metadata of a v1.1 Tweet (field names (unverified), see README)."""

    initial_tweet_id: str | None = _OPT_ID
    edit_tweet_ids: list[str] = Field(default_factory=list, max_length=100)


class XTweet(_Model):
    id_str: str = _ID
    text: str | None = Field(default=None, max_length=100_000)
    full_text: str | None = Field(default=None, max_length=100_000)
    created_at: str | None = Field(default=None, max_length=64)
    timestamp_ms: str | None = Field(default=None, max_length=20)
    user: XTweetUser
    in_reply_to_status_id_str: str | None = _OPT_ID
    in_reply_to_user_id_str: str | None = _OPT_ID
    in_reply_to_screen_name: str | None = Field(default=None, max_length=100)
    is_quote_status: bool = False
    quoted_status_id_str: str | None = _OPT_ID
    retweeted_status: dict[str, Any] | None = None
    extended_tweet: XExtendedTweet | None = None
    entities: XEntities | None = None
    extended_entities: XEntities | None = None
    edit_history: XEditHistory | None = None
    conversation_id: str | None = _OPT_ID  # present only in tweets the poller converts
    lang: str | None = Field(default=None, max_length=16)
    # "search" on tweets the listening search converts (v1.1's own `source` is the client's
    # HTML link; only this value means anything here)
    source: str | None = Field(default=None, max_length=2000)


# --- Account Activity: direct messages ----------------------------------------------------------


class XDmTarget(_Model):
    recipient_id: str = _ID


class XDmAttachment(_Model):
    type: str = Field(default="media", max_length=32)
    media: XMedia | None = None


class XDmMessageData(_Model):
    text: str = Field(default="", max_length=100_000)
    attachment: XDmAttachment | None = None


class XMessageCreate(_Model):
    target: XDmTarget
    sender_id: str = _ID
    source_app_id: str | None = _OPT_ID
    message_data: XDmMessageData = Field(default_factory=XDmMessageData)


class XDmEvent(_Model):
    type: str = Field(max_length=64)
    id: str = _ID
    created_timestamp: str | None = Field(default=None, max_length=20)
    message_create: XMessageCreate | None = None


class XDmUser(_Model):
    id: str = _ID
    screen_name: str | None = Field(default=None, max_length=100)
    name: str | None = Field(default=None, max_length=500)


# --- Account Activity: deletes, read receipts, likes, follows ------------------------------------


class XDeletedStatus(_Model):
    id: str = _ID
    user_id: str | None = _OPT_ID


class XTweetDelete(_Model):
    """Shape (unverified) per docs/providers/x.md#events."""

    status: XDeletedStatus
    timestamp_ms: str | None = Field(default=None, max_length=20)


class XDmRead(_Model):
    """Read receipt; shape (unverified) per docs/providers/x.md#events."""

    created_timestamp: str | None = Field(default=None, max_length=20)
    sender_id: str = _ID
    target: XDmTarget
    last_read_event_id: str = _ID


class XFavorite(_Model):
    id: str = _ID


class XFollowParty(_Model):
    id: str = _ID


class XFollow(_Model):
    type: str = Field(default="follow", max_length=32)
    created_timestamp: str | None = Field(default=None, max_length=20)
    target: XFollowParty
    source: XFollowParty


class XEnvelope(_Model):
    """One Account Activity POST: `for_user_id` plus event arrays (unknown ones ignored)."""

    for_user_id: str = _ID
    user_has_blocked: str | None = Field(default=None, max_length=16)
    tweet_create_events: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    direct_message_events: list[dict[str, Any]] = Field(default_factory=list,
                                                        max_length=10_000)
    tweet_delete_events: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    direct_message_mark_read_events: list[dict[str, Any]] = Field(default_factory=list,
                                                                  max_length=10_000)
    favorite_events: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    follow_events: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    unfollow_events: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    users: dict[str, dict[str, Any]] = Field(default_factory=dict, max_length=10_000)


# --- v2 API answers -----------------------------------------------------------------------------


class XV2Error(_Model):
    """Problem-details error body of the v2 API (`title`, `detail`) or v1.1 `errors`."""

    title: str | None = Field(default=None, max_length=500)
    detail: str | None = Field(default=None, max_length=2000)
    errors: list[dict[str, Any]] = Field(default_factory=list, max_length=50)


class XTweetCreated(_Model):
    id: str = _ID
    text: str | None = None


class XTweetAnswer(_Model):
    data: XTweetCreated


class XDmCreated(_Model):
    dm_conversation_id: str | None = _OPT_ID
    dm_event_id: str = _ID


class XDmAnswer(_Model):
    data: XDmCreated


class XV2Reference(_Model):
    type: str = Field(max_length=32)
    id: str = _ID


class XV2NoteTweet(_Model):
    text: str = Field(max_length=100_000)


class XV2Tweet(_Model):
    id: str = _ID
    text: str = Field(default="", max_length=100_000)
    author_id: str | None = _OPT_ID
    created_at: str | None = Field(default=None, max_length=64)
    conversation_id: str | None = _OPT_ID
    in_reply_to_user_id: str | None = _OPT_ID
    referenced_tweets: list[XV2Reference] = Field(default_factory=list, max_length=20)
    note_tweet: XV2NoteTweet | None = None
    lang: str | None = Field(default=None, max_length=16)


class XV2PublicMetrics(_Model):
    followers_count: Any = None  # read leniently (inbound.follower_count)


class XV2User(_Model):
    id: str = _ID
    username: str | None = Field(default=None, max_length=100)
    name: str | None = Field(default=None, max_length=500)
    public_metrics: XV2PublicMetrics | None = None  # with user.fields=public_metrics


class XV2Includes(_Model):
    users: list[XV2User] = Field(default_factory=list, max_length=1000)


class XV2Meta(_Model):
    result_count: int = 0
    newest_id: str | None = _OPT_ID
    oldest_id: str | None = _OPT_ID
    next_token: str | None = Field(default=None, max_length=500)


class XV2TweetPage(_Model):
    """`GET /2/users/:id/mentions` and `GET /2/users/:id/tweets` answers."""

    data: list[XV2Tweet] = Field(default_factory=list, max_length=1000)
    includes: XV2Includes = Field(default_factory=XV2Includes)
    meta: XV2Meta = Field(default_factory=XV2Meta)


class XV2DmEvent(_Model):
    id: str = _ID
    event_type: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=100_000)
    sender_id: str | None = _OPT_ID


class XV2DmPage(_Model):
    """`GET /2/dm_conversations/with/:participant_id/dm_events` answer."""

    data: list[XV2DmEvent] = Field(default_factory=list, max_length=1000)
