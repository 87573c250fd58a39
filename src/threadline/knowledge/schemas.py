"""What an article says when saved (validated: a typed 422 naming the field) and what the
API shows of it."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from threadline.knowledge.languages import normalise

MAX_TITLE = 200
MAX_BODY = 100_000  # characters of Markdown
MAX_CATEGORY = 80
MAX_TAGS = 20
MAX_QUESTIONS = 50
MAX_SLUG = 120
DEFAULT_CATEGORY = "General"

ArticleStatusName = Literal["draft", "published", "archived"]

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                         max_length=MAX_TITLE, pattern=r"^[^\x00-\x1f]+$")]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=MAX_CATEGORY,
                                            pattern=r"^[^\x00-\x1f<>/]+$")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1,
                                       max_length=40, pattern=r"^[^\x00-\x1f<>,]+$")]
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=300, pattern=r"^[^\x00-\x1f]+$")]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=MAX_SLUG,
                                        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(title: str) -> str:
    """A URL slug from a title: ASCII letters and digits joined by hyphens ("article" when
    nothing is left, e.g. a title in another script)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_title.lower()).strip("-")[:MAX_SLUG].strip("-")
    return slug or "article"


class ArticleIn(BaseModel):
    """An article as its editor saves it. `body` is Markdown (raw HTML in it is escaped or
    stripped when rendered); `language` an ISO 639-1 code, optionally with a region
    ("en", "pt-BR"); `questions` example phrasings of the customer's question the article
    answers (the self-service bot learns from them); `slug` derived from the title when
    absent."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    body: str = Field(default="", max_length=MAX_BODY)
    category: Category = DEFAULT_CATEGORY
    language: str = Field(default="en", max_length=16)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    questions: list[Question] = Field(default_factory=list, max_length=MAX_QUESTIONS)
    slug: Slug | None = None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        tag = normalise(value)
        if tag is None:
            raise ValueError(f"unknown language {value[:16]!r}: use an ISO 639-1 code such "
                             "as en, es or pt-BR")
        return tag

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("the body may not contain NUL characters")
        return value.replace("\r\n", "\n")

    @field_validator("tags", "questions")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def slug_or_title(self) -> str:
        return self.slug or slugify(self.title)


class ArticleOut(BaseModel):
    """An article as the API shows it (`url`: its public help-centre page once published)."""

    id: uuid.UUID
    slug: str
    title: str
    body: str
    category: str
    language: str
    tags: list[str]
    questions: list[str]
    status: ArticleStatusName
    views: int
    helpful_yes: int
    helpful_no: int
    revision: int
    url: str | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class ArticleList(BaseModel):
    items: list[ArticleOut]
