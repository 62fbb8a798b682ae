"""Trusted documents planned into one SQL statement each (docs/PERFORMANCE.md)."""
