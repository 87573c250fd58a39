"""Quality reviews: scorecards the workspace defines (versioned, so old reviews keep their
criteria), the sampling of resolved conversations into the review queue (random per agent and
week, and by rule: low CSAT, reopened, hopped, public complaints), the supervisors' reviews
with the weighted score and comments the agent sees, and QA scores by agent, team and
channel for the dashboards (docs/quality.md)."""
