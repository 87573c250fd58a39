"""Tests of the CRM sync (threadline.integrations.crm)."""
