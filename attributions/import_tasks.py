"""Import tasks (filled by the import work item)."""
