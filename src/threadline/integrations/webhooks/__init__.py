"""Outbound webhooks: subscriptions, signed deliveries through the outbox, the delivery log."""
