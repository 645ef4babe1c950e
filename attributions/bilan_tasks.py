"""Bilan tasks (filled by the bilan work item)."""
