"""Storage: models, engine/session set-up, the repository, migrations and the demo data."""
