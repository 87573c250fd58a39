"""Reading RFC 5322 messages with the standard `email` package (policy=default), defensively.

The `email` package accepts any bytes, but reading a header of a malformed message can raise
almost anything (HeaderParseError, IndexError, LookupError for unknown charsets...). Every
reader here degrades to the raw header text or to None instead of raising.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from threadline.channels.base import Attachment

MAX_ID_LENGTH = 255
_MSG_ID = re.compile(r"<[^<>\s]{1,253}>")
_WS = re.compile(r"[ \t\r\n]+")


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def clean(value: str) -> str:
    """A string safe for JSON and every database: no lone surrogates, no NUL."""
    try:
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")


def header(msg: Message, name: str) -> str | None:
    """The decoded, unfolded value of the first `name` header, or None."""
    values = headers(msg, name)
    return values[0] if values else None


def headers(msg: Message, name: str) -> list[str]:
    """Every decoded, unfolded value of `name`; raw text where decoding fails."""
    out: list[str] = []
    lower = name.lower()
    for key, raw_value in msg.raw_items():
        if key.lower() != lower:
            continue
        try:
            value = str(msg.policy.header_fetch_parse(key, raw_value))
        except Exception:  # the email package's header parser raises many types
            value = str(raw_value)
        out.append(clean(_WS.sub(" ", value)).strip())
    return out


def addresses(msg: Message, *names: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of the named address headers."""
    found: list[tuple[str, str]] = []
    for name in names:
        for value in headers(msg, name):
            try:
                pairs = getaddresses([value])
            except Exception:  # getaddresses has raised on hostile input in some versions
                pairs = []
            for display, address in pairs:
                address = clean(address).strip().lower()
                if is_address(address) and (display, address) not in found:
                    found.append((clean(display).strip(), address))
    return found


def is_address(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    return bool(at and local and domain and len(value) <= 320
                and not any(c.isspace() or c in "<>()," for c in value))


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a header value, with angle brackets: '<a@b> <c@d>' -> ['<a@b>', '<c@d>']."""
    if not value:
        return []
    found = _MSG_ID.findall(value)
    if not found:
        found = [f"<{t.strip('<>')}>" for t in value.split() if "@" in t and len(t) <= 253]
    return [m for m in found if len(m) <= MAX_ID_LENGTH]


def message_id(msg: Message) -> str | None:
    ids = message_ids(header(msg, "Message-ID"))
    return ids[0] if ids else None


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000": no zone information, the time is UTC
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def event_key(msg: Message, raw: bytes) -> str:
    """The dedupe key: `msgid:<id>`, else a hash of From+Date+Subject+body
    (docs/providers/README.md#idempotency)."""
    mid = message_id(msg)
    if mid:
        return f"msgid:{mid}"
    _, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    digest = hashlib.sha256()
    for name in ("From", "Date", "Subject"):
        digest.update((header(msg, name) or "").encode("utf-8", "replace") + b"\n")
    digest.update(body)
    return f"hash:{digest.hexdigest()}"


def event_key_of(raw: bytes) -> str:
    """`event_key` of raw bytes; a hash of the whole message if even parsing fails."""
    try:
        return event_key(parse(raw), raw)
    except Exception:  # the email package's parser can raise on hostile input
        return f"hash:{hashlib.sha256(raw).hexdigest()}"


# --- bodies -----------------------------------------------------------------------------------


def _content(part: Message) -> str:
    # without a charset parameter, 8-bit text is far more often UTF-8 than ASCII
    if isinstance(part, EmailMessage) and part.get_param("charset") is not None:
        try:
            content = part.get_content()
        except Exception:  # unknown charset, bad transfer encoding...
            content = None
        if isinstance(content, str):
            return clean(content)
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(payload, bytes):
        return ""
    charset = "utf-8"
    try:
        charset = part.get_content_charset() or "utf-8"
        return clean(payload.decode(charset, "replace"))
    except (LookupError, ValueError):
        return clean(payload.decode("utf-8", "replace"))


def bodies(msg: EmailMessage) -> tuple[str | None, str | None, list[Message]]:
    """(plain text, html, the parts used as body)."""
    used: list[Message] = []
    plain = html = None
    try:
        plain_part = msg.get_body(preferencelist=("plain",))
        html_part = msg.get_body(preferencelist=("html",))
    except Exception:
        plain_part = html_part = None
    if plain_part is not None:
        plain = _content(plain_part)
        used.append(plain_part)
    if html_part is not None:
        html = _content(html_part)
        used.append(html_part)
    return plain, html, used


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title", "template"})
    _BLOCK = frozenset({"p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "hr",
                        "h1", "h2", "h3", "h4", "h5", "h6", "pre", "section", "article"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK and tag != "li":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(_WS.sub(" ", data))


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # HTMLParser is lenient; this only guards against the unforeseen
        return clean(html)
    lines = (line.strip() for line in "".join(extractor.parts).splitlines())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_ATTRIBUTION = re.compile(
    r"^(On .{1,300} wrote:|Le .{1,300} a écrit :|Am .{1,300} schrieb .{0,100}:)$")
_ORIGINAL = re.compile(r"^-{2,}\s*(Original Message|Forwarded message)\s*-{2,}$", re.IGNORECASE)


def strip_quoted(text: str) -> tuple[str, bool]:
    """Cut the quoted history off a reply ('On ... wrote:' + '>' lines, 'Original Message')."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        quoted_next = any(n.startswith(">") for n in lines[i + 1:i + 3])
        if _ORIGINAL.match(stripped) or (_ATTRIBUTION.match(stripped) and quoted_next):
            head = "\n".join(lines[:i]).strip()
            return (head, True) if head else (text.strip(), False)
    end = len(lines)
    while end > 0 and (lines[end - 1].startswith(">") or not lines[end - 1].strip()):
        end -= 1
    head = "\n".join(lines[:end]).strip()
    if head and end < len(lines) and any(n.startswith(">") for n in lines[end:]):
        return head, True
    return text.strip(), False


# --- attachments ------------------------------------------------------------------------------


def leaves(part: Message, path: str = "") -> Iterator[tuple[str, Message]]:
    """Non-multipart parts with their IMAP-style section path ('1', '2.1', ...)."""
    if part.get_content_maintype() == "multipart":
        payload = part.get_payload()
        if isinstance(payload, list):
            for index, sub in enumerate(payload, 1):
                if isinstance(sub, Message):
                    yield from leaves(sub, f"{path}.{index}" if path else str(index))
        return
    yield path or "1", part


def attachments(msg: EmailMessage, used: list[Message]) -> list[Attachment]:
    found: list[Attachment] = []
    for path, part in leaves(msg):
        if any(part is u for u in used):
            continue
        mime = part.get_content_type()
        try:
            name = part.get_filename()
        except Exception:
            name = None
        disposition = part.get_content_disposition()
        if mime in ("text/plain", "text/html") and not name and disposition != "attachment":
            continue  # an unused alternative body, not a file
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        maintype = part.get_content_maintype()
        kind = maintype if maintype in ("image", "video", "audio") else "file"
        found.append(Attachment(type=kind, mime_type=clean(mime)[:255],
                                provider_media_id=f"part:{path}",
                                name=clean(name)[:255] if name else None,
                                size=len(data) if isinstance(data, bytes) else None))
    return found


def part_bytes(raw: bytes, path: str) -> tuple[bytes, str, str | None] | None:
    """The decoded bytes, declared type and file name of the leaf part at `path` (the
    `part:<path>` of an inbound attachment); None when there is no such part."""
    msg = parse(raw)
    for found, part in leaves(msg):
        if found != path:
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            return None
        try:
            name = part.get_filename()
        except Exception:
            name = None
        return data, clean(part.get_content_type())[:255], clean(name)[:255] if name else None
    return None
