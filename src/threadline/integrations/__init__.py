"""Integrations with the systems a team already runs: outbound event webhooks
(`webhooks`), CRM sync with Salesforce and HubSpot (`crm`), and the customer data lookup
(`lookup`). Each is independent of the others; the web layer and the handlers use them."""
