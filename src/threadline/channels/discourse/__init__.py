"""Discourse: a community forum as a channel (signed webhooks in, its API out)."""
