"""Listening: rules, the X recent-search poller, competitor opportunities and the defensive
view, and the noise filter kept out of the queues (docs/listening.md)."""
