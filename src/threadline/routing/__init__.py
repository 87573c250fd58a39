"""Routing: teams, skills, presence and capacity; routing rules (conditions shared with
automation); automatic assignment to the least-loaded available agent with the skills
needed, back to the customer's previous agent when he is available; re-assignment."""
