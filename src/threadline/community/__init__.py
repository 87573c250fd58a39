"""Community: a Discourse forum as a channel, and the escalation of questions peers leave
unanswered (docs/community.md)."""
