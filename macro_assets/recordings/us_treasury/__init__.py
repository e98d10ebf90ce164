"""US Treasury recordings: the manifest and bodies written by generate.py."""
