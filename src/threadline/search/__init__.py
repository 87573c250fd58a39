"""Full-text search over articles, conversations, messages and customers (docs/search.md)."""
