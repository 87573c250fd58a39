"""Sign-in throttling that slows a guesser without letting anyone lock a victim out.

Three counts of recent failures (passwords and second-factor codes), kept in the database so
every web process sees them (docs/decisions/0105-accounts-and-throttling.md):
- per (account, client address): a few free failures, then a delay that doubles with each
  failure; the guesser waits, the victim elsewhere does not;
- per client address: one address cannot spray many accounts;
- per account, from addresses it never signed in from: many addresses together cannot guess
  one account, while the agent's usual addresses (a full sign-in in the last days) still work.
Keys are hashes; the rows are pruned by age."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from threadline.config import Settings
from threadline.db.base import new_id
from threadline.errors import RateLimited
from threadline.workspace.models import LoginAttempt


@dataclass(frozen=True)
class Throttle:
    window: timedelta = timedelta(minutes=15)
    free_failures: int = 5
    max_delay: timedelta = timedelta(minutes=15)
    per_address: int = 30
    per_account: int = 50
    known_for: timedelta = timedelta(days=30)

    @classmethod
    def from_settings(cls, settings: Settings) -> Throttle:
        return cls(window=timedelta(minutes=settings.login_window_minutes),
                   free_failures=settings.login_free_failures,
                   max_delay=timedelta(seconds=settings.login_max_delay_seconds),
                   per_address=settings.login_address_failures,
                   per_account=settings.login_account_failures,
                   known_for=timedelta(days=settings.login_known_address_days))

    def delay(self, failures: int) -> timedelta:
        """How long after its last failure an (account, address) pair must wait."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 30)
        return min(self.max_delay, timedelta(seconds=2 ** doublings))


@dataclass(frozen=True)
class Keys:
    pair: str
    address: str
    account: str
    known: str

    @classmethod
    def of(cls, email: str, client: str) -> Keys:
        email = email.strip().lower()
        return cls(pair=_hash("pair", email, client), address=_hash("address", client),
                   account=_hash("account", email), known=_hash("known", email, client))


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _refuse(wait: timedelta) -> RateLimited:
    seconds = max(1, math.ceil(wait.total_seconds()))
    return RateLimited("too many failed sign-ins; try again later", code="login_throttled",
                       details={"retry_after": seconds})


def _failures(session: Session, key: str, since: datetime) -> tuple[int, datetime | None,
                                                                    datetime | None]:
    row = session.execute(
        select(func.count(LoginAttempt.id), func.min(LoginAttempt.created_at),
               func.max(LoginAttempt.created_at))
        .where(LoginAttempt.key == key, LoginAttempt.created_at >= since,
               LoginAttempt.succeeded.is_(False))).one()
    return int(row[0] or 0), row[1], row[2]


def check(session: Session, keys: Keys, throttle: Throttle, now: datetime) -> None:
    """Raise RateLimited (with retry_after seconds) when this attempt must not be tried."""
    since = now - throttle.window
    count, _, last = _failures(session, keys.pair, since)
    if last is not None and (wait := last + throttle.delay(count) - now) > timedelta(0):
        raise _refuse(wait)
    count, oldest, _ = _failures(session, keys.address, since)
    if count >= throttle.per_address and oldest is not None:
        raise _refuse(oldest + throttle.window - now)
    count, oldest, _ = _failures(session, keys.account, since)
    if count >= throttle.per_account and oldest is not None and not _known(
            session, keys, throttle, now):
        raise _refuse(oldest + throttle.window - now)


def _known(session: Session, keys: Keys, throttle: Throttle, now: datetime) -> bool:
    return session.scalar(select(LoginAttempt.id).where(
        LoginAttempt.key == keys.known, LoginAttempt.succeeded.is_(True),
        LoginAttempt.created_at >= now - throttle.known_for).limit(1)) is not None


def record_failure(session: Session, keys: Keys, now: datetime) -> None:
    session.add_all([LoginAttempt(id=new_id(), key=key, succeeded=False, created_at=now)
                     for key in (keys.pair, keys.address, keys.account)])
    session.flush()


def record_success(session: Session, keys: Keys, now: datetime) -> None:
    """A full sign-in: the pair's failures are forgotten and the address becomes usual."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.key.in_([keys.pair, keys.known])))
    session.add(LoginAttempt(id=new_id(), key=keys.known, succeeded=True, created_at=now))
    session.flush()


def prune(session: Session, throttle: Throttle, now: datetime) -> None:
    """Forget failures older than the window and usual addresses older than their term."""
    session.execute(delete(LoginAttempt).where(or_(
        and_(LoginAttempt.succeeded.is_(False), LoginAttempt.created_at < now - throttle.window),
        LoginAttempt.created_at < now - throttle.known_for)))
