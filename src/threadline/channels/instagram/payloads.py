"""Wire format of the Instagram `comments` / `live_comments` webhook fields
(docs/providers/meta.md#instagram).

Instagram DMs use the Messenger `messaging[]` shape, shared in `threadline.channels.meta_common`.
"""

from __future__ import annotations

from pydantic import Field

from threadline.channels.meta_common import MetaModel

COMMENT_FIELDS = frozenset({"comments", "live_comments"})


class CommentFrom(MetaModel):
    id: str = Field(min_length=1, max_length=128)
    username: str | None = Field(default=None, max_length=1000)
    self_ig_scoped_id: str | None = Field(default=None, max_length=128)


class CommentMedia(MetaModel):
    id: str = Field(min_length=1, max_length=128)
    media_product_type: str | None = Field(default=None, max_length=50)
    ad_id: str | None = Field(default=None, max_length=128)
    ad_title: str | None = Field(default=None, max_length=1000)
    original_media_id: str | None = Field(default=None, max_length=128)


class CommentValue(MetaModel):
    id: str = Field(min_length=1, max_length=128)
    text: str = Field(default="", max_length=100_000)
    sender: CommentFrom = Field(alias="from")
    media: CommentMedia | None = None
    parent_id: str | None = Field(default=None, max_length=128)
