"""Storage: models, engine/session set-up, one module per responsibility (areas, rounds, questionnaire
versions, responses, imports, tallies, reads), fast paths, migrations and the demo data."""
