"""Settings: one object, read from the environment (prefix THREADLINE_)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="THREADLINE_", extra="ignore")

    database_url: str = "sqlite:///threadline.db"
    redis_url: str | None = None
    secret_key: str | None = None  # unset: generated once and kept in data_dir
    data_dir: Path = Path(".")
    public_url: str | None = Field(
        default=None, description="Base URL providers call (used for Twilio signatures)."
    )

    # Threading windows (DESIGN §5), in hours.
    reopen_window_hours: float = 72.0
    cross_channel_window_hours: float = 72.0

    # Service levels: minutes to the first answer after a customer writes (routing, DESIGN §4).
    sla_public_minutes: float = 60.0
    sla_private_minutes: float = 240.0
    sla_email_minutes: float = 1440.0
    sla_urgent_factor: float = 0.5  # priority 2 and above get half the time

    # Workers.
    worker_batch_size: int = 200
    worker_poll_seconds: float = 1.0
    worker_lease_seconds: float = 60.0
    max_attempts: int = 8
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 600.0

    # Webhooks.
    max_webhook_body_bytes: int = 1024 * 1024

    # Web.
    embedded_workers: int = 1

    # Secrets at rest (docs/decisions/0104-secrets-at-rest.md): Fernet keys, comma-separated,
    # the first encrypts and all decrypt (unset: one key derived from the secret key); raw
    # provider payloads are emptied this many days after they arrive.
    encryption_keys: str | None = None
    raw_payload_retention_days: float = Field(default=30.0, ge=0)

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated on first use and kept in data_dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / ".threadline-secret"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
