"""Twilio Programmable Messaging (SMS/MMS) and Voice adapters."""
