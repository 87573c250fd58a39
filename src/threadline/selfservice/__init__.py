"""Self-service: the bot that answers from the knowledge base and hands over to a person
(docs/self-service.md)."""
