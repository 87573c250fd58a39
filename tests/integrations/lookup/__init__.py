"""The customer data lookup (threadline.integrations.lookup)."""
