"""Settings: one object, read from the environment (prefix THREADLINE_)."""

from __future__ import annotations

import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def clamd_address(value: object) -> object:
    """clamd's address as `media/scanning.py` reads it: an absolute unix socket path (a
    `unix:` prefix is dropped) or `host:port` (`[v6]:port`, a `tcp://` prefix is dropped);
    empty is unset. Anything else is refused when the settings are read."""
    if not isinstance(value, str):
        return value
    text = value.strip().removeprefix("unix:").removeprefix("tcp://")
    if not text:
        return None
    if text.startswith("/"):
        return text
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or "/" in host:
        raise ValueError("media_clamd_address is a unix socket path or host:port")
    return text


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="THREADLINE_", extra="ignore")

    database_url: str = "sqlite:///threadline.db"
    redis_url: str | None = None
    secret_key: str | None = None  # unset: generated once and kept in data_dir
    data_dir: Path = Path(".")
    public_url: str | None = Field(
        default=None, description="Base URL providers call (used for Twilio signatures)."
    )

    # Threading windows (docs/threading.md), in hours.
    reopen_window_hours: float = 72.0
    cross_channel_window_hours: float = 72.0

    # Service levels: minutes to the first answer after a customer writes (routing, docs/design.md).
    sla_public_minutes: float = 60.0
    sla_private_minutes: float = 240.0
    sla_email_minutes: float = 1440.0
    sla_urgent_factor: float = 0.5  # P1 and P2 (priority 1 and 2) get half the time
    # Service-level policies (docs/service-levels.md): how often the scanner looks for
    # warnings and breaches; the SMTP server that emails supervisors on a breach (unset: none).
    sla_scan_seconds: float = Field(default=15.0, gt=0)
    notify_smtp_host: str | None = None
    notify_smtp_port: int = 25
    notify_smtp_from: str = "threadline@localhost"

    # Workers.
    worker_batch_size: int = 200
    # payload bytes in one inbound batch (one transaction): huge events go a few at a time
    worker_batch_bytes: int = Field(default=128 * 1024, gt=0)
    worker_poll_seconds: float = 1.0
    worker_lease_seconds: float = 60.0
    max_attempts: int = 8
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 600.0

    # Webhooks.
    max_webhook_body_bytes: int = 1024 * 1024
    # Outbound webhooks (docs/integrations.md): request timeout, attempts per event, the
    # backoff (base doubling per attempt up to max, with jitter), and a subscription is
    # disabled after this many failures in a row spread over at least `disable_after_seconds`.
    outbound_webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    outbound_webhook_max_attempts: int = Field(default=10, ge=1, le=50)
    outbound_webhook_retry_base_seconds: float = Field(default=5.0, gt=0)
    outbound_webhook_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    outbound_webhook_disable_after_failures: int = Field(default=20, ge=1)
    outbound_webhook_disable_after_seconds: float = Field(default=24 * 3600.0, ge=0)

    # Web.
    embedded_workers: int = 1

    # Logs (docs/logging.md): "text" for people, "json" (one object per line) for shippers.
    log_format: Literal["text", "json"] = "text"
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                         BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)] = "INFO"

    # Where credentials may go (docs/decisions/0102-provider-hosts.md). Provider base URLs
    # are the providers' official https hosts, the API channel's endpoint and mail servers
    # public hosts. `allow_custom_provider_urls` lifts both rules (the provider sandbox, the
    # demo and tests); `trusted_internal_hosts` names hosts on the brand's own network that
    # the API endpoint or mail servers may use although they resolve to private addresses.
    allow_custom_provider_urls: bool = False
    trusted_internal_hosts: list[str] = Field(default_factory=list)

    # Video calls (docs/video.md): a meeting link on a self-hostable service, Jitsi Meet by
    # default. With an app id and secret, every participant gets a signed token (JWT, HS256)
    # as a self-hosted Jitsi with token authentication requires; without, the room's name is
    # the only protection (public meet.jit.si). `template`: an https URL with {room} for
    # another meeting tool; `none`: no video calls.
    video_provider: Literal["jitsi", "template", "none"] = "jitsi"
    video_base_url: str = "https://meet.jit.si"
    video_jwt_app_id: str | None = None
    video_jwt_secret: str | None = Field(default=None, repr=False)
    video_jwt_audience: str = "jitsi"
    video_url_template: str | None = None
    video_link_hours: float = Field(default=3.0, gt=0, le=24)

    # Web hardening (docs/decisions/0106-web-hardening.md).
    trusted_proxies: str = Field(
        default="", description="Comma-separated addresses or networks of the reverse proxies "
        "whose X-Forwarded-For / X-Forwarded-Proto are believed; empty: none.")
    metrics_token: str | None = Field(
        default=None, description="Bearer token for /metrics; unset: loopback clients only.")
    link_form_posts_per_minute: int = 10  # per client address and short link (POST /s/{code})

    @property
    def scaled(self) -> bool:
        """Several processes or hosts may share this deployment: a PostgreSQL database or a
        Redis bus. Each such process needs the same THREADLINE_SECRET_KEY."""
        return not self.database_url.startswith("sqlite") or bool(self.redis_url)

    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    # Agent accounts (desktop sign-in): one-time passwords and sign-in throttling
    # (docs/decisions/0105-accounts-and-throttling.md).
    one_time_password_hours: float = 72.0
    login_window_minutes: float = 15.0  # failures older than this are forgotten
    login_free_failures: int = 5  # per (account, address) before the delay starts
    login_max_delay_seconds: float = 900.0  # the delay doubles per failure up to this
    login_address_failures: int = 30  # per client address, every account together
    login_account_failures: int = 50  # per account, from addresses it never signed in from
    login_known_address_days: float = 30.0  # how long a sign-in makes an address "usual"

    # Secrets at rest (docs/decisions/0104-secrets-at-rest.md): Fernet keys, comma-separated,
    # the first encrypts and all decrypt (unset: one key derived from the secret key); raw
    # provider payloads are emptied this many days after they arrive.
    encryption_keys: str | None = None
    raw_payload_retention_days: float = Field(default=30.0, ge=0)

    # Routing (docs/routing.md): an agent whose desktop has not been seen for this long is
    # set offline (his real-time conversations go back to the queue); a conversation the
    # router gave to an agent who has not answered it after this long goes to another one
    # (0: never); how often the `routing.tick` job looks.
    presence_offline_after_seconds: float = Field(default=300.0, ge=10)
    routing_reroute_after_seconds: float = Field(default=900.0, ge=0)
    routing_tick_seconds: float = Field(default=30.0, ge=1)

    # Quality reviews (docs/quality.md): how often the sampler picks resolved conversations
    # into the review queue.
    quality_sample_seconds: float = Field(default=600.0, ge=1)
    # KPIs (docs/kpis.md): a message after this many hours without one starts a new episode;
    # a resolution the customer does not come back on within this many days (reopening it or
    # opening another conversation, on any channel) is a first-contact resolution; how often
    # the job that settles those looks; the most seconds one activity report of the desktop
    # may claim. Changing the first two applies to new messages: `threadline kpis rebuild`
    # applies them to the past.
    kpi_silence_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    kpi_fcr_days: float = Field(default=7.0, ge=0, le=365)
    kpi_settle_seconds: float = Field(default=3600.0, ge=10)
    kpi_activity_max_seconds: float = Field(default=60.0, ge=5, le=600)

    # Media (docs/media.md, decision 0323): where attachment bytes live ("local": under
    # data_dir/media; "s3": an S3-compatible bucket, for scaled mode), how long signed URLs
    # live (for agents; for providers fetching a file we send by link), the upload cap, the
    # pixel cap of images, and per-channel size overrides ({"whatsapp": {"video": 20000000}}).
    media_store: Literal["local", "s3"] = "local"
    media_s3_endpoint_url: str | None = None
    media_s3_bucket: str | None = None
    media_s3_region: str = "us-east-1"
    media_s3_access_key_id: str | None = None
    media_s3_secret_access_key: str | None = Field(default=None, repr=False)
    media_s3_create_bucket: bool = False
    media_url_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    media_provider_url_hours: float = Field(default=24.0, gt=0, le=24 * 7)
    media_upload_max_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    media_max_image_pixels: int = Field(default=40_000_000, gt=0)
    media_limits: dict[str, dict[str, int]] = Field(default_factory=dict)
    # Virus scanning with ClamAV's clamd (decision 0327): its address, unset for none; how
    # long one file's scan may take before clamd counts as unavailable.
    media_clamd_address: Annotated[str | None, BeforeValidator(clamd_address)] = None
    media_clamd_timeout_seconds: float = Field(default=60.0, gt=0, le=600)

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated on first use and kept in data_dir."""
        if self.secret_key:
            return self.secret_key
        return read_or_create_secret(self.data_dir / ".threadline-secret")


def read_or_create_secret(path: Path) -> str:
    """The key kept at `path`, created once with mode 0600 from its first byte.

    The key is written to a private temporary file (O_CREAT|O_EXCL, 0600) and then linked
    to `path`; linking never replaces a file, so when processes race, one key wins, the
    others read it, and nobody ever reads a half-written or world-readable file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        value = secrets.token_urlsafe(48)
        temp = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(value)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temp, path)
            return value
        except FileExistsError:
            pass  # another process linked its key first: use that one
        finally:
            temp.unlink(missing_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # a key file from an older version: no longer readable by others
    value = path.read_text().strip()
    if not value:
        raise RuntimeError(f"the secret key file {path} is empty; delete it or set "
                           "THREADLINE_SECRET_KEY")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
