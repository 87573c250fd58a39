"""Tests of the integrations (threadline.integrations)."""
