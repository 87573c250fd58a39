"""What a file is, from its first bytes (docs/media.md#file-types).

`filetype` (pure Python, no system library) names the binary types; it answers None for
text. Text is then told apart here: markup (HTML, SVG, XML: script inside) is named so that
it can be refused, and anything else that decodes as UTF-8 without control bytes is plain
text. The declared type and the file name are never trusted.
"""

from __future__ import annotations

import filetype

HEAD_BYTES = 8192  # filetype reads no more than this
UNKNOWN = "application/octet-stream"
EXECUTABLES = frozenset({
    "application/x-msdownload", "application/x-executable", "application/x-elf",
    "application/x-mach-binary", "application/x-sharedlib", "application/x-dosexec",
    "application/vnd.microsoft.portable-executable", "application/x-shockwave-flash",
    "application/x-sh", "application/java-archive", "application/x-deb",
    "application/x-rpm", "application/vnd.android.package-archive"})
_MARKUP = (b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<head", b"<body", b"<script",
           b"<iframe", b"<!--")
_CONTROL = set(range(0, 9)) | {11, 12} | set(range(14, 32)) | {127}


def sniff(head: bytes) -> str:
    """The MIME type of a file whose first bytes are `head` (`UNKNOWN` when not known)."""
    kind = filetype.guess(head[:HEAD_BYTES])
    if kind is not None:
        return str(kind.mime)
    if head.startswith((b"MZ", b"\x7fELF", b"#!")):  # in case filetype misses one
        return "application/x-executable"
    return _text_type(head[:HEAD_BYTES])


def _text_type(head: bytes) -> str:
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if body.startswith(b"<"):
        if b"<svg" in body[:2048]:
            return "image/svg+xml"
        if body.startswith(_MARKUP) or b"<html" in body[:2048] or b"<script" in body[:2048]:
            return "text/html"
    if not head:
        return UNKNOWN
    try:  # a cut at HEAD_BYTES may split a character: drop at most 3 trailing bytes
        text = head.decode("utf-8") if len(head) < HEAD_BYTES else _decode_prefix(head)
    except UnicodeDecodeError:
        return UNKNOWN
    if any(ord(c) in _CONTROL for c in text):
        return UNKNOWN
    if b"<script" in head.lower() or b"<html" in head.lower():
        return "text/html"
    return "text/plain"


def _decode_prefix(head: bytes) -> str:
    for cut in range(4):
        try:
            return head[:len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("utf-8", head, 0, 1, "not UTF-8")


def is_image(mime: str) -> bool:
    """Images shown inline (never SVG: it carries script)."""
    return mime in ("image/jpeg", "image/png", "image/gif", "image/webp")


def extension(mime: str) -> str:
    kind = filetype.get_type(mime=mime)
    if kind is not None:
        return str(kind.extension)
    return {"text/plain": "txt", "text/csv": "csv"}.get(mime, "bin")
