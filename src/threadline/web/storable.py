"""Input the databases cannot store is refused at the edge with a 422, not a 500 later: text
with NUL characters or unpaired surrogates (PostgreSQL refuses both, in text and in JSONB) and
integers outside 64 bits (our JSON encoder and both databases' integers stop there). JSON
Schema cannot say this, so the document's 422 covers it (code `unstorable_input`)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from threadline.errors import ValidationFailed

MIN_INT, MAX_INT = -(2**63), 2**63 - 1


def _text_ok(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate
        return False
    return True


def _problem(value: Any) -> str | None:
    """The first unstorable value in a decoded JSON document, described; None if all fit."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and not _text_ok(item):
            return "text may not contain NUL characters or unpaired surrogates"
        if isinstance(item, int) and not isinstance(item, bool) and not (
                MIN_INT <= item <= MAX_INT):
            return "integers must fit in 64 bits"
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


async def refuse_unstorable(request: Request) -> None:
    """A dependency of the /api/v1 routers: checks the query and a JSON body."""
    found = _problem([v for _, v in request.query_params.multi_items()])
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if found is None and (ctype == "application/json" or ctype.endswith("+json")):
        raw = await request.body()
        if raw:
            try:
                found = _problem(json.loads(raw))
            except ValueError:
                found = None  # not JSON: the body's own validation answers
    if found is not None:
        raise ValidationFailed(found, code="unstorable_input")
