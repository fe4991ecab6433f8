"""Alembic environment: runs the migrations against the URL set by ``store.database``."""

from __future__ import annotations

from alembic import context

from solidtype_jupyter.store.database import create_sync_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "store.database sets sqlalchemy.url before running migrations"

engine = create_sync_engine(url)
try:
    with engine.connect() as connection:
        # render_as_batch: SQLite can only ALTER a table by copying it; batch mode does that.
        context.configure(connection=connection, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
