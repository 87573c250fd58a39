"""What ``threadline triage TEXT`` and ``threadline triage --outbound --visibility public TEXT``
print (docs/design.md#triage-output): one JSON object; and ``threadline triage --jsonl FILE``:
one JSON object per line of a file of messages. The command itself lives in the
command-line package (``threadline.cli.triage``); this leaf only computes the object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from threadline.triage.analyze import analyze
from threadline.triage.outbound import check_outbound

VISIBILITIES = ("public", "private")


def triage_command(text: str, outbound: bool = False, visibility: str = "public") -> dict[str, Any]:
    """The JSON object printed by the command: triage fields, plus the verdict for outbound."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    result = analyze(text, visibility=visibility).to_dict()
    if outbound:
        result.update(check_outbound(text, visibility=visibility).to_dict())
    return result


MAX_LINE_BYTES = 1_048_576  # a JSONL line longer than this is refused (with its line number)


def bounded_lines(stream: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The lines of `stream`, none held longer than `limit` + 1 bytes: the rest of a longer
    line is read and dropped, and its first `limit` + 1 bytes stand for it (refused as
    too long by `triage_lines`)."""
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(limit + 1)) and not rest.endswith(b"\n"):
                pass
        yield line


def triage_lines(lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """`threadline triage --jsonl`: one JSON object out per non-blank line in. A line is a
    JSON object with `text` (a string) and, optionally, `id` (echoed back), `visibility`
    (public | private) and `outbound` (true: also the verdict of the outbound guard), or a
    bare JSON string (the text). A line that is none of these gives
    `{"line": N, "error": {"code", "message"}}` and the next line is read."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            yield _triage_line(raw)
        except _BadLine as exc:
            yield {"line": number, "error": {"code": exc.code, "message": str(exc)}}


class _BadLine(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _triage_line(raw: bytes) -> dict[str, Any]:
    if len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:
        raise _BadLine("line_too_long", f"a line may hold at most {MAX_LINE_BYTES} bytes")
    try:
        item = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _BadLine("invalid_json", f"not JSON: {exc.__class__.__name__}") from None
    if isinstance(item, str):
        item = {"text": item}
    if not isinstance(item, dict):
        raise _BadLine("invalid_line", "a line is a JSON object with a text, or a string")
    text, visibility, outbound = (item.get("text"), item.get("visibility", "public"),
                                  item.get("outbound", False))
    if not isinstance(text, str):
        raise _BadLine("invalid_text", "text must be a string")
    if visibility not in VISIBILITIES:
        raise _BadLine("invalid_visibility",
                       f"visibility must be one of {', '.join(VISIBILITIES)}")
    if not isinstance(outbound, bool):
        raise _BadLine("invalid_outbound", "outbound must be true or false")
    ident = item.get("id")
    if ident is not None and not isinstance(ident, str | int | float):
        raise _BadLine("invalid_id", "id must be a string or a number")
    result = triage_command(text, outbound=outbound, visibility=visibility)
    return {"id": ident, **result} if ident is not None else result
