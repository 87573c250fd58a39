"""CSAT on the channel: a short survey after a conversation is resolved, sent where it ended
(quick replies, reply buttons, an inline keyboard, a web chat rating, or a short link), and the
customer's answer recorded as a score without reopening anything (docs/csat.md)."""
