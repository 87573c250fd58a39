"""Wire format of the Facebook Page `feed` webhook field (docs/providers/meta.md#facebook-feed).

The Messenger `messaging[]` events and the envelope are shared with Instagram and live in
`threadline.channels.meta_common`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from threadline.channels.meta_common import MetaModel

POST_ITEMS = frozenset({"post", "status", "photo", "video", "share"})
HANDLED_ITEMS = POST_ITEMS | {"comment"}
HANDLED_VERBS = frozenset({"add", "edited", "remove"})


class FeedFrom(MetaModel):
    id: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=1000)


class FeedValue(MetaModel):
    item: str = Field(max_length=50)
    verb: str = Field(max_length=50)
    comment_id: str | None = Field(default=None, min_length=1, max_length=256)
    post_id: str | None = Field(default=None, min_length=1, max_length=256)
    parent_id: str | None = Field(default=None, max_length=256)
    sender: FeedFrom | None = Field(default=None, alias="from")
    message: str = Field(default="", max_length=100_000)
    created_time: int | float | str | None = None
    photo: str | None = Field(default=None, max_length=4096)
    video: str | None = Field(default=None, max_length=4096)
    link: str | None = Field(default=None, max_length=4096)

    @property
    def node_id(self) -> str | None:
        """The id of the item itself: the comment for comments, the post otherwise."""
        return self.comment_id if self.item == "comment" else self.post_id

    def extras(self) -> dict[str, Any]:
        return {k: v for k, v in (("link", self.link),) if v}
