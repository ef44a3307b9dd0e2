"""Tickets: complaints and requests for a person, categorized, prioritized, routed."""
