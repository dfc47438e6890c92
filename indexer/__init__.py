"""Indexing and search: owns the record schema and the search backends.

Imports neither ``crawler`` nor ``portal``: run files in, search results out.
"""
