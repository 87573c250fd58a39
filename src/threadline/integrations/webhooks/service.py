"""Subscriptions and the delivery log: create, change, delete, list (admins of the workspace;
another workspace's ids are a 404), manual redelivery. Services take a session and never
commit. Destination URLs are checked like the API channel's endpoint
(`channels.urls.check_endpoint`: https, public addresses only, unless the operator allows
custom URLs or trusts the host), here and again before each attempt (`delivery.py`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from threadline.channels.urls import Resolver, UrlPolicy, UrlRefused, check_endpoint
from threadline.conversations.service import Actor
from threadline.db.base import utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.integrations.webhooks.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from threadline.integrations.webhooks.rules import ROTATION_OVERLAP_SECONDS, new_secret
from threadline.integrations.webhooks.schemas import (
    MAX_SUBSCRIPTIONS,
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionUpdate,
)

LOG_PAGE = 50


def check_url(url: str, policy: UrlPolicy, *, resolve: Resolver | None = None) -> str:
    """The URL, or a 422 naming the `url` field (`url_refused`)."""
    try:
        return check_endpoint(url, policy, resolve=resolve)
    except UrlRefused as exc:
        raise ValidationFailed(f"url: {exc}", code="url_refused",
                               details={"field": "url"}) from None


def subscription_out(row: WebhookSubscription) -> SubscriptionOut:
    return SubscriptionOut.model_validate(row, from_attributes=True)


def access_subscription(session: Session, workspace_id: uuid.UUID,
                        subscription_id: uuid.UUID) -> WebhookSubscription:
    row = session.scalar(select(WebhookSubscription).where(
        WebhookSubscription.id == subscription_id,
        WebhookSubscription.workspace_id == workspace_id))
    if row is None:
        raise NotFound("webhook subscription not found", code="webhook_not_found")
    return row


def list_subscriptions(session: Session, workspace_id: uuid.UUID) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.workspace_id == workspace_id).order_by(
        WebhookSubscription.created_at, WebhookSubscription.id)))


def create_subscription(session: Session, workspace_id: uuid.UUID, body: SubscriptionIn,
                        actor: Actor, policy: UrlPolicy, *,
                        resolve: Resolver | None = None) -> SubscriptionCreated:
    url = check_url(body.url, policy, resolve=resolve)
    if len(list_subscriptions(session, workspace_id)) >= MAX_SUBSCRIPTIONS:
        raise ValidationFailed(f"at most {MAX_SUBSCRIPTIONS} webhook subscriptions",
                               code="too_many_webhooks")
    secret = new_secret()
    now = utcnow()
    row = WebhookSubscription(workspace_id=workspace_id, url=url,
                              description=body.description,
                              event_types=list(dict.fromkeys(body.event_types)),
                              secret={"secret": secret}, status=SubscriptionStatus.ACTIVE,
                              consecutive_failures=0, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    audit(session, workspace_id, "webhook.created", "webhook", row.id, actor_type=actor.type,
          actor_id=actor.id, data={"event_types": row.event_types})
    return SubscriptionCreated(**subscription_out(row).model_dump(), secret=secret)


def update_subscription(session: Session, workspace_id: uuid.UUID,
                        subscription_id: uuid.UUID, body: SubscriptionUpdate, actor: Actor,
                        policy: UrlPolicy, *,
                        resolve: Resolver | None = None) -> tuple[WebhookSubscription, str | None]:
    """The changed subscription and its new secret when rotated (else None)."""
    row = access_subscription(session, workspace_id, subscription_id)
    if body.url is not None:
        row.url = check_url(body.url, policy, resolve=resolve)
    if body.event_types is not None:
        row.event_types = list(dict.fromkeys(body.event_types))
    if body.description is not None:
        row.description = body.description
    if body.enabled is True and row.status == SubscriptionStatus.DISABLED:
        row.status = SubscriptionStatus.ACTIVE
        row.disabled_reason = row.disabled_at = None
        row.consecutive_failures, row.failing_since = 0, None
    elif body.enabled is False and row.status == SubscriptionStatus.ACTIVE:
        disable(session, row, "disabled by an admin", notify=False)
    secret = None
    if body.rotate_secret:
        secret = new_secret()
        until = utcnow() + timedelta(seconds=ROTATION_OVERLAP_SECONDS)
        row.secret = {"secret": secret, "previous": secret_of(row),
                      "previous_until": until.isoformat()}
    row.updated_at = utcnow()
    audit(session, workspace_id, "webhook.updated", "webhook", row.id, actor_type=actor.type,
          actor_id=actor.id, data={"fields": sorted(body.model_fields_set),
                                   "status": row.status})
    return row, secret


def delete_subscription(session: Session, workspace_id: uuid.UUID,
                        subscription_id: uuid.UUID, actor: Actor) -> None:
    row = access_subscription(session, workspace_id, subscription_id)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == row.id)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id))
    session.delete(row)
    audit(session, workspace_id, "webhook.deleted", "webhook", subscription_id,
          actor_type=actor.type, actor_id=actor.id)


def disable(session: Session, row: WebhookSubscription, reason: str, *,
            notify: bool = True) -> None:
    """Stop sending: the subscription is disabled and its pending deliveries fail (an admin
    can redeliver them from the log once the receiver is back). With `notify`, the admins
    are told (audit entry, a desktop notice)."""
    now = utcnow()
    row.status = SubscriptionStatus.DISABLED
    row.disabled_reason = reason[:300]
    row.disabled_at = now
    session.execute(update(WebhookDelivery).where(
        WebhookDelivery.subscription_id == row.id,
        WebhookDelivery.status == DeliveryStatus.PENDING).values(
        status=DeliveryStatus.FAILED, claimed_until=None,
        last_error="the subscription was disabled").execution_options(
        synchronize_session=False))
    if notify:
        audit(session, row.workspace_id, "webhook.disabled", "webhook", row.id,
              data={"reason": row.disabled_reason,
                    "consecutive_failures": row.consecutive_failures})
        publish(session, row.workspace_id, Live.WEBHOOK_DISABLED,
                {"subscription_id": str(row.id), "reason": row.disabled_reason})


# --- the delivery log ------------------------------------------------------------------------


def delivery_out(row: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(id=row.id, subscription_id=row.subscription_id, event_id=row.event_id,
                       event_type=row.event_type, status=row.status,  # type: ignore[arg-type]
                       attempts=row.attempts,
                       next_attempt_at=row.next_attempt_at
                       if row.status == DeliveryStatus.PENDING else None,
                       last_status_code=row.last_status_code, last_error=row.last_error,
                       created_at=row.created_at, delivered_at=row.delivered_at)


def list_deliveries(session: Session, workspace_id: uuid.UUID, *,
                    subscription_id: uuid.UUID | None = None, status: str | None = None,
                    before: int | None = None,
                    limit: int = LOG_PAGE) -> tuple[list[DeliveryOut], int | None]:
    """The newest deliveries first; the id to pass as `before` for the next page."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.workspace_id == workspace_id)
    if subscription_id is not None:
        access_subscription(session, workspace_id, subscription_id)
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    if before is not None:
        stmt = stmt.where(WebhookDelivery.id < before)
    rows = list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [delivery_out(r) for r in rows], (rows[-1].id if more and rows else None)


def access_delivery(session: Session, workspace_id: uuid.UUID,
                    delivery_id: int) -> WebhookDelivery:
    row = session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.workspace_id == workspace_id))
    if row is None:
        raise NotFound("webhook delivery not found", code="delivery_not_found")
    return row


def delivery_detail(session: Session, workspace_id: uuid.UUID,
                    delivery_id: int) -> DeliveryDetail:
    row = access_delivery(session, workspace_id, delivery_id)
    attempts = session.scalars(select(WebhookAttempt).where(
        WebhookAttempt.delivery_id == row.id).order_by(WebhookAttempt.id))
    return DeliveryDetail(**delivery_out(row).model_dump(), body=row.body,
                          attempt_log=[AttemptOut.model_validate(a, from_attributes=True)
                                       for a in attempts])


def redeliver(session: Session, workspace_id: uuid.UUID, delivery_id: int,
              actor: Actor) -> WebhookDelivery:
    """Send a delivery again now, with the same event id (the receiver may dedupe on it).
    Its subscription must be active (a disabled one is turned on by an admin first)."""
    from threadline.integrations.webhooks.delivery import wake

    row = access_delivery(session, workspace_id, delivery_id)
    sub = access_subscription(session, workspace_id, row.subscription_id)
    if sub.status != SubscriptionStatus.ACTIVE:
        raise ValidationFailed("the subscription is disabled: enable it first",
                               code="webhook_disabled")
    row.status = DeliveryStatus.PENDING
    row.next_attempt_at = utcnow()
    row.claimed_until = None
    row.attempts = 0
    audit(session, workspace_id, "webhook.redelivered", "webhook", sub.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"delivery_id": row.id, "event_id": row.event_id})
    wake(session)
    return row


def secret_of(row: WebhookSubscription) -> str:
    value: Any = (row.secret or {}).get("secret")
    return str(value)


def signing_secrets(row: WebhookSubscription, *, now: datetime | None = None) -> list[str]:
    """The secrets a request is signed with: the current one, and for a day after a rotation
    the previous one too (receivers switch without missing a request, as the spec says)."""
    stored = row.secret or {}
    out = [secret_of(row)]
    previous, until = stored.get("previous"), stored.get("previous_until")
    if isinstance(previous, str) and isinstance(until, str):
        try:
            if (now or utcnow()) < datetime.fromisoformat(until):
                out.append(previous)
        except ValueError:
            pass
    return out
