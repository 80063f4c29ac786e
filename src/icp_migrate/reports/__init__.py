"""Data-quality reports of runs (HTML, JSON, Prefect artifacts) and the account plan export."""
