"""Virus scanning with ClamAV's daemon (clamd), when the operator names its address.

Every file taken in (`service.take_in`: uploads and inbound media alike) is streamed to clamd
with its INSTREAM command before anything is stored. An infected file is refused
(`file_infected`, the signature's name in `details`); a file clamd will not take whole (larger
than its `StreamMaxLength`) is refused too, since it could not be scanned; clamd unreachable,
slow past the timeout or answering an error is `ScannerUnavailable` (503 on an upload; an
inbound download is retried later). With scanning configured, no unscanned byte is stored.

The protocol (clamd(8)): connect (unix socket or TCP), send `zINSTREAM\\0`, then chunks each
prefixed by its length as a 4-byte big-endian number, then a zero length; clamd answers one
NUL-terminated line, `stream: OK`, `stream: <signature> FOUND`, or `... ERROR`. Why this is our
own small client rather than a library: docs/decisions/0327-virus-scanning.md.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import struct
from dataclasses import dataclass

from threadline.config import Settings
from threadline.errors import PayloadTooLarge, ThreadlineError, ValidationFailed

log = logging.getLogger("threadline.media")
CHUNK = 256 * 1024  # bytes per INSTREAM chunk (clamd's StreamMaxLength bounds the total)
CONNECT_SECONDS = 5.0
MAX_REPLY = 4096
MAX_SIGNATURE = 200


@dataclass(frozen=True)
class Scanned:
    """Proof that these exact bytes (by SHA-256) were found clean, so `take_in` does not
    scan them twice (the inbound job scans before it opens a database transaction)."""

    sha256: str


class FileInfected(ValidationFailed):
    code = "file_infected"

    def __init__(self, signature: str) -> None:
        super().__init__(f"this file is infected ({signature}); it is not accepted",
                         details={"signature": signature})
        self.signature = signature


class FileNotScannable(PayloadTooLarge):
    code = "file_not_scannable"

    def __init__(self, size: int) -> None:
        super().__init__(f"this file ({size} bytes) is larger than the virus scanner takes; "
                         "it is not accepted unscanned", details={"size": size})


class ScannerUnavailable(ThreadlineError):
    status = 503
    code = "scanner_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the virus scanner is unavailable ({reason}); try again later",
                         details={"retryable": True})
        self.reason = reason


def enabled(settings: Settings) -> bool:
    return bool(settings.media_clamd_address)


def scan(settings: Settings, data: bytes) -> Scanned | None:
    """Scan `data` when scanning is configured (None when it is not). Raises FileInfected,
    FileNotScannable or ScannerUnavailable."""
    address = settings.media_clamd_address
    if not address:
        return None
    reply = instream(address, data, timeout=settings.media_clamd_timeout_seconds)
    if reply.endswith(" OK"):
        return Scanned(hashlib.sha256(data).hexdigest())
    if reply.endswith(" FOUND"):
        signature = _clean(reply.removeprefix("stream:").removesuffix(" FOUND").strip())
        log.warning("clamd found %s in a file of %d bytes", signature, len(data))
        raise FileInfected(signature or "unnamed signature")
    if "size limit exceeded" in reply.lower():
        raise FileNotScannable(len(data))
    raise ScannerUnavailable(f"clamd answered {_clean(reply) or 'nothing'!r}")


def ensure_clean(settings: Settings, data: bytes, scanned: Scanned | None) -> None:
    """`scan`, unless these very bytes were already found clean."""
    if not enabled(settings):
        return
    if scanned is not None and scanned.sha256 == hashlib.sha256(data).hexdigest():
        return
    scan(settings, data)


def instream(address: str, data: bytes, *, timeout: float) -> str:
    """clamd's one-line answer to INSTREAM for `data` (without its NUL)."""
    try:
        with _connect(address, timeout) as sock:
            try:
                sock.sendall(b"zINSTREAM\0")
                view = memoryview(data)
                for start in range(0, len(view), CHUNK):
                    chunk = view[start:start + CHUNK]
                    sock.sendall(struct.pack("!I", len(chunk)))
                    sock.sendall(chunk)
                sock.sendall(struct.pack("!I", 0))
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd hung up early (its StreamMaxLength): its answer says why
            return _read_reply(sock)
    except TimeoutError:
        raise ScannerUnavailable(f"no answer within {timeout:g} s") from None
    except OSError as exc:
        log.warning("clamd at %s is unreachable: %s", address, type(exc).__name__)
        raise ScannerUnavailable(f"cannot reach clamd: {exc.strerror or type(exc).__name__}"
                                 ) from None


def ping(address: str, *, timeout: float = CONNECT_SECONDS) -> bool:
    """Whether clamd answers PING with PONG (a readiness check)."""
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zPING\0")
            return _read_reply(sock) == "PONG"
    except OSError:
        return False


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_SECONDS)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            raise
    else:
        host, _, port = address.rpartition(":")
        sock = socket.create_connection((host.strip("[]"), int(port)),
                                        timeout=CONNECT_SECONDS)
    sock.settimeout(timeout)
    return sock


def _read_reply(sock: socket.socket) -> str:
    reply = bytearray()
    while b"\0" not in reply and len(reply) < MAX_REPLY:
        part = sock.recv(MAX_REPLY)
        if not part:
            break
        reply += part
    return bytes(reply).split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def _clean(text: str) -> str:
    """clamd's words as we show them: printable, bounded."""
    return "".join(c for c in text if c.isprintable())[:MAX_SIGNATURE]
