"""Models of the conference's sessions (issue 6)."""
