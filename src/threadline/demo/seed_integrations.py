"""The demo's integrations: the customer data lookup asks the sandbox's shop (a brand's own
endpoint: orders, tier, tickets made up per customer), HubSpot (the sandbox's fake) gets a
note per conversation on the matched or created contact, with fields pulled into the panel,
and the shop receives every event as an outbound webhook."""

from __future__ import annotations

import uuid

from threadline.adapters.config import url_policy
from threadline.conversations.service import SYSTEM
from threadline.integrations.crm import service as crm
from threadline.integrations.crm.schemas import ConnectionIn, Credentials
from threadline.integrations.lookup import service as lookup
from threadline.integrations.lookup.schemas import LookupConfigIn
from threadline.integrations.webhooks import service as webhooks
from threadline.integrations.webhooks.rules import EVENT_TYPES
from threadline.integrations.webhooks.schemas import SubscriptionIn
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import hubspot as sandbox_hubspot
from threadline.sandbox.providers import shop as sandbox_shop

HUBSPOT_TOKEN = "pat-na1-demo-0000"  # noqa: S105 (the sandbox's fake accepts any pat- token)


def seed_integrations(runtime: Runtime, workspace_id: uuid.UUID, sandbox_url: str) -> None:
    policy = url_policy(runtime.settings)
    with runtime.db.session() as session:
        if lookup.get_endpoint(session, workspace_id) is None:
            _, secret = lookup.save_endpoint(session, workspace_id, LookupConfigIn(
                url=f"{sandbox_url}{sandbox_shop.PREFIX}/customer-data"), policy, SYSTEM)
            if secret:
                sandbox_shop.SECRETS.append(secret)
        else:  # a restarted demo: the shop learns the kept secret again
            _, secret = lookup.rotate_secret(session, workspace_id, SYSTEM)
            sandbox_shop.SECRETS.append(secret)
        if not webhooks.list_subscriptions(session, workspace_id):
            webhooks.create_subscription(session, workspace_id, SubscriptionIn(
                url=f"{sandbox_url}{sandbox_shop.PREFIX}/webhooks", event_types=list(EVENT_TYPES),
                description="The shop's order system (sandbox)"), SYSTEM, policy)
        if not crm.list_connections(session, workspace_id):
            crm.create_connection(session, workspace_id, ConnectionIn(
                kind="hubspot", name="HubSpot (sandbox)",
                base_url=f"{sandbox_url}{sandbox_hubspot.PREFIX}",
                credentials=Credentials(token=HUBSPOT_TOKEN),
                contact_fields=["email", "firstname", "lastname", "lifecyclestage"],
                account_fields=["name", "domain"], create_contacts=True), policy, SYSTEM)
