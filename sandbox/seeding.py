"""Demo data for the sandbox account. Apps append a seeder: ``fn(*, account, app)``, idempotent."""

SEEDERS: list = []
