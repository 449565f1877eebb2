"""Alembic environment and revisions, shipped inside the package so `ivr db upgrade` works."""
