"""Imports every domain's models so that SQLModel's metadata knows all tables (for Alembic and tests)."""


def import_all_models() -> None:
    import server.accounts.models
    import server.aftercare.models
    import server.appointments.models
    import server.health.models
    import server.models
    import server.notifications.models
    import server.reports.models  # noqa: F401 - imported for the tables each module registers, not for a name
