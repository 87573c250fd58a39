"""Wire shapes of Discourse's webhooks and of its `POST /posts.json` answer
(docs/providers/discourse.md; README.md here).

Only the fields Threadline reads are modelled (`extra="ignore"`): Discourse's serializers grow
with every version. Bounds keep a hostile body from turning into huge rows.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

MAX_RAW = 64 * 1024  # Discourse's max_post_length defaults to 32,000 characters
PostId = Annotated[StrictInt, Field(ge=1, le=2**53)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DcUser(_Model):
    """A basic user object (`created_by`, `last_poster` of a topic)."""

    id: StrictInt | None = None
    username: str | None = Field(default=None, max_length=255)
    name: str | None = Field(default=None, max_length=1000)


class DcPost(_Model):
    """A post as the webhook serializer sends it (web_hook_post_serializer)."""

    id: PostId
    topic_id: PostId
    post_number: Annotated[StrictInt, Field(ge=1, le=2**31)]
    username: str = Field(min_length=1, max_length=255)
    name: str | None = Field(default=None, max_length=1000)
    user_id: StrictInt | None = None
    raw: str | None = Field(default=None, max_length=MAX_RAW)
    cooked: str | None = Field(default=None, max_length=4 * MAX_RAW)
    created_at: str = Field(min_length=10, max_length=40)
    updated_at: str | None = Field(default=None, max_length=40)
    reply_to_post_number: Annotated[StrictInt, Field(ge=1, le=2**31)] | None = None
    post_type: StrictInt | None = None  # 1 regular, 2 moderator action, 3 small action, 4 whisper
    version: StrictInt | None = None
    topic_title: str | None = Field(default=None, max_length=1000)
    topic_archetype: str | None = Field(default=None, max_length=32)
    category_id: StrictInt | None = None
    staff: StrictBool | None = None
    admin: StrictBool | None = None
    moderator: StrictBool | None = None
    hidden: StrictBool | None = None
    deleted_at: str | None = Field(default=None, max_length=40)
    # Not in the post serializer's documented keys (unverified): read when a plugin or a
    # newer version sends the author's e-mail, so the customer can be matched by it.
    user_email: str | None = Field(default=None, max_length=320)


class DcTopic(_Model):
    """A topic (web_hook_topic_view_serializer; older key list, may have grown)."""

    id: PostId
    title: str | None = Field(default=None, max_length=1000)
    created_at: str | None = Field(default=None, max_length=40)
    category_id: StrictInt | None = None
    archetype: str | None = Field(default=None, max_length=32)
    closed: StrictBool | None = None
    archived: StrictBool | None = None
    created_by: DcUser | None = None


class DcPostBody(_Model):
    post: DcPost


class DcTopicBody(_Model):
    topic: DcTopic


class DcCreated(_Model):
    """The 200 answer of `POST /posts.json` (the new post)."""

    id: PostId
    topic_id: PostId
    post_number: Annotated[StrictInt, Field(ge=1)]
    username: str | None = None


class DcError(_Model):
    """`{"errors": [...], "error_type": "..."}` (lib/json_error.rb), `extras.wait_seconds`."""

    errors: list[str] = Field(default_factory=list)
    error_type: str | None = None
    extras: dict[str, object] | None = None
