"""Shapes of the email channel: the account config and the stored provider-event payload.

Email has no JSON wire format: the provider event is the raw RFC 5322 message fetched over
IMAP, kept verbatim (base64) together with where it came from (mailbox, UIDVALIDITY, UID).
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # larger messages are skipped by the poller


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class EmailConfig(_Model):
    """The account config keys of an email channel account (docs/design.md#channel-account-config).

    `username` / `password` serve IMAP and SMTP unless `smtp_username` / `smtp_password`
    are given. Secrets are `SecretStr`: they never appear in a repr or a log line.
    """

    address: str = Field(default="", max_length=320)
    display_name: str | None = Field(default=None, max_length=200)
    aliases: list[str] = Field(default_factory=list, max_length=50)
    username: str = Field(default="", max_length=320)
    password: SecretStr = SecretStr("")
    # IMAP (inbound)
    imap_host: str = Field(default="", max_length=255)
    imap_port: int = Field(default=143, ge=1, le=65535)
    imap_ssl: bool = False
    imap_starttls: bool = False
    mailbox: str = Field(default="INBOX", min_length=1, max_length=255)
    poll_batch: int = Field(default=50, ge=1, le=1000)
    timeout: float = Field(default=30.0, gt=0, le=600)
    # SMTP (outbound)
    smtp_host: str = Field(default="", max_length=255)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str | None = Field(default=None, max_length=320)
    smtp_password: SecretStr | None = None
    bounce_address: str | None = Field(default=None, max_length=320)
    # reply tokens (see tokens.py)
    message_id_domain: str | None = Field(default=None, max_length=255)
    reply_plus_address: bool = True
    reply_token_secret: SecretStr | None = None

    @field_validator("address", "username", "imap_host", "smtp_host", "mailbox")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset(a.strip().lower() for a in [self.address, *self.aliases] if a.strip())

    @property
    def domain(self) -> str:
        if self.message_id_domain:
            return self.message_id_domain.strip().lower()
        _, _, domain = self.address.rpartition("@")
        return domain.strip().lower() or "threadline.invalid"

    @property
    def smtp_login(self) -> tuple[str, str] | None:
        user = self.smtp_username if self.smtp_username is not None else self.username
        secret = self.smtp_password if self.smtp_password is not None else self.password
        if not user or not secret.get_secret_value():
            return None
        return user, secret.get_secret_value()


class StoredEmail(_Model):
    """The payload of one email ProviderEvent: the raw message plus its IMAP coordinates."""

    raw: str = Field(max_length=MAX_MESSAGE_BYTES * 2)
    encoding: Literal["base64", "utf-8"] = "base64"
    mailbox: str | None = Field(default=None, max_length=255)
    uidvalidity: int | None = Field(default=None, ge=0)
    uid: int | None = Field(default=None, ge=0)
    internaldate: str | None = Field(default=None, max_length=64)
    truncated: bool = False  # only the header was fetched (message over MAX_MESSAGE_BYTES)

    def raw_bytes(self) -> bytes:
        if self.encoding == "utf-8":
            return self.raw.encode("utf-8", "surrogateescape")
        try:
            return base64.b64decode(self.raw.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise ValueError("raw is not valid base64") from None

    @classmethod
    def from_bytes(cls, raw: bytes, *, mailbox: str | None = None,
                   uidvalidity: int | None = None, uid: int | None = None,
                   internaldate: str | None = None, truncated: bool = False) -> StoredEmail:
        return cls(raw=base64.b64encode(raw).decode("ascii"), encoding="base64",
                   mailbox=mailbox, uidvalidity=uidvalidity, uid=uid, internaldate=internaldate,
                   truncated=truncated)


class EmailCursor(_Model):
    """The poll cursor: IMAP UIDs are only comparable under the same UIDVALIDITY."""

    uidvalidity: int = Field(ge=0)
    last_uid: int = Field(default=0, ge=0)
    mailbox: str | None = None
