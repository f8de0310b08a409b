"""Per-user rate limits (issue 4 fills this in)."""
