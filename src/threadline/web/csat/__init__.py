"""The CSAT survey's public page behind a short link (no login)."""
