"""The target store: table definitions, migrations, and the I/O that reads and loads it."""
