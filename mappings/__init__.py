"""The built-in layouts: one YAML file per legacy layout, plus `_vocabulary.yaml` (the value
maps every layout shares). Installed as the package `icp_migrate.mappings` (see
pyproject.toml) so `mapping.py` finds them wherever icp-migrate is installed; a folder of
your own layouts is added with ICP_MIGRATE_MAPPINGS (see settings.py)."""
