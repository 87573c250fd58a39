"""Telegram Bot API adapter."""
