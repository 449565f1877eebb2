"""Storage: SQLAlchemy models, Alembic migrations and the repositories features go through."""
