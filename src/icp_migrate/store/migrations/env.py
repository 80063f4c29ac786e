"""Alembic environment: runs on the connection `store.migrate.upgrade` hands over."""

from __future__ import annotations

from alembic import context

from icp_migrate.store.backend import backend_of
from icp_migrate.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    # Only `store.migrate` runs migrations; it always passes an open connection.
    raise RuntimeError("run migrations through icp_migrate.store.migrate.upgrade(engine)")

# No version_table_schema: alembic_version goes to the first schema of the connection's
# search_path, the same place as the tables.
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=backend_of(connection).batch_migrations,  # SQLite cannot ALTER constraints
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
