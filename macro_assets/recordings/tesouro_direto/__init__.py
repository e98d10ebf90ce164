"""Tesouro Direto recordings: the manifest and body written by generate.py."""
