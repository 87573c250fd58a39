"""CRM sync: a connector folder per CRM (Salesforce, HubSpot) and the sync they share."""
