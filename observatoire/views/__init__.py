"""Views of the observatory, one module per flow."""
