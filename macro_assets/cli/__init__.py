"""The `macro-assets` command line."""
