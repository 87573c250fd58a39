"""Service levels: business hours per team (time zone, holidays), policies with first
response, next response and resolution targets, the clocks of each conversation (paused
outside business hours, while waiting on the customer or snoozed), warnings and
escalations."""
