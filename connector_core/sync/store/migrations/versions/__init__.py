"""Schema revisions, one per file (Alembic skips this file)."""
