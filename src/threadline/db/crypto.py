"""Channel credentials encrypted at rest (docs/decisions/0104-secrets-at-rest.md).

A key ring is a MultiFernet (AES-128-CBC + HMAC-SHA256, from `cryptography`): the first key
encrypts, every key decrypts, so keys rotate without downtime (`threadline keys rotate`). The
keys come from THREADLINE_ENCRYPTION_KEYS (comma-separated Fernet keys); when unset, one key
is derived with HKDF-SHA256 from the secret key, so embedded mode needs no setup.

Each engine carries its own ring (`bind_keyring`, done by `Runtime.create` from its
settings); an engine without one uses the ring of the process settings.
"""

from __future__ import annotations

import base64
import weakref
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, MetaData, Text, TypeDecorator, column, select, table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from threadline.config import Settings, get_settings
from threadline.errors import ThreadlineError

HKDF_INFO = b"threadline channel credentials v1"
DERIVED = "derived"


class EncryptionKeyError(ThreadlineError):
    """A configured key is not a Fernet key, or stored data matches no key of the ring."""

    status = 500
    code = "encryption_key"


def derive_key(secret: str, purpose: bytes = HKDF_INFO) -> bytes:
    """A Fernet key derived from the secret key (HKDF-SHA256, fixed salt; one key per
    purpose)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"threadline",
               info=purpose).derive(secret.encode())
    return base64.urlsafe_b64encode(raw)


class Keyring:
    """Encrypts with the first key; decrypts with any."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise EncryptionKeyError("no encryption key")
        try:
            self._fernets = [Fernet(k) for k in keys]
        except ValueError:
            raise EncryptionKeyError("an encryption key is not a valid Fernet key "
                            "(32 url-safe base64-encoded bytes)") from None
        self._multi = MultiFernet(self._fernets)

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        """The configured keys in order; the word `derived` (and an empty setting) stands
        for the key derived from the secret key."""
        names = [k.strip() for k in (settings.encryption_keys or "").split(",") if k.strip()]
        return cls([derive_key(settings.resolved_secret_key()) if name == DERIVED
                     else name.encode() for name in names or [DERIVED]])

    def encrypt(self, data: bytes) -> str:
        return self._multi.encrypt(data).decode()

    def decrypt(self, token: str) -> bytes:
        try:
            return self._multi.decrypt(token.encode())
        except InvalidToken:
            raise EncryptionKeyError(
                "stored credentials match no configured encryption key") from None

    def rotate(self, token: str) -> str:
        """The same data encrypted with the first key."""
        try:
            return self._multi.rotate(token.encode()).decode()
        except InvalidToken:
            raise EncryptionKeyError(
                "stored credentials match no configured encryption key") from None


_sources: weakref.WeakKeyDictionary[Dialect, Keyring | Settings] = weakref.WeakKeyDictionary()


def bind_keyring(engine: Engine, source: Keyring | Settings) -> None:
    """Use this ring (or the ring of these settings, built on first use) for every encrypted
    column read or written through `engine`."""
    _sources[engine.dialect] = source


def keyring_for(dialect: Dialect) -> Keyring:
    source = _sources.get(dialect)
    if isinstance(source, Keyring):
        return source
    ring = Keyring.from_settings(source or get_settings())
    _sources[dialect] = ring
    return ring


def encrypt_json(ring: Keyring, value: dict[str, Any]) -> str:
    return ring.encrypt(orjson.dumps(value))


def decrypt_json(ring: Keyring, token: str) -> dict[str, Any]:
    data = orjson.loads(ring.decrypt(token))
    if not isinstance(data, dict):
        raise EncryptionKeyError("stored credentials are not an object")
    return data


class EncryptedJSON(TypeDecorator[dict[str, Any]]):
    """A JSON object stored as one Fernet token in a text column."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return encrypt_json(keyring_for(dialect), value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        return decrypt_json(keyring_for(dialect), value)


def rotate_keys(session: Session, metadata: MetaData) -> int:
    """Re-encrypt every encrypted column of every row with the first key; returns the number
    of values rewritten. Run after putting a new key first in THREADLINE_ENCRYPTION_KEYS."""
    ring = keyring_for(session.get_bind().dialect)
    count = 0
    for tbl in metadata.sorted_tables:
        for col in tbl.columns:
            if not isinstance(col.type, EncryptedJSON):
                continue
            raw = table(tbl.name, column("id", tbl.c.id.type), column(col.name, Text()))
            for row_id, token in session.execute(select(raw.c.id, raw.c[col.name])):
                if token is None:
                    continue
                session.execute(raw.update().where(raw.c.id == row_id)
                                .values({col.name: ring.rotate(token)}))
                count += 1
    return count
