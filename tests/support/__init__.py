"""Shared test helpers and fixtures (importable as ``support.*``: tests/ is on sys.path)."""
