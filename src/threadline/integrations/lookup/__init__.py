"""The customer data lookup: a workspace's own HTTPS endpoint, asked for the customer's
account and orders."""
